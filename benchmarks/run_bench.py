"""The performance report: every figure side by side in one run, each against its target (`make bench`).

(1) Letters: milliseconds per letter (each with its email) of `relance run --commit` and of the `relance send`
    that delivers the emails (to an SMTP sink on 127.0.0.1), each command a process as the workflows run it,
    workers on every core; against the plain WeasyPrint loop on comparable letters (`benchmarks.reference`:
    the same words read back from relance's PDFs, the same invoice table, DejaVu Sans, A4, one
    `HTML(string=...).write_pdf()` each), run in the same rounds, turn about. Targets: run + send <= 0.25 × the
    plain loop (aim 0.12); the cost of a letter at each stage, in one process, beside it.
(2) `validate` + `plan` of 10,000 invoices, two commands in a fresh clone, against two bare C-loader reads of
    the same files (`benchmarks.plan_bench`). Target <= 2.0 (aim 1.5).
(3) Peak memory of the largest process of a run (the run or one of its workers), for a small and a large night on
    books of the same size (median of the rounds): within 10 %.
(4) The steady night: 10,000 invoices whose due documents were drafted by a first run; `relance run` in a fresh
    clone finds nothing to do, with the `.git/relance/` cache restored as the workflows' actions/cache does
    (target < 1 s), and without it (< 3 s).

Wall-clock figures suffer from other work on a shared machine: the load average is printed with the figures,
each figure is the best of its rounds and the spread of the rounds is shown.

    python -m benchmarks [run] [--letters 400] [--one 100] [--plain 30] [--invoices 10000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks import commands, plan_bench, reference, render_bench
from benchmarks.books import AS_OF, Generated, generate
from benchmarks.commands import Timed
from relance_pipeline.books.cache import FOLDER as CACHE_FOLDER
from relance_pipeline.commands.plan import plan_repository
from relance_pipeline.render.pool import available_cores
from relance_pipeline.render.renderer import Renderer

LETTER_RATIO_TARGET = 0.25
LETTER_RATIO_AIM = 0.12
STEADY_CACHED_SECONDS = 1.0
STEADY_UNCACHED_SECONDS = 3.0
MEMORY_GROWTH_LIMIT = 0.10
"""The large night may use at most 10 % more memory than the small one (allocator noise, longer tables)."""
OUT = Path(__file__).parent / "out"


def committed_books(root: Path, clients: int, invoices: int, seed: int, *, letters: str | None = None) -> Generated:
    """Synthetic books in a git repository, committed, as the nightly job finds them, with the shipped policy.
    `letters="every step"`: every step sends a letter and its email; `"last step"`: only the last one does."""
    made = generate(root, clients, invoices, seed)
    policy = root / "policies" / "standard.yaml"
    text = policy.read_text(encoding="utf-8")
    if letters == "every step":
        text = re.sub(r"channels: \[[^\]]*\]", "channels: [letter, email]", text)
    elif letters == "last step":
        text = text.replace("channels: [letter, email]", "channels: [email]")
        head, _, last = text.rpartition("channels: [email]")
        text = head + "channels: [letter, email]" + last
    policy.write_text(text, encoding="utf-8")
    commands.commit_all(root, "books")
    return made


def letter_books(root: Path, letters: int, *, steps: str = "every step") -> Generated:
    """Books whose night at AS_OF sends about `letters` letters (about 0.77 letter per client with these sizes)
    when every step sends one; with letters at the last step only, the same books send about a quarter as many."""
    clients = max(2, round(letters * 1.3))
    return committed_books(root, clients, clients * 11 // 2, seed=2, letters=steps)


def count_letters(root: Path) -> int:
    """The letters the night drafted: one preview each (`send` adds the final `<step>.pdf` beside it)."""
    return sum(1 for _ in (root / "outbox" / AS_OF.isoformat()).rglob("*.preview.pdf"))


@dataclass(frozen=True)
class LetterRound:
    """One round: a night's run and send in a fresh clone, and the plain loop, one after the other."""

    letters: int
    run: Timed
    send: Timed
    plain_wall: float
    plain_cpu: float

    def ms(self, seconds: float) -> float:
        return 1000 * seconds / self.letters

    @property
    def together(self) -> float:
        return self.ms(self.run.wall + self.send.wall)

    @property
    def ratio(self) -> float:
        return self.together / (1000 * self.plain_wall)


