"""Which drafts still wait for something, read from the journal alone (pure).

A draft is known by its file. Its state is the last event about that file that settles it: `drafted` opens it;
`sent` (email, text), `posted` (letter), `called` (call sheet) or `withdrawn` closes it. A `failed` line
closes nothing, so a failed email is tried again by the next `relance send`, unless the server refused it
for good (`permanent`, a 5xx answer): then it waits for a person, who fixes what was refused and asks for
another try with `relance record failed`, or withdraws the draft. An `unknown` line (the server
may have accepted the message) keeps the draft open, not delivered, but marks it `unknown`: `send` never
tries it again; a person settles it with `relance record sent` (closed) or `relance record failed` (tried
again by the next send).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from relance_pipeline.core.history import DELIVERED_BY as DONE
from relance_pipeline.model import Channel, JournalEntry


@dataclass(frozen=True)
class OpenDraft:
    """A drafted document that is neither done nor withdrawn."""

    entry: JournalEntry
    """The `drafted` line: client, step, channel, invoices, file and the sha256 the reviewer was shown."""
    failures: int = 0
    """How many `failed` lines followed it (sending attempts that did not go through)."""
    unknown: JournalEntry | None = None
    """The `unknown` line, while no later `failed` line reopened it: the send waits for a person."""
    refused: JournalEntry | None = None
    """The last `failed` line when it is `permanent`: the server refused it for good; the send waits for a person."""

    @property
    def file(self) -> str:
        return self.entry.file


def pending(entries: Iterable[JournalEntry], channel: Channel | None = None) -> list[OpenDraft]:
    """The open drafts (of one channel, or all), sorted by file: date, client, step."""
    opened: dict[str, OpenDraft] = {}
    for entry in entries:
        if channel is not None and entry.channel != channel:
            continue
        if entry.event == "drafted":
            opened[entry.file] = OpenDraft(entry)
        elif entry.event == "failed" and entry.file in opened:
            draft = opened[entry.file]
            opened[entry.file] = OpenDraft(draft.entry, draft.failures + 1, refused=entry if entry.permanent else None)
        elif entry.event == "unknown" and entry.file in opened:
            opened[entry.file] = replace(opened[entry.file], unknown=entry)
        elif entry.event in ("withdrawn", DONE[entry.channel]):
            opened.pop(entry.file, None)
    return sorted(opened.values(), key=lambda d: d.file)


def find(entries: Iterable[JournalEntry], channel: Channel, client: str, step: str) -> list[OpenDraft]:
    """The open drafts of one channel for a client at a step (newest first): what `relance record` closes."""
    found = [d for d in pending(entries, channel) if d.entry.client == client and d.entry.step == step]
    return sorted(found, key=lambda d: d.entry.date, reverse=True)
