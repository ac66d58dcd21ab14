"""The plain WeasyPrint loop relance's letters are measured against: comparable letters, rendered the obvious way.

Each reference letter carries the words of one of relance's letters as the reader gets them — read back from
relance's own PDF with pypdf, one paragraph a line — and the same invoice table (9 columns for a business
client's charges), in a system font found by fontconfig (DejaVu Sans), on A4, with one
`HTML(string=...).write_pdf()` each and WeasyPrint's default options. No QR code, no running footer, no page
counter, no PDF/A: relance's letters do more than these, so the comparison does not flatter relance.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Sequence
from pathlib import Path

from pypdf import PdfReader

STYLE = """
@page { size: A4; margin: 15mm 18mm 20mm 20mm; }
body { font-family: "DejaVu Sans"; font-size: 8.6pt; line-height: 1.36; }
p { margin: 0 0 1.5mm 0; }
table { width: 100%; border-collapse: collapse; margin: 2mm 0 4mm 0; font-size: 7.5pt; }
th, td { padding: 1mm 1.2mm; border-bottom: 0.4pt solid #999; text-align: left; }
"""
_TABLE = re.compile(r'<table class="invoices">.*?</table>', re.S)
_CELL = re.compile(r"<(t[hd])\b([^>]*)>(.*?)</t[hd]>", re.S)
_TAG = re.compile(r"<[^>]+>")


def invoice_table(letter_html: str) -> str:
    """relance's invoice table of a letter, as a bare HTML table: the same rows, columns and cell texts."""
    found = _TABLE.search(letter_html)
    if found is None:
        raise ValueError("the letter has no invoice table")
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", found.group(0), re.S):
        cells = []
        for tag, attributes, content in _CELL.findall(row):
            span = re.search(r'colspan="(\d+)"', attributes)
            colspan = f' colspan="{span.group(1)}"' if span else ""
            cells.append(f"<{tag}{colspan}>{html.escape(_text(content))}</{tag}>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return "<table>\n" + "\n".join(rows) + "\n</table>"


def columns(table: str) -> int:
    """The number of columns of a table's first row."""
    first = re.search(r"<tr>(.*?)</tr>", table, re.S)
    return len(re.findall(r"<t[hd]\b", first.group(1))) if first else 0


def comparable_page(pdf: Path, letter_html: str) -> str:
    """A reference letter: the words of relance's PDF `pdf`, one paragraph a line, with the table of its HTML
    where the table's lines were."""
    table = invoice_table(letter_html)
    table_words = set(_text(table).split())
    lines = [line.strip() for page in PdfReader(pdf).pages for line in page.extract_text().splitlines()]
    body: list[str] = []
    placed = in_table = False
    for line in lines:
        if not line:
            continue
        # A line of the table as pypdf reads it back: only the table's words, and a whole row (a header cell
        # broken on two lines follows a row); a short line of table words elsewhere is the end of a sentence.
        tokens = line.split()
        in_table = set(tokens) <= table_words and (len(tokens) >= 3 or in_table)
        if in_table:
            if not placed:
                body.append(table)
                placed = True
            continue
        body.append(f"<p>{html.escape(line)}</p>")
    if not placed:
        body.append(table)
    return (
        '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8"><title>Lettre</title>'
        f"<style>{STYLE}</style></head>\n<body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def plain_loop(pages: Sequence[str]) -> tuple[float, float]:
    """Seconds per letter (wall, CPU) of the plain loop, after one letter to load WeasyPrint and fontconfig."""
    from weasyprint import HTML

    HTML(string=pages[0]).write_pdf()
    wall, cpu = time.perf_counter(), time.process_time()
    for page in pages:
        HTML(string=page).write_pdf()
    return (time.perf_counter() - wall) / len(pages), (time.process_time() - cpu) / len(pages)


def _text(markup: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", markup)).split())
