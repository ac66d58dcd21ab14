"""Where relance keeps what is never committed (the lock, the books cache, a run's list of files it is writing):
the git directory of the work tree, as git itself names it.

In a plain clone that is `.git/`; in a linked worktree (`git worktree add`), `.git` is a file and the folder is
under the main repository's `.git/worktrees/`. Asking git covers both, and a `.git` that is a link.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

_REPOSITORY_VARIABLES = frozenset({"GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_INDEX_FILE"})


class GitFolders(NamedTuple):
    git_dir: Path
    """Absolute; never inside the work tree's tracked files."""
    top: Path
    """The top of the work tree that `root` is in (it may be above `root`)."""


def git_folders(root: Path) -> GitFolders | None:
    """The git directory and work-tree top that `root` belongs to; None outside git, or without git."""
    if shutil.which("git") is None or not root.is_dir():
        return None
    # A git hook's environment names its own repository; `root` is asked about by its folder alone.
    environment = {key: value for key, value in os.environ.items() if key not in _REPOSITORY_VARIABLES}
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--absolute-git-dir", "--show-toplevel"],
            cwd=root,
            capture_output=True,
            timeout=30,
            check=False,
            env={**environment, "LC_ALL": "C"},
        )
    except (OSError, subprocess.SubprocessError):
        return None
    lines = done.stdout.decode("utf-8", "surrogateescape").splitlines()
    if done.returncode != 0 or len(lines) != 2:
        return None
    return GitFolders(Path(lines[0]), Path(lines[1]))


def own_git_dir(root: Path) -> Path | None:
    """The git directory when `root` is the top of its work tree (what is kept there is `root`'s alone)."""
    found = git_folders(root)
    if found is None or found.top.resolve() != root.resolve():
        return None
    return found.git_dir
