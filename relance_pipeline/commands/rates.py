"""`relance rates` and `relance rates update`: read the files, call the pure rate functions, say what happened.

Each command returns an `Outcome` (the lines for the user and the exit code) and prints nothing itself, so
the CLI stays a thin shell and the tests read the same lines a user sees.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from relance_pipeline import figures
from relance_pipeline.books import builders
from relance_pipeline.books.load import YamlFile, parse_document, read_document
from relance_pipeline.books.read import CONFIG_FILE, RATES_FILE
from relance_pipeline.books.schema import schema_problems
from relance_pipeline.core.rates import (
    B2B_MARGIN,
    RateUpdate,
    coverage,
    format_rate,
    in_force,
    legal_rates_source,
    plan_update,
)
from relance_pipeline.imports.ecb import DEFAULT_BASE_URL, SERIES, SourceError, fetch_series, series_url
from relance_pipeline.imports.ecb import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT
from relance_pipeline.model import LEGAL_FLOOR_FACTOR, Problem, RateTable, Semester, SemesterRates, Settings
from relance_pipeline.outbox import books_edits, rates_file
from relance_pipeline.outbox.lock import COMMAND_WAIT_SECONDS, LockBusy, repository_lock

_UNKNOWN = '"x.xx"'


@dataclass(frozen=True)
class Outcome:
    lines: list[str] = field(default_factory=list)
    """For standard output."""
    notes: list[str] = field(default_factory=list)
    """For standard error: what failed, and warnings."""
    code: int = 0


@dataclass(frozen=True)
class _Table:
    table: RateTable
    document: YamlFile
    text: str


def show(root: Path, as_of: date) -> Outcome:
    """The table's coverage, the rates in force on `as_of` for each kind of client, and what is missing."""
    found = _read_table(root)
    if isinstance(found, list):
        return Outcome([str(p) for p in found], code=1)
    table = found.table
    return Outcome([*_coverage_lines(table), *_in_force_lines(table, as_of), *_missing_lines(table, as_of)])


def update(
    root: Path, as_of: date, today: date, base_url: str | None = None, timeout: float = DEFAULT_TIMEOUT
) -> Outcome:
    """Add the semesters started by `as_of` (and by today) that the ECB series covers; report disagreements."""
    try:
        with repository_lock(root, wait_seconds=COMMAND_WAIT_SECONDS):
            outcome = _update(root, min(as_of, today), base_url, timeout)
    except LockBusy as busy:
        return Outcome(notes=[f"relance rates update: {busy}"], code=1)
    if as_of > today and outcome.code == 0:
        outcome.notes.append(f"{RATES_FILE}: semesters starting after today ({today}) are not added before they start")
    return outcome


def _update(root: Path, until: date, base_url: str | None, timeout: float) -> Outcome:
    settings = _read_settings(root)
    found = _read_table(root)
    problems = (settings if isinstance(settings, list) else []) + (found if isinstance(found, list) else [])
    if isinstance(settings, list) or isinstance(found, list):
        return Outcome([str(p) for p in problems], code=1)
    url = base_url or settings.rates_source or DEFAULT_BASE_URL
    try:
        series = fetch_series(url, timeout)
    except SourceError as error:
        where = series_url(url)
        return Outcome(notes=[f"relance rates update: cannot read {where}: {error}; {RATES_FILE} unchanged"], code=1)
    # The series knows the rate changes decided up to the day it is read: a semester that starts after
    # today would be a guess, whatever the as-of date (the caller passes the earlier of the two).
    return _apply(root, found, plan_update(found.table, series, until))


def _apply(root: Path, found: _Table, plan: RateUpdate) -> Outcome:
    lines: list[str] = []
    notes = [f"{RATES_FILE}: {s} not added: the ECB series has no rate in force on {s.start}" for s in plan.unsourced]
    if plan.added or plan.changes:
        try:
            text = rates_file.insert(found.text, plan.added, plan.changes)
            _check_edit(found.table, text, plan)
        except rates_file.EditError as error:
            notes.append(f"{RATES_FILE}: cannot be edited safely ({error}); add these lines by hand:")
            notes.extend(f"  {_row_line(a.semester, a.rates)}" for a in plan.added)
            notes.extend(f'  - {{from: {c.since}, rate: "{format_rate(c.rate)}"}}' for c in plan.changes)
            return Outcome(lines, notes, 1)
        books_edits.write_rates(root, text)
    for added in plan.added:
        lines.append(
            f"{RATES_FILE}: added {added.semester}: ecb_reference {format_rate(added.rates.ecb_reference)}, "
            f"b2b_default {format_rate(added.rates.b2b_default)} (the ECB rate in force on {added.semester.start}, "
            f"since {added.basis.since})"
        )
    lines.extend(f"{RATES_FILE}: ecb_mro: added {c.since}: {format_rate(c.rate)}" for c in plan.changes)
    table = _merged(found.table, plan)
    if not plan.added and not plan.changes and table.last is not None:
        lines.append(f"{RATES_FILE}: the ECB figures are up to date (the table ends at {table.last})")
    errors = [
        Problem(RATES_FILE, found.document.line_of(d.where), str(d), code="rate.disagreement")
        for d in plan.disagreements
    ]
    lines.extend(str(p) for p in errors)
    lines.extend(_legal_todo(table))
    return Outcome(lines, notes, 1 if errors else 0)


