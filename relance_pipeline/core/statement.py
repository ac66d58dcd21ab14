"""What stays owed after a late payment, and the statement that claims it (pure).

An invoice settled after its due date still owes its penalties, through the day of the payment, and the 40 €
(C. com. L441-10 II runs without any reminder; D441-5 is per late invoice); a consumer owes legal interest
only from a delivered mise en demeure, and never the 40 €. A policy with `paid_late_penalties: claimed` sends
one statement per client listing each such invoice not yet claimed in a delivered statement, with its days
late and what it owes. The statement is planned as the steps are: one document per client per night, nothing
while another document of the client waits, `min_interval_days` from the last contact or withdrawn draft; a
statement delivered is never sent again for the same invoices, a withdrawn one is drafted again after the
interval. Its amounts do not depend on the day: they stop with the payment.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from relance_pipeline.core import money
from relance_pipeline.core.history import History
from relance_pipeline.model import STATEMENT_STEP, Action, Amounts, Books, Client, Invoice, Policy, Step

LIMITATION_YEARS = {"business": 5, "consumer": 2}
"""How long penalties owed after a late payment stay claimable: C. com. L110-4, C. conso L218-2."""
DEADLINE_DAYS = 15
"""The statement asks for payment within this many days (of receipt for a letter, of sending for an email)."""


def step(policy: Policy) -> Step:
    """The statement as a step of its own: not one of the policy's, never a level of escalation."""
    return Step(STATEMENT_STEP, 0, policy.paid_late_channels, STATEMENT_STEP, deadline_days=DEADLINE_DAYS)


def settled_late_on(invoice: Invoice) -> date | None:
    """The day a payment settled the invoice in full after its due date; None if it is open or was settled
    in time (a credit note corrects the invoice: it is not a late payment)."""
    if not invoice.payments:
        return None
    last = max(p.date for p in invoice.payments)
    if invoice.outstanding(max([last, *(c.date for c in invoice.credit_notes)])) > 0:
        return None
    return last if last > invoice.due else None


def within_limitation(invoice: Invoice, client: Client, as_of: date) -> bool:
    """Settled late on or before the date, and still claimable on it."""
    settled = settled_late_on(invoice)
    if settled is None or settled > as_of:
        return False
    return as_of < _years_after(settled, LIMITATION_YEARS[client.kind])


def owed(
    invoice: Invoice, client: Client, policy: Policy, books: Books, notice: date | None
) -> Amounts | money.MissingRate:
    """What an invoice settled late still owes: its amounts as of the day it was settled (outstanding 0,
    days late to that day, the charges through it, the indemnity)."""
    settled = settled_late_on(invoice)
    assert settled is not None, invoice.number
    return money.amounts(invoice, client, policy, books.rates, settled, notice)


def paid_late_by_client(books: Books, as_of: date) -> dict[str, list[Invoice]]:
    """The invoices settled late and still claimable, of the clients whose policy claims them."""
    found: dict[str, list[Invoice]] = {}
    for invoice in books.invoices:
        client = books.clients.get(invoice.client)
        if client is None or (client.policy or books.settings.default_policy) not in books.policies:
            continue
        if books.policy_for(client).paid_late_penalties == "claimed" and within_limitation(invoice, client, as_of):
            found.setdefault(invoice.client, []).append(invoice)
    for invoices in found.values():
        invoices.sort(key=lambda i: i.number)
    return found


def to_claim(
    books: Books, client: Client, policy: Policy, invoices: Iterable[Invoice], past: History, as_of: date
) -> list[Amounts] | list[money.MissingRate]:
    """The lines of the client's statement tonight: each invoice settled late that owes something, is not on
    hold, and was not in a statement the client received."""
    listed: list[Amounts] = []
    gaps: list[money.MissingRate] = []
    for invoice in invoices:
        if any(hold is not None and hold.active_on(as_of) for hold in (invoice.hold, client.hold)):
            continue
        if any(contact.step == STATEMENT_STEP for contact in past.contacts(invoice.number)):
            continue
        found = owed(invoice, client, policy, books, past.notice_date(invoice.number, policy))
        if isinstance(found, money.MissingRate):
            gaps.append(found)
        elif found.charges + found.indemnity > 0:
            listed.append(found)
    return gaps or listed


def drafted_again(
    books: Books, client: Client, policy: Policy, past: History, numbers: Iterable[str], day: date
) -> Action | money.MissingRate:
    """The statement a drafted journal line lists, as of `day` (the day it is sent): its invoices still
    settled late and not on hold, with the same amounts (they stop with the payment) and a deadline from `day`."""
    wanted = set(numbers)
    listed: list[Amounts] = []
    for invoice in sorted(books.invoices, key=lambda i: i.number):
        if invoice.number not in wanted or invoice.client != client.id or settled_late_on(invoice) is None:
            continue
        if any(hold is not None and hold.active_on(day) for hold in (invoice.hold, client.hold)):
            continue
        found = owed(invoice, client, policy, books, past.notice_date(invoice.number, policy))
        if isinstance(found, money.MissingRate):
            return found
        listed.append(found)
    return action(client, policy, listed, day)


def action(client: Client, policy: Policy, listed: Sequence[Amounts], as_of: date) -> Action:
    """The statement's document; its deadline counts from its date."""
    return Action(client, policy, step(policy), tuple(listed), as_of + timedelta(days=DEADLINE_DAYS))


def _years_after(day: date, years: int) -> date:
    """The same day `years` later; a 29 February without one in that year becomes 1 March."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)
