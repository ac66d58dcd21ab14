"""Which reminder is due for whom tonight: a pure function of the books, the journal and the as-of date.

Escalation follows what the client received (core.history): each invoice has its own level, the last step
delivered about it; its next step is due once it is that many days overdue. At most one document per client
per run, at the most advanced step due, listing each overdue invoice that is not held at its own step: the
next one when it is due (or when the invoice was never reminded), else the one it is at. Nothing is drafted
for a client while one of its documents waits (for review, sending, posting or the call), nor within the
policy's interval of the last delivered contact or withdrawn draft: a job that missed nights, or a pull
request merged late, catches up one step per delivery instead of jumping to the mise en demeure.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from relance_pipeline.core import money, statement
from relance_pipeline.core.history import MANUAL, History, Level, Reminder, history
from relance_pipeline.figures import amount, count
from relance_pipeline.model import (
    STATEMENT_STEP,
    ZERO,
    Action,
    Amounts,
    Books,
    Client,
    Contact,
    Hold,
    Invoice,
    JournalEntry,
    Plan,
    PlanStanding,
    Policy,
    Problem,
    Step,
    Waiting,
    WaitReason,
)


@dataclass(frozen=True)
class _State:
    """One overdue, not-held invoice of a client and where it stands tonight."""

    invoice: Invoice
    """Under a payment plan in arrears: what is due under the plan, from the first missed instalment."""
    level: Level
    ready: bool
    """Its next step is due tonight."""
    since: date | None = None
    """Under a payment plan: only reminders from the day it was agreed count."""
    plan: PlanStanding | None = None
    """Under a payment plan in arrears: its instalments, what was paid of each."""


def plan(books: Books, journal: Iterable[JournalEntry], as_of: date) -> Plan:
    """The plan of the night. A client whose amounts need a rate the table lacks is held back, with a warning
    per invoice naming the semester and the file; the other clients' documents go out."""
    past = history(journal)
    actions: list[Action] = []
    waiting: list[Waiting] = []
    missing: list[Problem] = []
    overdue = _overdue_by_client(books, as_of)
    paid_late = statement.paid_late_by_client(books, as_of)
    for client_id in sorted(overdue.keys() | paid_late.keys()):
        client = books.clients[client_id]
        policy = books.policy_for(client)
        found = _client_plan(books, client, policy, overdue.get(client_id, []), past, as_of)
        if not isinstance(found, list) and client_id in paid_late:
            found = _with_statement(books, client, policy, paid_late[client_id], past, as_of, found)
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


def active_hold(client: Client, invoice: Invoice, as_of: date) -> Hold | None:
    """The invoice's own hold, else its client's, when it holds on the date."""
    for hold in (invoice.hold, client.hold):
        if hold is not None and hold.active_on(as_of):
            return hold
    return None


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
    lapsed, waits_for = _open(past.open_reminders(client.id), policy, as_of)
    last = _last(past, client.id)
    waiting: list[Waiting] = []
    states: list[_State] = []
    for invoice in invoices:
        state = _state(client, policy, invoice, past, lapsed, as_of)
        if isinstance(state, Waiting):
            waiting.append(state)
        elif state.level.index == len(policy.steps) - 1:
            waiting.append(_awaiting_decision(state, policy, as_of))
        else:
            states.append(state)
    if waits_for is not None:
        reminder, what = waits_for
        return None, waiting + [_pending(s, policy, reminder, what, as_of) for s in states]
    ready = [s for s in states if s.ready]
    if not ready:
        return None, waiting + [_not_ready(s, policy, last, as_of) for s in states]
    if last is not None and (as_of - last).days < _interval(policy).days:
        return None, waiting + [_too_soon(s, policy, last, past, client.id, as_of) for s in states]
    target = max(s.level.index + 1 for s in ready)
    step = policy.steps[target]
    # An invoice already at this step or a later one is not listed again: it waits for its own next step.
    joining = [s for s in states if s.level.index < target]
    waiting += [_not_ready(s, policy, as_of, as_of) for s in states if s.level.index >= target]
    listed: list[Amounts] = []
    own: dict[str, Step] = {}
    contacts: dict[str, tuple[Contact, ...]] = {}
    plans: dict[str, PlanStanding] = {}
    gaps: list[money.MissingRate] = []
    for state in joining:
        number = state.invoice.number
        # Listed at its next step when that is due (or it was never reminded), else at the one it is at:
        # an invoice never skips a step, whatever the document's.
        index = state.level.index + 1 if state.ready or state.level.index < 0 else state.level.index
        if index != target and step.formal_notice:
            # A formal notice demands its whole sum by a deadline: an invoice not through the earlier steps
            # would be under it too. It waits for a document of its own, after the interval.
            waiting.append(_not_ready(state, policy, as_of, as_of))
            continue
        if index != target:
            own[number] = policy.steps[index]
        contacts[number] = past.contacts(number, state.since)
        if state.plan is not None:
            plans[number] = state.plan
        notice = past.notice_date(number, policy)
        amounts = money.amounts(state.invoice, client, policy, books.rates, as_of, notice)
        if isinstance(amounts, money.MissingRate):
            gaps.append(amounts)
        else:
            listed.append(amounts)
    if gaps:
        return gaps
    deadline = as_of + timedelta(days=step.deadline_days) if step.deadline_days else None
    action = Action(client, policy, step, tuple(listed), deadline, own_steps=own, contacts=contacts, plans=plans)
    return action, waiting


