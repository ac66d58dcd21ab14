"""The statement of account (relevé de compte): every invoice of a client, attached when a document lists only
the largest ones. A client may have 100,000 invoices, so both forms are written as the lines come, in memory
that does not grow with their number.

The PDF (`pdf_stream`, not WeasyPrint, which holds a whole document in memory) is A4 portrait with the
columns of the letter's invoice table and the labels of `_base/words.<lang>.txt`, amounts as `money` prints
them and dates in the table's `medium` style; each page has the heading (creditor, title, "Page i / n") and
the column header, a fixed number of rows, and the last one the totals row.

The CSV is for a spreadsheet, Excel in France first: UTF-8 with a byte order mark (without it Excel reads
UTF-8 as Windows-1252 and "Échéance" comes out garbled), `;` between fields and a decimal comma in French
(Excel in a French locale splits on `;` and reads `1234,50` as a number), `,` and `.` in English; amounts
are plain numbers (no currency sign, no thousands separator), dates ISO 8601 (`2026-07-01`, which every
spreadsheet reads as a date); one header row, one row per invoice, the totals row last. An invoice number
that a spreadsheet would take for a formula (`=`, `+`, `-`, `@`, tab, CR first) is written after a `'`,
which Excel shows as text.
"""

from __future__ import annotations

import csv
import itertools
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import BinaryIO, TextIO

from relance_pipeline.model import Client, Creditor, Language
from relance_pipeline.render import environment, formatting, template_files
from relance_pipeline.render.context import Line, Totals, vat_words
from relance_pipeline.render.pdf_stream import Font, PdfStream, embed_font, load_font, text_string


@dataclass(frozen=True)
class StatementHeading:
    creditor: Creditor
    client: Client
    as_of: date
    """The document's date: the statement is of the account on that day."""
    language: Language
    business: bool
    """A business owes penalties and the indemnity (their columns); a consumer, interest only."""
    show_charges: bool
    """False: the balance columns only (a first reminder claims no charges)."""
    currency: str = "EUR"


ROWS_PER_PAGE = 48
"""Fixed, so that "Page i / n" is known before the first line is read."""

_TITLES: dict[Language, str] = {
    "fr": "Relevé de compte de {client} au {date}",
    "en": "Statement of account of {client} as of {date}",
}
_PAGE_WIDTH, _PAGE_HEIGHT = 595.28, 841.89
_MARGIN = 42.0
_TABLE_WIDTH = _PAGE_WIDTH - 2 * _MARGIN
_BODY = 8.0
_ROW = 12.6
_GAP = 9.0
_HEADER_TOP = 714.0
_FIRST_ROW = 690.0
_MIN_INVOICE_WIDTH = 70.0
_SMALLEST = 4.0
_SHADE = b"0.945 g"


@dataclass(frozen=True)
class _Column:
    field: str
    header: tuple[str, ...]
    """The label, on two lines when the amounts are narrower than it."""
    right: float
    """Where the column ends (amounts and dates are right-aligned, the invoice left-aligned at `left`)."""
    left: float


def columns_of(heading: StatementHeading) -> list[tuple[str, str]]:
    """(field, label) of each column, as the letter's table has them (`_base/invoices.html`)."""
    labels = _words(heading)[0]
    shown = [("number", "invoice"), ("issued", "issued"), ("due", "due")]
    shown += [("total", "total"), ("paid", "paid"), ("outstanding", "outstanding")]
    if heading.show_charges:
        shown.append(("charges", "penalties" if heading.business else "interest"))
        if heading.business:
            shown.append(("indemnity", "indemnity"))
        shown.append(("total_due", "total_due"))
    return [(field, labels[label]) for field, label in shown]


def _words(heading: StatementHeading) -> tuple[dict[str, str], str]:
    return _package_words(heading.language, vat_words(heading.creditor, heading.client))


