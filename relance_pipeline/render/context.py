"""An action of the plan → the variables a template sees.

The names are part of the templates' interface (README, "Templates and documents"): `creditor` and `client`
are the records read from relance.yaml and the client's file (their keys are the YAML keys), `invoices` the
lines of the invoice table, `totals` their sums, and a few facts the wording depends on (step, deadline,
business or consumer client, tone, rates, payment reference).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from relance_pipeline.core import money, statement
from relance_pipeline.core.references import rf_reference
from relance_pipeline.model import (
    ZERO,
    Action,
    Amounts,
    Books,
    ChargeKind,
    Client,
    Contact,
    Creditor,
    PlanStanding,
    RateBasis,
    RatePeriod,
    Semester,
)

REFERENCE_LIMIT = 35
"""Many banks keep only 35 characters of a transfer's reference: past that, a short form is used."""


@dataclass(frozen=True)
class Line:
    """One invoice as the documents list it."""

    number: str
    issued: date
    due: date
    total: Decimal
    paid: Decimal
    """Payments and credit notes on or before the date of the document."""
    credited: Decimal
    """The credit notes' part of `paid`."""
    outstanding: Decimal
    charges: Decimal
    charge_kind: ChargeKind
    indemnity: Decimal
    total_due: Decimal
    days_overdue: int
    periods: tuple[RatePeriod, ...]
    document: str | None
    step: str = ""
    """The step this document lists the invoice at: the document's, or an earlier one it has not yet passed."""
    contacts: tuple[Contact, ...] = ()
    """The reminders about it the client received before, oldest first (their dates, steps, channels)."""
    disputed: bool = False
    """The client disputed it (a `disputed` hold, over or not): no document may say it never was."""
    promised: date | None = None
    """The day the client promised to pay by (a `promise` hold), when there was one."""
    payment_plan: bool = False
    plan: PlanStanding | None = None
    """Listed for instalments missed under its payment plan: the line is those instalments (`due` the first
    one's, `total` their sum, `paid` what was paid of them), and `plan` has every instalment and the words
    cite them, never the invoice's own due date as the one missed."""
    settled: date | None = None
    """The day a payment settled the invoice in full after its due date (what a statement is about)."""

    @property
    def several(self) -> bool:
        """The line is more than one thing owed (several instalments missed): its words take the plural."""
        return self.plan is not None and len(self.plan.missed) > 1


@dataclass(frozen=True)
class Totals:
    total: Decimal
    paid: Decimal
    outstanding: Decimal
    charges: Decimal
    indemnity: Decimal
    total_due: Decimal


def line(amounts: Amounts, as_of: date, action: Action | None = None) -> Line:
    invoice = amounts.invoice
    hold = invoice.hold
    plan = action.plans.get(invoice.number) if action else None
    paid, credited, total = invoice.settled_on(as_of), invoice.credited_on(as_of), invoice.total
    if plan is not None:
        # What the missed instalments came to and what was paid of them, so that the table's columns add up.
        paid, credited = sum((i.paid for i in plan.missed), ZERO), ZERO
        total = amounts.outstanding + paid
    return Line(
        plan=plan,
        step=action.step_of(invoice.number).id if action else "",
        contacts=action.contacts.get(invoice.number, ()) if action else (),
        disputed=hold is not None and hold.reason == "disputed",
        promised=hold.until if hold is not None and hold.reason == "promise" else None,
        payment_plan=invoice.payment_plan is not None,
        settled=statement.settled_late_on(invoice),
        number=invoice.number,
        issued=invoice.issued,
        due=invoice.due,
        total=total,
        paid=paid,
        credited=credited,
        outstanding=amounts.outstanding,
        charges=amounts.charges,
        charge_kind=amounts.charge_kind,
        indemnity=amounts.indemnity,
        total_due=amounts.total_due,
        days_overdue=amounts.days_overdue,
        periods=amounts.periods,
        document=invoice.document,
    )


def totals(lines: tuple[Line, ...]) -> Totals:
    def total(field: str) -> Decimal:
        return sum((getattr(item, field) for item in lines), ZERO)

    return Totals(
        total=total("total"),
        paid=total("paid"),
        outstanding=total("outstanding"),
        charges=total("charges"),
        indemnity=total("indemnity"),
        total_due=total("total_due"),
    )


