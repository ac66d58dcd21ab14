"""What rendering costs, stage by stage: milliseconds per letter for its words (templates and the legal lint),
its PDF (PDF/A-3b), its PNG preview and its email, and for `validate`'s template lint.

One `Renderer` for the whole run, as a worker of `relance run` uses it, over the first letters of a night of
synthetic books (`benchmarks.run_bench.letter_books`: each letter with its email). Best of a few rounds.

    python -m benchmarks render [--letters 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from relance_pipeline.commands.plan import plan_repository
from relance_pipeline.model import Action
from relance_pipeline.render import mail, qr
from relance_pipeline.render.drafts import Draft
from relance_pipeline.render.renderer import Renderer


def stage_costs(root: Path, as_of: date, count: int, rounds: int = 3) -> dict[str, float]:
    """Milliseconds per letter of each stage, on the first `count` letters of the night at `as_of`."""
    from relance_pipeline.render.preview import first_page_png

    planned = plan_repository(root, as_of)
    assert planned.plan is not None and planned.books is not None, [str(p) for p in planned.problems]
    books = planned.books
    actions = [action for action in planned.plan.actions if "letter" in action.step.channels][:count]
    renderer = Renderer(root, books)
    printer = renderer.printer()
    drafted: list[tuple[Action, list[Draft]]] = [(a, renderer.drafts(a, as_of)[0]) for a in actions]
    letters = [next(d for d in drafts if d.channel == "letter") for _, drafts in drafted]
    pdfs = [printer.pdf(letter.html or "", letter.template) for letter in letters]

    def emails() -> None:
        for (action, drafts), pdf in zip(drafted, pdfs, strict=True):
            for draft in drafts:
                if draft.channel == "email":
                    attachment = mail.Attachment(f"{action.step.id}.pdf", pdf)
                    mail.build(draft, action.client, books.settings, as_of, [attachment])

    def letter_pdfs() -> None:
        qr._png.cache_clear()  # each letter's QR code is encoded as it is printed, as in a night: none is kept
        for letter in letters:
            printer.pdf(letter.html or "", letter.template)

    stages: dict[str, Callable[[], object]] = {
        "words (templates + lint)": lambda: [renderer.drafts(action, as_of) for action in actions],
        "letter PDF (QR code included)": letter_pdfs,
        "PNG preview": lambda: [first_page_png(pdf) for pdf in pdfs],
        "email": emails,
    }
    return {name: 1000 * best_seconds(work, rounds) / len(actions) for name, work in stages.items()}


def best_seconds(work: Callable[[], object], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str]) -> int:
    from benchmarks.books import AS_OF
    from benchmarks.run_bench import letter_books
    from relance_pipeline.render.samples import lint_templates

    parser = argparse.ArgumentParser(prog="python -m benchmarks render")
    parser.add_argument("--letters", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        made = letter_books(Path(folder) / "books", options.letters)
        start = time.perf_counter()
        planned = plan_repository(made.root, AS_OF)
        assert planned.plan is not None and planned.books is not None
        first = next(a for a in planned.plan.actions if "letter" in a.step.channels)
        Renderer(made.root, planned.books).render(first, AS_OF)
        first_ms = 1000 * (time.perf_counter() - start)
        costs = stage_costs(made.root, AS_OF, options.letters, options.rounds)
        start = time.perf_counter()
        lint_templates(made.root, planned.books, AS_OF)
        lint_ms = 1000 * (time.perf_counter() - start)
    print(f"first letter (plan, templates, stylesheet, fonts):  {first_ms:.0f} ms")
    for name, ms in costs.items():
        print(f"{name + ':':<51} {ms:.1f} ms/letter")
    print(f"validate's template lint (standard policy):         {lint_ms:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
