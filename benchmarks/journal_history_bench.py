"""`python -m benchmarks journal [COMMITS]`: what checking the journal's history costs (ship/journal_history.py).

A repository of COMMITS (default 2,000) commits that each append five journal lines (built with `git fast-import`,
one of them a hand edit that removes a line), then: the check from scratch (no record in .git/relance/), again
with nothing new, and after one more commit (the nightly case).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from relance_pipeline.books.journal import JOURNAL_FILE
from relance_pipeline.ship.journal_history import removed_lines

LINES_PER_COMMIT = 5


def _line(n: int) -> str:
    return json.dumps(
        {
            "date": "2026-03-02",
            "client": f"client-{n % 300:03d}",
            "step": "relance-1",
            "channel": "email",
            "invoices": [f"F-2026-{n:05d}"],
            "file": f"outbox/2026-03-02/client-{n % 300:03d}/relance-1.email.txt",
            "sha256": f"{n:064x}",
            "event": "drafted" if n % 2 else "sent",
            "message_id": f"<relance-1.{n}@example.org>",
        },
        sort_keys=True,
    )


def _build(root: Path, commits: int) -> None:
    subprocess.run(["git", "init", "--quiet", "--initial-branch=main", str(root)], check=True)
    importer = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=root, stdin=subprocess.PIPE)
    assert importer.stdin is not None
    lines: list[str] = []
    for number in range(commits):
        lines += [_line(number * LINES_PER_COMMIT + i) for i in range(LINES_PER_COMMIT)]
        if number == commits // 2:
            del lines[10]  # a hand edit somewhere in the middle of the history
        content = ("\n".join(lines) + "\n").encode()
        message = f"night {number}".encode()
        importer.stdin.write(
            b"commit refs/heads/main\n"
            + b"committer Bench <bench@example.org> %d +0000\n" % (1_700_000_000 + number)
            + b"data %d\n%s\n" % (len(message), message)
            + b"M 100644 inline %s\n" % JOURNAL_FILE.encode()
            + b"data %d\n%s\n" % (len(content), content)
        )
    importer.stdin.close()
    assert importer.wait() == 0
    subprocess.run(["git", "checkout", "--quiet", "-f", "main"], cwd=root, check=True)
    subprocess.run(["git", "gc", "--quiet"], cwd=root, check=True)  # packed, as a clone is


def _timed(root: Path) -> tuple[float, int]:
    start = time.perf_counter()
    found = removed_lines(root)
    return time.perf_counter() - start, len(found)


def main(argv: list[str]) -> int:
    commits = int(argv[0]) if argv else 2000
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "books"
        _build(root, commits)
        size = (root / JOURNAL_FILE).stat().st_size
        print(f"{commits} commits touching the journal, {size / 1e6:.1f} MB journal at HEAD")
        cold, found = _timed(root)
        print(f"from scratch: {cold:.2f} s ({found} problem)")
        warm, _ = _timed(root)
        print(f"nothing new: {warm * 1000:.0f} ms")
        with (root / JOURNAL_FILE).open("a") as journal:
            journal.write(_line(10**7) + "\n")
        subprocess.run(["git", "commit", "--quiet", "-am", "one more night"], cwd=root, check=True,
                       env={"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x", "GIT_COMMITTER_NAME": "b",
                            "GIT_COMMITTER_EMAIL": "b@x", "PATH": "/usr/bin:/bin"})  # fmt: skip
        night, found = _timed(root)
        print(f"one new commit: {night * 1000:.0f} ms ({found} problem)")
    return 0 if found == 1 else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
