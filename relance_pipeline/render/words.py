"""The words of a draft: the UTF-8 text a reviewer reads in the pull request and edits, one file per channel.

    Deuxième rappel : facture F-2026-003 impayée          ← the first paragraph is the subject

    Bonjour,

    … reste impayée à ce jour, ⟦97⟧ jours après son échéance du ⟦14 février 2026⟧.

    ⟦tableau des factures⟧                               ← a structured part, built from the books at send

    Je vous demande de bien vouloir régler la somme de ⟦4 940,29 €⟧ au plus tard le ⟦28 avril 2026⟧.

What stands between ⟦ and ⟧ is computed, not written: amounts, dates, rates, counts (a *slot*), or a whole
paragraph the books fill (the invoice table, the payment details: a *marker*). The values shown are those of
the drafting day; `send` puts in those of its own day. A reviewer edits the words around them, deletes a
sentence with its values, never types a value of their own between the brackets: each slot of the reviewed
words must be one of the slots drafted, in the same order, and each marker stays, alone in its paragraph.

Refreshing reviewed words is a three-way merge at the level of the slots: the drafted words (base), the
reviewed words (ours) and the words the template gives on the day of sending (theirs) differ, base to
theirs, only in the values of the slots when the document keeps its shape; each slot of the reviewed words
takes the value of the drafted slot it came from, on the day of sending. When the shape changed (an invoice
paid since, a sentence that appears past a threshold), the reviewed words cannot be refreshed: the draft is
withdrawn and drafted again.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from relance_pipeline.model import Language

OPEN = "\u27e6"
CLOSE = "\u27e7"
SLOT = re.compile(f"{OPEN}([^{OPEN}{CLOSE}\n]*){CLOSE}")
MARKERS: Mapping[str, Mapping[Language, str]] = {
    "table": {"fr": "tableau des factures", "en": "invoice table"},
    "payment": {"fr": "coordonnées de paiement", "en": "payment details"},
}
"""The structured parts a paragraph of the words stands for; their content comes from the books at send."""


def slot(value: str) -> str:
    return f"{OPEN}{value}{CLOSE}"


def marker(kind: str, language: Language) -> str:
    return slot(MARKERS[kind][language])


def marker_kinds(language: Language) -> dict[str, str]:
    """Each marker as written in the words → its kind."""
    return {marker(kind, language): kind for kind in MARKERS}


@dataclass(frozen=True)
class Words:
    subject: str
    body: str
    """Paragraphs separated by a blank line; a marker is a paragraph of its own."""

    def text(self) -> str:
        """The file's content."""
        return f"{self.subject}\n\n{self.body.strip()}\n"

    def paragraphs(self) -> list[str]:
        return [block.strip("\n") for block in re.split(r"\n\s*\n", self.body.strip()) if block.strip()]


def parse(text: str) -> Words:
    """A words file → subject and body (line ends and trailing spaces of a web editor are forgiven)."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    joined = "\n".join(lines).strip("\n")
    head, _, body = joined.partition("\n\n")
    return Words(" ".join(head.split()), body.strip("\n") + "\n")


def plain(text: str) -> str:
    """The words as the client reads them: the slots' values without their brackets."""
    return SLOT.sub(r"\1", text)


def values(text: str) -> list[str]:
    return [found.group(1) for found in SLOT.finditer(text)]


def shape(text: str) -> str:
    """The words with every slot emptied: two renderings of one template on two days have the same shape
    when nothing but the values changed."""
    return SLOT.sub(slot(""), text)


@dataclass(frozen=True)
class Unfit:
    """Why reviewed words cannot go out as they are; `line` counts in the words file."""

    line: int | None
    message: str


def check(reviewed: str, drafted: str, language: Language) -> list[Unfit]:
    """What a reviewer's edit broke: a value typed between brackets, a marker removed, repeated or joined to
    other words. An empty list: the words can be refreshed on any day the document keeps its shape."""
    problems = [Unfit(line, message) for line, message in _foreign_slots(reviewed, drafted)]
    markers = marker_kinds(language)
    drafted_markers = [slot(value) for value in values(drafted) if slot(value) in markers]
    reviewed_words = parse(reviewed)
    for shown in sorted(set(drafted_markers)):
        alone = [p for p in reviewed_words.paragraphs() if p.strip() == shown]
        anywhere = reviewed.count(shown)
        if anywhere == 0:
            removed = f"the line {shown} was removed: it stands for a part the books fill; put it back"
            problems.append(Unfit(None, removed))
        elif anywhere > 1:
            problems.append(Unfit(_line_of(reviewed, shown), f"{shown} is there {anywhere} times; keep it once"))
        elif not alone:
            alone_needed = f"{shown} must be a paragraph of its own (blank lines around it)"
            problems.append(Unfit(_line_of(reviewed, shown), alone_needed))
    return sorted(problems, key=lambda u: (u.line or 0, u.message))


def refresh(reviewed: str, drafted: str, fresh: str) -> str | Unfit:
    """The reviewed words with each value as of the day of `fresh` (the template's words on the day of
    sending); an `Unfit` when the reviewed words do not come from `drafted` or `fresh` has another shape."""
    foreign = _foreign_slots(reviewed, drafted)
    if foreign:
        line, message = foreign[0]
        return Unfit(line, message)
    if shape(drafted) != shape(fresh):
        return Unfit(None, "the document changed shape since it was drafted (its invoices or amounts changed)")
    origin = _origins(values(drafted), values(reviewed))
    today = values(fresh)
    position = iter(range(len(origin)))
    return SLOT.sub(lambda _: slot(today[origin[next(position)]]), reviewed)


def _origins(drafted: list[str], reviewed: list[str]) -> list[int]:
    """For each slot of the reviewed words, the index of the drafted slot it is (-1: none)."""
    origin = [-1] * len(reviewed)
    matcher = difflib.SequenceMatcher(None, drafted, reviewed, autojunk=False)
    for block in matcher.get_matching_blocks():
        for offset in range(block.size):
            origin[block.b + offset] = block.a + offset
    return origin


def _foreign_slots(reviewed: str, drafted: str) -> list[tuple[int | None, str]]:
    origin = _origins(values(drafted), values(reviewed))
    found = list(SLOT.finditer(reviewed))
    return [
        (
            reviewed.count("\n", 0, match.start()) + 1,
            f"{match.group(0)} is not a value relance drafted here: what stands between {OPEN} {CLOSE} is computed "
            "on the day of sending; leave it as drafted, or delete it with its sentence",
        )
        for match, source in zip(found, origin, strict=True)
        if source < 0
    ]


def _line_of(text: str, needle: str) -> int | None:
    index = text.find(needle)
    return None if index < 0 else text.count("\n", 0, index) + 1


def lines_with(text: str, needle: str) -> int | None:
    """The line of the words file where `needle` (as the lint found it, spaces made plain) first appears."""
    wanted = " ".join(needle.split()).casefold()
    for number, line in enumerate(text.splitlines(), start=1):
        if wanted and wanted in " ".join(plain(line).replace("\u00a0", " ").split()).casefold():
            return number
    return None
