from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from loop_support import git
from safety_support import hold_lock_elsewhere, run_relance

from relance_pipeline.books import cache as books_cache
from relance_pipeline.outbox.lock import LockBusy, LockRefused, lock_path, repository_lock


def test_a_second_holder_is_refused_with_the_pid_of_the_first(tmp_path: Path) -> None:
    with repository_lock(tmp_path), pytest.raises(LockBusy, match=f"pid {os.getpid()}"), repository_lock(tmp_path):
        pass


def test_the_lock_is_free_again_once_released(tmp_path: Path) -> None:
    with repository_lock(tmp_path):
        pass
    with repository_lock(tmp_path):
        pass


def test_the_lock_lives_in_dot_git_so_it_is_never_committed(example_repo: Path) -> None:
    assert lock_path(example_repo) == example_repo / ".git" / "relance.lock"


def test_in_a_linked_worktree_the_lock_and_the_cache_live_in_its_git_directory(example_repo: Path) -> None:
    (example_repo / "relance.lock").symlink_to("relance.yaml")  # committed: a branch can bring anything
    git(example_repo, "add", "-A")
    git(example_repo, "commit", "-q", "-m", "books")
    tree = example_repo.parent / "nightly"
    git(example_repo, "worktree", "add", "-q", str(tree))
    before = (tree / "relance.yaml").read_bytes()
    own = example_repo / ".git/worktrees/nightly"
    assert lock_path(tree) == own / "relance.lock"
    result = run_relance(tree, "run", "--as-of", "2026-03-09", "--commit")
    assert result.returncode == 0, result.stderr
    assert (tree / "relance.yaml").read_bytes() == before
    assert git(tree, "status", "--porcelain", "--untracked-files=all", "--", ".", ":!outbox") == ""
    assert books_cache.cache_folder(tree) == own / "relance"


def test_a_lock_file_that_is_a_link_is_refused_and_its_target_left_whole(example_repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "precious.txt"
    outside.write_text("keep me\n")
    lock_path(example_repo).symlink_to(outside)
    refused = re.escape("relance.lock: cannot be used as relance's lock (a symbolic link)")
    with pytest.raises(LockRefused, match=refused), repository_lock(example_repo):
        pass
    assert outside.read_text() == "keep me\n"


def test_a_lock_file_that_is_a_hard_link_to_another_file_is_refused(example_repo: Path) -> None:
    os.link(example_repo / "relance.yaml", lock_path(example_repo))
    before = (example_repo / "relance.yaml").read_bytes()
    with pytest.raises(LockRefused, match="another file's second name"), repository_lock(example_repo):
        pass
    assert (example_repo / "relance.yaml").read_bytes() == before


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_a_lock_that_is_not_a_regular_file_is_a_clean_error(example_repo: Path, kind: str) -> None:
    path = lock_path(example_repo)
    path.mkdir() if kind == "directory" else os.mkfifo(path)
    result = run_relance(example_repo, "run", "--as-of", "2026-03-09", timeout=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{path}: cannot be used as relance's lock" in result.stderr


def test_a_repository_that_does_not_exist_is_an_error_and_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "typo/dir"
    result = run_relance(missing, "run")
    assert result.returncode == 2 and "does not exist" in result.stderr
    with pytest.raises(LockRefused, match="no such repository folder"), repository_lock(missing):
        pass
    assert not (tmp_path / "typo").exists()


def test_another_process_holding_the_lock_makes_a_waiter_wait_until_it_ends(tmp_path: Path) -> None:
    holder = hold_lock_elsewhere(tmp_path, 0.5)
    with pytest.raises(LockBusy), repository_lock(tmp_path):
        pass
    started = time.monotonic()
    with repository_lock(tmp_path, wait_seconds=10):
        waited = time.monotonic() - started
    holder.communicate()  # reaps it and closes its pipe
    assert 0 < waited < 10
