"""Writes that are all or nothing: a reader (or a crash) never sees half a file."""

from __future__ import annotations

import os
import re
import stat
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

TEMPORARY = re.compile(r"^\..+\.relance-[a-z0-9_]{8}\.tmp$")
"""The names of the temporary files below: a killed process may leave one, and only these may be cleaned up."""


def write_bytes(target: Path, content: bytes, *, mode: int = 0o644, durable: bool = True) -> None:
    """Write to a temporary file in the same folder, flush it to disk, then rename it over the target.

    `durable=False`: the rename is still all or nothing for a reader, but reaches the disk only when the caller
    makes a batch of such files durable together (`make_durable`), before anything names them."""
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.relance-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    if durable:
        _sync_folder(target.parent)


def make_durable(files: Sequence[Path]) -> None:
    """Files written with `durable=False` (and their renames) reach the disk: on Linux by one `syncfs` of their
    file system (a night's 400 letters: 3,000 flushes become a few), elsewhere file by file and folder by folder."""
    if not files:
        return
    if _syncfs(files[0].parent):
        return
    for file in files:
        _flush(file, os.O_RDONLY)
    for folder in dict.fromkeys(file.parent for file in files):
        _sync_folder(folder)


def _syncfs(folder: Path) -> bool:
    """Linux's syncfs(2): every dirty page and inode of the file system holding `folder`, written and waited for.
    False where it is not available (or fails): the caller flushes file by file."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        syncfs = libc.syncfs
    except (OSError, AttributeError):
        return False
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        return bool(syncfs(descriptor) == 0)
    finally:
        os.close(descriptor)


def append_bytes(target: Path, content: bytes, *, follow_links: bool = True) -> None:
    """Append `content` to the end of `target` (created if missing), every byte written and flushed to disk before
    returning: an appended line is kept even if the machine stops right after."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | (0 if follow_links else os.O_NOFOLLOW)
    descriptor = os.open(target, flags, 0o644)
    try:
        pending = memoryview(content)
        while pending:
            pending = pending[os.write(descriptor, pending) :]
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def rewrite_bytes(target: Path, content: bytes) -> None:
    """Replace the content of a file a person keeps, and nothing else about it: a link stays a link (the file it
    points to gets the content), the permissions stay as they were."""
    real = target.resolve(strict=True)
    write_bytes(real, content, mode=stat.S_IMODE(real.stat().st_mode))


def _sync_folder(folder: Path) -> None:
    """The rename itself reaches the disk: after a power cut, a journal line never names a file that is not there."""
    _flush(folder, os.O_RDONLY | os.O_DIRECTORY)


def _flush(path: Path, flags: int) -> None:
    descriptor = os.open(path, flags)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_text(target: Path, text: str) -> None:
    write_bytes(target, text.encode("utf-8"))