def listed_numbers(lines: tuple[Line, ...], shown: int = 3) -> str:
    """The invoice numbers for a subject or a sentence; past a few, the table lists them and a count suffices."""
    numbers = [item.number for item in lines]
    if len(numbers) <= shown + 1:
        return ", ".join(numbers)
    return f"{', '.join(numbers[:shown])} +{len(numbers) - shown}"


def payment_reference(action: Action) -> str:
    """What the client writes on the transfer: the invoice numbers, so the payment is matched at once; for one
    invoice, its RF creditor reference beside its number (`relance import bank` matches either)."""
    numbers = [amounts.invoice.number for amounts in action.invoices]
    rf = payment_rf(action)
    if rf is not None and len(f"{numbers[0]} {rf}") <= REFERENCE_LIMIT:
        return f"{numbers[0]} {rf}"
    joined = " ".join(numbers)
    if len(joined) <= REFERENCE_LIMIT:
        return joined
    return f"{numbers[0]} +{len(numbers) - 1}"[:REFERENCE_LIMIT]


def payment_rf(action: Action) -> str | None:
    """The RF reference a document's QR code carries: one invoice's only (a transfer has one reference)."""
    return rf_reference(action.invoices[0].invoice.number) if len(action.invoices) == 1 else None


def penalty_rate(action: Action, books: Books, as_of: date) -> tuple[Decimal | None, bool]:
    """The late-payment rate in force on the document's date, and whether it is the contract's rate."""
    rates = (money.contractual_rate(a.invoice, action.policy) for a in action.invoices)
    contractual = next((rate for rate in rates if rate is not None), None)
    if contractual is not None:
        return contractual, True
    periods = sorted((p for a in action.invoices for p in a.periods), key=lambda p: p.end)
    if periods:
        return periods[-1].rate, False
    row = books.rates.get(Semester.of(as_of))
    return (row.b2b_default if row else None), False


@dataclass(frozen=True)
class RateSpan:
    """A rate as the words state it: the rate, where it comes from, and its last day (None: still running)."""

    rate: Decimal
    basis: RateBasis
    until: date | None


@dataclass(frozen=True)
class RateGroup:
    """The invoices charged on the same schedule of rates: one phrase states it for all of them."""

    numbers: tuple[str, ...]
    spans: tuple[RateSpan, ...]


def rate_groups(action: Action, books: Books, as_of: date) -> tuple[RateGroup, ...]:
    """Each rate charged with its period ("13,15 % jusqu'au 30 juin 2025, puis 12,15 %"), per invoice when the
    invoices differ (a contractual rate, the legal floor under it, the default rate): the words state the
    rates the amounts were computed with, never one rate for all."""
    schedules: dict[tuple[RateSpan, ...], list[str]] = {}
    for amounts in action.invoices:
        spans = _spans(amounts.periods) or _rate_on(amounts, action, books, as_of)
        schedules.setdefault(spans, []).append(amounts.invoice.number)
    return tuple(RateGroup(tuple(numbers), spans) for spans, numbers in schedules.items())


def _spans(periods: tuple[RatePeriod, ...]) -> tuple[RateSpan, ...]:
    spans: list[RateSpan] = []
    for period in periods:
        if spans and (spans[-1].rate, spans[-1].basis) == (period.rate, period.basis):
            spans[-1] = RateSpan(period.rate, period.basis, period.end)
        else:
            spans.append(RateSpan(period.rate, period.basis, period.end))
    if spans:
        spans[-1] = RateSpan(spans[-1].rate, spans[-1].basis, None)
    return tuple(spans)


def _rate_on(amounts: Amounts, action: Action, books: Books, as_of: date) -> tuple[RateSpan, ...]:
    """No day charged yet (or a consumer): the rate that applies from the document's date."""
    row = books.rates.get(Semester.of(as_of))
    found = money.penalty_rate(row, money.contractual_rate(amounts.invoice, action.policy)) if row else None
    return (RateSpan(found[0], found[1], None),) if found else ()


