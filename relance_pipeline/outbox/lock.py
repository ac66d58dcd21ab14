"""One writer at a time: `run`, `send` and `record` hold the repository's lock while they work."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = "relance.lock"
COMMAND_WAIT_SECONDS = 5.0
"""How long send, record and rates wait for another command to finish; `run` does not wait (a second nightly
run has nothing to add)."""


class LockBusy(Exception):
    """Another relance process holds the repository; the message says which and what to do."""


def lock_path(root: Path) -> Path:
    """Inside .git when there is one, so that the lock file is never committed."""
    git = root / ".git"
    return (git if git.is_dir() else root) / LOCK_NAME


@contextmanager
def repository_lock(root: Path, *, wait_seconds: float = 0.0) -> Iterator[None]:
    path = lock_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
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
