from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from safety_support import hold_lock_elsewhere

from relance_pipeline.outbox.lock import LockBusy, lock_path, repository_lock


def test_a_second_holder_is_refused_with_the_pid_of_the_first(tmp_path: Path) -> None:
    with repository_lock(tmp_path), pytest.raises(LockBusy, match=f"pid {os.getpid()}"), repository_lock(tmp_path):
        pass


def test_the_lock_is_free_again_once_released(tmp_path: Path) -> None:
    with repository_lock(tmp_path):
        pass
    with repository_lock(tmp_path):
        pass


def test_the_lock_lives_in_dot_git_so_it_is_never_committed(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    assert lock_path(tmp_path) == tmp_path / ".git" / "relance.lock"


def test_another_process_holding_the_lock_makes_a_waiter_wait_until_it_ends(tmp_path: Path) -> None:
    holder = hold_lock_elsewhere(tmp_path, 0.5)
    with pytest.raises(LockBusy), repository_lock(tmp_path):
        pass
    started = time.monotonic()
    with repository_lock(tmp_path, wait_seconds=10):
        waited = time.monotonic() - started
    holder.communicate()  # reaps it and closes its pipe
    assert 0 < waited < 10
