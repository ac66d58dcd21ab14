"""`relance run`: the night's plan → documents in outbox/ → journal lines (→ one commit).

Idempotent: a step in the journal is never planned again, so a second run of the same date finds nothing
to do; a later date only adds what became due. Safe to kill: see outbox.py for the order of writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from . import gitops, journal, outbox
from .lock import repository_lock
from .model import Action, Books, Plan, Problem
from .planning import plan_repository
from .preview import first_page_png
from .render.renderer import Renderer

Progress = Callable[[Action], None]


@dataclass(frozen=True)
class RunResult:
    plan: Plan | None
    drafted: tuple[outbox.Drafted, ...] = ()
    problems: tuple[Problem, ...] = ()
    cleaned: tuple[str, ...] = ()
    """Leftovers of a killed run that were removed before starting (orphan files, a partial journal line)."""
    commit: str | None = None

    @property
    def failed(self) -> bool:
        return any(problem.severity == "error" for problem in self.problems)


def run(root: Path, as_of: date, *, commit: bool = False, progress: Progress | None = None) -> RunResult:
    with repository_lock(root):
        cut = journal.repair_tail(root)
        planned = plan_repository(root, as_of, check_templates=True)
        if planned.plan is None or planned.books is None:
            return RunResult(None, problems=planned.problems)
        removed = outbox.remove_orphans(root, planned.journal, keep=gitops.tracked_files(root, outbox.OUTBOX_FOLDER))
        cleaned = (*removed, *([f"{journal.JOURNAL_FILE}: partial last line"] if cut else []))
        drafted, problems = _draft(root, planned.plan, planned.books, progress)
        problems = [*planned.problems, *problems]
        sha: str | None = None
        if commit and drafted:
            committed = gitops.commit_run(root, as_of, drafted)
            if isinstance(committed, Problem):
                problems.append(committed)
            else:
                sha = committed
        return RunResult(planned.plan, tuple(drafted), tuple(problems), tuple(cleaned), sha)


def _draft(
    root: Path, plan: Plan, books: Books, progress: Progress | None
) -> tuple[list[outbox.Drafted], list[Problem]]:
    renderer = Renderer(root, books)
    previews = books.settings.previews
    drafted: list[outbox.Drafted] = []
    problems: list[Problem] = []
    for action in plan.actions:
        rendering = renderer.render(action, plan.as_of)
        problems += rendering.problems
        if rendering.ok:
            extras = _previews(rendering.documents) if previews else []
            drafted.append(outbox.write_action(root, plan, action, rendering.documents, extras))
        if progress is not None:
            progress(action)
    return drafted, problems


def _previews(documents: tuple[outbox.Document, ...]) -> list[tuple[str, bytes]]:
    return [
        (document.filename.removesuffix(".pdf") + ".png", first_page_png(document.content))
        for document in documents
        if document.channel == "letter"
    ]
