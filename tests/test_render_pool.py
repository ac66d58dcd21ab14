"""Rendering in worker processes gives the same outbox, byte for byte, as rendering in the run's own process."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from planbooks import deliver_open
from safety_support import relance_command

from relance_pipeline.books import journal
from relance_pipeline.cli.main import main
from relance_pipeline.commands.init import init
from relance_pipeline.commands.plan import plan_repository
from relance_pipeline.commands.run import run
from relance_pipeline.model import Action
from relance_pipeline.outbox.lock import repository_lock
from relance_pipeline.render import pool as render_pool
from relance_pipeline.render.pool import MAX_AUTO_JOBS, MIN_PARALLEL_LETTERS, available_cores, worker_count

NIGHTS = (date(2026, 2, 23), date(2026, 3, 9), date(2026, 3, 16), date(2026, 3, 23), date(2026, 4, 6))


def outbox_files(root: Path) -> dict[str, bytes]:
    folder = root / "outbox"
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def example_with_previews(root: Path) -> Path:
    init(root)
    config = root / "relance.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "previews: true\n", encoding="utf-8")
    return root


def test_two_workers_write_the_same_files_and_journal_as_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pools: list[int] = []
    in_pool = render_pool._in_pool

    def counted(*args: Any) -> Iterator[render_pool.Rendered]:
        pools.append(args[-1])
        return in_pool(*args)

    monkeypatch.setattr(render_pool, "_in_pool", counted)
    alone, pooled = example_with_previews(tmp_path / "alone"), example_with_previews(tmp_path / "pooled")
    for night in NIGHTS:
        single = run(alone, night, jobs=1)
        parallel = run(pooled, night, jobs=2)
        assert not single.failed and not parallel.failed, (single.problems, parallel.problems)
        assert [d.entries for d in parallel.drafted] == [d.entries for d in single.drafted]
        deliver_open(alone, night)  # reviewed and delivered: the next night escalates
        deliver_open(pooled, night)
    files = outbox_files(alone)
    assert sum(name.endswith(".pdf") for name in files) >= 2
    assert sum(name.endswith(".png") for name in files) >= 2
    assert outbox_files(pooled) == files
    assert journal.read_journal(pooled) == journal.read_journal(alone)
    assert pools and set(pools) == {2}, "every night of the pooled repository rendered in two workers"


def test_the_run_command_takes_a_number_of_jobs_and_refuses_zero(example_repo: Path) -> None:
    ran = CliRunner().invoke(main, ["--repo", str(example_repo), "run", "--as-of", "2026-02-23", "--jobs", "2"])
    assert ran.exit_code == 0, ran.output
    assert "2 document sets drafted as of 2026-02-23" in ran.output
    refused = CliRunner().invoke(main, ["--repo", str(example_repo), "run", "--jobs", "0"])
    assert refused.exit_code == 2


def letters(example_repo: Path, count: int) -> list[Action]:
    """`count` actions of the example's plan, made letters (what decides whether workers start)."""
    planned = plan_repository(example_repo, date(2026, 2, 23))
    assert planned.plan is not None and planned.plan.actions
    action = planned.plan.actions[0]
    letter = dataclasses.replace(action, step=dataclasses.replace(action.step, channels=("letter",)))
    return [letter] * count


def test_workers_start_by_default_only_for_enough_letters(example_repo: Path) -> None:
    few = letters(example_repo, MIN_PARALLEL_LETTERS - 1)
    many = letters(example_repo, MIN_PARALLEL_LETTERS)
    assert worker_count(few, None) == 1
    assert worker_count(many, None) == min(available_cores(), MAX_AUTO_JOBS, len(many))
    assert worker_count(few, 2) == 2
    assert worker_count(many, 1) == 1


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(sys.platform != "linux", reason="workers are tied to the run's life on Linux")
def test_a_killed_run_leaves_no_worker_holding_the_repository_lock(example_repo: Path) -> None:
    policy = example_repo / "policies/standard.yaml"
    policy.write_text(re.sub(r"channels: \[[^\]]*\]", "channels: [letter]", policy.read_text(encoding="utf-8")))
    command = [relance_command(), "--repo", str(example_repo), "run", "--as-of", "2026-03-09", "--jobs", "2"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while len(workers) < 2 and process.poll() is None and time.monotonic() < deadline:
        workers = children_of(process.pid)
        time.sleep(0.01)
    assert len(workers) == 2, "the run started two workers"
    process.kill()
    process.wait()
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in workers)
    with repository_lock(example_repo):
        pass
