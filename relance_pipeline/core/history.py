"""What the journal says happened: where each invoice stands in its policy, and when each client was last contacted.

Every journal entry that lists an invoice at a step means the invoice reached that step, whatever its event:
a draft withdrawn in review or an email that failed to send still counts as issued, so that it is not drafted
again (to pause a client, the reviewer adds a hold). A contact, though, is something the client received or
will receive: a drafted, sent, posted or called entry, unless that draft (its file) was later withdrawn.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from relance_pipeline.model import JournalEntry, Policy

CONTACT_EVENTS = frozenset({"drafted", "sent", "posted", "called"})
NOTICE_EVENTS = frozenset({"sent", "posted"})
"""Legal interest runs from the mise en demeure the consumer received: an email sent, a letter posted."""


@dataclass(frozen=True)
class Level:
    """Where one invoice stands: the most advanced step it was issued at, and when that step was first issued."""

    index: int
    """Index of the step in the policy; -1 when no step was issued yet."""
    since: date | None = None


NOT_STARTED = Level(-1)


@dataclass(frozen=True)
class History:
    steps: Mapping[str, tuple[tuple[str, date], ...]]
    """Invoice number → (step id, date) of each entry that listed it."""
    last_contact: Mapping[str, date]
    """Client id → date of the latest contact."""
    notices: Mapping[str, Mapping[str, date]]
    """Invoice number → step id → first date a document at that step was delivered (sent or posted)."""

    def level(self, invoice: str, policy: Policy) -> Level:
        best = NOT_STARTED
        for step_id, day in self.steps.get(invoice, ()):
            index = policy.step_index(step_id)
            # A step the policy no longer has (renamed or removed) says nothing about the current steps.
            if index is None or index < best.index:
                continue
            if index > best.index or best.since is None or day < best.since:
                best = Level(index, day)
        return best

    def notice_date(self, invoice: str, policy: Policy) -> date | None:
        """The day the mise en demeure of the invoice was delivered (email sent, letter posted), if it was."""
        notice = next((step for step in policy.steps if step.formal_notice), None)
        if notice is None:
            return None
        return self.notices.get(invoice, {}).get(notice.id)


def history(entries: Iterable[JournalEntry]) -> History:
    entries = list(entries)
    withdrawn = {(e.client, e.step, e.file) for e in entries if e.event == "withdrawn"}
    steps: dict[str, list[tuple[str, date]]] = {}
    last_contact: dict[str, date] = {}
    notices: dict[str, dict[str, date]] = {}
    for entry in entries:
        for number in entry.invoices:
            steps.setdefault(number, []).append((entry.step, entry.date))
        kept = (entry.client, entry.step, entry.file) not in withdrawn or entry.event != "drafted"
        if entry.event in CONTACT_EVENTS and kept:
            known = last_contact.get(entry.client)
            last_contact[entry.client] = entry.date if known is None else max(known, entry.date)
        if entry.event in NOTICE_EVENTS and kept:
            for number in entry.invoices:
                by_step = notices.setdefault(number, {})
                known = by_step.get(entry.step)
                by_step[entry.step] = entry.date if known is None else min(known, entry.date)
    return History(
        steps={number: tuple(found) for number, found in steps.items()},
        last_contact=last_contact,
        notices=notices,
    )
