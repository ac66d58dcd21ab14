"""What `validate` says of the words a reviewer edited: what `send` would refuse, shown on the pull request.

Only words that differ from what was drafted are read (the templates' own lint covers the others). Each is
checked as `send` checks it (finalize.approved_words: no value typed between ⟦ ⟧, every marker kept, no word
left about a channel withdrawn in review), then the document made from it on the drafting day goes through
the legal lint: a mandatory mention deleted, a forbidden phrase added, each is an error at the words file.
The drafting day is used, not today: validate judges the edit, and `send` judges the day.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from relance_pipeline.core.pending import OpenDraft, pending
from relance_pipeline.core.refresh import action_on
from relance_pipeline.model import Action, Books, Channel, JournalEntry, Problem
from relance_pipeline.render import lint, words
from relance_pipeline.render.drafts import Drafter
from relance_pipeline.render.environment import TemplateFailure
from relance_pipeline.render.finalize import NotSent, approved_words

REVIEWED: frozenset[Channel] = frozenset({"email", "letter"})


def reviewed_problems(root: Path, books: Books, entries: Sequence[JournalEntry]) -> list[Problem]:
    """The problems of every open email or letter draft whose words were edited since drafted."""
    drafts = [d for d in pending(entries) if d.entry.channel in REVIEWED]
    edited = [(d, text) for d in drafts if (text := _edited(root, d)) is not None]
    if not edited:
        return []
    drafter = Drafter(root, books, lint_only=True)
    problems: list[Problem] = []
    for draft, raw in edited:
        problems += _check(drafter, books, entries, drafts, draft, raw)
    return problems


def _edited(root: Path, draft: OpenDraft) -> bytes | None:
    path = root / draft.file
    if not path.resolve().is_relative_to(root.resolve()) or not path.is_file():
        return None
    raw = path.read_bytes()
    return None if hashlib.sha256(raw).hexdigest() == draft.entry.sha256 else raw


def _check(
    drafter: Drafter,
    books: Books,
    entries: Sequence[JournalEntry],
    drafts: Sequence[OpenDraft],
    draft: OpenDraft,
    raw: bytes,
) -> list[Problem]:
    file, day = draft.file, draft.entry.date
    try:
        reviewed = raw.decode("utf-8")
    except UnicodeDecodeError:
        return [Problem(file, None, "is not UTF-8 text: send would refuse it", code="review.not_text")]
    action = action_on(books, entries, draft.entry, day)
    if isinstance(action, Problem):
        return [action._replace(severity="warning")]
    channels = _kept_channels(drafter.root, action, draft, drafts)
    try:
        approved = approved_words(drafter, draft.entry, reviewed, action, action, channels, day)
        if isinstance(approved, NotSent):
            return [_refusal(file, approved)]
        document = drafter.final(action, draft.entry.channel, day, approved, channels)
    except TemplateFailure as failure:
        return [failure.problem]
    facts = lint.Facts.of(action, draft.entry.channel)
    # A forbidden phrase is found at its line of the words file; a missing mention has no line.
    return lint.lint(document, facts, file, lambda phrase: (file, words.lines_with(reviewed, phrase)))


def _kept_channels(root: Path, action: Action, draft: OpenDraft, drafts: Sequence[OpenDraft]) -> tuple[Channel, ...]:
    """The step's channels whose drafts are still there: a words file deleted in review withdraws its channel."""
    folder = PurePosixPath(draft.file).parent
    removed = {
        d.entry.channel
        for d in drafts
        if PurePosixPath(d.file).parent == folder and d.entry.step == draft.entry.step and not (root / d.file).is_file()
    }
    return tuple(c for c in action.step.channels if c not in removed)


def _refusal(file: str, refused: NotSent) -> Problem:
    if refused.withdraw:
        message = f"{refused.message}: send will withdraw it, to be drafted again"
        return Problem(file, refused.line, message, code="review.withdrawn")
    return Problem(file, refused.line, f"{refused.message}: send would refuse it", code="review.words")
