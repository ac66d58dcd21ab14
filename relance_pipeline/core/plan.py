"""Which reminder is due for whom tonight: a pure function of the books, the journal and the as-of date.

Escalation is per client, as the client lives it: at most one document per client per run, at the most
advanced step due among its invoices, listing every overdue invoice that is not held and not already issued
at that step or beyond, and none within the policy's minimum interval of the last contact. An invoice's next
step needs the previous one issued in an earlier run, so a job that missed nights catches up step by step
instead of jumping to the mise en demeure.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from relance_pipeline.core import money
from relance_pipeline.core.history import History, Level, history
from relance_pipeline.model import Action, Amounts, Books, Client, Invoice, JournalEntry, Plan, Policy, Problem, Waiting


@dataclass(frozen=True)
class _State:
    """One overdue, not-held invoice of a client and where it stands tonight."""

    invoice: Invoice
    level: Level
    ready: bool
    """Its next step is due and its previous step was issued in an earlier run."""


def plan(books: Books, journal: Iterable[JournalEntry], as_of: date) -> Plan:
    """The plan of the night. A client whose amounts need a rate the table lacks is held back, with a warning
    per invoice naming the semester and the file; the other clients' documents go out."""
    past = history(journal)
    actions: list[Action] = []
    waiting: list[Waiting] = []
    missing: list[Problem] = []
    for client_id, invoices in sorted(_overdue_by_client(books, as_of).items()):
        client = books.clients[client_id]
        policy = books.policy_for(client)
        found = _client_plan(books, client, policy, invoices, past, as_of)
        if isinstance(found, list):
            missing += [gap.problem() for gap in found]
            continue
        action, waits = found
        actions.extend([action] if action else [])
        waiting.extend(waits)
    waiting.sort(key=lambda w: (w.invoice.client, w.invoice.number))
    return Plan(as_of=as_of, actions=tuple(actions), waiting=tuple(waiting), held_back=tuple(sorted(set(missing))))


def is_overdue(invoice: Invoice, as_of: date) -> bool:
    return invoice.due < as_of and invoice.outstanding(as_of) > 0


def _overdue_by_client(books: Books, as_of: date) -> dict[str, list[Invoice]]:
    """The overdue invoices of each client the books know, with a policy the books know (validate reports the
    others)."""
    found: dict[str, list[Invoice]] = {}
    for invoice in books.invoices:
        client = books.clients.get(invoice.client)
        if client is None or (client.policy or books.settings.default_policy) not in books.policies:
            continue
        if is_overdue(invoice, as_of):
            found.setdefault(invoice.client, []).append(invoice)
    for invoices in found.values():
        invoices.sort(key=lambda i: i.number)
    return found


def _client_plan(
    books: Books, client: Client, policy: Policy, invoices: Sequence[Invoice], past: History, as_of: date
) -> tuple[Action | None, list[Waiting]] | list[money.MissingRate]:
    last_contact = past.last_contact.get(client.id)
    waiting: list[Waiting] = []
    states: list[_State] = []
    for invoice in invoices:
        level = past.level(invoice.number, policy)
        if invoice.hold is not None and invoice.hold.active_on(as_of):
            waiting.append(_held(invoice, policy, level, last_contact, as_of))
        elif level.index == len(policy.steps) - 1:
            waiting.append(_awaiting_decision(invoice, policy, level, as_of))
        else:
            states.append(_State(invoice, level, _is_ready(invoice, policy, level, as_of)))
    ready = [s for s in states if s.ready]
    if not ready:
        return None, waiting + [_not_ready(s, policy, last_contact, as_of) for s in states]
    if last_contact is not None and (as_of - last_contact).days < _interval(policy).days:
        # A contact today means tonight's document is already drafted: the run is idempotent.
        return None, waiting + [_too_soon(s, policy, last_contact, as_of) for s in states]
    target = max(s.level.index + 1 for s in ready)
    step = policy.steps[target]
    # An invoice already issued at this step or a later one is not listed again: a step is never planned twice
    # for the same invoice, and no invoice moves back. It waits for its own next step.
    joining = [s for s in states if s.level.index < target]
    waiting += [_not_ready(s, policy, as_of, as_of) for s in states if s.level.index >= target]
    listed: list[Amounts] = []
    gaps: list[money.MissingRate] = []
    for state in joining:
        notice = past.notice_date(state.invoice.number, policy)
        amounts = money.amounts(state.invoice, client, policy, books.rates, as_of, notice)
        if isinstance(amounts, money.MissingRate):
            gaps.append(amounts)
        else:
            listed.append(amounts)
    if gaps:
        return gaps
    deadline = as_of + timedelta(days=step.deadline_days) if step.deadline_days else None
    return Action(client=client, policy=policy, step=step, invoices=tuple(listed), deadline=deadline), waiting


