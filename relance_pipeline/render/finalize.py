"""Reviewed words → the email or letter that goes out on the day of sending.

- Words left as drafted: the template's words of the day of sending go out (amounts, dates, deadline and
  the invoices still owed as of that day; the channels still approved, so an email whose letter was
  withdrawn no longer mentions nor attaches it).
- Words edited in review: the drafted words are made again (same template, the drafting day) and must be
  byte-identical to what the journal recorded; the reviewed words then take the values of the day of
  sending (words.refresh). When that cannot be done safely the draft is withdrawn, to be drafted again:
  the invoices changed since, the template or the books changed so that the drafted words cannot be made
  again, or the letter was withdrawn and the email still speaks of it.
A broken edit (a value typed between ⟦ ⟧, a marker removed) is not withdrawn: it waits for a fix, as
`validate` says on the pull request.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date

from relance_pipeline.model import Action, Channel, JournalEntry
from relance_pipeline.render import words
from relance_pipeline.render.drafts import Drafter


@dataclass(frozen=True)
class NotSent:
    message: str
    line: int | None = None
    withdraw: bool = False
    """True: the draft is withdrawn (drafted again later); False: it waits for the reviewer's fix."""


def approved_words(
    drafter: Drafter,
    drafted: JournalEntry,
    reviewed: str,
    then: Action,
    now: Action,
    channels: tuple[Channel, ...],
    today: date,
) -> words.Words | NotSent:
    """The words to send today. `then` and `now`: the draft's action on its day and today; `channels`: those
    of the step still approved."""
    channel = drafted.channel
    fresh = drafter.reviewable(now, channel, today, channels)
    if _sha256(reviewed) == drafted.sha256:
        return fresh
    base = drafter.reviewable(then, channel, drafted.date, then.step.channels)
    if _sha256(base.text()) != drafted.sha256:
        return NotSent("edited in review, and the templates or the books changed since it was drafted", withdraw=True)
    broken = words.check(reviewed, base.text(), now.client.language)
    if broken:
        return NotSent(broken[0].message, broken[0].line)
    if channels != then.step.channels:
        without = drafter.reviewable(then, channel, drafted.date, channels)
        left = [s for s in _sentences(base.text()) - _sentences(without.text()) if s in _flat(reviewed)]
        if left:
            gone = ", ".join(c for c in then.step.channels if c not in channels)
            return NotSent(f"still speaks of the {gone} withdrawn in review: '{left[0]}'", withdraw=True)
        base = without
    merged = words.refresh(reviewed, base.text(), fresh.text())
    if isinstance(merged, words.Unfit):
        return NotSent(f"edited in review, and {merged.message}", merged.line, withdraw=merged.line is None)
    return words.parse(merged)


def _flat(text: str) -> str:
    return " ".join(words.plain(text).split())


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _sentences(text: str) -> set[str]:
    return {s.strip() for s in re.split(r"(?<=[.!?])\s+", _flat(text)) if s.strip()}
