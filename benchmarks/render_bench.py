"""What rendering costs: milliseconds per letter (PDF/A), per email, and for `validate`'s template lint.

One `Renderer` for the whole run, as `relance run` uses it; sample actions of the example books (a business
client with two invoices, the mise en demeure: letter + email). Best of a few rounds.

    python -m benchmarks.render_bench [--letters 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from relance_pipeline.books.read import read_books
from relance_pipeline.commands.init import init
from relance_pipeline.model import Action, Channel, Policy, Step
from relance_pipeline.render.renderer import Renderer
from relance_pipeline.render.samples import lint_templates, sample_action

AS_OF = date(2026, 6, 15)


def only(policy: Policy, step: Step, channel: Channel) -> Action:
    """The sample action with one channel (the policy's step replaced too, so the step keeps its number)."""
    single = dataclasses.replace(step, channels=(channel,))
    policy = dataclasses.replace(policy, steps=tuple(single if s == step else s for s in policy.steps))
    return sample_action(policy, single, "fr", "business", "new", 2, AS_OF)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.render_bench")
    parser.add_argument("--letters", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "books"
        init(root)
        books = read_books(root).books
        assert books is not None
        policy = books.policies["standard"]
        step = next(step for step in policy.steps if step.id == "mise-en-demeure")
        letter_only, email_only = (only(policy, step, channel) for channel in ("letter", "email"))

        start = time.perf_counter()
        renderer = Renderer(root, books)
        renderer.render(letter_only, AS_OF)
        first = time.perf_counter() - start

        def per_document(action: Action, count: int) -> float:
            best = float("inf")
            for _ in range(options.rounds):
                start = time.perf_counter()
                for _ in range(count):
                    renderer.render(action, AS_OF)
                best = min(best, (time.perf_counter() - start) / count)
            return best

        letter = per_document(letter_only, options.letters)
        email = per_document(email_only, options.letters)
        start = time.perf_counter()
        lint_templates(root, books, AS_OF)
        lint = time.perf_counter() - start
    print(f"first letter (loads templates, stylesheet, fonts): {first * 1000:.0f} ms")
    print(f"letter (PDF/A-3b, 1 page):                         {letter * 1000:.0f} ms")
    print(f"email (text + HTML, 2 invoice copies):             {email * 1000:.1f} ms")
    print(f"validate's template lint (standard policy):        {lint * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
