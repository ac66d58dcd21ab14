"""`relance import bank FILE...`: camt.053/054 and OFX statements → payments matched to invoices.

Stages: read every statement (imports/camt, imports/ofx), refuse the import on any bad file, a statement
of another account than relance.yaml's IBAN or a credit in another currency; match the lines
(imports/matching); add each payment to its invoice file as text with how it was matched
(outbox/invoice_text), check each file as `validate` would, write them all or none (outbox/books_files).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from relance_pipeline.books.builders import invoice as invoice_record
from relance_pipeline.books.load import parse_document
from relance_pipeline.books.read import read_books
from relance_pipeline.books.schema import schema_problems
from relance_pipeline.commands.importing import Imported, load_mapping, locked, read_input, shown_path, write_checked
from relance_pipeline.imports.camt import is_camt, read_camt
from relance_pipeline.imports.csv_export import read_bank_csv
from relance_pipeline.imports.csv_mapping import ColumnMapping
from relance_pipeline.imports.imported import Statement
from relance_pipeline.imports.matching import Applied, Matching, match_lines
from relance_pipeline.imports.ofx import is_ofx, read_ofx
from relance_pipeline.model import Invoice, Payment, Problem
from relance_pipeline.outbox.invoice_text import add_payment

MAX_STATEMENT_BYTES = 20 * 1024 * 1024


@dataclass
class BankReport(Imported):
    matching: Matching = field(default_factory=Matching)
    written: list[str] = field(default_factory=list)


def import_bank(
    root: Path, files: list[Path], today: date, *, dry_run: bool = False, mapping: str | None = None
) -> BankReport:
    return locked(root, lambda: _import(root, files, today, dry_run, mapping), BankReport)


def _import(root: Path, files: list[Path], today: date, dry_run: bool, mapping_name: str | None) -> BankReport:
    report = BankReport(dry_run=dry_run)
    mapping = load_mapping(root, mapping_name, "bank") if mapping_name else None
    if isinstance(mapping, list):
        report.problems += mapping
        return report
    loaded = read_books(root)
    if loaded.settings is None:
        report.problems += loaded.errors or [Problem("relance.yaml", None, "cannot be read", code="file.unreadable")]
        return report
    iban = "".join(loaded.settings.creditor.iban.split()).upper()
    statements: list[Statement] = []
    for file in files:
        found = read_statement(root, file, mapping)
        if isinstance(found, Problem):
            report.problems.append(found)
            continue
        report.problems += _foreign(found, iban)
        statements.append(found)
    if report.exit_code:
        return report
    report.matching = match_lines([line for s in statements for line in s.lines], loaded.invoices, loaded.clients)
    new, before, problems = _edits(root, loaded.invoices, report.matching.applied)
    report.problems += problems
    if report.exit_code or dry_run or not new:
        return report
    broken = write_checked(root, new, before, today)
    if broken:
        report.problems += broken
        return report
    report.written = sorted(new)
    return report


def read_statement(root: Path, file: Path, mapping: ColumnMapping | None = None) -> Statement | Problem:
    name = shown_path(root, file)
    data = read_input(name, file, MAX_STATEMENT_BYTES)
    if isinstance(data, Problem):
        return data
    if is_ofx(data):
        return read_ofx(name, data)
    if is_camt(data):
        return read_camt(name, data)
    if mapping is not None:
        return read_bank_csv(name, data, mapping)
    return Problem(
        name,
        None,
        "not a statement relance reads (camt.053, camt.054, OFX; a CSV export with --mapping)",
        code="import.format",
    )


def _foreign(statement: Statement, iban: str) -> list[Problem]:
    """A statement of another account, or a credit in another currency, would put someone else's money (or
    an amount in the wrong unit) on the books: the whole import stops."""
    problems: list[Problem] = []
    ibans = [a for a in statement.accounts if a[:2].isalpha() and a[2:4].isdigit()]
    if ibans and iban not in {"".join(a.split()).upper() for a in ibans}:
        problems.append(
            Problem(
                statement.source, None, f"statement of account {ibans[0]}, not relance.yaml's IBAN", code="import.iban"
            )
        )
    for line in statement.lines:
        if line.credit and line.currency not in ("EUR", ""):
            problems.append(
                Problem(
                    line.source,
                    line.line,
                    f"a credit of {line.amount} {line.currency}: EUR only",
                    code="import.currency",
                )
            )
    return problems


def _edits(
    root: Path, invoices: tuple[Invoice, ...], applied: list[Applied]
) -> tuple[dict[str, bytes], dict[str, bytes | None], list[Problem]]:
    by_number = {i.number: i for i in invoices}
    per_file: dict[str, list[Applied]] = defaultdict(list)
    for item in applied:
        per_file[by_number[item.number].source].append(item)
    new: dict[str, bytes] = {}
    before: dict[str, bytes | None] = {}
    problems: list[Problem] = []
    for path, items in sorted(per_file.items()):
        raw = (root / path).read_bytes()
        before[path] = raw
        text: str | None = raw.decode("utf-8-sig")
        for item in items:
            label = f"{item.line.debtor} {item.line.remittance}".strip()
            comment = f"relance import bank: {item.how}; {label[:120]}"
            text = add_payment(text, item.line.booked, item.amount, item.line.reference, comment) if text else None
        if text is None:
            problems.append(
                Problem(
                    path, None, "its payments list cannot be extended automatically; add by hand", code="edit.unsafe"
                )
            )
            continue
        content = (b"\xef\xbb\xbf" if raw.startswith(b"\xef\xbb\xbf") else b"") + text.encode("utf-8")
        problems += _check(path, content, by_number[items[0].number], items)
        new[path] = content
    return new, before, problems


def _check(path: str, content: bytes, invoice: Invoice, items: list[Applied]) -> list[Problem]:
    document = parse_document(path, content)
    if isinstance(document, Problem):
        return [document]
    errors = schema_problems(document, "invoice")
    if errors:
        return errors
    expected = (*invoice.payments, *(Payment(i.line.booked, i.amount, i.line.reference) for i in items))
    if invoice_record(document).payments != expected:
        return [
            Problem(path, None, "its payments list cannot be extended automatically; add by hand", code="edit.unsafe")
        ]
    return []
