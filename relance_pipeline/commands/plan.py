"""The edge around the pure plan: read the books and the journal of a repository, check them, plan.

`relance plan`, `relance report` (and `relance run`) start here. Books with errors are not planned: a typo
must not silently change who gets a letter. Templates are left to the commands that render.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from relance_pipeline.books import cache as books_cache
from relance_pipeline.books import journal
from relance_pipeline.books.checks import cross_checks
from relance_pipeline.books.read import read_books, without_cycle_collection
from relance_pipeline.core.plan import plan
from relance_pipeline.core.report import AgedBalance, aged_balance
from relance_pipeline.model import Books, JournalEntry, Plan, Problem, in_file_order


@dataclass(frozen=True)
class Planned:
    """The plan of a repository, or the problems that prevent it; warnings come along either way."""

    plan: Plan | None
    problems: tuple[Problem, ...] = ()
    books: Books | None = None
    journal: tuple[JournalEntry, ...] = field(default=())


def plan_repository(root: Path, as_of: date, *, check_templates: bool = False, cached: bool = False) -> Planned:
    """`cached`: take the books and journal from the cache when their files did not change (books_cache; the
    commands do, so that `validate` then `run` in the nightly job read the books once, and a night with nothing
    new costs little)."""
    with without_cycle_collection():
        return _plan_repository(root, as_of, check_templates, cached)


def _plan_repository(root: Path, as_of: date, check_templates: bool, cached: bool) -> Planned:
    loaded = books_cache.read_books_cached(root) if cached else read_books(root)
    problems = list(loaded.problems)
    checks = cross_checks(loaded, as_of, root) if loaded.books is not None else []
    problems += checks
    if check_templates:
        from relance_pipeline.render.samples import missing_templates  # Jinja: only for the runs that render

        problems += missing_templates(root, loaded)
    entries, bad_lines = books_cache.read_journal_cached(root) if cached else journal.read_journal(root)
    problems += bad_lines
    found = in_file_order(problems)
    if loaded.books is None or any(p.severity == "error" for p in found):
        return Planned(None, tuple(found), loaded.books, tuple(entries))
    result = plan(loaded.books, entries, as_of)
    return Planned(result, tuple(found) + result.held_back, loaded.books, tuple(entries))


@dataclass(frozen=True)
class Reported:
    report: AgedBalance | None
    problems: tuple[Problem, ...] = ()


def report_repository(root: Path, as_of: date, *, cached: bool = False) -> Reported:
    """The aged balance of a repository: the plan of the same date says what comes next for each client."""
    planned = plan_repository(root, as_of, cached=cached)
    if planned.plan is None or planned.books is None:
        return Reported(None, planned.problems)
    result = aged_balance(planned.books, planned.journal, planned.plan, as_of)
    # The plan's held-back clients are the report's too, when their open invoices need the rate.
    return Reported(result, tuple(sorted(set(planned.problems + result.held_back), key=str)))
