"""The invoices of a document: each as its table lists it (`Line`), their sums, and which of them it lists.

A document lists at most `LISTED_LIMIT` invoices, the largest; past that, its table ends with the count and the
sums of the others, and the statement of account sent with it (render/statement_of_account.py) lists every
one. `listing` makes the lines in one pass and keeps only those listed, so the memory of a document does not
grow with the number of invoices of its client; `lines` makes them again, one at a time, for the statement.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from relance_pipeline.core import statement
from relance_pipeline.model import ZERO, Action, Amounts, ChargeKind, Contact, PlanStanding, RatePeriod

LISTED_LIMIT = 20
"""The invoices a document lists in its table and its words: a table of 20 rows and its totals still fit on the
first page or two of a letter and read at a glance in an email, and past 20 a reader looks for the sum and the
largest amounts, not for each line; the statement of account attached has them all."""


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


def lines(action: Action, as_of: date) -> Iterator[Line]:
    """Every invoice of the action as a line, made as it is read (the statement of account's rows)."""
    return (line(amounts, as_of, action) for amounts in action.invoices)


@dataclass(frozen=True)
class Listing:
    """What a document says of its invoices: the lines it lists, and the facts of all of them."""

    lines: tuple[Line, ...]
    """The listed invoices, in the action's order: all of them up to `LISTED_LIMIT`, else the largest by total
    due (ties: the oldest due date, then the number)."""
    count: int
    """All the invoices of the document, listed or not."""
    totals: Totals
    """The sums of all of them."""
    omitted_totals: Totals | None
    """The sums of those not listed (None when every invoice is listed)."""
    escalated_count: int
    """The invoices at the document's own step (listed or not)."""
    most_days_overdue: int
    """The most days overdue among the invoices at the document's step: 0 when none is."""
    previously: tuple[Contact, ...]
    """The reminders the client received about the invoices at the document's step, each once, oldest first."""
    called: bool
    disputed: bool
    promised: date | None
    on_payment_plan: bool

    @property
    def omitted(self) -> int:
        return self.count - len(self.lines)


_RECENT: list[tuple[Action, date, int, Listing]] = []
"""The last few listings made: a document's words, tables and attachments each ask for the same action's on the
same day (six times for an email with its letter at send), and each pass makes a line of every invoice."""


def listing(action: Action, as_of: date, limit: int = LISTED_LIMIT) -> Listing:
    for seen, day, size, found in _RECENT:
        if seen is action and day == as_of and size == limit:
            return found
    made = _listing(action, as_of, limit)
    _RECENT[:] = [(action, as_of, limit, made), *_RECENT[:3]]
    return made


def _listing(action: Action, as_of: date, limit: int) -> Listing:
    sums = _Sums(action.step.id)
    chosen = heapq.nsmallest(limit, enumerate(sums.taking(lines(action, as_of))), key=_largest_first)
    listed = tuple(item for _, item in sorted(chosen, key=lambda pair: pair[0]))
    everything = sums.totals()
    return Listing(
        lines=listed,
        count=sums.count,
        totals=everything,
        omitted_totals=_minus(everything, totals(listed)) if sums.count > len(listed) else None,
        escalated_count=sums.escalated,
        most_days_overdue=sums.most_days_overdue,
        previously=tuple(sorted(sums.contacts.values(), key=_when)),
        called=sums.called,
        disputed=sums.disputed,
        promised=sums.promised,
        on_payment_plan=sums.on_payment_plan,
    )


def largest_first(total_due: Decimal, due: date, number: str) -> tuple[Decimal, date, str]:
    """The order in which invoices are listed past the cap: the largest total due, then the oldest due date, then
    the number (the pull request's table keeps the same ones)."""
    return -total_due, due, number


def _largest_first(pair: tuple[int, Line]) -> tuple[Decimal, date, str]:
    item = pair[1]
    return largest_first(item.total_due, item.due, item.number)


class _Sums:
    """The facts of every line, gathered as the lines go by."""

    def __init__(self, step: str) -> None:
        self.step = step
        self.count = self.escalated = self.most_days_overdue = 0
        self.fields = dict.fromkeys(_FIELDS, ZERO)
        self.contacts: dict[tuple[date, tuple[str, ...]], Contact] = {}
        self.called = self.disputed = self.on_payment_plan = False
        self.promised: date | None = None

    def taking(self, items: Iterable[Line]) -> Iterator[Line]:
        for item in items:
            self._add(item)
            yield item

    def _add(self, item: Line) -> None:
        self.count += 1
        for name in _FIELDS:
            self.fields[name] += getattr(item, name)
        if item.step == self.step:
            self.escalated += 1
            self.most_days_overdue = max(self.most_days_overdue, item.days_overdue)
            # What the document's own invoices went through: each reminder once, even when it listed several.
            self.contacts.update({(c.date, c.channels): c for c in item.contacts})
        self.called = self.called or any("phone" in c.channels for c in item.contacts)
        self.disputed = self.disputed or item.disputed
        self.on_payment_plan = self.on_payment_plan or item.payment_plan
        if item.promised and (self.promised is None or item.promised > self.promised):
            self.promised = item.promised

    def totals(self) -> Totals:
        return Totals(**self.fields)


_FIELDS = ("total", "paid", "outstanding", "charges", "indemnity", "total_due")


def _minus(everything: Totals, listed: Totals) -> Totals:
    return Totals(**{name: getattr(everything, name) - getattr(listed, name) for name in _FIELDS})


def _when(contact: Contact) -> tuple[date, tuple[str, ...]]:
    return contact.date, contact.channels
