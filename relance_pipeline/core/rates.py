"""The rate table kept current: what it covers, what is in force on a date, and what the ECB series adds.

Pure functions over a `RateTable` and the ECB rate changes; no file, no network, no clock. The semester's
ECB reference rate is the main refinancing operations rate in force on its first day (1 January or 1 July,
C. com. L441-10 II), and the B2B default rate is that rate + 10 points. The legal rates come from a French
arrêté each semester, which no API publishes: they are only ever reported missing, never derived.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from relance_pipeline.model import EcbRate, RateTable, Semester, SemesterRates

B2B_MARGIN = Decimal(10)
"""Points added to the ECB reference rate for the B2B default penalty rate (C. com. L441-10 II)."""


def rate_in_force(changes: Sequence[EcbRate], day: date) -> EcbRate | None:
    """The last change that took effect on or before `day`, or None when the series starts later."""
    found: EcbRate | None = None
    for change in changes:
        if change.since <= day and (found is None or change.since >= found.since):
            found = change
    return found


def ecb_rates(basis: EcbRate) -> SemesterRates:
    """A semester row holding only what the ECB publishes; the legal rates are left absent."""
    return SemesterRates(ecb_reference=basis.rate, b2b_default=basis.rate + B2B_MARGIN)


def format_rate(rate: Decimal) -> str:
    """Two decimals at least, as the table writes rates ("2.15", "10.00"); more when the figure has them."""
    exponent = rate.as_tuple().exponent
    return f"{rate:.2f}" if isinstance(exponent, int) and exponent >= -2 else str(rate)


@dataclass(frozen=True)
class AddedRow:
    semester: Semester
    rates: SemesterRates
    basis: EcbRate
    """The ECB rate change in force on the semester's first day."""


@dataclass(frozen=True)
class Disagreement:
    """A figure of the table that the source contradicts; reported, never overwritten."""

    where: tuple[str | int, ...]
    """The place of the figure in the YAML document, to name its line."""
    subject: str
    table: Decimal
    source: Decimal
    day: date

    def __str__(self) -> str:
        return (
            f"{self.subject} is {format_rate(self.table)} but the ECB series gives {format_rate(self.source)} "
            f"in force on {self.day}; check the figure and correct it by hand (left unchanged)"
        )


@dataclass(frozen=True)
class RateUpdate:
    added: tuple[AddedRow, ...]
    changes: tuple[EcbRate, ...]
    """ECB rate changes later than the table's `ecb_mro` history, to append to it."""
    disagreements: tuple[Disagreement, ...]
    unsourced: tuple[Semester, ...]
    """Semesters without a row that the series does not reach back to."""


def plan_update(table: RateTable, series: Sequence[EcbRate], until: date) -> RateUpdate:
    """What the series adds to the table for the semesters started on or before `until`.

    A semester is added only when it has started by `until` (never a future one) and the series holds a
    change on or before its first day. Rows already in the table are compared, never replaced.
    """
    last = Semester.of(until)
    first = min(table.semesters) if table.semesters else last
    added: list[AddedRow] = []
    disagreements: list[Disagreement] = []
    unsourced: list[Semester] = []
    for semester in first.through(last):
        basis = rate_in_force(series, semester.start)
        row = table.get(semester)
        if basis is None:
            if row is None:
                unsourced.append(semester)
        elif row is None:
            added.append(AddedRow(semester, ecb_rates(basis), basis))
        else:
            disagreements.extend(_row_disagreements(semester, row, basis))
    disagreements.extend(_history_disagreements(table.ecb_mro, series))
    return RateUpdate(tuple(added), _new_changes(table.ecb_mro, series, until), tuple(disagreements), tuple(unsourced))


def _row_disagreements(semester: Semester, row: SemesterRates, basis: EcbRate) -> Iterator[Disagreement]:
    expected = ecb_rates(basis)
    for name, table, source in (
        ("ecb_reference", row.ecb_reference, expected.ecb_reference),
        ("b2b_default", row.b2b_default, expected.b2b_default),
    ):
        if table != source:
            yield Disagreement(("semesters", str(semester), name), f"{semester} {name}", table, source, semester.start)


def _history_disagreements(history: Sequence[EcbRate], series: Sequence[EcbRate]) -> Iterator[Disagreement]:
    for index, entry in enumerate(history):
        source = rate_in_force(series, entry.since)
        if source is not None and source.rate != entry.rate:
            yield Disagreement(
                ("ecb_mro", index, "rate"), f"ecb_mro from {entry.since}: rate", entry.rate, source.rate, entry.since
            )


def _new_changes(history: Sequence[EcbRate], series: Sequence[EcbRate], until: date) -> tuple[EcbRate, ...]:
    """The changes after the history's last entry, up to `until`; an unchanged rate is not a change."""
    if not history:
        return ()
    latest = max(history, key=lambda entry: entry.since)
    rate, changes = latest.rate, []
    for change in sorted(series, key=lambda entry: entry.since):
        if latest.since < change.since <= until and change.rate != rate:
            changes.append(change)
            rate = change.rate
    return tuple(changes)


@dataclass(frozen=True)
class Coverage:
    """What the table holds: its span, the semesters missing inside it, and the rows without legal rates."""

    first: Semester | None
    last: Semester | None
    gaps: tuple[Semester, ...]
    without_legal: tuple[Semester, ...]
    ecb_history_to: date | None


def coverage(table: RateTable) -> Coverage:
    if not table.semesters:
        return Coverage(None, None, (), (), None)
    first, last = min(table.semesters), max(table.semesters)
    return Coverage(
        first=first,
        last=last,
        gaps=tuple(s for s in first.through(last) if s not in table.semesters),
        without_legal=tuple(
            s for s, row in sorted(table.semesters.items()) if row.legal_other is None or row.legal_individual is None
        ),
        ecb_history_to=max((entry.since for entry in table.ecb_mro), default=None),
    )


@dataclass(frozen=True)
class InForce:
    """The rates that apply on one date, from the table's row for its semester (None when there is none)."""

    day: date
    semester: Semester
    row: SemesterRates | None

    @property
    def contractual_floor(self) -> Decimal | None:
        """The lowest contractual B2B penalty rate allowed (None while it is unknown)."""
        return None if self.row is None else self.row.contractual_floor


def in_force(table: RateTable, day: date) -> InForce:
    semester = Semester.of(day)
    return InForce(day, semester, table.get(semester))


def legal_rates_source(semester: Semester) -> str:
    """Where a semester's legal rates are published: the arrêté, in the Journal officiel, the month before."""
    published = f"December {semester.year - 1}" if semester.half == 1 else f"June {semester.year}"
    return (
        f"the arrêté fixing the taux de l'intérêt légal for {semester} (Journal officiel, {published}; "
        "on Légifrance, or the Banque de France's page on the taux de l'intérêt légal)"
    )
