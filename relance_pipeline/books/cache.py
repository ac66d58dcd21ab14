"""The books and the journal as read by the last run, kept in `.git/relance/` so that a night with nothing new
does not parse 10,000 YAML files again.

Reading the books is a pure function of their files (and of this package's code): the cache is used only when
the files below relance.yaml, policies/ and ledger/ are the same as when it was made, and the package's code and
schemas too (by content: the same relance installed afresh on a CI runner matches). "The same" is what git says
when those files are exactly as in its index (the index's blob hashes then name their content: a fresh clone of
the same commit matches, so CI can restore the cache); otherwise every such file must have the same path, size,
inode, mtime and ctime. Anything else — an edited invoice, a new file, a newer relance — reads the books from
scratch, as without a cache. From file metadata, a cache is never written from files changed in the last seconds
before the read (a later change in the same clock tick could go unseen); in no case when a file changed during
the read. The journal is kept by its content's hash. Everything that depends on the date (the checks, the plan)
is computed on every run.

The cache lives in the git directory, like the lock: it is never committed, and nothing a pull request brings
can plant one. Outside git, below the top of a work tree, or with RELANCE_NO_CACHE set, there is no cache.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import pickle
import stat
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

from relance_pipeline import atomic
from relance_pipeline.books import journal
from relance_pipeline.books.git_folder import own_git_dir
from relance_pipeline.books.read import (
    CLIENTS_FOLDER,
    CONFIG_FILE,
    POLICIES_FOLDER,
    Loaded,
    read_books,
    without_cycle_collection,
)
from relance_pipeline.model import JournalEntry, Problem

FOLDER = "relance"
"""Inside .git."""
FORMAT = b"relance-cache-1\n"
SETTLE_SECONDS = 2.0
"""Files modified this recently are not cached yet: a later change in the same clock tick would keep the mtime
(a change to an older file gives it a new mtime, so only recent ones are at risk)."""
_WATCHED = (CONFIG_FILE, POLICIES_FOLDER, "ledger")
_DIGEST_SIZE = 32

assert CLIENTS_FOLDER.startswith("ledger/"), "the ledger folder is watched whole"


def cache_folder(root: Path) -> Path | None:
    """In the git directory of the work tree whose top is `root` (a linked worktree's own one included)."""
    if os.environ.get("RELANCE_NO_CACHE"):
        return None
    git = own_git_dir(root)
    return git / FOLDER if git is not None else None


def read_books_cached(root: Path) -> Loaded:
    """`read_books(root)`, from the cache when no file changed since it was made."""
    folder = cache_folder(root)
    if folder is None:
        return read_books(root)
    store = folder / "books.pickle"
    committed = _git_signature(root)
    before, newest = (committed, 0.0) if committed is not None else _books_signature(root)
    cached = _load(store, before)
    if isinstance(cached, Loaded):
        return cached
    loaded = read_books(root)
    after = _git_signature(root) if committed is not None else _books_signature(root)[0]
    if after == before and newest < time.time() - SETTLE_SECONDS:
        _save(store, before, loaded)
    return loaded


def read_journal_cached(root: Path) -> tuple[list[JournalEntry], list[Problem]]:
    """`journal.read_journal(root)`, from the cache when the journal's bytes are the same."""
    folder = cache_folder(root)
    file = root / journal.JOURNAL_FILE
    if folder is None or not file.is_file():
        return journal.read_journal(root)
    store = folder / "journal.pickle"
    content = file.read_bytes()
    key = hashlib.blake2b(content + code_signature(), digest_size=_DIGEST_SIZE).digest()
    cached = _load(store, key)
    if isinstance(cached, tuple):
        entries, problems = cached
        return list(entries), list(problems)
    entries, problems = journal.read_journal(root)
    if file.read_bytes() == content:
        _save(store, key, (entries, problems))
    return entries, problems


def _git_signature(root: Path) -> bytes | None:
    """When git says the watched files are exactly as in its index: a digest of the index's entries for them (mode,
    blob hash, path). A fresh clone of the same commit has the same, so a cache restored by a CI job is used
    there too. None when a watched file is modified, untracked or ignored, is a link or a submodule (whose
    content the index does not hold), or when git cannot tell."""
    paths = (*_WATCHED, ".gitattributes")
    status = _git(root, "status", "--porcelain", "-z", "--untracked-files=all", "--ignored=matching", "--", *paths)
    if status != b"":
        return None
    listed = _git(root, "ls-files", "--stage", "-z", "--", *paths)
    links = (b"120000 ", b"160000 ")  # symbolic links and submodules
    if listed is None or listed.startswith(links) or any(b"\0" + mode in listed for mode in links):
        return None
    return hashlib.blake2b(code_signature() + b"git\0" + listed, digest_size=_DIGEST_SIZE).digest()


def _git(root: Path, *args: str) -> bytes | None:
    try:
        done = subprocess.run(
            ["git", "--no-optional-locks", *args], cwd=root, capture_output=True, timeout=60, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


_Entry = tuple[str, int, int, int, int, int]
"""Path, mode, size, inode, mtime and ctime (nanoseconds) of a watched file or folder."""


def _books_signature(root: Path) -> tuple[bytes, float]:
    """A digest of the watched files' metadata, and the newest modification time of a file among them.

    Entries are taken in the order the folders list them: that order only changes with the folder, and a
    different order can only miss the cache, never give a wrong one."""
    entries: list[_Entry | str] = []
    for name in _WATCHED:
        path = root / name
        try:
            info = path.stat()
        except OSError:
            entries.append(f"{name}: missing")
            continue
        entries.append((name, info.st_mode, info.st_size, info.st_ino, info.st_mtime_ns, info.st_ctime_ns))
        if stat.S_ISDIR(info.st_mode):  # followed at the top, as the readers do
            _tree(entries, str(path), name)
    newest = max((e[4] for e in entries if isinstance(e, tuple) and not stat.S_ISDIR(e[1])), default=0)
    digest = hashlib.blake2b(code_signature() + marshal.dumps(entries), digest_size=_DIGEST_SIZE).digest()
    return digest, newest / 1e9


def _tree(entries: list[_Entry | str], folder: str, rel: str) -> None:
    """One entry for each file and folder below `folder`."""
    try:
        with os.scandir(folder) as found:
            listed = list(found)
    except OSError:
        entries.append(f"{rel}: unreadable")
        return
    for entry in listed:
        name = f"{rel}/{entry.name}"
        try:
            info = entry.stat()  # follows links, as reading the file does
        except OSError:
            entries.append(f"{name}: broken")
            continue
        entries.append((name, info.st_mode, info.st_size, info.st_ino, info.st_mtime_ns, info.st_ctime_ns))
        if entry.is_dir(follow_symlinks=False):  # as the readers walk: never into a linked folder
            _tree(entries, entry.path, name)


_code: bytes | None = None
_CODE_SUFFIXES = (".py", ".json")
"""What the cached values depend on: the code that reads and checks the books, and the schemas."""


def code_signature() -> bytes:
    """This package's code and schemas, by content, and Python's version: a new relance reads anew (and prints a
    letter anew, render.renderer). By content,
    not by file dates, so that the same relance installed afresh on a CI runner finds the cache a previous job
    left (a few milliseconds for some 70 files)."""
    global _code
    if _code is None:
        package = Path(__file__).parent.parent
        digest = hashlib.blake2b(sys.version.encode(), digest_size=_DIGEST_SIZE)
        for folder, subfolders, files in os.walk(package):
            subfolders[:] = sorted(name for name in subfolders if name not in _NOT_CODE)
            for name in sorted(files):
                if name.endswith(_CODE_SUFFIXES):
                    path = os.path.join(folder, name)
                    with open(path, "rb") as handle:
                        content = handle.read()
                    relative = os.path.relpath(path, package).encode("utf-8", "surrogateescape")
                    digest.update(b"%d:%s:%d:" % (len(relative), relative, len(content)))
                    digest.update(content)
        _code = digest.digest()
    return _code


_NOT_CODE = frozenset({"__pycache__", "templates", "scaffold"})


def _load(store: Path, key: bytes) -> object | None:
    try:
        with store.open("rb") as handle:
            if handle.read(len(FORMAT)) != FORMAT or handle.read(_DIGEST_SIZE) != key:
                return None
            payload = handle.read()
    except OSError:
        return None
    try:
        with without_cycle_collection():
            return _unpickle(payload)
    except Exception:  # a cache from an older relance, or damaged: read the files instead
        return None


def _unpickle(payload: bytes) -> object:
    return pickle.loads(payload)


def _save(store: Path, key: bytes, value: object) -> None:
    with suppress(OSError):  # a cache that cannot be written only costs time
        atomic.write_bytes(store, FORMAT + key + pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