def _with_statement(
    books: Books,
    client: Client,
    policy: Policy,
    invoices: Sequence[Invoice],
    past: History,
    as_of: date,
    tonight: tuple[Action | None, list[Waiting]],
) -> tuple[Action | None, list[Waiting]] | list[money.MissingRate]:
    """The client's statement of what its invoices paid late still owe, when nothing else goes out tonight:
    a reminder comes first (one document per client per night), and the statement waits, as a step would,
    for an undelivered document and for the interval."""
    action, waiting = tonight
    listed = statement.to_claim(books, client, policy, invoices, past, as_of)
    if not listed or isinstance(listed[0], money.MissingRate):
        return [gap for gap in listed if isinstance(gap, money.MissingRate)] or tonight
    owed = [amounts for amounts in listed if isinstance(amounts, Amounts)]
    _, waits_for = _open(past.open_reminders(client.id), policy, as_of)
    last = _last(past, client.id)
    reason: WaitReason
    if action is not None:
        why, reason, when = f"tonight's {action.step.id} goes first: one document per client a night", "not_yet", None
    elif waits_for is not None:
        reminder, what = waits_for
        drafted = f"drafted on {reminder.drafted.isoformat()}" if reminder.drafted else "recorded"
        why, reason, when = f"{reminder.step} {drafted}, waiting for {what}", "pending", None
    elif last is not None and (as_of - last).days < _interval(policy).days:
        why, reason, when = f"last contact {last.isoformat()}", "interval", last + _interval(policy)
    else:
        return statement.action(client, policy, owed, as_of), waiting
    detail = f"paid late, {amount(sum((a.total_due for a in owed), ZERO))} owed: the statement waits; {why}"
    waits = [Waiting(a.invoice, reason, detail, ZERO, STATEMENT_STEP, when) for a in owed]
    return action, waiting + waits


def _open(
    reminders: Sequence[Reminder], policy: Policy, as_of: date
) -> tuple[list[Reminder], tuple[Reminder, str] | None]:
    """The open reminders that no longer hold the client back (a letter or call left unrecorded past the
    policy's `manual_wait_days`), and the first one that does, with what it waits for."""
    lapsed: list[Reminder] = []
    for reminder in reminders:
        manual = all(channel in MANUAL and state != "unknown" for channel, state in reminder.waiting)
        wait = policy.manual_wait_days
        if manual and wait is not None and reminder.drafted and (as_of - reminder.drafted).days >= wait:
            lapsed.append(reminder)
            continue
        return lapsed, (reminder, reminder.waits_for())
    return lapsed, None


def _last(past: History, client: str) -> date | None:
    """The day the interval counts from: the last delivered contact, or a draft withdrawn in review since."""
    days = [d for d in (past.last_contact(client), past.last_withdrawn(client)) if d is not None]
    return max(days, default=None)


def _state(
    client: Client, policy: Policy, invoice: Invoice, past: History, lapsed: Sequence[Reminder], as_of: date
) -> _State | Waiting:
    hold = active_hold(client, invoice, as_of)
    since = invoice.payment_plan.agreed if invoice.payment_plan is not None else None
    level = _with_lapsed(past.level(invoice.number, policy, since), invoice, policy, lapsed)
    if hold is not None:
        return _held(invoice, hold, policy, level, past.last_contact(client.id), client.hold is hold, as_of)
    dunned = as_dunned(invoice, as_of)
    if isinstance(dunned, PlanStanding):
        return _kept(invoice, dunned)
    arrears, standing = dunned
    return _State(arrears, level, _is_ready(arrears, policy, level, as_of), since, standing)


def as_dunned(invoice: Invoice, as_of: date) -> tuple[Invoice, PlanStanding | None] | PlanStanding:
    """The invoice as it is dunned on the date: itself; under a payment plan in arrears, what is due under the
    plan (its missed instalments, from the first one's due date) with the plan's standing; a kept plan's
    standing when nothing is due under it. The plan and `send` (core.refresh) both list invoices so."""
    if invoice.payment_plan is None:
        return invoice, None
    standing = invoice.payment_plan.standing(invoice, as_of)
    if not standing.missed:
        return standing
    # Dunning resumes on what is due under the plan, from the first instalment missed: the plan has its
    # own level, starting again at the courteous first step.
    arrears = replace(invoice, due=standing.missed[0].due, total=standing.arrears, payments=(), credit_notes=())
    return arrears, standing


