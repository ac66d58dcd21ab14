"""Write a plan's documents into outbox/ and record them in the journal: the one writer of outputs.

Order matters for crashes: the names and hashes of an action's files are first appended to the drafting list
(in the git directory, never committed), then the files are written (each atomically) and flushed to disk,
then their journal lines in one append; a run does this for a few actions at a time (`write_actions`). A run
killed between the two leaves files the journal does not know; the next run
removes such orphans before it starts, plans the same action again and writes the same bytes. Only files the
drafting list names with the same content, and relance's own temporary files, are ever removed: a file a
person put in outbox/ is reported and left as it is, and never written over. A run killed in
the middle of the append leaves a partial last line, which the next run cuts off (`journal.repair_tail`);
if the kill fell after whole lines of the append, the next run journals the rest of that action from its
files (`finish_cut_action`), so that an action is never left half journaled.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from relance_pipeline import atomic
from relance_pipeline.books import cache as books_cache
from relance_pipeline.model import (
    DOCUMENT_ORDER,
    PREVIEW_IMAGE_SUFFIX,
    PREVIEW_SUFFIX,
    SENT_SUFFIXES,
    STATEMENT_SUFFIX,
    SUFFIXES,
    Action,
    JournalEntry,
    Plan,
    Problem,
    made_by_send,
)
from relance_pipeline.outbox import journal as journal_writer
from relance_pipeline.outbox.lock import state_folder

if TYPE_CHECKING:
    from relance_pipeline.render.renderer import RenderedDocument

OUTBOX_FOLDER = "outbox"
PREVIEWS = (PREVIEW_SUFFIX, PREVIEW_IMAGE_SUFFIX)
# outbox/<date>/<client>/<step>.<ext>: the files `run` writes; one it did not journal or cannot show it wrote
# is reported.
_DOCUMENT_PATH = re.compile(
    r"^outbox/\d{4}-\d{2}-\d{2}/[a-z0-9][a-z0-9_-]*/[a-z0-9][a-z0-9_-]*("
    + "|".join(
        re.escape(suffix) for suffix in (*SUFFIXES.values(), *SENT_SUFFIXES.values(), STATEMENT_SUFFIX, *PREVIEWS)
    )
    + ")$"
)


DRAFTING_LIST = "relance-drafting.jsonl"
"""In the repository's state folder (beside the lock): what the running (or a killed) `run` is writing."""


@dataclass(frozen=True)
class Drafted:
    """What one action became on disk."""

    action: Action
    entries: tuple[JournalEntry, ...]
    extra_files: tuple[str, ...] = ()
    """Files written beside the documents but not journaled (PNG previews)."""


def document_path(plan: Plan, action: Action, filename: str) -> str:
    return f"{OUTBOX_FOLDER}/{plan.as_of.isoformat()}/{action.client.id}/{filename}"


Rendered = tuple[Action, Sequence["RenderedDocument"], Sequence[tuple[str, bytes]]]
"""An action, its documents and the files beside them (previews), as the renderer made them."""


def write_action(
    root: Path,
    plan: Plan,
    action: Action,
    documents: Sequence[RenderedDocument],
    extras: Sequence[tuple[str, bytes]] = (),
    *,
    drafting: Path | None = None,
) -> Drafted | Problem:
    """Write the documents of one action, then their journal lines; returns what was recorded, or the problem of a
    file that is already there (relance never writes over a file it did not write). `drafting`: the drafting
    list's path (`drafting_list(root)`, asked of git once per run rather than once per action)."""
    return write_actions(root, plan, [(action, documents, extras)], drafting=drafting)[0]


def write_actions(
    root: Path, plan: Plan, rendered: Sequence[Rendered], *, drafting: Path | None = None
) -> list[Drafted | Problem]:
    """`write_action` for several actions at once, in their order, with the same files and journal lines: the
    drafting list names all their files (one flush), the files are written and reach the disk together
    (`atomic.make_durable`), then the journal lines of all in one append. A crash leaves what it leaves one
    action at a time: files the journal does not name (removed by the next run), or a cut last action."""
    drafting = drafting or drafting_list(root)
    results: list[Drafted | Problem | None] = []
    planned: list[tuple[int, Action, list[tuple[str, bytes, RenderedDocument | None]]]] = []
    for action, documents, extras in rendered:
        files: list[tuple[str, bytes, RenderedDocument | None]] = [
            (document_path(plan, action, d.filename), d.content, d) for d in documents
        ]
        files += [(document_path(plan, action, filename), content, None) for filename, content in extras]
        taken = [rel for rel, _, _ in files if os.path.lexists(root / rel)]
        if taken:
            message = "is already there and relance did not write it: move it away, then run again"
            results.append(Problem(taken[0], None, message, code="outbox.not_ours"))
            continue
        planned.append((len(results), action, files))
        results.append(None)  # its Drafted, once written
    if not planned:
        return [result for result in results if result is not None]
    _append_drafting(
        drafting, [(rel, journal_writer.sha256(content)) for _, _, files in planned for rel, content, _ in files]
    )
    written: list[Path] = []
    entries: list[JournalEntry] = []
    for index, action, files in planned:
        numbers = tuple(amounts.invoice.number for amounts in action.invoices)
        own_steps = tuple(sorted((number, step.id) for number, step in action.own_steps.items()))
        journaled: list[JournalEntry] = []
        for rel, content, document in files:
            atomic.write_bytes(root / rel, content, durable=False)
            written.append(root / rel)
            if document is None:
                continue
            journaled.append(
                JournalEntry(
                    date=plan.as_of,
                    client=action.client.id,
                    step=action.step.id,
                    channel=document.channel,
                    invoices=numbers,
                    file=rel,
                    sha256=journal_writer.sha256(content),
                    event="drafted",
                    invoice_steps=own_steps,
                    preview_sha256=document.preview_sha256,
                    preview_key=document.preview_key,
                )
            )
        entries += journaled
        extra_files = tuple(rel for rel, _, document in files if document is None)
        results[index] = Drafted(action, tuple(journaled), extra_files)
    atomic.make_durable(written)
    journal_writer.append(root, entries)
    return [result for result in results if result is not None]


