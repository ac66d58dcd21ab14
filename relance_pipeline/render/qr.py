"""The EPC (SEPA credit transfer) QR code printed on letters: a banking app scanning it fills in the payee,
IBAN, amount and reference (EPC069-12, version 002).

A letter's HTML names its code by a `relance-qr:` URL that carries what the code says; the letter printer
makes the image when it lays the letter out (`png`). The HTML, and with it the key under which `send` takes
the drafting night's preview as the letter, is then made without encoding the code (about 5 ms a letter),
and a letter whose preview is reused never encodes it at all.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from relance_pipeline.model import Creditor

SCHEME = "relance-qr"
MAX_AMOUNT = Decimal("999999999.99")
NAME_LIMIT = 70
TEXT_LIMIT = 140


class NotACode(ValueError):
    """A `relance-qr:` URL that relance did not write, or whose code cannot be made."""


def epc_qr_url(creditor: Creditor, amount: Decimal, reference: str, rf: str | None = None) -> str | None:
    """The URL of the letter's QR code; None when the amount is out of the standard's range.

    With an RF creditor reference the code carries it as the structured reference (the standard allows that or
    a text, not both), which banks pass on unchanged to the creditor's statement (camt `Strd/CdtrRefInf/Ref`)."""
    if not Decimal("0.01") <= amount <= MAX_AMOUNT:
        return None
    fields = [creditor.name, creditor.iban, creditor.bic, str(amount), reference, rf or ""]
    payload = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return f"{SCHEME}:{base64.urlsafe_b64encode(payload).decode('ascii')}"


def fields(url: str) -> tuple[str, str, str, Decimal, str, str | None]:
    """What the code of `url` says: payee, IBAN, BIC, amount, reference and RF reference (None: the reference is
    a text). Raises NotACode for a URL that is not one of `epc_qr_url`'s."""
    scheme, _, payload = url.partition(":")
    try:
        if scheme.lower() != SCHEME:
            raise ValueError(scheme)
        # A template may write any URL: a nesting deep enough to exhaust the parser's stack is refused too.
        decoded = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
        if not (isinstance(decoded, list) and len(decoded) == 6 and all(isinstance(v, str) for v in decoded)):
            raise ValueError("not six texts")
        name, iban, bic, amount, reference, rf = decoded
        return name, iban, bic, Decimal(amount), reference, rf or None
    except (ValueError, TypeError, binascii.Error, InvalidOperation, UnicodeError, RecursionError):
        raise NotACode(f"not a payment QR code relance wrote: {url[:80]}") from None


def readable(url: str) -> bool:
    """Whether `url` is one of `epc_qr_url`'s."""
    try:
        fields(url)
    except NotACode:
        return False
    return True


def png(url: str) -> bytes:
    """The PNG image of the code `url` names, one pixel a module: the stylesheet prints the image at its size
    with `image-rendering: pixelated`, which WeasyPrint writes as a PDF image that is never smoothed, so the code
    is as sharp as a larger picture while the letter encodes, embeds and compresses 64 times fewer pixels.
    Raises NotACode."""
    name, iban, bic, amount, reference, rf = fields(url)
    return _png(name, iban, bic, str(amount), reference, rf)


@lru_cache(maxsize=64)
def _png(name: str, iban: str, bic: str, amount_text: str, reference: str, rf: str | None) -> bytes:
    """Kept for a while, by the amount's text as the code writes it: the preview and a letter printed again in
    the same process carry the same code."""
    import segno.helpers  # only runs that print a letter load the encoder

    amount = Decimal(amount_text)
    if not Decimal("0.01") <= amount <= MAX_AMOUNT:
        raise NotACode(f"the amount {amount} is out of the range of a SEPA transfer")
    try:
        code = segno.helpers.make_epc_qr(
            name=name[:NAME_LIMIT],
            iban="".join(iban.split()),
            amount=amount,
            text=None if rf else reference[:TEXT_LIMIT],
            reference=rf,
            bic="".join(bic.split()) or None,
        )
    except ValueError as error:
        raise NotACode(f"the payment QR code cannot be made: {error}") from None
    out = io.BytesIO()
    code.save(out, kind="png", scale=1, border=0)
    return out.getvalue()
