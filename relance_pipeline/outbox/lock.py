"""One writer at a time: `run`, `send` and `record` hold the repository's lock while they work.

The lock file lives in the git directory of the work tree (never committed, never in a pull request: a
`relance.lock` a branch brings is just a file of the books). It is opened without following links, and used
only when it is a regular file with no other name, because relance truncates it to write its pid: a link or a
hard link planted there must never make it overwrite another file.
"""

from __future__ import annotations

import fcntl
import os
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from relance_pipeline.books.git_folder import git_folders

LOCK_NAME = "relance.lock"
COMMAND_WAIT_SECONDS = 5.0
"""How long send, record and rates wait for another command to finish; `run` does not wait (a second nightly
run has nothing to add)."""


class LockBusy(Exception):
    """The repository cannot be locked now: another relance process holds it, or the lock file cannot be used
    (`LockRefused`). The message says which and what to do; nothing was done."""


class LockRefused(LockBusy):
    """The lock file is a link, a folder, a FIFO or a second name of another file, or the repository is missing."""


def state_folder(root: Path) -> Path:
    """Where the lock (and what else must never be committed) goes: the git directory, else `root` itself."""
    found = git_folders(root)
    return found.git_dir if found is not None else root


def lock_path(root: Path) -> Path:
    return state_folder(root) / LOCK_NAME


@contextmanager
def repository_lock(root: Path, *, wait_seconds: float = 0.0) -> Iterator[None]:
    if not root.is_dir():
        raise LockRefused(f"{root}: no such repository folder; nothing was done")
    path = lock_path(root)
    descriptor = _open(path)
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(descriptor, 32, 0).decode("ascii", "replace").strip() or "unknown"
                    raise LockBusy(
                        f"another relance process (pid {holder}) is working on {root}; "
                        "nothing was done: run again when it has finished"
                    ) from None
                time.sleep(0.05)
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, str(os.getpid()).encode("ascii"), 0)
        yield
    finally:
        os.close(descriptor)


def _open(path: Path) -> int:
    """The lock file's descriptor: created exclusively, or the existing regular file; never through a link."""
    # O_NONBLOCK: opening a FIFO planted there must not hang (it is refused just below).
    flags = os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
    try:
        try:
            descriptor = os.open(path, flags | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            descriptor = os.open(path, flags)
    except OSError as error:
        reason = "a symbolic link" if os.path.islink(path) else (error.strerror or str(error)).lower()
        raise LockRefused(f"{path}: cannot be used as relance's lock ({reason}); remove it, then run again") from None
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
        os.close(descriptor)
        what = "another file's second name" if stat.S_ISREG(info.st_mode) else "not a regular file"
        raise LockRefused(f"{path}: cannot be used as relance's lock ({what}); remove it, then run again")
    return descriptor
