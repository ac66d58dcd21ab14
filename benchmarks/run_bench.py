"""The performance report: four figures side by side, each against its target (`make bench`).

(1) Milliseconds per letter of `relance run` — the whole command in a subprocess, start-up, validation and plan
    included, workers on every core — on synthetic books whose policy sends letters only; against the plain
    loop `weasyprint.HTML(string=html).write_pdf()` in one process on the same letters' HTML (stylesheet inlined,
    the system's DejaVu Sans found by fontconfig and subset at write time, default options). Target ≤ 0.25.
(2) `validate` + plan on 10,000 invoices against a bare `yaml.load(..., Loader=yaml.CSafeLoader)` of the same
    files (CPU time, best of a few rounds; `benchmarks.plan_bench`). Target ≤ 2.0.
(3) Peak memory of the largest process of a run (the run or one of its workers), for a small and a large night:
    it must not grow with the number of letters.
(4) The steady night: 10,000 invoices whose due documents were drafted by a first run; `relance run` again, the
    whole command in a subprocess (Python start-up and imports included), finds nothing to do. Target < 1 s.

Sizes (defaults: about 200 and 400 letters, 30 plain letters, 10,000 invoices) keep the whole report to a few
minutes on 2 cores. Wall-clock figures suffer from other work on a shared machine: run it on a quiet one.

    python -m benchmarks [run] [--letters 400] [--small 200] [--plain 30] [--invoices 10000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks import plan_bench
from benchmarks.books import AS_OF, Generated, generate
from relance_pipeline.commands.plan import plan_repository
from relance_pipeline.render import template_files
from relance_pipeline.render.letter import STYLESHEET
from relance_pipeline.render.pool import available_cores
from relance_pipeline.render.renderer import Renderer

LETTER_RATIO_TARGET = 0.25
STEADY_TARGET_SECONDS = 1.0
MEMORY_GROWTH_LIMIT = 0.10
"""The large night may use at most 10 % more memory than the small one (allocator noise, longer tables)."""
OUT = Path(__file__).parent / "out"


@dataclass(frozen=True)
class Timed:
    """One `relance run` in a subprocess: wall seconds, CPU seconds of it and its workers, the largest RSS."""

    wall: float
    cpu: float
    peak_mib: float
    output: str


@dataclass(frozen=True)
class LetterNight:
    letters: int
    jobs: str
    run: Timed

    @property
    def ms_per_letter(self) -> float:
        return 1000 * self.run.wall / self.letters


def relance_command() -> list[str]:
    script = Path(sys.executable).with_name("relance")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from relance_pipeline.cli.main import main; main()"]


def installed_environment(pycache: Path) -> dict[str, str]:
    """The environment of an installed relance: its modules byte-compiled once (in `pycache`, outside the source
    tree) and reused, even where PYTHONDONTWRITEBYTECODE is set for development."""
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    environment["PYTHONPYCACHEPREFIX"] = str(pycache)
    return environment


def run_relance(root: Path, *args: str) -> Timed:
    """`relance run` as a user runs it; os.wait4 gives the child's rusage, its own workers included."""
    with tempfile.TemporaryFile() as output:
        start = time.perf_counter()
        command = [*relance_command(), "--repo", str(root), "run", "--as-of", AS_OF.isoformat(), *args]
        environment = installed_environment(root.parent / "pycache")
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=environment)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read().decode("utf-8", "replace")
    if process.returncode != 0:
        tail = "\n".join(text.splitlines()[-30:])
        raise SystemExit(f"relance run failed ({process.returncode}) in {root}; its last lines:\n{tail}")
    # ru_maxrss is in KiB on Linux; with a child it is the largest of the child and the children it waited for.
    return Timed(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, text)


def git(root: Path, *args: str) -> None:
    identity = ["-c", "user.name=bench", "-c", "user.email=bench@example.org"]
    subprocess.run(["git", *identity, *args], cwd=root, check=True, capture_output=True)


