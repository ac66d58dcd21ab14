"""CSV exports → invoices or bank lines, through a `ColumnMapping`; every bad cell is `file:line: message`."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from relance_pipeline.imports.csv_mapping import DATE_FORMATS, REQUIRED, ColumnMapping
from relance_pipeline.imports.imported import BankLine, Buyer, ImportedInvoice, Statement, line_hash
from relance_pipeline.model import CENT, Problem

MAX_CSV_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000


class _Bad(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem


class _Rows:
    """The rows of the file as {field: cell}, each with its line number."""

    def __init__(self, name: str, data: bytes, mapping: ColumnMapping) -> None:
        self.name, self.mapping = name, mapping
        if len(data) > MAX_CSV_BYTES:
            raise _Bad(
                Problem(
                    name,
                    None,
                    f"the file is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB; not read",
                    code="file.too_large",
                )
            )
        try:
            text = data.decode(mapping.encoding)
        except UnicodeDecodeError as error:
            line = data.count(b"\n", 0, error.start) + 1
            raise _Bad(
                Problem(
                    name, line, f"not {mapping.encoding} text (set `encoding:` in the mapping)", code="file.encoding"
                )
            ) from None
        lines = text.splitlines(keepends=True)[mapping.skip_lines :]
        self.reader = csv.reader(io.StringIO("".join(lines)), delimiter=mapping.separator)
        self.offset = mapping.skip_lines
        try:
            header = [cell.strip().lstrip("\ufeff") for cell in next(self.reader)]
        except (StopIteration, csv.Error):
            raise _Bad(Problem(name, self.offset + 1, "no header line", code="import.csv_header")) from None
        self.index: dict[str, int] = {}
        for field, names in mapping.columns.items():
            found = next((header.index(n) for n in names if n in header), None)
            if found is not None:
                self.index[field] = found
        missing = [f for f in REQUIRED[mapping.kind] if f not in self.index]
        if mapping.kind == "bank" and not ({"amount", "credit"} & set(self.index)):
            missing.append("amount (or credit)")
        if missing:
            wanted = "; ".join(f"{f}: {' or '.join(mapping.columns.get(f, ('?',)))}" for f in missing)
            raise _Bad(
                Problem(
                    name,
                    self.offset + 1,
                    f"the mapping '{mapping.name}' does not fit: no column {wanted}",
                    code="import.mapping_fit",
                )
            )

    def __iter__(self):  # type: ignore[no-untyped-def]
        try:
            for count, cells in enumerate(self.reader):
                if count >= MAX_ROWS:
                    raise _Bad(Problem(self.name, None, f"more than {MAX_ROWS} rows", code="import.too_many_rows"))
                if not any(c.strip() for c in cells):
                    continue
                line = self.offset + self.reader.line_num
                yield line, {f: cells[i].strip() if i < len(cells) else "" for f, i in self.index.items()}
        except csv.Error as error:
            raise _Bad(
                Problem(self.name, self.offset + self.reader.line_num, f"not CSV: {error}", code="import.csv_syntax")
            ) from None

    def day(self, line: int, text: str, field: str) -> date:
        try:
            return datetime.strptime(text[:10], DATE_FORMATS[self.mapping.date_format]).date()
        except ValueError:
            raise _Bad(
                Problem(
                    self.name,
                    line,
                    f"{field}: '{text}' is not a date written {self.mapping.date_format}",
                    code="import.date",
                )
            ) from None

    def amount(self, line: int, text: str, field: str) -> Decimal:
        cleaned = re.sub(r"[\s\u00a0\u202f€]", "", text)
        cleaned = (
            cleaned.replace(".", "").replace(",", ".") if self.mapping.decimal == "," else cleaned.replace(",", "")
        )
        try:
            value = Decimal(cleaned)
        except InvalidOperation:
            raise _Bad(Problem(self.name, line, f"{field}: '{text}' is not an amount", code="import.amount")) from None
        if not value.is_finite() or value != value.quantize(CENT) or abs(value) >= Decimal("1e12"):
            raise _Bad(Problem(self.name, line, f"{field}: '{text}' is not an amount in cents", code="import.amount"))
        return value.quantize(CENT)


def read_invoice_csv(name: str, data: bytes, mapping: ColumnMapping) -> list[ImportedInvoice] | Problem:
    try:
        rows = _Rows(name, data, mapping)
        return [_invoice(rows, line, row) for line, row in rows]
    except _Bad as bad:
        return bad.problem


def _invoice(rows: _Rows, line: int, row: dict[str, str]) -> ImportedInvoice:
    total = rows.amount(line, row["total"], "total")
    paid = rows.amount(line, row["paid"], "paid") if row.get("paid") else Decimal("0.00")
    if not row["number"]:
        raise _Bad(Problem(rows.name, line, "number: empty", code="import.number"))
    buyer = row.get("buyer") or row.get("client") or ""
    if not buyer:
        raise _Bad(
            Problem(rows.name, line, "no buyer (map the `buyer` column: the client's name)", code="import.buyer")
        )
    return ImportedInvoice(
        source=rows.name, line=line, kind="invoice", number=row["number"],
        issued=rows.day(line, row["issued"], "issued"),
        due=rows.day(line, row["due"], "due") if row.get("due") else None,
        total=total, amount_due=total - paid, currency=(row.get("currency") or "EUR").upper(),
        buyer=Buyer(buyer, siren=_digits(row.get("siren")), vat_id=row.get("vat_id") or None,
                    email=row.get("email") or None),
        paid_on=rows.day(line, row["paid_date"], "paid_date") if row.get("paid_date") else None,
        paid_note="paid (CSV export)",
    )  # fmt: skip


def _digits(text: str | None) -> str | None:
    digits = "".join((text or "").split())
    return digits[:9] if digits.isdigit() and len(digits) in (9, 14) else None


def read_bank_csv(name: str, data: bytes, mapping: ColumnMapping) -> Statement | Problem:
    try:
        rows = _Rows(name, data, mapping)
        seen: dict[tuple[object, ...], int] = {}
        return Statement(name, tuple(_bank_line(rows, line, row, seen) for line, row in rows))
    except _Bad as bad:
        return bad.problem


def _bank_line(rows: _Rows, line: int, row: dict[str, str], seen: dict[tuple[object, ...], int]) -> BankLine:
    if row.get("amount"):
        signed = rows.amount(line, row["amount"], "amount")
    elif row.get("credit"):
        signed = rows.amount(line, row["credit"], "credit")
    else:
        signed = -rows.amount(line, row.get("debit") or "0", "debit")
    booked = rows.day(line, row["date"], "date")
    label = " ".join(row["label"].split())
    debtor = " ".join((row.get("debtor") or "").split())
    reference = row.get("reference") or line_hash((booked, signed, label, debtor), seen)
    return BankLine(rows.name, line, booked, abs(signed), (row.get("currency") or "EUR").upper(), signed > 0,
                    reference, debtor, label)  # fmt: skip
