"""Write a set of books files all together or not at all: what an import creates and edits.

Each file is written atomically; if one write fails, the files already written are put back as they
were (removed when they were new), so that an import never leaves half of its changes behind.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from relance_pipeline import atomic


class Conflict(Exception):
    """A file changed between reading the books and writing: the caller reports it and writes nothing."""


def write_books_files(root: Path, new: Mapping[str, bytes], before: Mapping[str, bytes | None]) -> None:
    """Write each `new[path]`; `before[path]` is the content the change was computed from (None: absent)."""
    for path, expected in before.items():
        file = root / path
        current = file.read_bytes() if file.is_file() else None
        if current != expected:
            raise Conflict(f"{path} changed while the import ran; nothing written")
    written: list[str] = []
    try:
        for path, content in sorted(new.items()):
            atomic.write_bytes(root / path, content)
            written.append(path)
    except BaseException:
        restore_books_files(root, {path: before.get(path) for path in written})
        raise


def restore_books_files(root: Path, before: Mapping[str, bytes | None]) -> None:
    for path, content in before.items():
        if content is None:
            (root / path).unlink(missing_ok=True)
        else:
            atomic.write_bytes(root / path, content)
