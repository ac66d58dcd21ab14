"""Schema-valid documents → frozen records. Each builder assumes its document passed its schema."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from relance_pipeline.books.load import YamlFile
from relance_pipeline.model import (
    DOCUMENT_ORDER,
    STALE_AFTER_DAYS,
    Client,
    CreditNote,
    Creditor,
    EcbRate,
    Hold,
    Instalment,
    Invoice,
    Payment,
    PaymentPlan,
    Policy,
    RateTable,
    Semester,
    SemesterRates,
    Settings,
    Step,
)


def settings(document: YamlFile) -> Settings:
    data = document.data
    creditor = data["creditor"]
    return Settings(
        creditor=Creditor(
            name=creditor["name"],
            address=tuple(creditor["address"]),
            city=creditor["city"],
            siret=_compact(creditor["siret"]),
            email=creditor["email"],
            iban=_compact(creditor["iban"]),
            bic=_compact(creditor["bic"]),
            vat_id=_compact_or_none(creditor.get("vat_id")),
            phone=creditor.get("phone"),
            website=creditor.get("website"),
            signatory=creditor.get("signatory"),
            legal_form=creditor.get("legal_form"),
            vat_regime=creditor.get("vat_regime", "standard"),
        ),
        locale=data["locale"],
        timezone=data["timezone"],
        default_policy=data["default_policy"],
        previews=bool(data.get("previews", False)),
        stale_after_days=int(data.get("stale_after_days", STALE_AFTER_DAYS)),
        rates_source=data.get("rates_source"),
    )


def client(client_id: str, document: YamlFile) -> Client:
    data = document.data
    return Client(
        id=client_id,
        name=data["name"],
        kind=data["kind"],
        email=data["email"],
        address=tuple(data["address"]),
        language=data["language"],
        source=document.path,
        phone=data.get("phone"),
        policy=data.get("policy"),
        relationship=data.get("relationship", "regular"),
        siren=_compact_or_none(data.get("siren")),
        vat_id=_compact_or_none(data.get("vat_id")),
        contact=data.get("contact"),
        civility=data.get("civility"),
        hold=hold(data["hold"]) if "hold" in data else None,
    )


def hold(data: Any) -> Hold:
    return Hold(data["reason"], day(data["until"]) if "until" in data else None, data.get("note"))


def payment_plan(data: Any) -> PaymentPlan:
    # In the file's order, so that validate can say which one is out of order; the plan sorts them itself.
    instalments = tuple(Instalment(day(i["due"]), money(i["amount"])) for i in data["instalments"])
    return PaymentPlan(day(data["agreed"]), instalments)


def invoice(document: YamlFile) -> Invoice:
    data = document.data
    return Invoice(
        number=data["number"],
        client=data["client"],
        issued=day(data["issued"]),
        due=day(data["due"]),
        total=money(data["total"]),
        source=document.path,
        currency=data.get("currency", "EUR"),
        payments=tuple(
            Payment(day(p["date"]), money(p["amount"]), p.get("reference")) for p in data.get("payments", [])
        ),
        credit_notes=tuple(
            CreditNote(str(c["number"]), day(c["date"]), money(c["amount"])) for c in data.get("credit_notes", [])
        ),
        hold=hold(data["hold"]) if "hold" in data else None,
        penalty_rate=rate(data["penalty_rate"]) if "penalty_rate" in data else None,
        document=data.get("document"),
        payment_plan=payment_plan(data["payment_plan"]) if "payment_plan" in data else None,
        payment_reference=data.get("payment_reference"),
    )


def policy(policy_id: str, document: YamlFile) -> Policy:
    data = document.data
    contractual = data.get("penalty_rate", "b2b_default")
    return Policy(
        id=policy_id,
        steps=tuple(
            Step(
                id=s["id"],
                after_days=s["after_days"],
                channels=tuple(s["channels"]),
                template=s["template"],
                deadline_days=s.get("deadline_days"),
                formal_notice=bool(s.get("formal_notice", False)),
            )
            for s in data["steps"]
        ),
        min_interval_days=data["min_interval_days"],
        manual_wait_days=data.get("manual_wait_days"),
        source=document.path,
        penalty_rate=None if contractual == "b2b_default" else rate(contractual),
        paid_late_penalties=data.get("paid_late_penalties", "waived"),
        # The letter first, as a step's: the email then attaches it.
        paid_late_channels=tuple(c for c in DOCUMENT_ORDER if c in data.get("paid_late_channels", ["email"])),
    )


def rate_table(document: YamlFile) -> RateTable:
    data = document.data
    semesters = {
        Semester.parse(name): SemesterRates(
            ecb_reference=rate(row["ecb_reference"]),
            b2b_default=rate(row["b2b_default"]),
            legal_individual=rate(row["legal_individual"]) if "legal_individual" in row else None,
            legal_other=rate(row["legal_other"]) if "legal_other" in row else None,
        )
        for name, row in (data.get("semesters") or {}).items()
    }
    ecb = tuple(EcbRate(day(r["from"]), rate(r["rate"])) for r in data.get("ecb_mro") or [])
    return RateTable(source=document.path, semesters=semesters, ecb_mro=ecb)


def day(text: str) -> date:
    return date.fromisoformat(text)


def money(value: Any) -> Decimal:
    return Decimal(str(value)) if not isinstance(value, Decimal) else value


def rate(value: Any) -> Decimal:
    return money(value)


def _compact(text: str) -> str:
    return "".join(str(text).split()).upper()


def _compact_or_none(text: str | None) -> str | None:
    return None if text is None else _compact(text)
