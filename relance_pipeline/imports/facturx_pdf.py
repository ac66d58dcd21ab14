"""A Factur-X / ZUGFeRD 2 PDF → the CII XML embedded in it (the `factur-x` library finds the attachment)."""

from __future__ import annotations

import io
import logging

from facturx import get_xml_from_pdf

from relance_pipeline.imports.en16931 import read_invoice_xml
from relance_pipeline.imports.imported import ImportedInvoice
from relance_pipeline.model import Problem

MAX_PDF_BYTES = 50 * 1024 * 1024


def read_facturx_pdf(name: str, data: bytes) -> ImportedInvoice | Problem:
    if len(data) > MAX_PDF_BYTES:
        return Problem(
            name, None, f"the file is larger than {MAX_PDF_BYTES // (1024 * 1024)} MB; not read", code="file.too_large"
        )
    if not data.startswith(b"%PDF-"):
        return Problem(name, None, "not a PDF file", code="import.not_pdf")
    logging.getLogger("factur-x").setLevel(logging.ERROR)  # its INFO lines would mix with the command's output
    try:
        _, xml = get_xml_from_pdf(io.BytesIO(data), check_xsd=False)
    except Exception as error:  # pypdf raises many kinds on a damaged PDF; all mean "unreadable"
        return Problem(
            name,
            None,
            f"not a readable PDF: {type(error).__name__}: {str(error).splitlines()[0][:200]}",
            code="import.pdf_unreadable",
        )
    if not xml:
        return Problem(
            name,
            None,
            "the PDF has no Factur-X/ZUGFeRD XML attached (a plain PDF: use a CSV export)",
            code="import.no_facturx",
        )
    found = read_invoice_xml(f"{name} (embedded XML)", xml, pdf=data)
    return found