def is_held(client: Client, invoice: Invoice, as_of: date) -> bool:
    """Left out of any document on the date: its own hold or its client's, or a payment plan kept."""
    return active_hold(client, invoice, as_of) is not None or isinstance(as_dunned(invoice, as_of), PlanStanding)


def _with_lapsed(level: Level, invoice: Invoice, policy: Policy, lapsed: Sequence[Reminder]) -> Level:
    """A step skipped by the policy's manual_wait_days counts as passed, from the day it lapsed."""
    for reminder in lapsed:
        step = reminder.invoice_steps.get(invoice.number)
        index = policy.step_index(step) if step else None
        if index is not None and index > level.index and reminder.drafted is not None:
            assert policy.manual_wait_days is not None
            level = Level(index, reminder.drafted + timedelta(days=policy.manual_wait_days))
    return level


def _interval(policy: Policy) -> timedelta:
    """At least a day: two documents for one client on the same date would be two runs' worth."""
    return timedelta(days=max(policy.min_interval_days, 1))


def _is_ready(invoice: Invoice, policy: Policy, level: Level, as_of: date) -> bool:
    if level.index + 1 >= len(policy.steps):
        return False
    following = policy.steps[level.index + 1]
    earlier = level.since is None or level.since < as_of
    return earlier and invoice.days_overdue(as_of) >= following.after_days


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


def _held(
    invoice: Invoice,
    hold: Hold,
    policy: Policy,
    level: Level,
    last_contact: date | None,
    client_wide: bool,
    as_of: date,
) -> Waiting:
    detail = ("client on hold, " if client_wide else "") + hold.reason.replace("_", " ")
    detail += f" until {hold.until.isoformat()}" if hold.until else " (no end date)"
    detail += f": {hold.note}" if hold.note else ""
    step, due = _next_date(invoice, policy, level, last_contact)
    when = max(due, hold.until + timedelta(days=1)) if due and hold.until else None
    return Waiting(invoice, "held", detail, invoice.outstanding(as_of), step, when)


def _kept(invoice: Invoice, standing: PlanStanding) -> Waiting:
    coming = [i for i in standing.coming if i.unpaid > 0]
    detail = f"payment plan agreed {standing.agreed.isoformat()}, {plan_state(standing)}"
    when = coming[0].due + timedelta(days=1) if coming else None
    return Waiting(invoice, "payment_plan", detail, invoice.outstanding(standing.on), None, when)


def plan_state(standing: PlanStanding) -> str:
    """The plan's state in the plan's and the report's words: instalments met and missed, the next one due."""
    met, missed = len(standing.met), len(standing.missed)
    words = [f"{met} of {count(len(standing.instalments), 'instalment')} met"]
    if missed:
        words.append(f"{missed} missed ({amount(standing.arrears)} due)")
    coming = [i for i in standing.coming if i.unpaid > 0]
    if coming:
        words.append(f"next: {amount(coming[0].unpaid)} on {coming[0].due.isoformat()}")
    return ", ".join(words)


def _awaiting_decision(state: _State, policy: Policy, as_of: date) -> Waiting:
    level, invoice = state.level, state.invoice
    last = policy.steps[level.index]
    since = f" on {level.since.isoformat()}" if level.since else ""
    under = " under its payment plan" if state.since else ""
    detail = f"every step delivered{under} (last: {last.id}{since}): court, payment plan or write-off"
    return Waiting(invoice, "awaiting_decision", detail, invoice.outstanding(as_of))


def _pending(state: _State, policy: Policy, reminder: Reminder, what: str, as_of: date) -> Waiting:
    step, _ = _next_date(state.invoice, policy, state.level, None)
    drafted = f"drafted on {reminder.drafted.isoformat()}" if reminder.drafted else "recorded"
    detail = f"{reminder.step} {drafted}, waiting for {what}"
    return Waiting(state.invoice, "pending", detail, state.invoice.outstanding(as_of), step, None)


def _not_ready(state: _State, policy: Policy, last_contact: date | None, as_of: date) -> Waiting:
    invoice, level = state.invoice, state.level
    step, when = _next_date(invoice, policy, level, last_contact)
    following = policy.steps[level.index + 1]
    detail = f"{count(invoice.days_overdue(as_of), 'day')} overdue; {step} at {count(following.after_days, 'day')}"
    return Waiting(invoice, "not_yet", detail, invoice.outstanding(as_of), step, when)


def _too_soon(state: _State, policy: Policy, last: date, past: History, client: str, as_of: date) -> Waiting:
    if not state.ready:
        return _not_ready(state, policy, last, as_of)
    invoice = state.invoice
    step, when = _next_date(invoice, policy, state.level, last)
    withdrawn = past.last_withdrawn(client)
    if withdrawn is not None and withdrawn == last and last != past.last_contact(client):
        detail = f"a draft was withdrawn in review on {last.isoformat()}: drafted again fresh after the interval"
    else:
        detail = f"last contact {last.isoformat()}, at least {count(policy.min_interval_days, 'day')} between contacts"
    return Waiting(invoice, "interval", detail, invoice.outstanding(as_of), step, when)