def night_and_send(source: Path, clone: Path, smtp: dict[str, str], *args: str) -> tuple[int, Timed, Timed]:
    root = commands.fresh_clone(source, clone)
    run = commands.relance(root, "run", "--as-of", AS_OF.isoformat(), "--commit", *args)
    # The letters are made on the day of sending: the night's own day, inside the rate table.
    send = commands.relance(root, "send", "--as-of", AS_OF.isoformat(), extra=smtp)
    return count_letters(root), run, send


def reference_pages(source: Path, night: Path, count: int) -> list[str]:
    """The plain loop's letters: those of the first `count` letters of the night rendered in `night` (a clone
    of `source` where the night ran), with their invoice tables."""
    planned = plan_repository(source, AS_OF)
    assert planned.plan is not None and planned.books is not None, [str(p) for p in planned.problems]
    renderer = Renderer(source, planned.books)
    pages: list[str] = []
    for action in planned.plan.actions:
        if "letter" not in action.step.channels:
            continue
        drafts, _ = renderer.drafts(action, AS_OF)
        letter = next(draft for draft in drafts if draft.channel == "letter")
        pdf = night / "outbox" / AS_OF.isoformat() / action.client.id / f"{action.step.id}.pdf"
        pages.append(reference.comparable_page(pdf, letter.html or ""))
        if len(pages) == count:
            break
    return pages


def letter_rounds(books: Generated, scratch: Path, rounds: int, plain: int) -> tuple[list[LetterRound], int]:
    rounds_done: list[LetterRound] = []
    pages: list[str] = []
    with commands.smtp_sink() as smtp:
        for index in range(rounds):
            clone = scratch / f"night-{index}"
            letters, run, send = night_and_send(books.root, clone, smtp)
            pages = pages or reference_pages(books.root, clone, plain)
            shutil.rmtree(clone)
            wall, cpu = reference.plain_loop(pages)
            rounds_done.append(LetterRound(letters, run, send, wall, cpu))
    return rounds_done, len(pages)


def steady_nights(source: Path, scratch: Path, rounds: int) -> tuple[Timed, list[Timed], list[Timed]]:
    """A first run drafts what is due and is committed; then nights in fresh clones find nothing new: without a
    cache (it writes one, as the workflow's actions/cache then saves it) and with that cache restored."""
    first = commands.relance(source, "run", "--as-of", AS_OF.isoformat(), "--commit")
    saved = scratch / "saved-cache"
    shutil.rmtree(source / ".git" / CACHE_FOLDER, ignore_errors=True)
    cold: list[Timed] = []
    warm: list[Timed] = []
    for index in range(rounds):
        clone = commands.fresh_clone(source, scratch / f"cold-{index}")
        cold.append(commands.relance(clone, "run", "--as-of", AS_OF.isoformat()))
        if not saved.exists():
            shutil.copytree(clone / ".git" / CACHE_FOLDER, saved)
        shutil.rmtree(clone)
        clone = commands.fresh_clone(source, scratch / f"warm-{index}")
        shutil.copytree(saved, clone / ".git" / CACHE_FOLDER)
        warm.append(commands.relance(clone, "run", "--as-of", AS_OF.isoformat()))
        shutil.rmtree(clone)
    for night in cold + warm:
        assert "nothing to draft" in night.output, night.output
    return first, cold, warm


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def spread(values: list[float]) -> str:
    return f"{min(values):.3g}-{max(values):.3g}" if len(values) > 1 else f"{values[0]:.3g}"


