"""outbox/journal.jsonl read back: one JSON object per line, each a `JournalEntry`.

The journal is the memory of the pipeline: what was drafted, sent, withdrawn or failed, and when. It is
written by `outbox.journal` only; it is read here, with the books, since the plan needs both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from relance_pipeline.model import CHANNELS, JOURNAL_EVENTS, JournalEntry, Problem

JOURNAL_FILE = "outbox/journal.jsonl"
_DECODER = json.JSONDecoder()
_CONTROL = re.compile(r"[\x00-\x1f]")


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
            invoice_steps=_invoice_steps(record.get("invoice_steps")),
            permanent=record.get("permanent") is True,
            document=record.get("document"),
            document_sha256=record.get("document_sha256"),
            statement=_text(record.get("statement")),
            statement_sha256=_text(record.get("statement_sha256")),
            preview_sha256=_text(record.get("preview_sha256")),
            preview_key=_text(record.get("preview_key")),
        )
    except KeyError as missing:
        raise ValueError(f"has no {missing}") from None
    except (TypeError, ValueError) as error:
        raise ValueError(f"has a value of the wrong form ({error})") from None
    if entry.event not in JOURNAL_EVENTS:
        raise ValueError(f"has an unknown event '{entry.event}'")
    if entry.channel not in CHANNELS:
        raise ValueError(f"has an unknown channel '{entry.channel}'")
    for named in (entry.file, entry.document, entry.statement):
        if named is not None and not inside_outbox(named):
            raise ValueError(f"names the file '{named}', which is not a path inside outbox/")
    return entry


def _text(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{value!r} is not text")
    return value


def inside_outbox(file: str) -> bool:
    """A journal's `file` is relative to the repository and stays inside outbox/: a line may never make
    `send` read (and mail, or print) a file from anywhere else."""
    parts = file.split("/")
    return (
        len(parts) >= 2
        and parts[0] == "outbox"
        and all(part not in ("", ".", "..") for part in parts)
        and "\\" not in file
        and _CONTROL.search(file) is None
    )


def _invoice_steps(value: Any) -> tuple[tuple[str, str], ...]:
    """`{"F-2": "relance-1"}`: the invoices a document lists at a step other than its own."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise TypeError("invoice_steps is not an object")
    return tuple(sorted((str(number), str(step)) for number, step in value.items()))


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
            problems.append(Problem(JOURNAL_FILE, number, f"this line {reason}", code="journal.line"))
    return entries, problems
