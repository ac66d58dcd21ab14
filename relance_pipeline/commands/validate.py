"""`relance validate`: the books, their cross-file checks and the templates, every problem in one pass."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from relance_pipeline.books.cache import read_books_cached, read_journal_cached
from relance_pipeline.books.checks import cross_checks
from relance_pipeline.books.read import Loaded, mapping_problems
from relance_pipeline.figures import count
from relance_pipeline.model import Books, Problem, in_file_order
from relance_pipeline.render.samples import missing_templates
from relance_pipeline.ship.journal_history import removed_lines


def validate(root: Path, today: date) -> list[Problem]:
    """Every problem of the repository, errors and warnings, in file order."""
    return check_books(root, today)[0]


def check_books(root: Path, today: date) -> tuple[list[Problem], Loaded]:
    """Every problem of the repository in file order, and what was read (for the summary of valid books).

    The books are read through the cache: the same files give the same problems, and the `run` that follows in
    the nightly job finds them parsed."""
    loaded = read_books_cached(root)
    problems = loaded.problems + cross_checks(loaded, today, root) + missing_templates(root, loaded)
    problems += read_journal_cached(root)[1]  # a line send would refuse (a file outside outbox/) shows on the PR
    problems += mapping_problems(root)
    problems += removed_lines(root)  # a revert or a hand edit that took journal lines away
    if loaded.books is not None and not any(problem.severity == "error" for problem in problems):
        # The templates are rendered once the books hold together: a wrong policy would only echo through them.
        from relance_pipeline.render.samples import lint_templates

        problems += lint_templates(root, loaded.books, today)
        # The words a reviewer edited, checked as send will check them: the pull request shows what it breaks.
        from relance_pipeline.render.review import reviewed_problems

        problems += reviewed_problems(root, loaded.books, read_journal_cached(root)[0])
    return in_file_order(problems), loaded


def summary(books: Books) -> str:
    """The one line `relance validate` prints when the books hold no error."""

    return (
        f"valid: {count(len(books.invoices), 'invoice')}, "
        f"{count(len(books.clients), 'client')}, "
        f"{count(len(books.policies), 'policy', 'policies')}; rates to {books.rates.last}"
    )
