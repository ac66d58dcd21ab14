from __future__ import annotations

from datetime import date
from pathlib import Path

from relance_pipeline.books import journal
from relance_pipeline.model import JournalEntry
from relance_pipeline.outbox import journal as journal_writer


def entry(step: str = "relance-1", event: str = "drafted", day: date = date(2026, 3, 1)) -> JournalEntry:
    return JournalEntry(
        date=day,
        client="acme",
        step=step,
        channel="email",
        invoices=("F-1", "F-2"),
        file=f"outbox/{day}/acme/{step}.eml",
        sha256="ab" * 32,
        event=event,  # type: ignore[arg-type]
    )


def test_appended_entries_read_back_equal_and_in_order(tmp_path: Path) -> None:
    first, second = entry(), entry("relance-2", "sent")
    journal_writer.append(tmp_path, [first])
    journal_writer.append(tmp_path, [second])
    entries, problems = journal.read_journal(tmp_path)
    assert entries == [first, second]
    assert problems == []


def test_each_line_is_one_json_object_with_the_design_fields(tmp_path: Path) -> None:
    journal_writer.append(tmp_path, [entry()])
    line = (tmp_path / journal.JOURNAL_FILE).read_text().splitlines()[0]
    for field in ("date", "client", "step", "channel", "invoices", "file", "sha256", "event"):
        assert f'"{field}": ' in line


def test_a_line_that_is_not_an_entry_is_reported_with_its_line_number(tmp_path: Path) -> None:
    journal_writer.append(tmp_path, [entry()])
    with (tmp_path / journal.JOURNAL_FILE).open("a") as handle:
        handle.write('{"date": "2026-03-02", "client": "acme"}\n{not json\n')
    entries, problems = journal.read_journal(tmp_path)
    assert len(entries) == 1
    assert [str(p) for p in problems] == [
        "outbox/journal.jsonl:2: this line has no 'step'",
        "outbox/journal.jsonl:3: this line is not valid JSON",
    ]


def test_repair_tail_cuts_only_a_partial_last_line(tmp_path: Path) -> None:
    journal_writer.append(tmp_path, [entry(), entry("relance-2")])
    file = tmp_path / journal.JOURNAL_FILE
    complete = file.read_bytes()
    file.write_bytes(complete + b'{"date": "2026-03-0')
    assert journal_writer.repair_tail(tmp_path) == '{"date": "2026-03-0'
    assert file.read_bytes() == complete
    assert journal_writer.repair_tail(tmp_path) is None
    assert file.read_bytes() == complete


def test_blank_lines_are_skipped_and_a_line_not_in_utf8_is_reported_with_its_line_number(tmp_path: Path) -> None:
    journal_writer.append(tmp_path, [entry()])
    with (tmp_path / journal.JOURNAL_FILE).open("ab") as handle:
        handle.write(b"\n \t\x0c\r\n" + b'{"note": "caf\xe9"}\n')
    journal_writer.append(tmp_path, [entry("relance-2")])
    entries, problems = journal.read_journal(tmp_path)
    assert [e.step for e in entries] == ["relance-1", "relance-2"]
    assert len(problems) == 1
    assert str(problems[0]).startswith("outbox/journal.jsonl:4: this line ")
