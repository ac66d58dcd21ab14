"""What the journal says the client received: each reminder, where each invoice stands, what still waits.

A reminder is one document: the files of one client, step and draft date (its channels). It is *delivered*
(issued) on the first day one of its channels reached the client: the email or text `sent`, the letter
`posted`, the call `called`. Drafted is not delivered. A file `withdrawn` never was; `failed` and `unknown`
(the server may have accepted it) leave it open. A reminder with an open file holds its client back: nothing
more is drafted for the client until it is delivered or withdrawn. A `sent`, `posted` or `called` line that no
draft precedes is a reminder made by hand (before relance, or outside it): delivered on its date.

Each invoice has its own level: the most advanced step it was delivered at. A document lists each invoice at
its own step (`invoice_steps` of its drafted lines), which is the document's step unless said otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from relance_pipeline.model import Channel, Contact, JournalEntry, JournalEvent, Policy

DELIVERED_BY: dict[Channel, JournalEvent] = {"email": "sent", "sms": "sent", "letter": "posted", "phone": "called"}
MANUAL: frozenset[Channel] = frozenset({"letter", "phone"})
"""The channels the user delivers by hand, and records."""


@dataclass(frozen=True)
class Level:
    """Where one invoice stands: the most advanced step delivered, and the day it was first delivered."""

    index: int
    """Index of the step in the policy; -1 when no step was delivered yet."""
    since: date | None = None


NOT_STARTED = Level(-1)


@dataclass
class _File:
    entry: JournalEntry
    """Its drafted line (or, for a reminder made by hand, its delivery line)."""
    drafted: date | None
    delivered: date | None = None
    note: str | None = None
    withdrawn: date | None = None
    state: str = "review"
    """While open: "review" (drafted), "failed" (a send failed, tried again), "refused" (refused for good by the
    server: a person asks for another try), "unknown" (may have gone)."""


@dataclass(frozen=True)
class Reminder:
    """One document to one client: its channels' files together."""

    client: str
    step: str
    drafted: date | None
    """None for a reminder recorded by hand with no draft before it."""
    invoice_steps: Mapping[str, str]
    """Every invoice it lists → the step it lists it at."""
    delivered: date | None
    channels: tuple[Channel, ...]
    """The channels that reached the client."""
    notes: tuple[str, ...]
    waiting: tuple[tuple[Channel, str], ...]
    """The files still open: their channel and state (review, failed, unknown)."""
    withdrawn: date | None
    """When its last open file was withdrawn, if every undelivered file was."""

    @property
    def open(self) -> bool:
        return bool(self.waiting)

    def waits_for(self) -> str:
        """What the user has to do for this reminder to be delivered, in the plan's words."""
        parts = []
        who = f"--client {self.client} --step {self.step}"
        for channel, state in self.waiting:
            if state == "unknown":
                parts.append(
                    f"a person to check whether the {channel} went out (the server may have accepted it), then "
                    f"relance record sent {who} (or relance record failed {who})"
                )
            elif state == "refused":
                parts.append(
                    f"a person to fix what the server refused for good in the {channel}, then relance record failed "
                    f"{who} for another try (or to delete the draft)"
                )
            elif channel == "letter":
                parts.append("the letter to be posted (relance record posted)")
            elif channel == "phone":
                parts.append("the call to be made (relance record called)")
            elif state == "failed":
                parts.append(f"the {channel} to be sent again (relance send)")
            else:
                parts.append(f"review and sending of the {channel}")
        return ", ".join(dict.fromkeys(parts))


@dataclass(frozen=True)
class Task:
    """Something only the user can do for a reminder to count as delivered: post a letter, make a call,
    find out whether a message the server may have accepted went out."""

    client: str
    step: str
    drafted: date | None
    channel: Channel
    state: str

    def words(self) -> str:
        """One line of the pull request's list, with the command that records it done."""
        drafted = f", drafted {self.drafted.isoformat()}" if self.drafted else ""
        who = f"--client {self.client} --step {self.step}"
        if self.state == "refused":
            return (
                f"fix what the server refused for good in the {self.channel} {self.step} to `{self.client}`{drafted} "
                f"(the client's address, the words), then `relance record failed {who}` for another try"
            )
        if self.state == "unknown":
            return (
                f"find out whether the {self.channel} {self.step} to `{self.client}`{drafted} went out (the server "
                f"may have accepted it), then `relance record sent {who}` or `relance record failed {who}`"
            )
        if self.channel == "letter":
            return f"post the {self.step} letter to `{self.client}`{drafted}, then `relance record posted {who}`"
        return f"call `{self.client}` ({self.step} call sheet{drafted}), then `relance record called {who} --note …`"


