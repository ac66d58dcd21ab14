"""The journal's history in git: a line once committed is never taken away.

outbox/journal.jsonl is only ever appended to, and merged with `merge=union`, which never drops a line either.
A commit whose own diff of it removes a line (a `git revert` of a send, a hand edit, a conflict resolved by
taking one side) takes a fact away: an email that went out would be sent again, a withdrawn draft come back.
Each removed line still missing from the journal in the work tree is a problem for `validate` (the pull request
shows it) and stops `send` before anything goes. A removed line that is not a journal entry (the unfinished
line of an interrupted run, a garbled line mended by hand) took nothing away and is let go.

Merges are diffed against each parent (`-m`): a union merge only adds, one that took one side's file shows
the other side's lines removed. `--full-history` walks every side, even past a merge whose journal equals one
parent's. The walk covers the commits that touched the journal only, and starts where the last check stopped:
`.git/relance/journal-history.json` keeps the commit checked last and the removals found up to it, so a night
reads only the new commits' diffs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from relance_pipeline import atomic
from relance_pipeline.books.cache import cache_folder
from relance_pipeline.books.journal import JOURNAL_FILE, from_record
from relance_pipeline.model import Problem

CODE = "journal.removed"
_STORE = "journal-history.json"
_FORMAT = 1
_COMMIT = re.compile(rb"^commit ([0-9a-f]+)(?: \(from ([0-9a-f]+)\))?$")
_HUNK = re.compile(rb"^@@ -(\d+)(?:,(\d+))? ")
_SHOWN = 3
"""Lines named in one problem; the rest are counted."""


@dataclass(frozen=True)
class Removal:
    """Journal lines a commit's own diff took away (against one of its parents, for a merge)."""

    commit: str
    subject: str
    parent: str | None
    """For a merge, the parent whose lines these are; None for a commit with one parent."""
    lines: tuple[tuple[int, str], ...]
    """(line number in the parent's journal, its text), journal entries only."""


def removed_lines(root: Path) -> list[Problem]:
    """A problem per commit reachable from HEAD that took journal lines away which the journal still lacks."""
    if shutil.which("git") is None or _git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}") is None:
        return []  # outside git, or before the first commit: no history to have lost anything
    removals = _removals(root)
    if not removals:
        return []
    present = _journal_lines(root)
    problems = []
    blamed: set[str] = set()
    # A line a side branch removed shows again in the merge that took it in: it is the side commit's fault.
    for removal in sorted(removals, key=lambda r: r.parent is not None):
        missing = tuple((n, text) for n, text in removal.lines if text not in present and text not in blamed)
        blamed.update(text for _, text in missing)
        if missing:
            problems.append(_problem(removal, missing))
    return problems


def _problem(removal: Removal, missing: tuple[tuple[int, str], ...]) -> Problem:
    short = removal.commit[:10]
    named = ", ".join(f"{number} ({_gist(text)})" for number, text in missing[:_SHOWN])
    if len(missing) > _SHOWN:
        named += f" and {len(missing) - _SHOWN} more"
    one = len(missing) == 1
    lines, them = ("line", "it") if one else ("lines", "them")
    if removal.parent is None:
        fix = f"restore {them} (git revert {short}, or put back what `git show {short}` shows removed) and commit"
    else:
        fix = f"put {them} back from `git show {removal.parent[:10]}:{JOURNAL_FILE}` and commit"
    message = (
        f'{lines} {named} removed by commit {short} "{removal.subject}": the journal only grows, and without '
        f"{them} relance forgets what {them} {'records' if one else 'record'} (a sent email would be sent again); {fix}"
    )
    return Problem(JOURNAL_FILE, None, message, code=CODE)


def _gist(text: str) -> str:
    """What a journal line records, in a few words: `sent acme relance-1 of 2026-03-02`."""
    entry = from_record(json.loads(text))
    return f"{entry.event} {entry.client} {entry.step} of {entry.date.isoformat()}"


def _journal_lines(root: Path) -> set[str]:
    try:
        content = (root / JOURNAL_FILE).read_bytes()
    except OSError:
        return set()
    return {line.rstrip("\r") for line in content.decode("utf-8", "surrogateescape").split("\n")}


