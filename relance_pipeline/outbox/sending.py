"""The sending list: each email `send` is about to hand to the server, on disk before its last byte goes.

Between the server's acceptance of a message and the journal line that records it there are a few milliseconds;
a `send` killed in them would leave a journal that never saw the message, and the next `send` would send it
again. So, before the final `.` of each message, its file, Message-ID and the journal's length are appended
to this list (in the git directory, beside the lock: never committed). The next `send` first reads it: a message
the list names but the journal, past that length, has no outcome for was perhaps delivered, and is journaled
`unknown` (never sent again without a person, as for a timeout). A `send` that ends clears the list.
"""

from __future__ import annotations

import json
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from relance_pipeline import atomic
from relance_pipeline.books.journal import JOURNAL_FILE, from_record
from relance_pipeline.outbox.lock import state_folder

SENDING_LIST = "relance-sending.jsonl"
OUTCOMES = ("sent", "failed", "unknown")


@dataclass(frozen=True)
class Handed:
    """A message handed to the server by a `send` that did not journal what came of it."""

    file: str
    message_id: str | None


class SendingList:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = state_folder(root) / SENDING_LIST

    def note(self, file: str, message_id: str | None) -> None:
        """Before the message's last byte goes: on disk when this returns."""
        journal = self.root / JOURNAL_FILE
        length = journal.stat().st_size if journal.is_file() else 0
        record = {"file": file, "message_id": message_id, "journal_length": length}
        atomic.append_bytes(self.path, (json.dumps(record, sort_keys=True) + "\n").encode(), follow_links=False)

    def unrecorded(self) -> list[Handed]:
        """The messages the list names that the journal has no outcome for, past its length when each was noted."""
        try:
            lines = self.path.read_bytes().splitlines()
        except OSError:
            return []
        journal = self.root / JOURNAL_FILE
        content = journal.read_bytes() if journal.is_file() else b""
        found: list[Handed] = []
        for line in lines:
            try:
                record = json.loads(line)
                file, message_id, length = record["file"], record["message_id"], int(record["journal_length"])
            except (ValueError, KeyError, TypeError):
                continue  # a line a kill cut short: its message's last byte had not gone yet
            if not _recorded(content[length:], file):
                found.append(Handed(str(file), message_id if isinstance(message_id, str) else None))
        return found

    def clear(self) -> None:
        with suppress(FileNotFoundError):
            self.path.unlink()


def _recorded(later: bytes, file: str) -> bool:
    for line in later.splitlines():
        try:
            entry = from_record(json.loads(line))
        except ValueError:
            continue
        if entry.file == file and entry.event in OUTCOMES:
            return True
    return False
