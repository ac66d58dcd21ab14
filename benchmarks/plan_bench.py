"""How much `relance plan` costs over a bare read of the same YAML files.

On synthetic books (10,000 invoices by default) it times, best of a few rounds:
  (a) a bare read: `yaml.load(file, Loader=yaml.CSafeLoader)` for every YAML file of the books;
  (b) the plan as the command runs it: read_books (loader, schemas, records), the cross-file checks of
      validate, the journal, and the plan itself (`planning.plan_repository`);
and reports (b) / (a). The target is about 2.0 or less. Both wall-clock and CPU time are shown; the ratio uses
CPU time (`time.process_time`), which other work on a shared machine disturbs much less.

    python -m benchmarks plan [--invoices 10000] [--clients 500] [--rounds 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from benchmarks.books import AS_OF, Generated, generate
from relance_pipeline.books import journal
from relance_pipeline.books.checks import cross_checks
from relance_pipeline.books.read import read_books
from relance_pipeline.commands.plan import plan_repository
from relance_pipeline.core.plan import plan

TARGET_RATIO = 2.0


def bare_read(files: list[Path]) -> list[Any]:
    loaded = []
    for file in files:
        with open(file, encoding="utf-8") as handle:
            loaded.append(yaml.load(handle, Loader=yaml.CSafeLoader))
    return loaded


def best_of(rounds: int, *works: Callable[[], object]) -> list[tuple[float, float]]:
    """The best (CPU, wall) seconds of each work over the rounds, the works taking turns so that a busy moment
    of the machine weighs on both sides alike."""
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
class PlanFigures:
    """Seconds (CPU and wall, best of the rounds) of a bare read and of the plan, on one set of books."""

    made: Generated
    files: int
    documents: int
    rounds: int
    bare: float
    bare_wall: float
    full: float
    full_wall: float
    stages: dict[str, float]

    @property
    def ratio(self) -> float:
        return self.full / self.bare


def measure(made: Generated, rounds: int) -> PlanFigures:
    files = made.files
    planned = plan_repository(made.root, AS_OF)
    assert planned.plan is not None, [str(p) for p in planned.problems]
    bare_read(files)  # warm the file cache for both sides
    (bare, bare_wall), (full, full_wall) = best_of(
        rounds, lambda: bare_read(files), lambda: plan_repository(made.root, AS_OF)
    )
    documents = len(planned.plan.actions)
    return PlanFigures(made, len(files), documents, rounds, bare, bare_wall, full, full_wall, stages(made.root))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks plan", description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="relance-bench-") as folder:
        figures = measure(generate(Path(folder) / "books", args.clients, args.invoices, seed=1), args.rounds)
    made = figures.made
    print(
        f"plan benchmark: {made.invoices} invoices, {made.clients} clients, {figures.files} YAML files, "
        f"{made.journal_lines} journal lines; {figures.documents} documents planned; "
        f"best of {figures.rounds} rounds"
    )
    print(f"  (a) bare CSafeLoader read       {figures.bare:7.3f} s CPU {figures.bare_wall:7.3f} s wall")
    print(f"  (b) read_books + checks + plan  {figures.full:7.3f} s CPU {figures.full_wall:7.3f} s wall")
    parts = ", ".join(f"{name} {seconds:.3f} s" for name, seconds in figures.stages.items())
    print(f"      CPU by stage (one more pass): {parts}")
    verdict = "within" if figures.ratio <= TARGET_RATIO else "OVER"
    wall = figures.full_wall / figures.bare_wall
    print(f"  ratio (b)/(a) = {figures.ratio:.2f} CPU, {wall:.2f} wall ({verdict} the target of {TARGET_RATIO:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