def _check_edit(before: RateTable, text: str, plan: RateUpdate) -> None:
    """The edited text must read back as the old table plus the new rows, before it replaces the file."""
    document = parse_document(RATES_FILE, text.encode("utf-8"))
    if isinstance(document, Problem) or schema_problems(document, "rates"):
        raise rates_file.EditError("the edited table does not read back as a valid rate table")
    after = builders.rate_table(document)
    if dict(after.semesters) != dict(_merged(before, plan).semesters) or after.ecb_mro != (
        before.ecb_mro + plan.changes if before.ecb_mro else before.ecb_mro
    ):
        raise rates_file.EditError("the edited table does not read back as the old one plus the new rows")


def _merged(table: RateTable, plan: RateUpdate) -> RateTable:
    semesters = {**table.semesters, **{a.semester: a.rates for a in plan.added}}
    return RateTable(table.source, dict(sorted(semesters.items())), table.ecb_mro)


def _legal_todo(table: RateTable) -> Iterator[str]:
    for semester in coverage(table).without_legal:
        yield f"{RATES_FILE}: {semester} has no legal rates yet; add them from {legal_rates_source(semester)}:"
        yield f"  {_row_line(semester, table.get(semester))}"


def _coverage_lines(table: RateTable) -> Iterator[str]:
    span = coverage(table)
    if span.first is None or span.last is None:
        yield f"{RATES_FILE}: no semester yet"
        return
    count = len(table.semesters)
    history = f"; ECB rate changes recorded to {span.ecb_history_to}" if span.ecb_history_to else ""
    yield f"{RATES_FILE}: {span.first} to {span.last} ({figures.count(count, 'semester')}){history}"


def _in_force_lines(table: RateTable, as_of: date) -> Iterator[str]:
    rates = in_force(table, as_of)
    if rates.row is None:
        yield f"Rates in force on {as_of} ({rates.semester}): none, the table has no row for {rates.semester}"
        return
    row = rates.row
    floor = rates.contractual_floor
    entries = (
        (
            "business client, no contractual rate (B2B default)",
            _percent(row.b2b_default),
            f"ECB reference {_percent(row.ecb_reference)} + {B2B_MARGIN} points",
        ),
        (
            "business client, contractual rate at least",
            _percent(floor),
            f"{LEGAL_FLOOR_FACTOR} × legal_other (C. com. L441-10)",
        ),
        ("consumer client, legal interest", _percent(row.legal_other), "legal_other, from the mise en demeure"),
        ("legal rate, creditor acting for professional needs", _percent(row.legal_other), "legal_other"),
        ("legal rate, creditor an individual (non-professional)", _percent(row.legal_individual), "legal_individual"),
    )
    width = max(len(label) for label, _, _ in entries)
    yield f"Rates in force on {as_of} ({rates.semester}):"
    for label, value, why in entries:
        yield f"  {label:<{width}}  {value:>9}  {why}"


def _missing_lines(table: RateTable, as_of: date) -> Iterator[str]:
    span = coverage(table)
    wanted = Semester.of(as_of)
    first = span.first or wanted
    absent = [s for s in first.through(max(wanted, span.last or wanted)) if s not in table.semesters]
    if not absent and not span.without_legal:
        yield f"Missing: nothing up to {max(wanted, span.last or wanted)}"
        return
    yield "Missing:"
    for semester in absent:
        yield (
            f"  {semester}: the whole row. The ECB figures: `relance rates update` (ECB Data Portal, series "
            f"{SERIES}); the legal rates: {legal_rates_source(semester)}"
        )
    for semester in span.without_legal:
        yield f"  {semester}: the legal rates, from {legal_rates_source(semester)}; fill in:"
        yield f"    {_row_line(semester, table.get(semester))}"


def _row_line(semester: Semester, row: SemesterRates | None) -> str:
    """The row as the table writes it, with x.xx where a figure is still to be filled in."""

    def quoted(rate: Decimal | None) -> str:
        return f'"{format_rate(rate)}"' if rate is not None else _UNKNOWN

    values = (row.ecb_reference, row.b2b_default, row.legal_individual, row.legal_other) if row else (None,) * 4
    names = ("ecb_reference", "b2b_default", "legal_individual", "legal_other")
    return f"{semester}: {{{', '.join(f'{n}: {quoted(v)}' for n, v in zip(names, values, strict=True))}}}"


def _percent(rate: Decimal | None) -> str:
    return f"{format_rate(rate)} %" if rate is not None else "missing"


def _read_table(root: Path) -> _Table | list[Problem]:
    file = root / RATES_FILE
    try:
        raw = file.read_bytes()
    except OSError as error:
        reason = "is missing" if isinstance(error, FileNotFoundError) else f"cannot be read ({error.strerror})"
        return [
            Problem(RATES_FILE, None, f"{reason}: the late-payment rates per semester live there", code="file.missing")
        ]
    document = parse_document(RATES_FILE, raw)
    if isinstance(document, Problem):
        return [document]
    if not isinstance(document.data, dict):
        return [Problem(RATES_FILE, 1, "should hold a mapping of keys (key: value lines)", code="yaml.not_mapping")]
    problems = schema_problems(document, "rates")
    if problems:
        return problems
    return _Table(builders.rate_table(document), document, raw.decode("utf-8"))


def _read_settings(root: Path) -> Settings | list[Problem]:
    file = root / CONFIG_FILE
    if not file.is_file():
        return [Problem(CONFIG_FILE, None, "is missing: every dunning repository starts with it", code="file.missing")]
    document = read_document(root, file)
    if isinstance(document, Problem):
        return [document]
    if not isinstance(document.data, dict):
        return [Problem(CONFIG_FILE, 1, "should hold a mapping of keys (key: value lines)", code="yaml.not_mapping")]
    return schema_problems(document, "config") or builders.settings(document)
