"""Write a plan's documents into outbox/ and record them in the journal: the one writer of outputs.

Order matters for crashes: an action's files are written first (each atomically), then its journal lines
in one append. A run killed between the two leaves files the journal does not know; the next run removes
such orphans before it starts, plans the same action again and writes the same bytes. A run killed in
the middle of the append leaves a partial last line, which the next run cuts off (`journal.repair_tail`);
if the kill fell after whole lines of the append, the next run journals the rest of that action from its
files (`finish_cut_action`), so that an action is never left half journaled.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from relance_pipeline import atomic
from relance_pipeline.books import cache as books_cache
from relance_pipeline.model import DOCUMENT_ORDER, SUFFIXES, Action, JournalEntry, Plan
from relance_pipeline.outbox import journal as journal_writer

if TYPE_CHECKING:
    from relance_pipeline.render.renderer import RenderedDocument

OUTBOX_FOLDER = "outbox"
# outbox/<date>/<client>/<step>.<ext>: the only files `run` writes, and so the only ones it may remove.
_DOCUMENT_PATH = re.compile(
    r"^outbox/\d{4}-\d{2}-\d{2}/[a-z0-9][a-z0-9_-]*/[a-z0-9][a-z0-9_-]*("
    + "|".join(re.escape(suffix) for suffix in (*SUFFIXES.values(), ".png"))
    + ")$"
)


@dataclass(frozen=True)
class Drafted:
    """What one action became on disk."""

    action: Action
    entries: tuple[JournalEntry, ...]
    extra_files: tuple[str, ...] = ()
    """Files written beside the documents but not journaled (PNG previews)."""


def document_path(plan: Plan, action: Action, filename: str) -> str:
    return f"{OUTBOX_FOLDER}/{plan.as_of.isoformat()}/{action.client.id}/{filename}"


def write_action(
    root: Path,
    plan: Plan,
    action: Action,
    documents: Sequence[RenderedDocument],
    extras: Sequence[tuple[str, bytes]] = (),
) -> Drafted:
    """Write the documents of one action, then their journal lines; returns what was recorded."""
    entries: list[JournalEntry] = []
    numbers = tuple(amounts.invoice.number for amounts in action.invoices)
    for document in documents:
        rel = document_path(plan, action, document.filename)
        atomic.write_bytes(root / rel, document.content)
        entries.append(
            JournalEntry(
                date=plan.as_of,
                client=action.client.id,
                step=action.step.id,
                channel=document.channel,
                invoices=numbers,
                file=rel,
                sha256=journal_writer.sha256(document.content),
                event="drafted",
                message_id=document.message_id,
                invoice_steps=tuple(sorted((number, step.id) for number, step in action.own_steps.items())),
            )
        )
    extra_files = []
    for filename, content in extras:
        rel = document_path(plan, action, filename)
        atomic.write_bytes(root / rel, content)
        extra_files.append(rel)
    journal_writer.append(root, entries)
    return Drafted(action, tuple(entries), tuple(extra_files))


def write_if_changed(root: Path, rel: str, content: bytes) -> None:
    """A file of outbox/ that no journal line names (the print batch): rewritten only when its content changes,
    so that a send with nothing new leaves git nothing to commit."""
    target = root / rel
    if not target.is_file() or target.read_bytes() != content:
        atomic.write_bytes(target, content)


def remove_orphans(root: Path, entries: Iterable[JournalEntry], keep: Iterable[str] = ()) -> list[str]:
    """Delete the documents a killed run wrote but never journaled; returns their paths.

    `keep` names files that must stay whatever the journal says (those git already tracks: what was
    committed is never lost).
    """
    known = {entry.file for entry in entries} | set(keep)
    known |= {file.rsplit(".", 1)[0] + ".png" for file in known if file.endswith(".pdf")}
    removed = []
    folder = root / OUTBOX_FOLDER
    if not folder.is_dir():
        return []
    for file in sorted(folder.rglob("*")):
        rel = file.relative_to(root).as_posix()
        if file.is_file() and _DOCUMENT_PATH.match(rel) and rel not in known:
            file.unlink()
            removed.append(rel)
    for stale in sorted(folder.rglob(".*.tmp")):
        stale.unlink()
        removed.append(stale.relative_to(root).as_posix())
    return removed


def uncommitted(root: Path, entries: Iterable[JournalEntry], committed: set[str]) -> list[str]:
    """The journaled drafts (and their previews) on disk but not in `committed`: a run was stopped between its
    journal append and its commit, and the next `run --commit` commits them."""
    files = {entry.file for entry in entries if entry.event == "drafted"}
    files |= {file.rsplit(".", 1)[0] + ".png" for file in files if file.endswith(".pdf")}
    return sorted(file for file in files if file not in committed and (root / file).is_file())


def finish_cut_action(root: Path) -> list[JournalEntry]:
    """Journal the documents of the journal's last action that a killed append left without their line.

    All the files of an action are on disk before its lines are appended in one write, but a killed process
    may have written only the first lines of it (the kernel copies page by page). Those lines stay (the
    journal is never rewritten), so the action counts as drafted and is not planned again; its other files,
    complete, get the lines the run would have written. Returns the entries appended.
    """
    entries, broken = books_cache.read_journal_cached(root)  # the plan reads the same bytes next: read them once
    if broken or not entries or entries[-1].event != "drafted":
        return []
    last = entries[-1]
    known = {entry.file for entry in entries}
    folder = PurePosixPath(last.file).parent
    # The renderer's order of an action's documents is the order of its lines: what follows the last one is cut.
    if last.channel not in DOCUMENT_ORDER or last.file != f"{folder}/{last.step}{SUFFIXES[last.channel]}":
        return []
    if not _DOCUMENT_PATH.match(last.file):
        return []
    finished: list[JournalEntry] = []
    for channel in DOCUMENT_ORDER[DOCUMENT_ORDER.index(last.channel) + 1 :]:
        rel = f"{folder}/{last.step}{SUFFIXES[channel]}"
        file = root / rel
        if rel in known or not file.is_file():
            continue
        content = file.read_bytes()
        message_id = _message_id(content) if channel == "email" else None
        finished.append(
            replace(last, channel=channel, file=rel, sha256=journal_writer.sha256(content), message_id=message_id)
        )
    journal_writer.append(root, finished)
    return finished


def _message_id(content: bytes) -> str | None:
    found = BytesHeaderParser(policy=policy.default).parsebytes(content).get("Message-ID")
    return (str(found).strip() or None) if found is not None else None
