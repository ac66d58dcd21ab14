from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from relance_pipeline.lock import LockBusy, lock_path, repository_lock


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
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from relance_pipeline.lock import repository_lock\n"
            "with repository_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(0.5)",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    with pytest.raises(LockBusy), repository_lock(tmp_path):
        pass
    started = time.monotonic()
    with repository_lock(tmp_path, wait_seconds=10):
        waited = time.monotonic() - started
    holder.wait()
    assert 0 < waited < 10