def _interval(policy: Policy) -> timedelta:
    """At least a day: two documents for one client on the same date would be two runs' worth."""
    return timedelta(days=max(policy.min_interval_days, 1))


def _is_ready(invoice: Invoice, policy: Policy, level: Level, as_of: date) -> bool:
    following = policy.steps[level.index + 1]
    earlier_run = level.since is None or level.since < as_of
    return earlier_run and invoice.days_overdue(as_of) >= following.after_days


def _next_date(
    invoice: Invoice, policy: Policy, level: Level, last_contact: date | None
) -> tuple[str | None, date | None]:
    """The invoice's next step and the first date it can go out: when it is due, the day after the previous
    step, and the end of the interval since the client's last contact."""
    if level.index + 1 >= len(policy.steps):
        return None, None
    following = policy.steps[level.index + 1]
    dates = [invoice.due + timedelta(days=following.after_days)]
    if level.since is not None:
        dates.append(level.since + timedelta(days=1))
    if last_contact is not None:
        dates.append(last_contact + _interval(policy))
    return following.id, max(dates)


def _held(invoice: Invoice, policy: Policy, level: Level, last_contact: date | None, as_of: date) -> Waiting:
    assert invoice.hold is not None
    hold = invoice.hold
    detail = hold.reason.replace("_", " ")
    detail += f" until {hold.until.isoformat()}" if hold.until else " (no end date)"
    detail += f": {hold.note}" if hold.note else ""
    step, due = _next_date(invoice, policy, level, last_contact)
    when = max(due, hold.until + timedelta(days=1)) if due and hold.until else None
    return Waiting(invoice, "held", detail, invoice.outstanding(as_of), step, when)


def _awaiting_decision(invoice: Invoice, policy: Policy, level: Level, as_of: date) -> Waiting:
    last = policy.steps[level.index]
    since = f" on {level.since.isoformat()}" if level.since else ""
    detail = f"every step issued (last: {last.id}{since}): court, payment plan or write-off"
    return Waiting(invoice, "awaiting_decision", detail, invoice.outstanding(as_of))


def _not_ready(state: _State, policy: Policy, last_contact: date | None, as_of: date) -> Waiting:
    invoice, level = state.invoice, state.level
    step, when = _next_date(invoice, policy, level, last_contact)
    outstanding = invoice.outstanding(as_of)
    if level.since is not None and level.since >= as_of:
        issued = policy.steps[level.index].id
        detail = f"{issued} drafted on {level.since.isoformat()}, waiting for review"
        return Waiting(invoice, "drafted_today", detail, outstanding, step, when)
    following = policy.steps[level.index + 1]
    detail = f"{invoice.days_overdue(as_of)} days overdue; {step} at {following.after_days} days"
    return Waiting(invoice, "not_yet", detail, outstanding, step, when)


def _too_soon(state: _State, policy: Policy, last_contact: date, as_of: date) -> Waiting:
    if not state.ready:
        return _not_ready(state, policy, last_contact, as_of)
    invoice = state.invoice
    step, when = _next_date(invoice, policy, state.level, last_contact)
    if last_contact >= as_of:
        later = "" if last_contact == as_of else " (after the as-of date)"
        detail = f"contacted on {last_contact.isoformat()}{later}: one document per client per run"
        return Waiting(invoice, "drafted_today", detail, invoice.outstanding(as_of), step, when)
    detail = f"last contact {last_contact.isoformat()}, at least {policy.min_interval_days} days between contacts"
    return Waiting(invoice, "interval", detail, invoice.outstanding(as_of), step, when)
