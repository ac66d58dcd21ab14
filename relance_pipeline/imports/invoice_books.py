"""Imported invoices → the files to create and the credit notes to add, compared with what the books hold.

Pure: what the books hold comes in as `Known` records, the result is text. An invoice already in the books
is compared and never changed (its differences are warnings); a buyer already in the books is the same
client when its SIREN, VAT id or name matches; a new buyer becomes a client file the user completes.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from relance_pipeline import figures
from relance_pipeline.imports.imported import Buyer, ImportedInvoice
from relance_pipeline.model import Problem

CLIENTS_FOLDER = "ledger/clients"
INVOICES_FOLDER = "ledger/invoices"
DOCUMENTS_FOLDER = "documents"
DEFAULT_TERM_DAYS = 30
"""C. com. L441-10 I: without an agreed term, payment is due 30 days after the service or delivery."""
_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/._-]{0,63}$")


@dataclass(frozen=True)
class KnownClient:
    id: str
    name: str
    siren: str | None = None
    vat_id: str | None = None


@dataclass(frozen=True)
class KnownInvoice:
    path: str
    number: str
    client: str | None
    issued: str | None
    due: str | None
    total: Decimal | None
    credit_notes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CreditNoteEdit:
    path: str
    number: str
    day: date
    amount: Decimal


@dataclass
class InvoiceChanges:
    created: dict[str, bytes] = field(default_factory=dict)
    credit_notes: list[CreditNoteEdit] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    said: list[str] = field(default_factory=list)
    """What the import did or found, one line each, for the user."""


def plan_invoice_import(
    imported: Iterable[ImportedInvoice],
    clients: Iterable[KnownClient],
    invoices: Mapping[str, KnownInvoice],
    existing_files: frozenset[str],
) -> InvoiceChanges:
    changes = InvoiceChanges()
    roster = _Roster(list(clients), existing_files)
    documents = _unique(imported, changes)
    new_numbers: dict[str, tuple[str, ImportedInvoice, str]] = {}
    for doc in (d for d in documents if d.kind == "invoice"):
        _plan_invoice(doc, roster, invoices, existing_files, changes, new_numbers)
    for doc in (d for d in documents if d.kind == "credit_note"):
        _plan_credit_note(doc, invoices, changes, new_numbers)
    for path, invoice, text in new_numbers.values():
        changes.created[path] = text.encode("utf-8")
        changes.said.append(f"created {path} ({invoice.number}, {figures.amount(invoice.total)} {invoice.currency})")
    for path, text in roster.created.items():
        changes.created[path] = text.encode("utf-8")
        missing = roster.missing[path]
        changes.said.append(f"created {path}" + (f": complete it (the invoice gives no {missing})" if missing else ""))
    return changes


def _unique(imported: Iterable[ImportedInvoice], changes: InvoiceChanges) -> list[ImportedInvoice]:
    """The same document given twice (a PDF and its XML) counts once; two different ones with one number: an error."""
    seen: dict[tuple[str, str], ImportedInvoice] = {}
    for doc in imported:
        key = (doc.kind, doc.number)
        first = seen.get(key)
        if first is None:
            seen[key] = doc
        elif _facts(first) != _facts(doc):
            changes.problems.append(
                Problem(
                    doc.source,
                    doc.line,
                    f"{doc.number} is also in {first.source}, differently",
                    code="number.duplicate",
                )
            )
    return sorted(seen.values(), key=lambda d: (d.issued, d.number))


def _facts(doc: ImportedInvoice) -> tuple[object, ...]:
    return (doc.issued, doc.due, doc.total, doc.amount_due, doc.currency, doc.buyer.name, doc.refers_to)


def _plan_invoice(
    doc: ImportedInvoice,
    roster: _Roster,
    invoices: Mapping[str, KnownInvoice],
    existing_files: frozenset[str],
    changes: InvoiceChanges,
    new_numbers: dict[str, tuple[str, ImportedInvoice, str]],
) -> None:
    problem = _unfit(doc)
    if problem is not None:
        changes.problems.append(problem)
        return
    client = roster.client_for(doc.buyer, doc.source)
    known = invoices.get(doc.number)
    if known is not None:
        differences = _differences(doc, known, client)
        if differences:
            for difference in differences:
                changes.problems.append(Problem(known.path, None, difference, "warning", code="import.differs"))
            changes.said.append(f"kept {known.path} as written: it differs from {doc.source} (see the warnings)")
        else:
            changes.said.append(f"unchanged {known.path}: {doc.number} is already in the books")
        return
    if doc.amount_due < doc.total and doc.paid_on is None:
        # The export says how much was paid, not when: penalties run to the day of payment, and a wrong date
        # (or none) would misstate them. Such an invoice waits for its payments from the bank statements.
        settled = "paid" if doc.amount_due == 0 else f"{figures.amount(doc.total - doc.amount_due)} paid"
        changes.problems.append(Problem(doc.source, doc.line, f"{doc.number} is {settled} on a date the file does not "
                                        "give: not imported (import the bank statement, or map a paid_date column)",
                                        "warning", code="import.settled_undated"))  # fmt: skip
        return
    due = doc.due
    if due is None:
        due = doc.issued + timedelta(days=DEFAULT_TERM_DAYS)
        changes.problems.append(
            Problem(
                doc.source,
                doc.line,
                f"{doc.number} has no due date (BT-9): due set {DEFAULT_TERM_DAYS} days after "
                f"issue ({due.isoformat()}, C. com. L441-10); check it",
                "warning",
                code="import.due_assumed",
            )
        )
    safe = doc.number.replace("/", "_")
    path = f"{INVOICES_FOLDER}/{doc.issued.year}/{safe}.yaml"
    document = f"{DOCUMENTS_FOLDER}/{safe}.pdf" if doc.pdf is not None else None
    for taken in (path, document):
        if taken is not None and taken in existing_files:
            changes.problems.append(
                Problem(
                    taken,
                    None,
                    f"exists already: {doc.number} from {doc.source} not written",
                    code="import.file_exists",
                )
            )
            return
    if document is not None:
        changes.created[document] = doc.pdf or b""
    new_numbers[doc.number] = (path, doc, _invoice_text(doc, client, due, document))


def _unfit(doc: ImportedInvoice) -> Problem | None:
    if doc.currency != "EUR":
        return Problem(
            doc.source, doc.line, f"{doc.number} is in {doc.currency}: relance handles EUR only", code="import.currency"
        )
    if not _NUMBER.match(doc.number):
        return Problem(
            doc.source,
            doc.line,
            f"'{doc.number}' cannot be an invoice number (letters, digits, / . _ -)",
            code="import.number",
        )
    if doc.total <= 0:
        return Problem(
            doc.source,
            doc.line,
            f"{doc.number}: a total of {figures.amount(doc.total)} is not an amount owed",
            code="import.total",
        )
    if doc.amount_due > doc.total or doc.amount_due < 0:
        return Problem(
            doc.source,
            doc.line,
            f"{doc.number}: amount due {figures.amount(doc.amount_due)} exceeds the total",
            code="import.amount_due",
        )
    return None


def _differences(doc: ImportedInvoice, known: KnownInvoice, client: str) -> list[str]:
    found: list[str] = []
    pairs = (
        ("client", known.client, client),
        ("issued", known.issued, doc.issued.isoformat()),
        ("due", known.due, doc.due.isoformat() if doc.due else known.due),
        (
            "total",
            f"{figures.amount(known.total)}" if known.total is not None else None,
            f"{figures.amount(doc.total)}",
        ),
    )
    for name, ours, theirs in pairs:
        if ours != theirs:
            found.append(f"{name}: {ours} in the books, {theirs} in {doc.source} (the books are kept)")
    return found


def _plan_credit_note(
    doc: ImportedInvoice,
    invoices: Mapping[str, KnownInvoice],
    changes: InvoiceChanges,
    new_numbers: dict[str, tuple[str, ImportedInvoice, str]],
) -> None:
    target = doc.refers_to or ""
    if doc.currency != "EUR":
        changes.problems.append(
            Problem(doc.source, doc.line, f"{doc.number} is in {doc.currency}: EUR only", code="import.currency")
        )
    elif target in new_numbers:
        path, invoice, text = new_numbers[target]
        new_numbers[target] = (path, invoice, text + _credit_notes_block(doc))
        changes.said.append(f"credit note {doc.number} ({figures.amount(doc.total)}) added to {path}")
    elif target in invoices:
        known = invoices[target]
        if doc.number in known.credit_notes:
            changes.said.append(f"unchanged {known.path}: credit note {doc.number} is already there")
        else:
            changes.credit_notes.append(CreditNoteEdit(known.path, doc.number, doc.issued, doc.total))
            changes.said.append(f"credit note {doc.number} ({figures.amount(doc.total)}) added to {known.path}")
    else:
        changes.problems.append(
            Problem(
                doc.source,
                doc.line,
                f"credit note {doc.number} corrects {target}, which is not in the books",
                code="import.credit_note_target",
            )
        )


def _credit_notes_block(doc: ImportedInvoice) -> str:
    item = f'{{number: {_quoted(doc.number)}, date: {doc.issued.isoformat()}, amount: "{figures.amount(doc.total)}"}}'
    return f"credit_notes:\n  - {item}\n"


def _invoice_text(doc: ImportedInvoice, client: str, due: date, document: str | None) -> str:
    lines = [
        f"# imported from {_base(doc.source)} by relance import invoices",
        f"number: {_quoted(doc.number)}",
        f"client: {client}",
        f"issued: {doc.issued.isoformat()}",
        f"due: {due.isoformat()}",
        f'total: "{figures.amount(doc.total)}"',
    ]
    if document is not None:
        lines.append(f"document: {document}")
    reference = " ".join((doc.payment_reference or "").split())
    if reference and reference != doc.number:
        lines.append(f"payment_reference: {_quoted(reference[:200])}")
    prepaid = doc.total - doc.amount_due
    if prepaid > 0 and doc.paid_on is not None:
        lines += [
            "payments:",
            f'  - {{date: {doc.paid_on.isoformat()}, amount: "{figures.amount(prepaid)}", '
            f"reference: {_quoted(doc.paid_note)}}}",
        ]
    return "\n".join(lines) + "\n"


def _base(source: str) -> str:
    return source.replace("\\", "/").rsplit("/", 1)[-1].split(" (", 1)[0]


def _quoted(text: str) -> str:
    """A JSON string is a YAML double-quoted scalar: no value can change type or break the line."""
    return json.dumps(text, ensure_ascii=False)


def compact_vat(vat_id: str | None) -> str | None:
    return "".join(vat_id.split()).upper() if vat_id else None


class _Roster:
    """The clients known and the ones this import creates, so that one buyer becomes one client."""

    def __init__(self, clients: list[KnownClient], existing_files: frozenset[str]) -> None:
        self.clients = clients
        self.existing_files = existing_files
        self.created: dict[str, str] = {}
        self.missing: dict[str, str] = {}

    def client_for(self, buyer: Buyer, source: str) -> str:
        vat = compact_vat(buyer.vat_id)
        name = _comparable(buyer.name)
        for client in self.clients:
            if (buyer.siren and client.siren == buyer.siren) or (vat and compact_vat(client.vat_id) == vat):
                return client.id
        for client in self.clients:
            if _comparable(client.name) == name:
                return client.id
        return self._create(buyer, source)

    def _create(self, buyer: Buyer, source: str) -> str:
        base = slug(buyer.name)
        taken = {c.id for c in self.clients} | {
            p.rsplit("/", 1)[-1][:-5] for p in self.existing_files if p.startswith(CLIENTS_FOLDER)
        }
        client_id, count = base, 1
        while client_id in taken:
            count += 1
            client_id = f"{base[:60]}-{count}"
        path = f"{CLIENTS_FOLDER}/{client_id}.yaml"
        self.created[path], self.missing[path] = _client_text(buyer, source)
        self.clients.append(KnownClient(client_id, buyer.name, buyer.siren, compact_vat(buyer.vat_id)))
        return client_id


def _client_text(buyer: Buyer, source: str) -> tuple[str, str]:
    business = buyer.siren is not None or buyer.vat_id is not None
    foreign = len(buyer.address) > 1 and re.fullmatch(r"[A-Z]{2}", buyer.address[-1]) is not None
    lines = [
        f"# created from {_base(source)} by relance import invoices: complete what `relance validate` asks for",
        f"name: {_quoted(buyer.name)}",
    ]
    missing: list[str] = []
    if business:
        lines.append("kind: business")
    else:
        lines.append("# kind: business or consumer (the invoice does not say; it decides penalties or legal interest)")
        missing.append("kind")
    if buyer.email:
        lines.append(f"email: {_quoted(buyer.email)}")
    else:
        lines.append("# email: where the reminders go")
        missing.append("email")
    lines += ["address:", f"  - {_quoted(buyer.name)}", *(f"  - {_quoted(line)}" for line in buyer.address)]
    lines.append(f"language: {'en' if foreign else 'fr'}")
    if buyer.siren:
        lines.append(f'siren: "{buyer.siren}"')
    if buyer.vat_id:
        lines.append(f"vat_id: {_quoted(compact_vat(buyer.vat_id) or '')}")
    return "\n".join(lines) + "\n", " or ".join(missing)


def _comparable(name: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", _ascii(name).lower()).split())


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def slug(name: str) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", _ascii(name).lower()).strip("-")
    return words[:64].rstrip("-") or "client"