@dataclass(frozen=True)
class History:
    reminders: tuple[Reminder, ...]
    by_invoice: Mapping[str, tuple[Reminder, ...]] = field(default_factory=dict)
    by_client: Mapping[str, tuple[Reminder, ...]] = field(default_factory=dict)

    def contacts(self, invoice: str, since: date | None = None) -> tuple[Contact, ...]:
        """The reminders about `invoice` the client received (on or after `since`), oldest first, each at the
        step it listed the invoice."""
        found = [
            Contact(r.delivered, r.invoice_steps[invoice], r.channels, "; ".join(r.notes) or None)
            for r in self.by_invoice.get(invoice, ())
            if r.delivered is not None and (since is None or r.delivered >= since)
        ]
        return tuple(sorted(found, key=lambda c: (c.date, c.step)))

    def level(self, invoice: str, policy: Policy, since: date | None = None) -> Level:
        best = NOT_STARTED
        for contact in self.contacts(invoice, since):
            index = policy.step_index(contact.step)
            # A step the policy no longer has (renamed or removed) says nothing about the current steps.
            if index is None or index < best.index:
                continue
            if index > best.index or best.since is None or contact.date < best.since:
                best = Level(index, contact.date)
        return best

    def open_reminders(self, client: str) -> tuple[Reminder, ...]:
        return tuple(r for r in self.by_client.get(client, ()) if r.open)

    def tasks(self, before: date) -> tuple[Task, ...]:
        """What waits on the user among the reminders drafted before `before` (tonight's are still in review):
        letters to post, calls to make, messages whose sending is unknown. By client, then draft date."""
        found = [
            Task(r.client, r.step, r.drafted, channel, state)
            for r in self.reminders
            if r.drafted is None or r.drafted < before
            for channel, state in r.waiting
            if state in ("unknown", "refused") or channel in MANUAL
        ]
        return tuple(sorted(found, key=lambda t: (t.client, t.drafted or date.min, t.step, t.channel)))

    def last_contact(self, client: str) -> date | None:
        """The last day the client received something from us."""
        return max((r.delivered for r in self.by_client.get(client, ()) if r.delivered), default=None)

    def last_withdrawn(self, client: str) -> date | None:
        return max((r.withdrawn for r in self.by_client.get(client, ()) if r.withdrawn), default=None)

    def notice_date(self, invoice: str, policy: Policy) -> date | None:
        """The day the mise en demeure about the invoice was delivered, if it was."""
        notice = next((step for step in policy.steps if step.formal_notice), None)
        if notice is None:
            return None
        return min((c.date for c in self.contacts(invoice) if c.step == notice.id), default=None)


def history(entries: Iterable[JournalEntry]) -> History:
    files: dict[str, _File] = {}
    for entry in entries:
        _apply(files, entry)
    groups: dict[tuple[str, str, date | None, str], list[_File]] = {}
    for rel, found in files.items():
        # Files of one draft share their folder and step; a reminder made by hand stands alone.
        key = (found.entry.client, found.entry.step, found.drafted, "" if found.drafted else rel)
        groups.setdefault(key, []).append(found)
    reminders = tuple(_reminder(group) for _, group in sorted(groups.items(), key=lambda kv: _order(kv[0])))
    by_invoice: dict[str, list[Reminder]] = {}
    by_client: dict[str, list[Reminder]] = {}
    for reminder in reminders:
        by_client.setdefault(reminder.client, []).append(reminder)
        for number in reminder.invoice_steps:
            by_invoice.setdefault(number, []).append(reminder)
    return History(
        reminders,
        {k: tuple(v) for k, v in by_invoice.items()},
        {k: tuple(v) for k, v in by_client.items()},
    )


def _order(key: tuple[str, str, date | None, str]) -> tuple[str, date, str, str]:
    return key[0], key[2] or date.min, key[1], key[3]


def _apply(files: dict[str, _File], entry: JournalEntry) -> None:
    found = files.get(entry.file)
    if entry.event == "drafted":
        files[entry.file] = _File(entry, entry.date)
    elif entry.event == DELIVERED_BY[entry.channel]:
        if found is None:
            files[entry.file] = _File(entry, None, entry.date, entry.note, state="")
        elif found.delivered is None:
            # Delivered after a withdrawal too: the user posted the letter after all, and says so.
            found.delivered, found.note, found.withdrawn = entry.date, entry.note, None
    elif found is None or found.delivered is not None:
        return
    elif entry.event == "withdrawn":
        found.withdrawn = entry.date
    elif entry.event in ("failed", "unknown"):
        found.state = "refused" if entry.event == "failed" and entry.permanent else entry.event


def _reminder(group: list[_File]) -> Reminder:
    first = group[0].entry
    steps: dict[str, str] = {}
    for found in group:
        for number in found.entry.invoices:
            steps.setdefault(number, found.entry.step_of(number))
    delivered = [f for f in group if f.delivered is not None]
    waiting = tuple(sorted((f.entry.channel, f.state) for f in group if f.delivered is None and f.withdrawn is None))
    withdrawn = [f.withdrawn for f in group if f.withdrawn is not None]
    return Reminder(
        client=first.client,
        step=first.step,
        drafted=group[0].drafted,
        invoice_steps=steps,
        delivered=min((f.delivered for f in delivered if f.delivered), default=None),
        channels=tuple(sorted({f.entry.channel for f in delivered})),
        notes=tuple(f.note for f in delivered if f.note and f.entry.channel in MANUAL),
        waiting=waiting,
        withdrawn=max(withdrawn) if withdrawn and not waiting and not delivered else None,
    )