def report(args: argparse.Namespace) -> list[str]:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="relance-bench-") as folder:
        base = Path(folder)
        # The small night: books of the large night's size, with letters at fewer steps, so that the memory
        # compared is that of the number of letters, not of the size of the books.
        small_books = letter_books(base / "small", args.letters, steps="last step")
        smalls: list[Timed] = []
        for index in range(args.rounds):
            small_root = commands.fresh_clone(small_books.root, base / f"small-{index}")
            smalls.append(commands.relance(small_root, "run", "--as-of", AS_OF.isoformat(), "--commit"))
            small_letters = count_letters(small_root)
            shutil.rmtree(small_root)
        one_books = letter_books(base / "one", args.one)
        one_root = commands.fresh_clone(one_books.root, base / "one-clone")
        one_process = commands.relance(one_root, "run", "--as-of", AS_OF.isoformat(), "--jobs", "1")
        one_letters = count_letters(one_root)
        large_books = letter_books(base / "large", args.letters)
        letters, plain_count = letter_rounds(large_books, base, args.rounds, args.plain)
        stages = render_bench.stage_costs(large_books.root, AS_OF, args.plain)

        big = committed_books(base / "big", args.invoices // 20, args.invoices, seed=1)
        plan = plan_bench.measure(big, args.rounds)
        first, cold, warm = steady_nights(big.root, base, args.rounds)
    load_after = os.getloadavg()

    # Each side at its best round (the one least disturbed by other work), then the ratio of the two.
    best = min(letters, key=lambda r: r.together)
    plain_ms = 1000 * min(r.plain_wall for r in letters)
    ratio = best.together / plain_ms
    cpu_ratio = min(r.ms(r.run.cpu + r.send.cpu) for r in letters) / (1000 * min(r.plain_cpu for r in letters))
    # Memory: the median round of each night (a round's peak moves by a few MiB with what else the allocator kept).
    small_mib = statistics.median(t.peak_mib for t in smalls)
    large_mib = statistics.median(r.run.peak_mib for r in letters)
    growth = large_mib / small_mib - 1
    cold_best, warm_best = min(t.wall for t in cold), min(t.wall for t in warm)
    cores = available_cores()
    w = 46
    lines = [
        f"relance performance report: {cores} cores, Python {platform.python_version()}, "
        f"{_weasyprint_version()}, as of {AS_OF}; load average {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after",
        "",
        f"{'figure':<{w}} {'relance':<24} {'reference':<26} {'ratio':>6}  {'target':<14} verdict",
        f"{'(1) letter + email, run + send (auto jobs)':<{w}} {best.together:>7.1f} ms/letter{'':<6} "
        f"{'plain loop ' + format(plain_ms, '.1f') + ' ms/letter':<26} {ratio:>6.3f}  "
        f"{'<= 0.25 (0.12)':<14} {verdict(ratio <= LETTER_RATIO_TARGET)}",
        f"{'    run --commit alone':<{w}} {best.ms(best.run.wall):>7.1f} ms/letter{'':<6} {'':<26} "
        f"{best.ms(best.run.wall) / plain_ms:>6.3f}",
        f"{'    send alone':<{w}} {best.ms(best.send.wall):>7.1f} ms/letter{'':<6} {'':<26} "
        f"{best.ms(best.send.wall) / plain_ms:>6.3f}",
        f"{'    CPU time: run + send / plain loop':<{w}} {'':<24} {'':<26} {cpu_ratio:>6.3f}  "
        f"{'(/' + str(cores) + ' cores: ' + format(cpu_ratio / cores, '.3f') + ')':<14}",
        f"{'    run, one process (--jobs 1)':<{w}} {1000 * one_process.wall / one_letters:>7.1f} ms/letter{'':<6} "
        f"{'':<26} {1000 * one_process.wall / one_letters / plain_ms:>6.3f}",
        f"{'(2) validate + plan, ' + format(plan.made.invoices, ',') + ' invoices, fresh clone':<{w}} "
        f"{plan.nightly.cpu:>7.2f} s CPU{'':<12} {'2 bare reads ' + format(plan.bare_reads.cpu, '.2f') + ' s CPU':<26} "
        f"{plan.ratio:>6.2f}  {'<= 2.0 (1.5)':<14} {verdict(plan.ratio <= plan_bench.TARGET_RATIO)}",
        f"{'(3) peak memory, ' + str(small_letters) + ' -> ' + str(best.letters) + ' letters':<{w}} "
        f"{small_mib:>5.0f} -> {large_mib:.0f} MiB{'':<9} {'':<26} {growth:>+6.1%}  "
        f"{'within 10 %':<14} {verdict(growth <= MEMORY_GROWTH_LIMIT)}",
        f"{'(4) steady night, fresh clone, cache restored':<{w}} {warm_best:>7.2f} s{'':<15} {'':<26} {'':>6}  "
        f"{'< 1 s':<14} {verdict(warm_best < STEADY_CACHED_SECONDS)}",
        f"{'    same, without the cache':<{w}} {cold_best:>7.2f} s{'':<15} {'':<26} {'':>6}  "
        f"{'< 3 s':<14} {verdict(cold_best < STEADY_UNCACHED_SECONDS)}",
        "",
        "details:",
        f"  (1) {best.letters} letters, each with its email, {len(letters)} rounds; ratio run + send / plain "
        f"by round: "
        + ", ".join(f"{r.ratio:.3f}" for r in letters)
        + f"; run {spread([r.run.wall for r in letters])} s wall, send {spread([r.send.wall for r in letters])} s; "
        f"CPU per letter: run {best.ms(best.run.cpu):.0f} ms, send {best.ms(best.send.cpu):.0f} ms, "
        f"plain loop {1000 * best.plain_cpu:.0f} ms ({plain_count} letters, wall by round "
        + ", ".join(f"{1000 * r.plain_wall:.0f}" for r in letters)
        + " ms)",
        "  (1) one letter at each stage, one process, best of rounds: "
        + ", ".join(f"{name} {ms:.1f} ms" for name, ms in stages.items()),
        f"  (2) {plan.files} YAML files, {plan.made.journal_lines} journal lines, {plan.documents} documents planned;"
        f" ratio by round {', '.join(f'{c.cpu / b.cpu:.2f}' for c, b in plan.commands)}; wall "
        f"{plan.nightly.wall:.2f} s against {plan.bare_reads.wall:.2f} s; in one process "
        f"{plan.in_process_ratio:.2f} × one bare read, CPU by stage: "
        + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in plan.stages.items()),
        "  (3) largest process of the run, by round: "
        + ", ".join(f"{t.peak_mib:.0f}" for t in smalls)
        + f" MiB for {small_letters} letters, "
        + ", ".join(f"{r.run.peak_mib:.0f}" for r in letters)
        + f" MiB for {best.letters} letters (auto jobs; medians compared)",
        f"  (4) the first run drafted the due documents in {first.wall:.1f} s; then fresh clones with the cache: "
        + ", ".join(f"{t.wall:.2f}" for t in warm)
        + " s; without: "
        + ", ".join(f"{t.wall:.2f}" for t in cold)
        + f" s (median {statistics.median(t.wall for t in cold):.2f} s)",
    ]
    return lines


def _weasyprint_version() -> str:
    from importlib.metadata import version

    return f"WeasyPrint {version('weasyprint')}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks run", description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=400, help="letters of the large night")
    parser.add_argument("--one", type=int, default=100, help="letters of the night in one process")
    parser.add_argument("--plain", type=int, default=30, help="letters of the plain WeasyPrint loop")
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    lines = report(args)
    print("\n".join(lines))
    OUT.mkdir(exist_ok=True)
    (OUT / "report.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