def companions(entry: JournalEntry) -> list[str]:
    """The files that go with a draft's words: a letter's previews, the email or letter `send` made (and the
    statement of account it made with a letter)."""
    found = list(made_by_send(entry.file, entry.channel))
    if entry.channel == "letter" and entry.file.endswith(SUFFIXES["letter"]):
        stem = entry.file.removesuffix(SUFFIXES["letter"])
        found += [stem + suffix for suffix in PREVIEWS]
    return found


def write_if_changed(root: Path, rel: str, content: bytes) -> None:
    """A file of outbox/ that no journal line names (the print batch): rewritten only when its content changes,
    so that a send with nothing new leaves git nothing to commit."""
    target = root / rel
    if not target.is_file() or target.read_bytes() != content:
        atomic.write_bytes(target, content)


@dataclass(frozen=True)
class Recovered:
    removed: tuple[str, ...]
    """Files a killed run wrote and never journaled (and its temporary files): removed."""
    kept: tuple[str, ...]
    """Untracked files under outbox/ that look like relance's but that relance cannot show it wrote: left."""


def remove_orphans(root: Path, entries: Iterable[JournalEntry], keep: Iterable[str] = ()) -> Recovered:
    """Delete the documents a killed run wrote but never journaled, and its temporary files.

    A document is removed only when the drafting list names it with the same content; `keep` names files
    that stay whatever the lists say (those git already tracks: what was committed is never lost).
    """
    keep = set(keep)
    entries = list(entries)
    known = {entry.file for entry in entries} | {e.document for e in entries if e.document} | keep
    known |= {companion for entry in entries for companion in companions(entry)}
    written = _read_drafting(drafting_list(root))
    removed: list[str] = []
    kept: list[str] = []
    folder = root / OUTBOX_FOLDER
    if not folder.is_dir():
        return Recovered((), ())
    for file in sorted(folder.rglob("*")):
        rel = file.relative_to(root).as_posix()
        if rel in known or file.is_symlink() or not file.is_file():
            continue
        if atomic.TEMPORARY.match(file.name) or journal_writer.sha256(file.read_bytes()) in written.get(rel, ()):
            file.unlink()
            removed.append(rel)
        elif _DOCUMENT_PATH.match(rel):
            kept.append(rel)
    return Recovered(tuple(removed), tuple(kept))


def drafting_list(root: Path) -> Path:
    return state_folder(root) / DRAFTING_LIST


def clear_drafting(path: Path) -> None:
    """Forget the drafting list: everything it names is journaled, or was removed as an orphan."""
    with suppress(FileNotFoundError):
        path.unlink()


def _append_drafting(path: Path, files: Sequence[tuple[str, str]]) -> None:
    """Name the files about to be written, on disk before the first of them is."""
    text = "".join(json.dumps({"file": rel, "sha256": digest}, sort_keys=True) + "\n" for rel, digest in files)
    atomic.append_bytes(path, text.encode("utf-8"), follow_links=False)


def _read_drafting(path: Path) -> dict[str, set[str]]:
    """File → the hashes the drafting list gives it; a line a kill cut short names nothing."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return {}
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return {}
        lines = handle.read().splitlines()
    written: dict[str, set[str]] = {}
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("file"), str) and isinstance(record.get("sha256"), str):
            written.setdefault(record["file"], set()).add(record["sha256"])
    return written


def uncommitted(root: Path, entries: Iterable[JournalEntry], committed: set[str]) -> list[str]:
    """The journaled drafts (and their previews) on disk but not in `committed`: a run was stopped between its
    journal append and its commit, and the next `run --commit` commits them."""
    drafted = [entry for entry in entries if entry.event == "drafted"]
    files = {entry.file for entry in drafted} | {
        c for e in drafted for c in companions(e) if c not in made_by_send(e.file, e.channel)
    }
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
        finished.append(replace(last, channel=channel, file=rel, sha256=journal_writer.sha256(content)))
    journal_writer.append(root, finished)
    return finished