def _removals(root: Path) -> list[Removal]:
    """Every removal by a commit reachable from HEAD: those the last check found, and the new commits'."""
    head = (_git(root, "rev-parse", "HEAD^{commit}") or b"").decode().strip()
    store = cache_folder(root)
    cached = _load(store / _STORE) if store is not None else None
    since: list[str] = []
    known: list[Removal] = []
    if cached is not None:
        tip, found = cached
        if tip == head:
            return found
        if _git(root, "cat-file", "-e", f"{tip}^{{commit}}") is not None:
            since = [f"^{tip}"]
            # The removals found before still count where HEAD can reach their commit.
            known = [r for r in found if _git(root, "merge-base", "--is-ancestor", r.commit, head) is not None]
    log = _git(
        root, "-c", "log.showSignature=false", "log", "--full-history", "-m", "-p", "-U0", "--no-renames",
        "--no-color", "--no-ext-diff", "--no-textconv", "--no-notes", "--no-decorate", "--pretty=medium", head,
        *since, "--", JOURNAL_FILE,
    )  # fmt: skip
    if log is None:
        return known
    removals = known + _parse(log)
    if store is not None:
        _save(store / _STORE, head, removals)
    return removals


def _parse(log: bytes) -> list[Removal]:
    """The removals in `git log -m -p -U0` output: one header per commit, per parent for a merge (`commit X
    (from P)`), its subject the first line of its message, indented."""
    removals: list[Removal] = []
    commit, parent, subject = "", None, ""
    lines: list[tuple[int, str]] = []
    number = 0
    in_hunk = wants_subject = False
    for raw in log.split(b"\n"):
        if (header := _COMMIT.match(raw)) is not None:
            if lines:
                removals.append(Removal(commit, subject, parent, tuple(lines)))
            commit = header.group(1).decode()
            parent = header.group(2).decode() if header.group(2) else None
            lines, in_hunk, wants_subject = [], False, True
        elif wants_subject and raw.startswith(b"    "):
            subject, wants_subject = raw[4:].decode("utf-8", "replace").strip(), False
        elif raw.startswith(b"diff --git "):
            in_hunk = False
        elif (hunk := _HUNK.match(raw)) is not None:
            in_hunk, number = True, int(hunk.group(1))
        elif in_hunk and raw.startswith(b"-"):
            text = raw[1:].decode("utf-8", "surrogateescape").rstrip("\r")
            if _is_entry(text):
                lines.append((number, text))
            number += 1
    if lines:
        removals.append(Removal(commit, subject, parent, tuple(lines)))
    return removals


def _is_entry(text: str) -> bool:
    try:
        from_record(json.loads(text))
    except ValueError:  # JSONDecodeError included
        return False
    return True


def _load(store: Path) -> tuple[str, list[Removal]] | None:
    try:
        data = json.loads(store.read_bytes())
        if data["format"] != _FORMAT:
            return None
        found = [
            Removal(r["commit"], r["subject"], r["parent"], tuple((int(n), str(t)) for n, t in r["lines"]))
            for r in data["removals"]
        ]
        return str(data["tip"]), found
    except (OSError, ValueError, KeyError, TypeError):  # none yet, or damaged: check the whole history again
        return None


def _save(store: Path, tip: str, removals: list[Removal]) -> None:
    data = {
        "format": _FORMAT,
        "tip": tip,
        "removals": [
            {"commit": r.commit, "subject": r.subject, "parent": r.parent, "lines": [list(x) for x in r.lines]}
            for r in removals
        ],
    }
    with suppress(OSError):  # a record that cannot be kept only costs the next check its time
        atomic.write_bytes(store, json.dumps(data).encode("utf-8"))


def _git(root: Path, *args: str) -> bytes | None:
    """git's output, or None when it fails (not a repository, a commit gone)."""
    environment = {**os.environ, "GIT_LITERAL_PATHSPECS": "1", "LC_ALL": "C"}
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, check=False, env=environment)
    except OSError:
        return None
    return done.stdout if done.returncode == 0 else None
