"""The aged balance: what each client owes, by how late it is, with what the law adds and what comes next.

Pure: built from the books, the journal and the plan of the same date. Days sales outstanding (DSO) uses the
simple method over the 365 days up to the date: receivables ÷ sales invoiced in those days × 365.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from relance_pipeline.core import money, statement
from relance_pipeline.core.history import history
from relance_pipeline.model import (
    ZERO,
    Action,
    Books,
    Client,
    Invoice,
    JournalEntry,
    PaidLate,
    Plan,
    PlanStanding,
    Policy,
    Problem,
    Waiting,
)

BUCKETS = ("not due", "0-30", "31-60", "61-90", ">90")
"""Days past the due date: not due (on or before it), then 1-30 (shown as 0-30), 31-60, 61-90, 91 and more."""
_BUCKET_ENDS = (0, 30, 60, 90)
DSO_WINDOW_DAYS = 365
_NoticeDate = Callable[[str, Policy], date | None]


@dataclass(frozen=True)
class Balance:
    """What one client (or, for the totals, everyone) owes as of the date."""

    buckets: tuple[Decimal, ...]
    penalties: Decimal
    """Late penalties of business invoices still open (L441-10)."""
    indemnities: Decimal
    interest: Decimal = ZERO
    """Legal interest of consumer invoices still open, from the delivered mise en demeure (C. civ. 1231-6)."""
    paid_late: Decimal = ZERO
    """Penalties, interest and indemnities still owed on invoices paid in full after their due date."""

    @property
    def outstanding(self) -> Decimal:
        return sum(self.buckets, ZERO)


@dataclass(frozen=True)
class ClientBalance:
    client: Client
    balance: Balance
    last_contact: date | None
    next_step: str | None
    next_date: date | None
    awaiting_decision: bool = False
    """Every step was issued for one of its invoices: court, payment plan or write-off."""
    paid_late_penalties: PaidLate = "waived"
    """What the client's policy does with `balance.paid_late`: claimed in a statement, or waived."""
    plans: tuple[tuple[str, PlanStanding], ...] = ()
    """(invoice number, its payment plan's standing) for each open invoice on a payment plan."""


@dataclass(frozen=True)
class AgedBalance:
    as_of: date
    clients: tuple[ClientBalance, ...]
    totals: Balance
    sales: Decimal
    """Invoiced (net of credit notes) in the 365 days up to the date."""
    dso: int | None
    """Days sales outstanding; None when nothing was invoiced in the window."""
    held_back: tuple[Problem, ...] = ()
    """Clients left out because their amounts need a rate the table lacks."""


def bucket_of(days_overdue: int) -> int:
    for index, end in enumerate(_BUCKET_ENDS):
        if days_overdue <= end:
            return index
    return len(_BUCKET_ENDS)


def aged_balance(books: Books, journal: Iterable[JournalEntry], plan: Plan, as_of: date) -> AgedBalance:
    """The aged balance; a client whose amounts need a rate the table lacks is left out with a warning."""
    past = history(journal)
    listed: dict[str, list[Invoice]] = {}
    for invoice in books.invoices:
        if invoice.client in books.clients and invoice.issued <= as_of:
            client = books.clients[invoice.client]
            if invoice.outstanding(as_of) > 0 or statement.within_limitation(invoice, client, as_of):
                listed.setdefault(invoice.client, []).append(invoice)
    actions = {action.client.id: action for action in plan.actions}
    waiting: dict[str, list[Waiting]] = {}
    for item in plan.waiting:
        waiting.setdefault(item.invoice.client, []).append(item)
    rows: list[ClientBalance] = []
    missing: list[Problem] = []
    for client_id, invoices in sorted(listed.items()):
        client = books.clients[client_id]
        known = (client.policy or books.settings.default_policy) in books.policies
        policy = books.policy_for(client) if known else None
        balance = _balance(books, client, policy, invoices, past.notice_date, as_of)
        if isinstance(balance, list):
            missing += [gap.problem() for gap in balance]
            continue
        contact = past.last_contact(client_id)
        step, when, deciding = _next(actions.get(client_id), waiting.get(client_id, []), as_of)
        treatment: PaidLate = policy.paid_late_penalties if policy is not None else "waived"
        last = contact if contact and contact <= as_of else None
        plans = tuple(
            (invoice.number, invoice.payment_plan.standing(invoice, as_of))
            for invoice in sorted(invoices, key=lambda i: i.number)
            if invoice.payment_plan is not None and invoice.outstanding(as_of) > 0
        )
        rows.append(ClientBalance(client, balance, last, step, when, deciding, treatment, plans))
    totals = _sum([row.balance for row in rows])
    sales = _sales(books.invoices, as_of)
    dso = None if sales <= 0 else int((totals.outstanding / sales * DSO_WINDOW_DAYS).quantize(1, ROUND_HALF_UP))
    return AgedBalance(as_of, tuple(rows), totals, sales, dso, tuple(sorted(set(missing))))


def _balance(
    books: Books,
    client: Client,
    policy: Policy | None,
    invoices: Sequence[Invoice],
    notice_date: _NoticeDate,
    as_of: date,
) -> Balance | list[money.MissingRate]:
    buckets = [ZERO] * len(BUCKETS)
    gaps: list[money.MissingRate] = []
    penalties = interest = indemnities = paid_late = ZERO
    for invoice in invoices:
        days = invoice.days_overdue(as_of)
        open_amount = invoice.outstanding(as_of)
        if open_amount > 0:
            buckets[bucket_of(days)] += open_amount
        if days <= 0 or policy is None:
            continue
        amounts = money.amounts(invoice, client, policy, books.rates, as_of, notice_date(invoice.number, policy))
        if isinstance(amounts, money.MissingRate):
            gaps.append(amounts)
        elif open_amount <= 0:
            paid_late += amounts.charges + amounts.indemnity
        else:
            penalties += amounts.charges if amounts.charge_kind == "penalties" else ZERO
            interest += amounts.charges if amounts.charge_kind == "legal_interest" else ZERO
            indemnities += amounts.indemnity
    return gaps or Balance(tuple(buckets), penalties, indemnities, interest, paid_late)


def _next(action: Action | None, waiting: Sequence[Waiting], as_of: date) -> tuple[str | None, date | None, bool]:
    """The step tonight's plan drafts for the client, else the soonest one its waiting invoices expect."""
    deciding = any(w.reason == "awaiting_decision" for w in waiting)
    if action is not None:
        return action.step.id, as_of, deciding
    upcoming = sorted((w.next_date, w.next_step) for w in waiting if w.next_date is not None and w.next_step)
    if upcoming:
        return upcoming[0][1], upcoming[0][0], deciding
    return None, None, deciding


def _sum(balances: Sequence[Balance]) -> Balance:
    def total(field: str) -> Decimal:
        return sum((getattr(b, field) for b in balances), ZERO)

    return Balance(
        tuple(sum((b.buckets[i] for b in balances), ZERO) for i in range(len(BUCKETS))),
        total("penalties"),
        total("indemnities"),
        total("interest"),
        total("paid_late"),
    )


def _sales(invoices: Iterable[Invoice], as_of: date) -> Decimal:
    start = as_of - timedelta(days=DSO_WINDOW_DAYS)
    return sum((i.total - i.credited_on(as_of) for i in invoices if start < i.issued <= as_of), ZERO)
