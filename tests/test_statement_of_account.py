"""The statement of account: every invoice of a client in a streamed PDF and a CSV, read back."""

from __future__ import annotations

import csv
import io
import itertools
import tracemalloc
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pypdf
import pypdfium2
import pytest

from relance_pipeline.model import ZERO, Client, Creditor, Language
from relance_pipeline.render import formatting
from relance_pipeline.render.context import Line, Totals
from relance_pipeline.render.statement_of_account import ROWS_PER_PAGE, StatementHeading, write_csv, write_pdf

CREDITOR = Creditor(
    name="Atelier Dupré & Fils SARL",
    address=("12 rue des Lilas", "69003 Lyon"),
    city="Lyon",
    siret="81234567600017",
    email="compta@dupre.example",
    iban="FR7630006000011234567890189",
    bic="AGRIFRPP",
)
CLIENT = Client(
    id="nordwind",
    name="Nordwind Logistique SAS",
    kind="business",
    email="ap@nordwind.example",
    address=("Service comptabilité", "4 quai de l’Œuvre", "13002 Marseille"),
    language="fr",
    source="clients/nordwind.yaml",
)
AS_OF = date(2026, 6, 15)


def heading(language: Language = "fr", business: bool = True, show_charges: bool = True) -> StatementHeading:
    return StatementHeading(CREDITOR, replace(CLIENT, language=language), AS_OF, language, business, show_charges)


def lines(count: int) -> Iterator[Line]:
    """Invoices made one at a time, as a caller streaming from the books would hand them."""
    for i in range(count):
        total = (Decimal(100 + (i * 7919) % 90000) * 13 / 100).quantize(Decimal("0.01"))
        paid = (total / 3).quantize(Decimal("0.01")) if i % 4 == 0 else Decimal("0.00")
        charges = ((total - paid) * Decimal("0.031")).quantize(Decimal("0.01"))
        yield Line(
            number=f"F-2026-{i:06d}",
            issued=date(2026, 1, 1) + timedelta(days=i % 120),
            due=date(2026, 2, 1) + timedelta(days=i % 120),
            total=total,
            paid=paid,
            credited=ZERO,
            outstanding=total - paid,
            charges=charges,
            charge_kind="penalties",
            indemnity=Decimal("40.00"),
            total_due=total - paid + charges + Decimal("40.00"),
            days_overdue=30,
            periods=(),
            document=None,
        )


def totals_of(count: int) -> Totals:
    fields = ("total", "paid", "outstanding", "charges", "indemnity", "total_due")
    sums = dict.fromkeys(fields, ZERO)
    for item in lines(count):
        for field in fields:
            sums[field] += getattr(item, field)
    return Totals(**sums)


def pdf_of(count: int, head: StatementHeading | None = None) -> tuple[bytes, int]:
    out = io.BytesIO()
    pages = write_pdf(out, head or heading(), lines(count), count, totals_of(count))
    return out.getvalue(), pages


def test_three_invoices_fit_one_page_with_their_rows_and_the_totals() -> None:
    data, pages = pdf_of(3)
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = reader.pages[0].extract_text()
    assert pages == len(reader.pages) == 1
    assert "Relevé de compte de Nordwind Logistique SAS au 15 juin 2026" in text
    assert "Page 1 / 1" in text
    second = next(item for i, item in enumerate(lines(3)) if i == 1)
    row = " ".join(
        [
            second.number,
            formatting.long_date(second.issued, "fr", "medium"),
            formatting.long_date(second.due, "fr", "medium"),
            *(formatting.money(getattr(second, f), "fr") for f in ("total", "paid", "outstanding", "charges")),
            *(formatting.money(getattr(second, f), "fr") for f in ("indemnity", "total_due")),
        ]
    )
    assert row in text
    totals = totals_of(3)
    assert f"Total {formatting.money(totals.total, 'fr')}" in text
    assert formatting.money(totals.total_due, "fr") in text.splitlines()[-1]