def committed_books(root: Path, clients: int, invoices: int, seed: int, *, letters_only: bool) -> Generated:
    """Synthetic books in a git repository, committed, as the nightly job finds them."""
    made = generate(root, clients, invoices, seed)
    if letters_only:
        policy = root / "policies" / "standard.yaml"
        text = policy.read_text(encoding="utf-8")
        policy.write_text(re.sub(r"channels: \[[^\]]*\]", "channels: [letter]", text), encoding="utf-8")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "books")
    return made


def letter_books(root: Path, letters: int) -> Generated:
    """Books whose night at AS_OF sends about `letters` letters (about 0.77 letter per client with these sizes)."""
    clients = max(2, round(letters * 1.3))
    return committed_books(root, clients, clients * 11 // 2, seed=2, letters_only=True)


def letter_night(root: Path, *args: str, jobs: str) -> LetterNight:
    timed = run_relance(root, *args)
    letters = sum(1 for _ in (root / "outbox" / AS_OF.isoformat()).rglob("*.pdf"))
    return LetterNight(letters, jobs, timed)


def plain_pages(root: Path, count: int) -> list[str]:
    """The HTML of the night's first `count` letters, made self-contained for a plain WeasyPrint call."""
    planned = plan_repository(root, AS_OF)
    assert planned.plan is not None and planned.books is not None, [str(p) for p in planned.problems]
    renderer = Renderer(root, planned.books)
    css = next(folder / STYLESHEET for folder in template_files.search_path(root) if (folder / STYLESHEET).is_file())
    style = re.sub(r"@font-face\s*\{[^}]*\}", "", css.read_text(encoding="utf-8"))
    style = style.replace('"Relance Sans"', '"DejaVu Sans"')
    pages: list[str] = []
    for action in planned.plan.actions:
        drafts, _ = renderer.drafts(action, AS_OF)
        pages += [d.html.replace("</head>", f"<style>{style}</style>\n</head>") for d in drafts if d.html]
        if len(pages) >= count:
            break
    return pages[:count]


def plain_loop(pages: list[str]) -> tuple[float, float]:
    """Seconds per letter (wall, CPU) of the naive loop, after one letter to load WeasyPrint and fontconfig."""
    from weasyprint import HTML

    HTML(string=pages[0]).write_pdf()
    wall, cpu = time.perf_counter(), time.process_time()
    for page in pages:
        HTML(string=page).write_pdf()
    return (time.perf_counter() - wall) / len(pages), (time.process_time() - cpu) / len(pages)


def steady_nights(root: Path, rounds: int) -> tuple[Timed, list[Timed]]:
    """The first run drafts what is due; the next ones find nothing new."""
    first = run_relance(root)
    again = [run_relance(root) for _ in range(rounds)]
    for timed in again:
        assert "nothing to draft" in timed.output, timed.output
    return first, again


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def report(args: argparse.Namespace) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="relance-bench-") as folder:
        base = Path(folder)
        small_books = letter_books(base / "small", args.small)
        small_one = letter_night(small_books.root, "--jobs", "1", jobs="1 process")
        git(small_books.root, "clean", "-fdxq", "outbox")
        git(small_books.root, "checkout", "-q", "--", "outbox")
        small = letter_night(small_books.root, jobs="auto")

        large_books = letter_books(base / "large", args.letters)
        pages = plain_pages(large_books.root, args.plain)
        large = letter_night(large_books.root, jobs="auto")
        plain_wall, plain_cpu = plain_loop(pages)

        big = committed_books(base / "big", args.invoices // 20, args.invoices, seed=1, letters_only=False)
        plan = plan_bench.measure(big, args.rounds)
        first, steady = steady_nights(big.root, args.rounds)

    plain_ms = 1000 * plain_wall
    ratio = large.ms_per_letter / plain_ms
    growth = large.run.peak_mib / small.run.peak_mib - 1
    best = min(t.wall for t in steady)
    median = statistics.median(t.wall for t in steady)
    cores = available_cores()
    lines = [
        f"relance performance report: {cores} cores, Python {platform.python_version()}, "
        f"{_weasyprint_version()}, as of {AS_OF}",
        "",
        f"{'figure':<44} {'relance':<26} {'reference':<30} {'ratio':>6}  {'target':<8} verdict",
        f"{'(1) letter, relance run (auto jobs)':<44} {large.ms_per_letter:>7.1f} ms/letter{'':<8} "
        f"{'plain loop ' + format(plain_ms, '.1f') + ' ms/letter':<30} {ratio:>6.3f}  {'<= 0.25':<8} "
        f"{verdict(ratio <= LETTER_RATIO_TARGET)}",
        f"{'    same, one process (--jobs 1)':<44} {small_one.ms_per_letter:>7.1f} ms/letter{'':<8} "
        f"{'':<30} {small_one.ms_per_letter / plain_ms:>6.3f}",
        f"{'(2) validate + plan, ' + format(plan.made.invoices, ',') + ' invoices (CPU)':<44} "
        f"{plan.full:>7.2f} s{'':<16} {'bare CSafeLoader ' + format(plan.bare, '.2f') + ' s':<30} "
        f"{plan.ratio:>6.2f}  {'<= 2.0':<8} {verdict(plan.ratio <= plan_bench.TARGET_RATIO)}",
        f"{'(3) peak memory, ' + str(small.letters) + ' -> ' + str(large.letters) + ' letters':<44} "
        f"{small.run.peak_mib:>7.0f} -> {large.run.peak_mib:.0f} MiB{'':<9} {'':<30} {growth:>+6.1%}  "
        f"{'flat':<8} {verdict(growth <= MEMORY_GROWTH_LIMIT)}",
        f"{'(4) steady night, ' + format(plan.made.invoices, ',') + ' invoices, nothing new':<44} "
        f"{best:>7.2f} s (best of {len(steady)}){'':<5} {'':<30} {'':>6}  {'< 1 s':<8} "
        f"{verdict(best < STEADY_TARGET_SECONDS)}",
        "",
        "details:",
        f"  (1) {large.letters} letters in {large.run.wall:.1f} s wall, {large.run.cpu:.1f} s CPU "
        f"({large.run.cpu * 1000 / large.letters:.0f} ms CPU/letter) on {cores} cores; "
        f"{small_one.letters} letters with --jobs 1 in {small_one.run.wall:.1f} s; "
        f"plain loop on {len(pages)} of the same letters: {plain_ms:.0f} ms wall, {1000 * plain_cpu:.0f} ms CPU "
        "per letter",
        f"  (2) {plan.files} YAML files, {plan.made.journal_lines} journal lines, {plan.documents} documents planned;"
        f" wall {plan.full_wall:.2f} s against {plan.bare_wall:.2f} s; CPU by stage: "
        + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in plan.stages.items()),
        f"  (3) largest process of the run: {small.run.peak_mib:.0f} MiB for {small.letters} letters, "
        f"{large.run.peak_mib:.0f} MiB for {large.letters} letters (auto jobs)",
        f"  (4) the first run drafted the due documents in {first.wall:.1f} s; then {len(steady)} runs: "
        + ", ".join(f"{t.wall:.2f}" for t in steady)
        + f" s (median {median:.2f} s, CPU {min(t.cpu for t in steady):.2f} s)",
    ]
    return lines


def _weasyprint_version() -> str:
    from importlib.metadata import version

    return f"WeasyPrint {version('weasyprint')}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks run", description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=400, help="letters of the large night")
    parser.add_argument("--small", type=int, default=200, help="letters of the small night")
    parser.add_argument("--plain", type=int, default=30, help="letters of the plain WeasyPrint loop")
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    lines = report(args)
    print("\n".join(lines))
    OUT.mkdir(exist_ok=True)
    (OUT / "report.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
