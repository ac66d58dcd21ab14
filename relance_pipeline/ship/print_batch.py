"""One PDF with every letter waiting to be posted, to print in one go.

Letters are not posted by the tool: the user prints this batch, posts the letters and records it with
`relance record posted`; a letter stays in the next batches until then.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError

from relance_pipeline.model import Problem


def batch_path(day: date) -> str:
    return f"outbox/{day.isoformat()}/print-batch.pdf"


def merge(letters: Sequence[tuple[str, bytes]]) -> tuple[bytes | None, list[Problem]]:
    """The readable letters' pages in the given order, in one PDF (byte-identical for the same letters),
    and a problem for each letter that cannot be read; None when no letter could be added."""
    writer = PdfWriter()
    problems: list[Problem] = []
    added = 0
    for path, pdf in letters:
        try:
            reader = PdfReader(io.BytesIO(pdf), strict=False)
            # Reading every page first, so that a broken letter adds no page at all.
            pages = [reader.pages[i] for i in range(len(reader.pages))]
            for page in pages:
                writer.add_page(page)
        except (PyPdfError, ValueError, OSError) as error:
            problems.append(
                Problem(
                    path,
                    None,
                    f"is not a readable PDF ({error}); it is left out of the print batch",
                    code="print.unreadable",
                )
            )
            continue
        added += 1
    if not added:
        return None, problems
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue(), problems
