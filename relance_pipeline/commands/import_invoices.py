"""`relance import invoices FILE...`: Factur-X/ZUGFeRD PDFs, CII and UBL XML, CSV exports → books files.

Stages: read each file into records (imports/), compare them with the books and compute the new files and
edits (imports/invoice_books), check every file as `validate` would, then write them all or none
(outbox/books_files). Any error anywhere means nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from relance_pipeline.books.builders import money
from relance_pipeline.books.load import YamlFile, parse_document
from relance_pipeline.books.read import Loaded, read_books
from relance_pipeline.books.schema import schema_problems
from relance_pipeline.commands.importing import Imported, load_mapping, locked, read_input, shown_path, write_checked
from relance_pipeline.imports.csv_export import read_invoice_csv
from relance_pipeline.imports.csv_mapping import ColumnMapping
from relance_pipeline.imports.en16931 import read_invoice_xml
from relance_pipeline.imports.facturx_pdf import read_facturx_pdf
from relance_pipeline.imports.imported import ImportedInvoice
from relance_pipeline.imports.invoice_books import INVOICES_FOLDER, KnownClient, KnownInvoice, plan_invoice_import
from relance_pipeline.model import Problem
from relance_pipeline.outbox.invoice_text import add_credit_note

MAX_INPUT_BYTES = 50 * 1024 * 1024


@dataclass
class ImportReport(Imported):
    said: list[str] = field(default_factory=list)


def import_invoices(
    root: Path, files: list[Path], today: date, *, dry_run: bool = False, mapping: str | None = None
) -> ImportReport:
    return locked(root, lambda: _import(root, files, today, dry_run, mapping), ImportReport)


def _import(root: Path, files: list[Path], today: date, dry_run: bool, mapping_name: str | None) -> ImportReport:
    report = ImportReport(dry_run=dry_run)
    mapping = load_mapping(root, mapping_name, "invoices") if mapping_name else None
    if isinstance(mapping, list):
        report.problems += mapping
        return report
    documents: list[ImportedInvoice] = []
    for file in files:
        found = read_invoice_file(root, file, mapping)
        if isinstance(found, Problem):
            report.problems.append(found)
        else:
            documents.extend(found)
    loaded = read_books(root)
    clients, invoices = known_books(loaded)
    existing = frozenset(
        p.relative_to(root).as_posix()
        for folder in ("ledger", "documents")
        if (root / folder).is_dir()
        for p in (root / folder).rglob("*")
        if p.is_file()
    )
    changes = plan_invoice_import(documents, clients, invoices, existing)
    report.problems += changes.problems
    new = dict(changes.created)
    before: dict[str, bytes | None] = {path: None for path in new}
    for edit in changes.credit_notes:
        original = before.setdefault(edit.path, (root / edit.path).read_bytes())
        text = add_credit_note(
            new.get(edit.path, original or b"").decode("utf-8-sig"), edit.number, edit.day, edit.amount
        )
        if text is None:
            report.problems.append(
                Problem(edit.path, None, "its credit_notes list cannot be extended automatically", code="edit.unsafe")
            )
        else:
            new[edit.path] = text.encode("utf-8")
    report.problems += _schema_problems(new)
    if report.exit_code:
        report.said = [] if not dry_run else changes.said
        return report
    report.said = [("would be " if dry_run else "") + line for line in changes.said]
    if dry_run or not new:
        return report
    broken = write_checked(root, new, before, today, lambda path: path.startswith(INVOICES_FOLDER))
    if broken:
        report.problems += broken
        report.said = []
    return report


def read_invoice_file(root: Path, file: Path, mapping: ColumnMapping | None = None) -> list[ImportedInvoice] | Problem:
    name = shown_path(root, file)
    data = read_input(name, file, MAX_INPUT_BYTES)
    if isinstance(data, Problem):
        return data
    if data.startswith(b"%PDF-"):
        found = read_facturx_pdf(name, data)
    elif data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        found = read_invoice_xml(name, data)
    elif mapping is not None:
        return read_invoice_csv(name, data, mapping)
    else:
        return Problem(
            name,
            None,
            "not a Factur-X PDF, a CII or UBL XML file, nor a CSV export given with --mapping",
            code="import.format",
        )
    return found if isinstance(found, Problem) else [found]


def known_books(loaded: Loaded) -> tuple[list[KnownClient], dict[str, KnownInvoice]]:
    """What the books hold, from every file that parsed, including those `validate` rejects (a client file the
    user has not completed yet is still that client)."""
    clients: list[KnownClient] = []
    invoices: dict[str, KnownInvoice] = {}
    for path, document in sorted(loaded.documents.items()):
        data = document.data if isinstance(document, YamlFile) and isinstance(document.data, dict) else {}
        if path.startswith("ledger/clients/"):
            clients.append(
                KnownClient(
                    path.rsplit("/", 1)[-1].removesuffix(".yaml"),
                    str(data.get("name", "")),
                    _text(data.get("siren")),
                    _text(data.get("vat_id")),
                )
            )
        elif path.startswith(f"{INVOICES_FOLDER}/") and data.get("number") is not None:
            notes = data.get("credit_notes")
            invoices[str(data["number"])] = KnownInvoice(
                path,
                str(data["number"]),
                _text(data.get("client")),
                _text(data.get("issued")),
                _text(data.get("due")),
                _amount(data.get("total")),
                frozenset(str(n.get("number")) for n in notes if isinstance(n, dict))
                if isinstance(notes, list)
                else frozenset(),
            )
    return clients, invoices


def _schema_problems(new: dict[str, bytes]) -> list[Problem]:
    problems: list[Problem] = []
    for path, content in sorted(new.items()):
        if not path.startswith(f"{INVOICES_FOLDER}/"):
            continue
        document = parse_document(path, content)
        problems += [document] if isinstance(document, Problem) else schema_problems(document, "invoice")
    return problems


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _amount(value: object) -> Decimal | None:
    try:
        return money(value) if isinstance(value, str | int | Decimal) else None
    except (ArithmeticError, ValueError):
        return None
