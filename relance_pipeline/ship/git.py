"""Commit what a run drafted, in one commit whose message is the run's summary (`summary.py` words it).

Git is driven through its command line (as a user would), so that `relance run --commit` works in any plain
local repository, with the user's own configuration (hooks, signing), and in CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

from relance_pipeline.books.journal import JOURNAL_FILE
from relance_pipeline.core.history import Task
from relance_pipeline.model import Problem
from relance_pipeline.outbox.write import OUTBOX_FOLDER, Drafted
from relance_pipeline.ship.summary import summary

# Used only when the repository has no identity of its own, as in a fresh CI checkout.
FALLBACK_NAME = "relance"
FALLBACK_EMAIL = "relance@localhost"
_PLACE = "git"
DRAFTING_BRANCHES = "relance/"
"""The nightly workflow drafts on relance/nightly: nothing there is approved until merged."""


def commit_outbox(root: Path, paths: Iterable[str | Path], message: str) -> str | Problem | None:
    """Commit exactly `paths` (relative to `root`, or absolute inside it) in one commit with `message`.

    Files staged by the user for other paths stay staged and out of the commit. Returns the new commit's
    sha; None when those paths hold no change (nothing is committed); a `Problem` when `root` is not in a
    git repository or git fails (its message carries git's own words).
    """
    if shutil.which("git") is None:
        return Problem(
            _PLACE, None, "git is not installed; relance run --commit needs the git command line", code="git.missing"
        )
    inside = _git(root, "rev-parse", "--is-inside-work-tree")
    if isinstance(inside, Problem) or inside.strip() != "true":
        return Problem(
            str(root), None, "is not a git repository; run `git init` there first", code="git.not_repository"
        )
    specs = sorted({_relative(root, p) for p in paths})
    if not specs:
        return None
    added = _git(root, "add", "--all", "--", *specs)
    if isinstance(added, Problem):
        return added
    changed = _git(root, "diff", "--cached", "--name-only", "--", *specs)
    if isinstance(changed, Problem):
        return changed
    if not changed.strip():
        return None
    # --cleanup=whitespace keeps the Markdown headings ('#' lines) that the default cleanup would drop.
    committed = _git(
        root, *_identity(root), "commit", "--quiet", "--only", "--cleanup=whitespace", "--file=-", "--", *specs,
        stdin=message,
    )  # fmt: skip
    if isinstance(committed, Problem):
        return committed
    head = _git(root, "rev-parse", "HEAD")
    return head if isinstance(head, Problem) else head.strip()


def commit_run(
    root: Path,
    as_of: date,
    drafted: Sequence[Drafted],
    leftovers: Sequence[str] = (),
    held_back: Sequence[Problem] = (),
    tasks: Sequence[Task] = (),
) -> str | Problem | None:
    """`relance run --commit` in one call: the run's documents, previews and journal in one commit whose
    message is the run's summary. `leftovers` are files an earlier run journaled but never committed (it was
    stopped before its commit): they go in too. `held_back`: the clients left out for a missing rate, listed
    in the summary, and `tasks` what waits on the user, at its top. None when there is nothing to commit, else as
    `commit_outbox`."""
    if not drafted and not leftovers:
        return None
    entries = [entry for each in drafted for entry in each.entries]
    previews = [file for each in drafted for file in each.extra_files]
    result = summary(
        as_of, [each.action for each in drafted], entries, previews=previews, held_back=held_back, tasks=tasks
    )
    if leftovers:
        listed = "\n".join(f"- {file}" for file in sorted(leftovers))
        note = f"Drafted by an earlier run that stopped before its commit:\n{listed}"
        result = replace(result, body=f"{result.body}\n\n{note}")
    paths = [*(entry.file for entry in entries), *previews, *leftovers, JOURNAL_FILE]
    return commit_outbox(root, paths, result.commit_message)


def current_branch(root: Path) -> str | None:
    """The branch checked out at `root`; None outside git, on a detached HEAD, or without git."""
    if shutil.which("git") is None:
        return None
    name = _git(root, "symbolic-ref", "--quiet", "--short", "HEAD")
    if isinstance(name, Problem):
        return None
    return name.strip() or None


def approval(root: Path, files: Iterable[str]) -> dict[str, str] | Problem:
    """Why each of `files` is not approved (absent from the result: approved), or why nothing can be.

    Approved means as committed: present in the commit at HEAD, and the same in the index and the work tree;
    a file absent from both was deleted in review, which is approved too (its draft is withdrawn).
    A detached HEAD or a drafting branch approves nothing (the reviewer merges into a branch, and `send`
    runs there); outside git, nothing was ever reviewed.
    """
    if shutil.which("git") is None:
        return Problem(
            _PLACE, None, "git is not installed; relance send sends only drafts committed in git", code="git.missing"
        )
    inside = _git(root, "rev-parse", "--is-inside-work-tree")
    if isinstance(inside, Problem) or inside.strip() != "true":
        return Problem(
            str(root),
            None,
            "is not a git repository: relance sends only drafts committed and merged",
            code="git.not_repository",
        )
    branch = current_branch(root)
    if branch is None:
        detached = "HEAD is detached: send from the branch the drafts were merged into (git switch main)"
        return Problem(_PLACE, None, detached, code="git.detached")
    if branch.startswith(DRAFTING_BRANCHES):
        drafting = f"is on {branch}, where drafts wait for review: send from the branch they are merged into"
        return Problem(_PLACE, None, drafting, code="git.drafting_branch")
    wanted = sorted(set(files))
    if not wanted:
        return {}
    committed = committed_files(root, OUTBOX_FOLDER) or set()
    status = _git(root, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--", *wanted)
    if isinstance(status, Problem):
        return status
    changed = _changed_paths(status)
    reasons: dict[str, str] = {}
    for file in wanted:
        on_disk = (root / file).is_file()
        if file not in committed:
            if on_disk:  # absent from both is a deletion merged in review: approved, and the draft withdrawn
                reasons[file] = "is not committed: only a committed and merged draft is sent"
        elif not on_disk:
            reasons[file] = "is deleted in the work tree, not in the commit: commit the deletion to withdraw it"
        elif file in changed:
            reasons[file] = "differs from the commit at HEAD: commit the change (reviewed) or restore the file"
    return reasons


def _changed_paths(porcelain: str) -> set[str]:
    """The paths `git status --porcelain -z` lists (a rename's second field is its old path)."""
    fields = porcelain.split("\0")
    paths: set[str] = set()
    position = 0
    while position < len(fields):
        record = fields[position]
        position += 1
        if len(record) < 4:
            continue
        paths.add(record[3:])
        if record[0] in "RC":
            paths.add(fields[position])
            position += 1
    return paths


def tracked_files(root: Path, folder: str) -> set[str]:
    """The files under `folder` that git tracks at `root` (empty outside git)."""
    if shutil.which("git") is None or not (root / ".git").exists():
        return set()
    listed = _git(root, "ls-files", "-z", "--", folder)
    return set() if isinstance(listed, Problem) else {name for name in listed.split("\0") if name}


def committed_files(root: Path, folder: str) -> set[str] | None:
    """The files under `folder` in the commit at HEAD (empty before the first commit); None outside git."""
    if shutil.which("git") is None or not (root / ".git").exists():
        return None
    if isinstance(_git(root, "rev-parse", "--verify", "--quiet", "HEAD"), Problem):
        return set()
    listed = _git(root, "ls-tree", "-r", "-z", "--name-only", "HEAD", "--", folder)
    return None if isinstance(listed, Problem) else {name for name in listed.split("\0") if name}


def _identity(root: Path) -> list[str]:
    configured = _git(root, "config", "user.email")
    if isinstance(configured, str) and configured.strip():
        return []
    return ["-c", f"user.name={FALLBACK_NAME}", "-c", f"user.email={FALLBACK_EMAIL}"]


def _relative(root: Path, path: str | Path) -> str:
    candidate = Path(path)
    if candidate.is_absolute():
        candidate = candidate.resolve().relative_to(root.resolve())
    return candidate.as_posix()


def _git(root: Path, *args: str, stdin: str | None = None) -> str | Problem:
    """git's standard output, or a Problem with its error output."""
    environment = {**os.environ, "GIT_LITERAL_PATHSPECS": "1", "LC_ALL": "C"}
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=root,
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            env=environment,
        )
    except OSError as error:
        return Problem(_PLACE, None, f"cannot run git in {root}: {error.strerror or error}", code="git.failed")
    if done.returncode != 0:
        words = (done.stderr or done.stdout).strip().splitlines()
        return Problem(
            _PLACE,
            None,
            f"`git {args[0] if args else ''}` failed: {' '.join(words) or done.returncode}",
            code="git.failed",
        )
    return done.stdout