def test_2500_invoices_take_fixed_pages_numbered_with_their_count_and_the_totals_on_the_last() -> None:
    data, pages = pdf_of(2500, heading("en"))
    reader = pypdf.PdfReader(io.BytesIO(data))
    expected = -(-2500 // ROWS_PER_PAGE)
    assert pages == len(reader.pages) == expected
    second = reader.pages[1].extract_text()
    assert f"Page 2 / {expected}" in second
    assert "Statement of account of Nordwind Logistique SAS as of 15 June 2026" in second
    assert "Invoice Date Due date Amount incl. VAT Paid Outstanding Late interest Recovery costs Total due" in second
    assert f"F-2026-{ROWS_PER_PAGE:06d} " in second and "Total €" not in second
    last = reader.pages[-1].extract_text().splitlines()[-1]
    totals = totals_of(2500)
    assert last == "Total " + " ".join(
        formatting.money(getattr(totals, f), "en")
        for f in ("total", "paid", "outstanding", "charges", "indemnity", "total_due")
    )


def test_a_consumer_statement_has_interest_and_no_indemnity_and_a_first_reminder_no_charges() -> None:
    consumer = pypdf.PdfReader(io.BytesIO(pdf_of(3, heading(business=False))[0])).pages[0].extract_text()
    first = pypdf.PdfReader(io.BytesIO(pdf_of(3, heading(show_charges=False))[0])).pages[0].extract_text()
    assert "Intérêts" in consumer and "Indemnité" not in consumer and "Pénalités" not in consumer
    assert "Facture Date Échéance Montant TTC Réglé Reste dû\n" in first
    assert "Total dû" not in first and "Intérêts" not in first


def test_the_same_statement_is_the_same_file() -> None:
    assert pdf_of(300)[0] == pdf_of(300)[0]


def test_a_name_with_characters_outside_the_font_prints_with_empty_boxes_instead_of_failing() -> None:
    head = replace(heading(), client=replace(CLIENT, name="Ωmega 漢字 Kft. — « Ærø »"))
    text = pypdf.PdfReader(io.BytesIO(pdf_of(1, head)[0])).pages[0].extract_text()
    assert "Kft. — « Ærø » au 15 juin 2026" in text


def test_a_count_that_does_not_match_the_lines_is_a_bug_the_writer_refuses() -> None:
    with pytest.raises(ValueError, match="got fewer"):
        write_pdf(io.BytesIO(), heading(), lines(10), 60, totals_of(10))
    with pytest.raises(ValueError, match="got more"):
        write_pdf(io.BytesIO(), heading(), lines(10), 9, totals_of(10))


def test_page_one_renders_as_a_statement(tmp_path: Path) -> None:
    """The picture a human looked at (tmp_path/page-1.png): the heading, the header, 48 shaded rows."""
    WHITE, SHADE = (255, 255, 255), (241, 241, 241)
    data, _ = pdf_of(2500)
    document = pypdfium2.PdfDocument(data)
    image = document[0].render(scale=1).to_pil()
    image.save(tmp_path / "page-1.png")
    assert image.size == (596, 842)  # A4 at 72 dpi
    # Down the margin where only the shading reaches: one grey band for every second row.
    margin = [image.getpixel((40, y)) for y in range(130, 760)]
    bands = sum(1 for above, below in itertools.pairwise(margin) if above == WHITE != below == SHADE)
    assert bands == ROWS_PER_PAGE // 2
    document.close()


def test_memory_stays_flat_as_the_invoices_grow() -> None:
    def peak(count: int) -> int:
        totals = totals_of(count)

        class Sink(io.RawIOBase):
            def write(self, data: object) -> int:
                return len(data)  # type: ignore[arg-type]

        tracemalloc.start()
        write_pdf(Sink(), heading(), lines(count), count, totals)  # type: ignore[arg-type]
        result = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return result

    # Ten times the invoices (`python -m benchmarks statement` measures 50,000: too slow under tracemalloc here).
    # The first statement loads the fonts, the words and Babel's locale data once for the process.
    peak(1)
    small, large = peak(1_000), peak(10_000)
    # Holding the pages would add the 950 kB of the file at least.
    assert large - small < 200_000, (small, large)


def test_the_csv_has_a_header_a_row_per_invoice_and_the_totals_in_the_spreadsheet_conventions() -> None:
    conventions: tuple[tuple[Language, str], ...] = (("fr", ";"), ("en", ","))
    for language, delimiter in conventions:
        out = io.StringIO(newline="")
        write_csv(out, heading(language), lines(5), totals_of(5))
        text = out.getvalue()
        assert text.startswith("\ufeff")
        rows = list(csv.reader(io.StringIO(text[1:], newline=""), delimiter=delimiter))
        assert len(rows) == 1 + 5 + 1
        first = next(lines(1))
        point = "," if language == "fr" else "."
        assert rows[1][:4] == [first.number, "2026-01-01", "2026-02-01", str(first.total).replace(".", point)]
        assert rows[-1][0] == "Total" and rows[-1][1:3] == ["", ""]
        assert rows[-1][-1] == str(totals_of(5).total_due).replace(".", point)
        assert rows[0][0] == ("Facture" if language == "fr" else "Invoice")


def test_the_csv_writes_no_negative_zero_and_no_formula() -> None:
    item = replace(next(lines(1)), number="=HYPERLINK(1)", paid=Decimal("-0.00"))
    out = io.StringIO(newline="")
    write_csv(out, heading(), [item], totals_of(1))
    row = list(csv.reader(io.StringIO(out.getvalue()[1:], newline=""), delimiter=";"))[1]
    assert row[0] == "'=HYPERLINK(1)" and row[4] == "0,00"
