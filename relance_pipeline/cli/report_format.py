"""The aged balance as a table for people, JSON for machines and CSV for spreadsheets. Formatting only."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any

from relance_pipeline.cli.plan_format import columns
from relance_pipeline.core.plan import plan_state
from relance_pipeline.core.report import BUCKETS, AgedBalance, Balance, ClientBalance
from relance_pipeline.figures import amount, count
from relance_pipeline.model import PlanStanding

_HEADER = (
    "client",
    *BUCKETS,
    "outstanding",
    "penalties",
    "interest",
    "indemnities",
    "paid late",
    "last contact",
    "next step",
)
_RIGHT = frozenset({*BUCKETS, "outstanding", "penalties", "interest", "indemnities", "paid late"})
_CSV_HEADER = (
    "client",
    "name",
    *BUCKETS,
    "outstanding",
    "penalties",
    "interest",
    "indemnities",
    "paid_late",
    "paid_late_penalties",
    "last_contact",
    "next_step",
    "next_date",
    "dso_days",
)


def to_table(report: AgedBalance) -> str:
    rows = [_row(row) for row in report.clients]
    rows.append(("total", *_money(report.totals), "", ""))
    dso = count(report.dso, "day") if report.dso is not None else "n/a (nothing invoiced in the last 365 days)"
    plans = [f"  {row.client.id} {number}: agreed {standing.agreed.isoformat()}, {plan_state(standing)}"
             for row in report.clients for number, standing in row.plans]  # fmt: skip
    lines = [
        f"Aged balance as of {report.as_of.isoformat()}: {count(len(report.clients), 'client')}, "
        f"{amount(report.totals.outstanding)} EUR outstanding",
        "",
        *columns(_HEADER, rows, _RIGHT),
        "",
        f"DSO: {dso} (receivables {amount(report.totals.outstanding)} / sales of the last 365 days "
        f"{amount(report.sales)} × 365)",
        *(["", "Payment plans:", *plans] if plans else []),
    ]
    return "\n".join(lines) + "\n"


def _row(row: ClientBalance) -> tuple[str, ...]:
    *figures, paid_late = _money(row.balance)
    if row.balance.paid_late > 0:
        paid_late = f"{paid_late} {row.paid_late_penalties}"
    return (row.client.id, *figures, paid_late, _day(row.last_contact) or "-", _next(row))


def _money(balance: Balance) -> tuple[str, ...]:
    return (
        *(amount(b) for b in balance.buckets),
        amount(balance.outstanding),
        amount(balance.penalties),
        amount(balance.interest),
        amount(balance.indemnities),
        amount(balance.paid_late),
    )


def _next(row: ClientBalance) -> str:
    text = f"{row.next_step} on {_day(row.next_date)}" if row.next_step else ""
    if row.awaiting_decision:
        text = f"{text}; decision due" if text else "decision due"
    return text or "-"


def _day(day: date | None) -> str | None:
    return day.isoformat() if day else None


def to_json(report: AgedBalance) -> str:
    document = {
        "as_of": report.as_of.isoformat(),
        "buckets": list(BUCKETS),
        "clients": [_client(row) for row in report.clients],
        "totals": _balance(report.totals),
        "sales_365_days": amount(report.sales),
        "dso_days": report.dso,
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _client(row: ClientBalance) -> dict[str, Any]:
    return {
        "client": row.client.id,
        "name": row.client.name,
        **_balance(row.balance),
        "last_contact": _day(row.last_contact),
        "next_step": row.next_step,
        "next_date": _day(row.next_date),
        "awaiting_decision": row.awaiting_decision,
        "paid_late_penalties": row.paid_late_penalties,
        "payment_plans": [_plan(number, standing) for number, standing in row.plans],
    }


def _plan(number: str, standing: PlanStanding) -> dict[str, Any]:
    coming = [i for i in standing.coming if i.unpaid > 0]
    return {
        "invoice": number,
        "agreed": standing.agreed.isoformat(),
        "instalments": [
            {"due": i.due.isoformat(), "amount": amount(i.amount), "paid": amount(i.paid)} for i in standing.instalments
        ],
        "met": len(standing.met),
        "missed": len(standing.missed),
        "arrears": amount(standing.arrears),
        "next_due": coming[0].due.isoformat() if coming else None,
        "next_amount": amount(coming[0].unpaid) if coming else None,
    }


def _balance(balance: Balance) -> dict[str, Any]:
    return {
        "buckets": {name: amount(value) for name, value in zip(BUCKETS, balance.buckets, strict=True)},
        "outstanding": amount(balance.outstanding),
        "penalties": amount(balance.penalties),
        "interest": amount(balance.interest),
        "indemnities": amount(balance.indemnities),
        "paid_late": amount(balance.paid_late),
    }


def to_csv(report: AgedBalance) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_CSV_HEADER)
    for row in report.clients:
        writer.writerow(
            (
                row.client.id,
                row.client.name,
                *_money(row.balance),
                row.paid_late_penalties,
                _day(row.last_contact) or "",
                row.next_step or "",
                _day(row.next_date) or "",
                "",
            )
        )
    dso = "" if report.dso is None else str(report.dso)
    writer.writerow(("total", "", *_money(report.totals), "", "", "", "", dso))
    return out.getvalue()
