from __future__ import annotations

from dataclasses import replace
from datetime import date

from relance_pipeline.core.pending import find, pending
from relance_pipeline.model import Channel, JournalEntry, JournalEvent


def line(file: str, event: JournalEvent, channel: Channel = "email", step: str = "relance-1") -> JournalEntry:
    return JournalEntry(date(2026, 6, 15), "acme", step, channel, ("F-1",), file, "0" * 64, event)


def test_a_draft_stays_open_until_sent_and_failures_are_counted() -> None:
    entries = [line("a.eml", "drafted"), line("b.eml", "drafted"), line("a.eml", "failed"), line("b.eml", "sent")]
    assert [(d.file, d.failures) for d in pending(entries)] == [("a.eml", 1)]


def test_a_letter_is_closed_by_posted_and_a_call_sheet_by_called_not_by_sent() -> None:
    entries = [
        line("l.pdf", "drafted", "letter", "lettre"),
        line("c.call.md", "drafted", "phone", "appel"),
        line("l.pdf", "sent", "letter", "lettre"),
        line("c.call.md", "called", "phone", "appel"),
    ]
    assert [d.file for d in pending(entries)] == ["l.pdf"]
    assert [d.file for d in find(entries, "letter", "acme", "lettre")] == ["l.pdf"]
    assert find(entries, "phone", "acme", "appel") == []


def test_withdrawn_closes_any_channel() -> None:
    entries = [line("l.pdf", "drafted", "letter"), line("l.pdf", "withdrawn", "letter")]
    assert pending(entries) == []


def test_an_unknown_sending_keeps_the_draft_open_and_marked_until_a_failed_or_sent_line() -> None:
    unknown = line("a.eml", "unknown")
    entries = [line("a.eml", "drafted"), unknown]
    assert [(d.file, d.unknown) for d in pending(entries)] == [("a.eml", unknown)]
    assert [(d.file, d.unknown, d.failures) for d in pending([*entries, line("a.eml", "failed")])] == [
        ("a.eml", None, 1)
    ]
    assert pending([*entries, line("a.eml", "sent")]) == []


def test_a_failure_refused_for_good_keeps_the_draft_waiting_for_a_person_until_a_later_failed_line() -> None:
    refused = replace(line("a.eml", "failed"), permanent=True)
    entries = [line("a.eml", "drafted"), refused]
    assert [(d.file, d.refused, d.failures) for d in pending(entries)] == [("a.eml", refused, 1)]
    assert [(d.refused, d.failures) for d in pending([*entries, line("a.eml", "failed")])] == [(None, 2)]
    assert pending([*entries, line("a.eml", "withdrawn")]) == []
