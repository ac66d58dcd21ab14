"""The books and journal cache of `relance run`: used only while no watched file changed, same answers as reading."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from relance_pipeline.books import cache as books_cache
from relance_pipeline.books import journal
from relance_pipeline.books.read import Loaded, read_books
from relance_pipeline.commands.plan import plan_repository

INVOICE = "ledger/invoices/2026/F-2026-003.yaml"


def age(root: Path, seconds: float = 3600) -> None:
    """Make every file of the repository look written `seconds` ago (books are rarely edited just before a run)."""
    then = time.time() - seconds
    for folder, _, files in os.walk(root):
        if ".git" in Path(folder).relative_to(root).parts:
            continue
        for name in files:
            os.utime(Path(folder) / name, (then, then))


def refuse_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(root: Path) -> Loaded:
        raise AssertionError("the books were read instead of taken from the cache")

    monkeypatch.setattr(books_cache, "read_books", fail)


def test_books_unchanged_since_the_last_read_come_from_the_cache(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    age(example_repo)
    first = books_cache.read_books_cached(example_repo)
    assert (example_repo / ".git/relance/books.pickle").is_file()
    refuse_reading(monkeypatch)
    again = books_cache.read_books_cached(example_repo)
    assert again.books == first.books == read_books(example_repo).books
    assert again.problems == first.problems
    assert again.documents == first.documents


def test_an_edited_invoice_is_read_again(example_repo: Path) -> None:
    age(example_repo)
    books_cache.read_books_cached(example_repo)
    file = example_repo / INVOICE
    file.write_text(file.read_text(encoding="utf-8").replace("F-2026-003", "F-2026-777", 1), encoding="utf-8")
    numbers = {invoice.number for invoice in books_cache.read_books_cached(example_repo).invoices}
    assert "F-2026-777" in numbers and "F-2026-003" not in numbers


def test_a_new_client_file_is_seen(example_repo: Path) -> None:
    age(example_repo)
    books_cache.read_books_cached(example_repo)
    clients = example_repo / "ledger/clients"
    (clients / "zoe.yaml").write_bytes((clients / "atelier-ferrand.yaml").read_bytes())
    assert "zoe" in books_cache.read_books_cached(example_repo).clients


def test_a_file_changed_in_the_last_seconds_is_not_cached_yet(example_repo: Path) -> None:
    age(example_repo)
    (example_repo / INVOICE).touch()
    books_cache.read_books_cached(example_repo)
    assert not (example_repo / ".git/relance/books.pickle").exists()


def test_without_git_or_when_disabled_nothing_is_cached(
    example_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    age(example_repo)
    monkeypatch.setenv("RELANCE_NO_CACHE", "1")
    books_cache.read_books_cached(example_repo)
    assert not (example_repo / ".git/relance").exists()
    assert books_cache.cache_folder(tmp_path) is None


def test_a_damaged_cache_is_ignored(example_repo: Path) -> None:
    age(example_repo)
    expected = books_cache.read_books_cached(example_repo)
    store = example_repo / ".git/relance/books.pickle"
    store.write_bytes(store.read_bytes()[:200])
    assert books_cache.read_books_cached(example_repo).books == expected.books


def test_the_journal_is_taken_from_the_cache_while_its_bytes_are_the_same(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan_repository(example_repo, date(2026, 2, 23))
    from relance_pipeline.commands.run import run

    run(example_repo, date(2026, 2, 23), jobs=1)
    entries, problems = books_cache.read_journal_cached(example_repo)
    assert (entries, problems) == journal.read_journal(example_repo) and entries
    monkeypatch.setattr(journal, "read_journal", lambda root: ([], []))
    assert books_cache.read_journal_cached(example_repo) == (entries, problems)
    with (example_repo / journal.JOURNAL_FILE).open("a") as handle:
        handle.write("{not json\n")
    monkeypatch.undo()
    _, found = books_cache.read_journal_cached(example_repo)
    assert [p.message for p in found] == ["this line is not valid JSON"]


def test_a_plan_from_the_cache_is_the_plan_from_the_files(example_repo: Path) -> None:
    age(example_repo)
    night = date(2026, 3, 9)
    fresh = plan_repository(example_repo, night)
    plan_repository(example_repo, night, cached=True)
    cached = plan_repository(example_repo, night, cached=True)
    assert (example_repo / ".git/relance/books.pickle").is_file()
    assert cached == fresh


def git(root: Path, *args: str) -> None:
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run(["git", *identity, *args], cwd=root, check=True, capture_output=True)


def test_a_fresh_clone_of_the_same_commit_uses_a_cache_restored_from_another_checkout(
    example_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(example_repo, "add", "-A")
    git(example_repo, "commit", "-qm", "books")
    first = books_cache.read_books_cached(example_repo)  # committed files need no settling time
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(example_repo), str(clone))
    (clone / ".git/relance").mkdir()
    store = ".git/relance/books.pickle"
    (clone / store).write_bytes((example_repo / store).read_bytes())
    refuse_reading(monkeypatch)
    assert books_cache.read_books_cached(clone).books == first.books


def test_a_committed_file_edited_since_is_read_again(example_repo: Path) -> None:
    git(example_repo, "add", "-A")
    git(example_repo, "commit", "-qm", "books")
    books_cache.read_books_cached(example_repo)
    file = example_repo / INVOICE
    file.write_text(file.read_text(encoding="utf-8").replace("F-2026-003", "F-2026-777", 1), encoding="utf-8")
    numbers = {invoice.number for invoice in books_cache.read_books_cached(example_repo).invoices}
    assert "F-2026-777" in numbers and "F-2026-003" not in numbers


SIGNATURE = "from relance_pipeline.books import cache; print(cache.code_signature().hex())"


def code_signature_of(package_parent: Path) -> str:
    """The code signature as a relance installed under `package_parent` computes it, in a process of its own."""
    environment = {**os.environ, "PYTHONPATH": str(package_parent), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", SIGNATURE],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
        cwd=package_parent,
    )
    return done.stdout.strip()


def test_the_same_relance_installed_afresh_elsewhere_keeps_the_cache_and_an_edited_one_does_not(
    tmp_path: Path,
) -> None:
    package = Path(books_cache.__file__).parent.parent
    # Copied without dates or inodes, as pip lays a wheel out on a new CI runner.
    installed = tmp_path / "site"
    shutil.copytree(package, installed / package.name, copy_function=shutil.copyfile)
    assert code_signature_of(installed) == books_cache.code_signature().hex()
    read = installed / package.name / "books" / "read.py"
    read.write_text(read.read_text(encoding="utf-8") + "\n# a newer relance\n", encoding="utf-8")
    assert code_signature_of(installed) != books_cache.code_signature().hex()
