"""`relance run`: the night's plan → documents in outbox/ → journal lines (→ one commit).

Idempotent: a step in the journal is never planned again, so a second run of the same date finds nothing
to do; a later date only adds what became due. Safe to kill: see outbox/write.py for the order of writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from relance_pipeline.books import journal
from relance_pipeline.commands.plan import plan_repository
from relance_pipeline.core.history import history
from relance_pipeline.model import Action, Books, Plan, Problem
from relance_pipeline.outbox import journal as journal_writer
from relance_pipeline.outbox import write as outbox
from relance_pipeline.outbox.lock import repository_lock
from relance_pipeline.render import pool as render_pool
from relance_pipeline.ship import git as gitops

OnRendered = Callable[[Action, int], None]
"""Told each action once rendered (and written), with the number of actions of the night."""


@dataclass(frozen=True)
class RunResult:
    plan: Plan | None
    drafted: tuple[outbox.Drafted, ...] = ()
    problems: tuple[Problem, ...] = ()
    cleaned: tuple[str, ...] = ()
    """Leftovers of a killed run that were removed before starting (orphan files, a partial journal line)."""
    commit: str | None = None
    kept: tuple[str, ...] = ()
    """Untracked files under outbox/ that look like drafts but that relance did not write: left as they are."""

    @property
    def failed(self) -> bool:
        return any(problem.severity == "error" for problem in self.problems)


def run(
    root: Path,
    as_of: date,
    *,
    commit: bool = False,
    progress: OnRendered | None = None,
    jobs: int | None = None,
) -> RunResult:
    """`jobs`: processes that render (None: one per core when there are enough letters; 1: this one)."""
    with repository_lock(root):
        cut = journal_writer.repair_tail(root)
        finished = outbox.finish_cut_action(root)
        planned = plan_repository(root, as_of, check_templates=True, cached=True)
        if planned.plan is None or planned.books is None:
            return RunResult(None, problems=planned.problems)
        recovered = outbox.remove_orphans(root, planned.journal, keep=gitops.tracked_files(root, outbox.OUTBOX_FOLDER))
        drafting = outbox.drafting_list(root)
        outbox.clear_drafting(drafting)
        committed = gitops.committed_files(root, outbox.OUTBOX_FOLDER) if commit else None
        leftovers = outbox.uncommitted(root, planned.journal, committed) if committed is not None else []
        cleaned = (
            *recovered.removed,
            *([f"{journal.JOURNAL_FILE}: partial last line"] if cut else []),
            *(f"{entry.file}: journaled, its line had been cut off" for entry in finished),
        )
        drafted, problems = _draft(root, planned.plan, planned.books, progress, jobs, drafting)
        outbox.clear_drafting(drafting)  # every file it named is journaled now
        problems = [*planned.problems, *problems]
        sha: str | None = None
        if commit:
            tasks = history(planned.journal).tasks(as_of)
            made = gitops.commit_run(root, as_of, drafted, leftovers, planned.plan.held_back, tasks)
            if isinstance(made, Problem):
                problems.append(made)
            else:
                sha = made
        return RunResult(planned.plan, tuple(drafted), tuple(problems), tuple(cleaned), sha, recovered.kept)


WRITE_BATCH = 16
"""Actions written to disk together (one flush for all their files, one journal append): a flush costs a few
milliseconds, and an action has three to four files."""


def _draft(
    root: Path, plan: Plan, books: Books, progress: OnRendered | None, jobs: int | None, drafting: Path
) -> tuple[list[outbox.Drafted], list[Problem]]:
    drafted: list[outbox.Drafted] = []
    problems: list[Problem] = []
    previews = books.settings.previews
    # Rendered in plan order whatever the number of workers: files and journal lines come out the same.
    batch: list[outbox.Rendered] = []
    done: list[Action] = []

    def write_batch() -> None:
        for written in outbox.write_actions(root, plan, batch, drafting=drafting):
            if isinstance(written, Problem):
                problems.append(written)
            else:
                drafted.append(written)
        for action in done:
            if progress is not None:
                progress(action, len(plan.actions))
        batch.clear()
        done.clear()

    for result in render_pool.rendered(root, books, plan.actions, plan.as_of, previews=previews, jobs=jobs):
        rendering = result.rendering
        problems += rendering.problems
        if rendering.ok:
            batch.append((rendering.action, rendering.documents, result.extras))
        done.append(rendering.action)
        if len(batch) >= WRITE_BATCH:
            write_batch()
    write_batch()
    return drafted, problems