def legal_interest_rate(books: Books, as_of: date) -> Decimal | None:
    """The legal interest rate for a professional creditor (legal_other) in the document's semester."""
    row = books.rates.get(Semester.of(as_of))
    return row.legal_other if row else None


EU_VAT_PREFIXES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "EL",
        "ES",
        "FI",
        "FR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
        "XI",
    ]
)
"""The VAT-number prefixes of the EU member states (EL is Greece; XI, Northern Ireland, for goods)."""
VatWords = Literal["included", "franchise", "reverse_charge", "outside_eu"]


def vat_words(creditor: Creditor, client: Client) -> VatWords:
    """What the documents say about VAT, from the facts: a creditor under the franchise en base charged none;
    a business client with a VAT number of another EU state was invoiced under reverse charge, one outside the
    EU without French VAT; only otherwise were the amounts "TTC" / "incl. VAT"."""
    if creditor.vat_regime == "franchise":
        return "franchise"
    prefix = (client.vat_id or "FR")[:2].upper()
    if not client.is_business or prefix == "FR":
        return "included"
    return "reverse_charge" if prefix in EU_VAT_PREFIXES else "outside_eu"


def client_area(client: Client) -> Literal["fr", "eu", "outside_eu"]:
    """Where a business client is, from its VAT number (the one fact the books hold): it names the court
    procedure open to the creditor, the European order for payment for another EU state (Reg. 1896/2006)."""
    prefix = (client.vat_id or "FR")[:2].upper()
    return "fr" if prefix == "FR" else "eu" if prefix in EU_VAT_PREFIXES else "outside_eu"


def postal_address(client: Client) -> tuple[str, ...]:
    """The address lines, headed by the client's name unless the first line already carries it."""
    if client.address and client.name.casefold() in client.address[0].casefold():
        return client.address
    return (client.name, *client.address)


def template_variables(action: Action, books: Books, as_of: date) -> dict[str, Any]:
    lines = tuple(line(amounts, as_of, action) for amounts in action.invoices)
    main = [item for item in lines if item.step == action.step.id]
    # What the document's own invoices went through: each reminder once, even when it listed several of them.
    previously = sorted({(c.date, c.channels): c for item in main for c in item.contacts}.values(), key=_when)
    sums = totals(lines)
    rate, contractual = penalty_rate(action, books, as_of)
    client = action.client
    claims_charges = action.claims_charges
    return {
        "creditor": books.settings.creditor,
        "client": client,
        "language": client.language,
        "business": client.is_business,
        "consumer": not client.is_business,
        "tone": action.tone,
        "postal_address": postal_address(client),
        "invoices": lines,
        "numbers": listed_numbers(lines),
        "plural": len(lines) > 1,
        "totals": sums,
        "amount_due": action.amount_asked,
        "show_charges": claims_charges and (sums.charges > 0 or sums.indemnity > 0),
        "step": action.step,
        "step_number": action.step_number,
        "step_count": len(action.policy.steps),
        "last_step": action.step_number == len(action.policy.steps),
        "formal_notice": action.step.formal_notice,
        "statement": action.is_statement,
        "channels": action.step.channels,
        "as_of": as_of,
        "deadline": action.deadline,
        "payment_reference": payment_reference(action),
        "payment_rf": payment_rf(action),
        "penalty_rate": rate,
        "penalty_rate_contractual": contractual,
        "penalty_rates": rate_groups(action, books, as_of),
        "legal_interest_rate": legal_interest_rate(books, as_of),
        "invoice_copies": any(item.document for item in lines),
        "vat": vat_words(books.settings.creditor, client),
        "client_area": client_area(client),
        "currency": action.invoices[0].invoice.currency if action.invoices else "EUR",
        "previously": tuple(previously),
        "escalated": tuple(main),
        "joining": tuple(item for item in lines if item.step != action.step.id),
        "called": any("phone" in c.channels for item in lines for c in item.contacts),
        "disputed": any(item.disputed for item in lines),
        "promised": max((item.promised for item in lines if item.promised), default=None),
        "on_payment_plan": any(item.payment_plan for item in lines),
    }


def _when(contact: Contact) -> tuple[date, tuple[str, ...]]:
    return contact.date, contact.channels
