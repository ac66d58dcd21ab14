"""How much validate + plan cost over a bare read of the same YAML files.

Two figures on synthetic books (10,000 invoices by default):
  - the nightly's: `relance validate` then `relance plan`, two commands (two processes) in a fresh clone, as a CI
    job runs them (no `.git/relance/` cache), against two processes that each do a bare
    `yaml.load(file, Loader=yaml.CSafeLoader)` of every YAML file of the same clone;
  - in this process, `read_books` + cross-file checks + journal + plan against one bare read, stage by stage.
Best of a few rounds, the two sides taking turns so that a busy moment of the machine weighs on both alike.
Ratios use CPU time (the children's rusage, `time.process_time` here), which other work on a shared machine
disturbs much less than wall-clock time; both are shown. The target is 2.0 or less (aim: 1.5).

    python -m benchmarks plan [--invoices 10000] [--clients 500] [--rounds 5]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from benchmarks import commands
from benchmarks.books import AS_OF, Generated, generate
from relance_pipeline.books import journal
from relance_pipeline.books.checks import cross_checks
from relance_pipeline.books.read import read_books
from relance_pipeline.commands.plan import plan_repository
from relance_pipeline.core.plan import plan

TARGET_RATIO = 2.0
AIM_RATIO = 1.5
BARE_READ = """
import sys, yaml
from pathlib import Path
for file in sorted(p for p in Path(sys.argv[1]).rglob("*.yaml") if ".git" not in p.parts):
    with open(file, encoding="utf-8") as handle:
        yaml.load(handle, Loader=yaml.CSafeLoader)
"""


def bare_read(files: list[Path]) -> list[Any]:
    loaded = []
    for file in files:
        with open(file, encoding="utf-8") as handle:
            loaded.append(yaml.load(handle, Loader=yaml.CSafeLoader))
    return loaded


def best_of(rounds: int, *works: Callable[[], object]) -> list[tuple[float, float]]:
    """The best (CPU, wall) seconds of each work over the rounds, the works taking turns."""
    best = [(float("inf"), float("inf"))] * len(works)
    for _ in range(rounds):
        for index, work in enumerate(works):
            cpu, wall = time.process_time(), time.perf_counter()
            work()
            spent = (time.process_time() - cpu, time.perf_counter() - wall)
            best[index] = (min(best[index][0], spent[0]), min(best[index][1], spent[1]))
    return best


def stages(root: Path) -> dict[str, float]:
    """One pass of the plan, stage by stage, to see where the time goes."""
    spent: dict[str, float] = {}
    start = time.process_time()
    loaded = read_books(root)
    spent["read_books"] = time.process_time() - start
    start = time.process_time()
    cross_checks(loaded, AS_OF, root)
    spent["cross_checks"] = time.process_time() - start
    start = time.process_time()
    entries, _ = journal.read_journal(root)
    spent["journal"] = time.process_time() - start
    start = time.process_time()
    assert loaded.books is not None
    plan(loaded.books, entries, AS_OF)
    spent["plan"] = time.process_time() - start
    return spent


@dataclass(frozen=True)
class Sample:
    cpu: float
    wall: float


@dataclass(frozen=True)
class PlanFigures:
    """Seconds (CPU and wall) of the bare reads and of validate + plan, on one set of books."""

    made: Generated
    files: int
    documents: int
    commands: list[tuple[Sample, Sample]]
    """Each round: (validate + plan, two bare reads), both in a fresh clone."""
    bare: float
    full: float
    """In this process, best CPU seconds: one bare read, read_books + checks + plan."""
    stages: dict[str, float]

    @property
    def nightly(self) -> Sample:
        return Sample(min(c.cpu for c, _ in self.commands), min(c.wall for c, _ in self.commands))

    @property
    def bare_reads(self) -> Sample:
        return Sample(min(b.cpu for _, b in self.commands), min(b.wall for _, b in self.commands))

    @property
    def ratio(self) -> float:
        return self.nightly.cpu / self.bare_reads.cpu

    @property
    def ratio_range(self) -> tuple[float, float]:
        ratios = [c.cpu / b.cpu for c, b in self.commands]
        return min(ratios), max(ratios)

    @property
    def in_process_ratio(self) -> float:
        return self.full / self.bare


def nightly_round(source: Path, scratch: Path) -> tuple[Sample, Sample]:
    """validate + plan in a fresh clone, and two bare reads of that clone."""
    clone = commands.fresh_clone(source, scratch / "clone")
    validate = commands.relance(clone, "validate")
    planned = commands.relance(clone, "plan", "--as-of", AS_OF.isoformat())
    first, second = (commands.python(clone, BARE_READ, str(clone)) for _ in range(2))
    shutil.rmtree(clone)
    return (
        Sample(validate.cpu + planned.cpu, validate.wall + planned.wall),
        Sample(first.cpu + second.cpu, first.wall + second.wall),
    )


def measure(made: Generated, rounds: int) -> PlanFigures:
    """`made` must be committed (the nightly figure clones it)."""
    files = made.files
    planned = plan_repository(made.root, AS_OF)
    assert planned.plan is not None, [str(p) for p in planned.problems]
    bare_read(files)  # warm the file cache for both sides
    with tempfile.TemporaryDirectory(prefix="relance-plan-") as scratch:
        rounds_done = [nightly_round(made.root, Path(scratch)) for _ in range(rounds)]
    (bare, _), (full, _) = best_of(rounds, lambda: bare_read(files), lambda: plan_repository(made.root, AS_OF))
    documents = len(planned.plan.actions)
    return PlanFigures(made, len(files), documents, rounds_done, bare, full, stages(made.root))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks plan", description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="relance-bench-") as folder:
        made = generate(Path(folder) / "books", args.clients, args.invoices, seed=1)
        commands.commit_all(made.root, "books")
        figures = measure(made, args.rounds)
    print(
        f"plan benchmark: {made.invoices} invoices, {made.clients} clients, {figures.files} YAML files, "
        f"{made.journal_lines} journal lines; {figures.documents} documents planned; best of {args.rounds} rounds"
    )
    night, bare = figures.nightly, figures.bare_reads
    low, high = figures.ratio_range
    print(f"  validate + plan, fresh clone   {night.cpu:7.3f} s CPU {night.wall:7.3f} s wall")
    print(f"  two bare CSafeLoader reads     {bare.cpu:7.3f} s CPU {bare.wall:7.3f} s wall")
    print(f"  ratio {figures.ratio:.2f} CPU (rounds {low:.2f}-{high:.2f}), {night.wall / bare.wall:.2f} wall")
    parts = ", ".join(f"{name} {seconds:.3f} s" for name, seconds in figures.stages.items())
    print(f"  in this process: {figures.in_process_ratio:.2f} × one bare read; CPU by stage: {parts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
