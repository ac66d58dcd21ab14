"""outbox/journal.jsonl: one JSON object per line, appended, never rewritten.

The journal is the memory of the pipeline: what was drafted, sent, withdrawn or failed, and when.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from .model import CHANNELS, JournalEntry, Problem

JOURNAL_FILE = "outbox/journal.jsonl"
_DECODER = json.JSONDecoder()
_EVENTS = ("drafted", "sent", "withdrawn", "failed", "posted", "called")


def to_line(entry: JournalEntry) -> str:
    record: dict[str, Any] = {
        "date": entry.date.isoformat(),
        "client": entry.client,
        "step": entry.step,
        "channel": entry.channel,
        "invoices": list(entry.invoices),
        "file": entry.file,
        "sha256": entry.sha256,
        "event": entry.event,
    }
    if entry.message_id is not None:
        record["message_id"] = entry.message_id
    if entry.note is not None:
        record["note"] = entry.note
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(", ", ": ")) + "\n"


def from_record(record: Any) -> JournalEntry:
    """One parsed line → an entry; raises ValueError (with the reason) for a line that is not one."""
    if not isinstance(record, dict):
        raise ValueError("is not a JSON object")
    try:
        entry = JournalEntry(
            date=date.fromisoformat(record["date"]),
            client=str(record["client"]),
            step=str(record["step"]),
            channel=record["channel"],
            invoices=tuple(str(n) for n in record["invoices"]),
            file=str(record["file"]),
            sha256=str(record["sha256"]),
            event=record["event"],
            message_id=record.get("message_id"),
            note=record.get("note"),
        )
    except KeyError as missing:
        raise ValueError(f"has no {missing}") from None
    except (TypeError, ValueError) as error:
        raise ValueError(f"has a value of the wrong form ({error})") from None
    if entry.event not in _EVENTS:
        raise ValueError(f"has an unknown event '{entry.event}'")
    if entry.channel not in CHANNELS:
        raise ValueError(f"has an unknown channel '{entry.channel}'")
    return entry


def read_journal(root: Path) -> tuple[list[JournalEntry], list[Problem]]:
    """Every entry of the journal, and a problem for each line that is not a journal entry."""
    file = root / JOURNAL_FILE
    if not file.is_file():
        return [], []
    content = file.read_bytes()
    try:
        # One decode for the whole file, and the decoder called directly: a nightly run reads thousands of lines.
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return _read_lines(content.split(b"\n"), json.loads)  # each line tells its own encoding error
    return _read_lines(text.split("\n"), _DECODER.decode)


_BLANK = " \t\n\r\x0b\x0c"
"""What bytes.strip() strips: a line of these alone is skipped."""


def _read_lines(lines: Sequence[str | bytes], parse: Callable[[Any], Any]) -> tuple[list[JournalEntry], list[Problem]]:
    entries: list[JournalEntry] = []
    problems: list[Problem] = []
    for number, raw in enumerate(lines, start=1):
        if not (raw.strip(_BLANK) if isinstance(raw, str) else raw.strip()):
            continue
        try:
            entries.append(from_record(parse(raw)))
        except (ValueError, UnicodeDecodeError) as error:
            reason = str(error) if not isinstance(error, json.JSONDecodeError) else "is not valid JSON"
            problems.append(Problem(JOURNAL_FILE, number, f"this line {reason}"))
    return entries, problems


def append(root: Path, entries: Iterable[JournalEntry]) -> None:
    """Append whole lines in one write, flushed to disk before returning."""
    text = "".join(to_line(e) for e in entries)
    if not text:
        return
    file = root / JOURNAL_FILE
    file.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        pending = memoryview(text.encode("utf-8"))
        while pending:
            pending = pending[os.write(descriptor, pending) :]
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def repair_tail(root: Path) -> str | None:
    """Cut a partial last line left by a run killed while appending; returns what was cut, if anything.

    Only an unterminated last line is cut: every complete line stays as it was written. A last line that is
    a whole entry and lacks only its line end (an editor dropped it) is an entry: it gets its line end back.
    """
    file = root / JOURNAL_FILE
    if not file.is_file():
        return None
    with file.open("rb+") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return None
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return None
        keep = _end_of_last_complete_line(handle, size)
        handle.seek(keep)
        cut = handle.read()
        if _is_entry(cut):
            handle.write(b"\n")
            handle.flush()
            os.fsync(handle.fileno())
            return None
        handle.truncate(keep)
        handle.flush()
        os.fsync(handle.fileno())
    return cut.decode("utf-8", "replace")


def _is_entry(line: bytes) -> bool:
    try:
        from_record(json.loads(line))
    except (ValueError, UnicodeDecodeError):
        return False
    return True


def _end_of_last_complete_line(handle: BinaryIO, size: int) -> int:
    position = size
    while position > 0:
        start = max(0, position - 4096)
        handle.seek(start)
        chunk = handle.read(position - start)
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            return start + newline + 1
        position = start
    return 0