@lru_cache(maxsize=16)
def _package_words(language: Language, vat: str) -> tuple[dict[str, str], str]:
    """The labels and VAT mention of the built-in `_base/words.<lang>.txt`, the letter's own source for them."""
    folder = template_files.package_folder()
    module = (
        environment.build([folder], folder).text.get_template(f"_base/words.{language}.txt").make_module({"vat": vat})
    )
    exported = vars(module)
    return dict(exported["labels"]), str(exported["vat_note"])


def write_pdf(out: BinaryIO, heading: StatementHeading, lines: Iterable[Line], count: int, totals: Totals) -> int:
    """Writes the PDF to `out` as it goes (never holds all pages), returns the number of pages. `lines` is
    read once and must yield `count` lines."""
    regular, bold = (
        load_font(template_files.package_folder() / f"_base/fonts/RelanceSans-{w}.ttf") for w in ("Regular", "Bold")
    )
    layout = _Layout.of(heading, totals, regular, bold)
    pdf = PdfStream(out)
    pages = pdf.reserve()
    fonts = pdf.add(b"<< /Font << /F1 %d 0 R /F2 %d 0 R >> >>" % (embed_font(pdf, regular), embed_font(pdf, bold)))
    page_count = max(1, math.ceil(count / ROWS_PER_PAGE))
    kids: list[int] = []
    rows = iter(lines)
    for number in range(1, page_count + 1):
        expected = min(ROWS_PER_PAGE, count - (number - 1) * ROWS_PER_PAGE)
        chunk = list(itertools.islice(rows, expected))
        if len(chunk) < expected:
            raise ValueError(f"the statement was told of {count} lines and got fewer")
        content = layout.page(number, page_count, chunk, totals if number == page_count else None)
        stream = pdf.add_stream(b"", content, level=3)
        kids.append(
            pdf.add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %.2f %.2f] /Resources %d 0 R /Contents %d 0 R >>"
                % (pages, _PAGE_WIDTH, _PAGE_HEIGHT, fonts, stream)
            )
        )
    if next(rows, None) is not None:
        raise ValueError(f"the statement was told of {count} lines and got more")
    pdf.add(b"<< /Type /Pages /Kids [%b] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids)), pages)
    root = pdf.add(b"<< /Type /Catalog /Pages %d 0 R >>" % pages)
    pdf.finish(root, pdf.add(_info(heading, layout.title)))
    return page_count


def _info(heading: StatementHeading, title: str) -> bytes:
    # The document's own date, never the clock's: the same statement is the same file.
    stamp = b"(D:%04d%02d%02d000000Z)" % (heading.as_of.year, heading.as_of.month, heading.as_of.day)
    return b"<< /Title %b /Author %b /Producer (relance) /CreationDate %b /ModDate %b >>" % (
        text_string(title),
        text_string(heading.creditor.name),
        stamp,
        stamp,
    )


@dataclass(frozen=True)
class _Layout:
    heading: StatementHeading
    regular: Font
    bold: Font
    columns: tuple[_Column, ...]
    size: float
    title: str
    labels: dict[str, str]
    vat_note: str
    money: Callable[[Decimal], str]

    @classmethod
    def of(cls, heading: StatementHeading, totals: Totals, regular: Font, bold: Font) -> _Layout:
        labels, vat_note = _words(heading)
        money = formatting.money_formatter(heading.language, heading.currency)
        fields = columns_of(heading)
        # Widths at size 1, from what is known before the lines: the totals are the widest amounts of a
        # column (save credits larger than them, which `_fit` narrows), the dates of the widest month.
        months = [
            formatting.long_date(date(heading.as_of.year, m, 28), heading.language, "medium") for m in range(1, 13)
        ]
        natural: list[tuple[str, tuple[str, ...], float]] = []
        for field, label in fields[1:]:
            if field in ("issued", "due"):
                widest = max(regular.width(m, 1) for m in months)
            else:
                amount = getattr(totals, field)
                widest = max(bold.width(money(amount), 1), regular.width(money(Decimal("-0.00")), 1))
            header = _header_lines(label, widest, bold)
            natural.append((field, header, max(widest, *(bold.width(h, 1) for h in header))))
        fixed = sum(width for *_, width in natural)
        room = _TABLE_WIDTH - _MIN_INVOICE_WIDTH - _GAP * len(natural)
        size = min(_BODY, room / fixed)
        columns: list[_Column] = []
        right = _MARGIN + _TABLE_WIDTH
        for field, header, width in reversed(natural):
            columns.append(_Column(field, header, right, right - width * size))
            right -= width * size + _GAP
        invoice_label = fields[0][1]
        columns.append(_Column("number", (invoice_label,), right, _MARGIN))
        day = formatting.long_date(heading.as_of, heading.language)
        title = _TITLES[heading.language].format(client=heading.client.name, date=day)
        return cls(heading, regular, bold, tuple(reversed(columns)), size, title, labels, vat_note, money)

    def page(self, number: int, count: int, lines: list[Line], totals: Totals | None) -> bytes:
        shades: list[bytes] = []
        text: list[bytes] = [b"BT"]
        self._heading(text, number, count)
        y = _FIRST_ROW
        text.append(b"/F1 %.2f Tf" % self.size)
        for index, item in enumerate(lines):
            if index % 2:
                shades.append(b"%.2f %.2f %.2f %.2f re f" % (_MARGIN - 3, y - 3.6, _TABLE_WIDTH + 6, _ROW))
            self._body_row(text, y, self._cells(item))
            y -= _ROW
        rules = [self._rule(_HEADER_TOP + 11.5, 0.8), self._rule(_FIRST_ROW + _ROW - 3.6, 0.5)]
        if totals is not None:
            rules.append(self._rule(y + _ROW - 3.6, 0.8))
            y -= 4
            cells = [self.labels["totals"], "", "", *(self.money(getattr(totals, c.field)) for c in self.columns[3:])]
            self._row(text, y, cells, self.bold, b"/F2")
            if self.vat_note:
                self._text(text, self.regular, b"/F1", 7.0, _MARGIN, y - 2.2 * _ROW, self.vat_note, _TABLE_WIDTH)
        text.append(b"ET")
        return b"\n".join([_SHADE, *shades, b"0 g", *text, *rules, b""])

    def _cells(self, item: Line) -> list[str]:
        number = f"{item.number} ({self.labels['plan']})" if item.plan else item.number
        language = self.heading.language
        cells = [number, formatting.long_date(item.issued, language, "medium")]
        cells.append(formatting.long_date(item.due, language, "medium"))
        cells += [self.money(getattr(item, column.field)) for column in self.columns[3:]]
        return cells

    def _body_row(self, out: list[bytes], y: float, cells: list[str]) -> None:
        """`_row` for the 100,000 rows of a large statement: the font set once per page, each cell placed
        with the text matrix alone, `_text` only for a cell too wide for its column."""
        advance, codes, scale = self.regular.advances.__getitem__, self.regular.glyph_codes, self.size / 1000
        for column, cell in zip(self.columns, cells, strict=True):
            width = sum(map(advance, cell)) * scale
            if width > column.right - column.left:
                right = column.field != "number"
                x = column.right if right else column.left
                self._text(out, self.regular, b"/F1", self.size, x, y, cell, column.right - column.left, right)
                out.append(b"/F1 %.2f Tf" % self.size)
            else:
                x = column.left if column.field == "number" else column.right - width
                out.append(b"1 0 0 1 %.2f %.2f Tm <%b> Tj" % (x, y, cell.translate(codes).encode("ascii")))

    def _row(self, out: list[bytes], y: float, cells: list[str], font: Font, name: bytes) -> None:
        for column, cell in zip(self.columns, cells, strict=True):
            if column.field == "number":
                self._text(out, font, name, self.size, column.left, y, cell, column.right - column.left)
            elif cell:
                self._text(out, font, name, self.size, column.right, y, cell, column.right - column.left, right=True)

    def _heading(self, out: list[bytes], number: int, count: int) -> None:
        creditor, client, width = self.heading.creditor, self.heading.client, _TABLE_WIDTH
        page = f"{self.labels['page']} {number} / {count}"
        self._text(out, self.bold, b"/F2", 11, _MARGIN, 800, creditor.name, width * 2 / 3)
        self._text(out, self.regular, b"/F1", 8.5, _MARGIN + width, 800, page, width / 3, right=True)
        identity = ", ".join(creditor.address) + (
            f" · SIRET {formatting.siret(creditor.siret)}" if creditor.siret else ""
        )
        out.append(b"0.35 g")
        self._text(out, self.regular, b"/F1", 7.5, _MARGIN, 788, identity, width)
        out.append(b"0 g")
        self._text(out, self.bold, b"/F2", 13, _MARGIN, 757, self.title, width)
        out.append(b"0.35 g")
        self._text(out, self.regular, b"/F1", 8, _MARGIN, 743, ", ".join(client.address), width)
        out.append(b"0 g")
        for column in self.columns:
            for index, label in enumerate(column.header):
                y = _HEADER_TOP - index * 9 - (4.5 if len(column.header) == 1 else 0)
                right = column.field != "number"
                x = column.right if right else column.left
                self._text(out, self.bold, b"/F2", self.size, x, y, label, column.right - column.left, right=right)

    def _text(
        self,
        out: list[bytes],
        font: Font,
        name: bytes,
        size: float,
        x: float,
        y: float,
        text: str,
        room: float,
        right: bool = False,
    ) -> None:
        width = font.width(text, size)
        if width > room:
            size, text = _fit(font, size, text, room, width)
            width = font.width(text, size)
        out.append(
            b"%b %.2f Tf 1 0 0 1 %.2f %.2f Tm %b Tj" % (name, size, x - width if right else x, y, font.encode(text))
        )

    @staticmethod
    def _rule(y: float, thickness: float) -> bytes:
        return b"%.2f w %.2f %.2f m %.2f %.2f l S" % (thickness, _MARGIN - 3, y, _MARGIN + _TABLE_WIDTH + 3, y)


def _fit(font: Font, size: float, text: str, room: float, width: float) -> tuple[float, str]:
    """Text wider than its room: a smaller size, down to a legible one, then cut with an ellipsis (the CSV
    has every value whole)."""
    smaller = max(_SMALLEST, size * room / width * 0.999)
    if font.width(text, smaller) <= room:
        return smaller, text
    while text and font.width(text + "…", smaller) > room:
        text = text[:-1]
    return smaller, text + "…"


def _header_lines(label: str, room: float, font: Font) -> tuple[str, ...]:
    """A label wider than its column's amounts goes on two lines, split where the longer line is shortest."""
    words = label.split(" ")
    if font.width(label, 1) <= room or len(words) == 1:
        return (label,)
    splits = [(" ".join(words[:i]), " ".join(words[i:])) for i in range(1, len(words))]
    return min(splits, key=lambda pair: max(font.width(part, 1) for part in pair))


def write_csv(out: TextIO, heading: StatementHeading, lines: Iterable[Line], totals: Totals) -> None:
    """Writes the CSV to `out` (a text file opened with newline="" and UTF-8) as the lines come."""
    fields = columns_of(heading)
    french = heading.language == "fr"
    writer = csv.writer(out, delimiter=";" if french else ",", lineterminator="\r\n")
    out.write("\ufeff")
    writer.writerow([label for _, label in fields])
    for item in lines:
        writer.writerow(_csv_row(item, fields, french))
    totals_label = _words(heading)[0]["totals"]
    writer.writerow([totals_label, "", "", *(_plain(getattr(totals, f), french) for f, _ in fields[3:])])


def _csv_row(item: Line, fields: list[tuple[str, str]], french: bool) -> Iterator[str]:
    yield _not_a_formula(item.number)
    yield item.issued.isoformat()
    yield item.due.isoformat()
    for field, _ in fields[3:]:
        yield _plain(getattr(item, field), french)


def _plain(amount: Decimal, french: bool) -> str:
    text = format(amount + 0, "f")  # + 0: -0.00 is 0.00 to a spreadsheet, written so
    return text.replace(".", ",") if french else text


def _not_a_formula(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
