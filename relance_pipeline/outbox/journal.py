"""Appending to outbox/journal.jsonl: whole lines in one write, never a rewrite of what is there."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

from relance_pipeline import atomic
from relance_pipeline.books.journal import JOURNAL_FILE, from_record
from relance_pipeline.model import JournalEntry


def sha256(content: bytes) -> str:
    """A file's fingerprint as the journal records it: what the reviewer was shown, what went out."""
    return hashlib.sha256(content).hexdigest()


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
    if entry.invoice_steps:
        record["invoice_steps"] = dict(entry.invoice_steps)
    if entry.permanent:
        record["permanent"] = True
    if entry.document is not None:
        record["document"] = entry.document
        record["document_sha256"] = entry.document_sha256
    if entry.statement is not None:
        record["statement"] = entry.statement
        record["statement_sha256"] = entry.statement_sha256
    if entry.event == "drafted" and entry.preview_sha256 is not None:
        # Only the drafting line says what the preview was made from: lines copied from it (withdrawn) do not.
        record["preview_sha256"] = entry.preview_sha256
        record["preview_key"] = entry.preview_key
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(", ", ": ")) + "\n"


def append(root: Path, entries: Iterable[JournalEntry]) -> None:
    """Append whole lines in one write, flushed to disk before returning."""
    text = "".join(to_line(e) for e in entries)
    if not text:
        return
    file = root / JOURNAL_FILE
    file.parent.mkdir(parents=True, exist_ok=True)
    atomic.append_bytes(file, text.encode("utf-8"))


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
