"""A drafted document's action again, on another day: what `send` finalizes (pure).

The drafted journal line says who, at which step, for which invoices. On the day of sending the invoices
still owed and not held are listed, with their amounts as of that day and a deadline counted from it; an
invoice paid, credited or put on hold since the draft drops out (its own hold or its client's, or a payment
plan kept). An invoice in arrears on its payment plan is listed as the plan lists it: its missed instalments.
The same call on the drafting day gives back the action that was drafted (payments recorded later are dated
later), which is how `send` knows what the reviewer was shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta

from relance_pipeline.core import money, statement
from relance_pipeline.core.history import History, history
from relance_pipeline.core.plan import active_hold, as_dunned
from relance_pipeline.model import (
    STATEMENT_STEP,
    Action,
    Amounts,
    Books,
    Contact,
    Invoice,
    JournalEntry,
    PlanStanding,
    Problem,
)


def action_on(
    books: Books,
    journal: Iterable[JournalEntry],
    drafted: JournalEntry,
    day: date,
    *,
    past: History | None = None,
    invoices: Mapping[str, Invoice] | None = None,
) -> Action | Problem:
    """The action of the `drafted` line as of `day`; a Problem when the books no longer hold it. `past` (the
    journal's history) and `invoices` (the books' by number) may be given by a caller that asks for many."""
    client = books.clients.get(drafted.client)
    if client is None:
        return Problem(
            drafted.file,
            None,
            f"its client '{drafted.client}' is no longer in the books; not sent",
            code="send.client_gone",
        )
    policy = books.policy_for(client)
    if drafted.step == STATEMENT_STEP and policy.paid_late_penalties == "claimed":
        past = past if past is not None else history(journal)
        again = statement.drafted_again(books, client, policy, past, drafted.invoices, day)
        return again.problem() if isinstance(again, money.MissingRate) else again
    step = next((step for step in policy.steps if step.id == drafted.step), None)
    if step is None:
        return Problem(
            drafted.file,
            None,
            f"its step '{drafted.step}' is no longer in {policy.source}; not sent",
            code="send.step_gone",
        )
    past = past if past is not None else history(journal)
    invoices = invoices if invoices is not None else {invoice.number: invoice for invoice in books.invoices}
    listed: list[Amounts] = []
    plans: dict[str, PlanStanding] = {}
    contacts: dict[str, tuple[Contact, ...]] = {}
    for number in drafted.invoices:
        invoice = invoices.get(number)
        # Held on the day: its own hold or its client's.
        if invoice is None or invoice.outstanding(day) <= 0 or active_hold(client, invoice, day) is not None:
            continue
        # Listed as the plan lists it: under a payment plan in arrears, the instalments missed; none if kept.
        as_listed = as_dunned(invoice, day)
        if isinstance(as_listed, PlanStanding):
            continue
        dunned, standing = as_listed
        if standing is not None:
            plans[number] = standing
        since = invoice.payment_plan.agreed if invoice.payment_plan is not None else None
        contacts[number] = past.contacts(number, since)
        found = money.amounts(dunned, client, policy, books.rates, day, past.notice_date(number, policy))
        if isinstance(found, money.MissingRate):
            return found.problem()
        listed.append(found)
    deadline = day + timedelta(days=step.deadline_days) if step.deadline_days else None
    own = {number: policy.steps[i] for number, s in drafted.invoice_steps if (i := policy.step_index(s)) is not None}
    return Action(
        client=client,
        policy=policy,
        step=step,
        invoices=tuple(listed),
        deadline=deadline,
        own_steps={n: s for n, s in own.items() if n in contacts},
        contacts=contacts,
        plans=plans,
    )
