"""Helpers for the safety tests: the installed `relance` command, and what a consistent outbox looks like."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from relance_pipeline.books import journal
from relance_pipeline.model import JournalEntry


def relance_command() -> str:
    command = shutil.which("relance", path=os.path.dirname(sys.executable)) or shutil.which("relance")
    assert command is not None, "the console script `relance` is installed with the package"
    return command


def relance_args(root: Path, *args: str) -> list[str]:
    return [relance_command(), "--repo", str(root), *args]


def run_relance(
    root: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        relance_args(root, *args),
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def outbox_files(root: Path) -> dict[str, bytes]:
    """Every file under outbox/ (hidden ones too), by path relative to the repository."""
    folder = root / "outbox"
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def complete_lines(root: Path) -> list[JournalEntry]:
    """The journal's entries, ignoring only an unterminated last line (what a kill mid-append leaves)."""
    file = root / journal.JOURNAL_FILE
    if not file.is_file():
        return []
    raw = file.read_bytes()
    if raw and not raw.endswith(b"\n"):
        raw = raw[: raw.rfind(b"\n") + 1]
    scratch = root.parent / f"{root.name}-journal-copy"
    (scratch / "outbox").mkdir(parents=True, exist_ok=True)
    (scratch / journal.JOURNAL_FILE).write_bytes(raw)
    entries, problems = journal.read_journal(scratch)
    shutil.rmtree(scratch)
    assert problems == [], problems
    return entries


def assert_journal_points_at_its_files(root: Path) -> list[JournalEntry]:
    """Every `drafted` line names a file that exists with the recorded sha256 (true at any moment, killed or
    not: files are written before their lines)."""
    entries = complete_lines(root)
    for entry in entries:
        if entry.event == "drafted":
            file = root / entry.file
            assert file.is_file(), f"the journal names {entry.file}, which is not there"
            assert hashlib.sha256(file.read_bytes()).hexdigest() == entry.sha256, f"{entry.file} is not as journaled"
    return entries


def assert_no_duplicate_steps(entries: list[JournalEntry]) -> None:
    """No invoice is drafted twice at one step, and no file is drafted twice."""
    drafted = [e for e in entries if e.event == "drafted"]
    steps = Counter((e.client, e.step, e.channel, number) for e in drafted for number in e.invoices)
    assert [key for key, count in steps.items() if count > 1] == []
    files = Counter(e.file for e in drafted)
    assert [file for file, count in files.items() if count > 1] == []


def assert_nothing_unjournaled(root: Path, entries: list[JournalEntry]) -> None:
    """Every file under outbox/<date>/ is a journaled document (or the preview of one); no temporary file."""
    known = {e.file for e in entries} | {e.document for e in entries if e.document}
    for rel in outbox_files(root):
        if rel in (journal.JOURNAL_FILE, "outbox/.gitkeep"):
            continue
        words = next(
            (rel.removesuffix(s) + ".letter.txt" for s in (".preview.pdf", ".preview.png") if rel.endswith(s)), rel
        )
        assert words in known, f"{rel} is in the outbox but not in the journal"


def hold_lock_elsewhere(root: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process that takes the repository's lock, says 'held' once it has it, and keeps it `seconds`."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from relance_pipeline.outbox.lock import repository_lock\n"
            "with repository_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(float(sys.argv[2]))",
            str(root),
            str(seconds),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder
