"""The EPC (SEPA credit transfer) QR code printed on letters: a banking app scanning it fills in the payee,
IBAN, amount and reference (EPC069-12, version 002)."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

import segno.helpers

from relance_pipeline.model import Creditor

MAX_AMOUNT = Decimal("999999999.99")
NAME_LIMIT = 70
TEXT_LIMIT = 140


def epc_qr_data_uri(creditor: Creditor, amount: Decimal, reference: str, rf: str | None = None) -> str | None:
    """The letter's QR code as a PNG data URI, or None (see `_epc_qr_data_uri`)."""
    return _epc_qr_data_uri(creditor.name, creditor.iban, creditor.bic, str(amount), reference, rf)


@lru_cache(maxsize=256)
def _epc_qr_data_uri(name: str, iban: str, bic: str, amount_text: str, reference: str, rf: str | None) -> str | None:
    """A PNG data URI (cheaper to lay out than SVG paths); None when the amount is out of the standard's range.

    With an RF creditor reference the code carries it as the structured reference (the standard allows that or
    a text, not both), which banks pass on unchanged to the creditor's statement (camt `Strd/CdtrRefInf/Ref`).

    One pixel a module: the stylesheet prints the image at its size with `image-rendering: pixelated`, which
    WeasyPrint writes as a PDF image that is never smoothed, so the code is as sharp as a larger picture while
    the letter encodes, embeds and compresses 64 times fewer pixels.

    Kept for a while: a letter and its email, and the words and the document of each, carry the same code
    (10 ms to encode); keyed by the amount's text, as it is written in the code."""
    amount = Decimal(amount_text)
    if not Decimal("0.01") <= amount <= MAX_AMOUNT:
        return None
    code = segno.helpers.make_epc_qr(
        name=name[:NAME_LIMIT],
        iban="".join(iban.split()),
        amount=amount,
        text=None if rf else reference[:TEXT_LIMIT],
        reference=rf,
        bic="".join(bic.split()) or None,
    )
    return str(code.png_data_uri(scale=1, border=0))
