"""`python -m benchmarks statement [COUNT...]`: what a statement of account costs (render/statement_of_account.py).

For each COUNT (default 1,000, 50,000 and 100,000) invoices of one business client, with charges: the PDF's
pages, size and time, the CSV's size and time, then the PDF's peak memory under tracemalloc (a second run, as
tracemalloc slows it threefold). The lines are made as they are read, so the peak is the writer's own.
"""

from __future__ import annotations

import io
import sys
import time
import tracemalloc
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

from relance_pipeline.model import ZERO, Client, Creditor
from relance_pipeline.render.context import Line, Totals
from relance_pipeline.render.statement_of_account import StatementHeading, write_csv, write_pdf

HEADING = StatementHeading(
    creditor=Creditor(
        "Atelier Dupré", ("12 rue des Lilas", "69003 Lyon"), "Lyon", "81234567600017", "a@b.example", "FR76", "X"
    ),
    client=Client(
        "big", "Grand Compte SA", "business", "ap@big.example", ("1 quai Œuvre", "13002 Marseille"), "fr", "x"
    ),
    as_of=date(2026, 6, 15),
    language="fr",
    business=True,
    show_charges=True,
)
FIELDS = ("total", "paid", "outstanding", "charges", "indemnity", "total_due")


class _Sink(io.RawIOBase):
    def __init__(self) -> None:
        self.size = 0

    def write(self, data: object) -> int:
        self.size += len(data)  # type: ignore[arg-type]
        return len(data)  # type: ignore[arg-type]


def lines(count: int) -> Iterator[Line]:
    for i in range(count):
        total = (Decimal(100 + (i * 7919) % 90000) * 13 / 100).quantize(Decimal("0.01"))
        paid = (total / 3).quantize(Decimal("0.01")) if i % 4 == 0 else Decimal("0.00")
        charges = ((total - paid) * Decimal("0.031")).quantize(Decimal("0.01"))
        yield Line(
            number=f"F-{i:07d}",
            issued=date(2025, 1, 1) + timedelta(days=i % 400),
            due=date(2025, 2, 1) + timedelta(days=i % 400),
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


def totals(count: int) -> Totals:
    sums = dict.fromkeys(FIELDS, ZERO)
    for item in lines(count):
        for field in FIELDS:
            sums[field] += getattr(item, field)
    return Totals(**sums)


def main(argv: list[str]) -> int:
    counts = [int(a) for a in argv] or [1_000, 50_000, 100_000]
    write_pdf(_Sink(), HEADING, lines(1), 1, totals(1))  # type: ignore[arg-type]  # fonts, words, locale data
    for count in counts:
        sums = totals(count)
        pdf, started = _Sink(), time.perf_counter()
        pages = write_pdf(pdf, HEADING, lines(count), count, sums)  # type: ignore[arg-type]
        pdf_seconds, started = time.perf_counter() - started, time.perf_counter()
        text = io.StringIO(newline="")
        write_csv(text, HEADING, lines(count), sums)
        csv_seconds = time.perf_counter() - started
        tracemalloc.start()
        write_pdf(_Sink(), HEADING, lines(count), count, sums)  # type: ignore[arg-type]
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(
            f"statement {count:>7,} invoices: PDF {pages:,} pages {pdf.size / 1e6:.1f} MB {pdf_seconds:.2f} s, "
            f"peak {peak / 1e6:.2f} MB; CSV {len(text.getvalue().encode()) / 1e6:.1f} MB {csv_seconds:.2f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
