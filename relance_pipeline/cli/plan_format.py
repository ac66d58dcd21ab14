"""A plan shown to people (an aligned table) and to machines (the JSON of DESIGN.md). Formatting only."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from relance_pipeline.figures import amount, count
from relance_pipeline.model import Action, Amounts, Plan, RatePeriod, Waiting

_PERIOD_PLACES = Decimal("0.0001")


def to_json(plan: Plan) -> str:
    document = {
        "as_of": plan.as_of.isoformat(),
        "actions": [_action(action) for action in plan.actions],
        "waiting": [_waiting(waiting) for waiting in plan.waiting],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _action(action: Action) -> dict[str, Any]:
    return {
        "client": action.client.id,
        "name": action.client.name,
        "kind": action.client.kind,
        "language": action.client.language,
        "tone": action.tone,
        "policy": action.policy.id,
        "step": action.step.id,
        "step_number": action.step_number,
        "formal_notice": action.step.formal_notice,
        "channels": list(action.step.channels),
        "deadline": action.deadline.isoformat() if action.deadline else None,
        "invoices": [_invoice(amounts, action.step_of(amounts.invoice.number).id) for amounts in action.invoices],
        "outstanding": amount(action.outstanding),
        "penalties": amount(action.charges),
        "indemnity": amount(action.indemnity),
        "total_due": amount(action.total_due),
    }


def _invoice(amounts: Amounts, step: str) -> dict[str, Any]:
    invoice = amounts.invoice
    return {
        "number": invoice.number,
        "step": step,
        "issued": invoice.issued.isoformat(),
        "due": invoice.due.isoformat(),
        "days_overdue": amounts.days_overdue,
        "total": amount(invoice.total),
        "outstanding": amount(amounts.outstanding),
        "penalties": amount(amounts.charges),
        "charge_kind": amounts.charge_kind,
        "indemnity": amount(amounts.indemnity),
        "total_due": amount(amounts.total_due),
        "periods": [_period(period) for period in amounts.periods],
    }


def _period(period: RatePeriod) -> dict[str, Any]:
    return {
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "days": period.days,
        "rate": str(period.rate),
        "base": amount(period.base),
        "amount": str(period.amount.quantize(_PERIOD_PLACES, rounding=ROUND_HALF_UP)),
    }


def _waiting(waiting: Waiting) -> dict[str, Any]:
    return {
        "client": waiting.invoice.client,
        "invoice": waiting.invoice.number,
        "reason": waiting.reason,
        "detail": waiting.detail,
        "outstanding": amount(waiting.outstanding),
        "next_step": waiting.next_step,
        "next_date": waiting.next_date.isoformat() if waiting.next_date else None,
    }


_ACTION_HEADER = ("client", "step", "channels", "invoice", "days", "outstanding", "penalties", "indemnity", "asked")
_WAITING_HEADER = ("client", "invoice", "reason", "outstanding", "next step", "from", "detail")
_RIGHT = frozenset({"days", "outstanding", "penalties", "indemnity", "asked"})


def to_table(plan: Plan) -> str:
    invoices = sum(len(action.invoices) for action in plan.actions)
    total = sum((action.amount_asked for action in plan.actions), Decimal(0))
    lines = [
        f"Plan as of {plan.as_of.isoformat()}: {count(len(plan.actions), 'document')}, {count(invoices, 'invoice')}, "
        f"{amount(total)} EUR asked; {count(len(plan.waiting), 'invoice')} waiting",
    ]
    if plan.actions:
        lines += [
            "",
            *columns(_ACTION_HEADER, [row for action in plan.actions for row in _action_rows(action)], _RIGHT),
        ]
    if plan.waiting:
        rows = [_waiting_row(waiting) for waiting in plan.waiting]
        lines += ["", "Waiting:", *columns(_WAITING_HEADER, rows, _RIGHT)]
    return "\n".join(lines) + "\n"


def _action_rows(action: Action) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for index, amounts in enumerate(action.invoices):
        head = (action.client.id, action.step.id, ", ".join(action.step.channels)) if index == 0 else ("", "", "")
        charges = _claimed(action, amounts.charges, amounts.indemnity)
        number = amounts.invoice.number
        own = action.step_of(number)
        label = number if own == action.step else f"{number} (at {own.id})"
        asked = amount(action.asked(amounts))
        rows.append((*head, label, str(amounts.days_overdue), amount(amounts.outstanding), *charges, asked))
    if len(action.invoices) > 1:
        charges = _claimed(action, action.charges, action.indemnity)
        rows.append(("", "", "", "total", "", amount(action.outstanding), *charges, amount(action.amount_asked)))
    return rows


def _claimed(action: Action, *charges: Decimal) -> tuple[str, ...]:
    """As in the pull request's table: a first reminder asks for the balance, its charges are not claimed."""
    return tuple(amount(c) if action.claims_charges else "–" for c in charges)


def _waiting_row(waiting: Waiting) -> tuple[str, ...]:
    return (
        waiting.invoice.client,
        waiting.invoice.number,
        waiting.reason.replace("_", " "),
        amount(waiting.outstanding),
        waiting.next_step or "-",
        waiting.next_date.isoformat() if waiting.next_date else "-",
        waiting.detail,
    )


def columns(header: Sequence[str], rows: Sequence[Sequence[str]], right: frozenset[str]) -> list[str]:
    """Rows aligned under their header: numbers to the right, text to the left; the last column is free."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = []
    for row in (header, *rows):
        cells = []
        for index, (name, cell) in enumerate(zip(header, row, strict=True)):
            last = index == len(header) - 1
            if name in right:
                cells.append(cell.rjust(widths[index]))
            else:
                cells.append(cell if last else cell.ljust(widths[index]))
        lines.append("  ".join(cells).rstrip())
    return lines
