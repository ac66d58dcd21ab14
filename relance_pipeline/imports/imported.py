"""What the readers of outside files give: plain records, before anything is matched against the books."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

DocumentKind = Literal["invoice", "credit_note"]


@dataclass(frozen=True)
class Buyer:
    """EN 16931 BG-7: the buyer as the invoice names it."""

    name: str
    siren: str | None = None
    vat_id: str | None = None
    email: str | None = None
    address: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportedInvoice:
    """One invoice or credit note read from a file (Factur-X, CII, UBL or a CSV row)."""

    source: str
    line: int | None
    kind: DocumentKind
    number: str
    issued: date
    due: date | None
    total: Decimal
    amount_due: Decimal
    currency: str
    buyer: Buyer
    payment_reference: str | None = None
    refers_to: str | None = None
    """A credit note's invoice (BT-25)."""
    pdf: bytes | None = None
    """The Factur-X PDF itself, to be kept as the invoice's document."""
    paid_on: date | None = None
    """When the part already paid (total − amount due) was paid, if the file says (a CSV export may)."""
    paid_note: str = "prepaid (BT-113)"


@dataclass(frozen=True)
class BankLine:
    """One booked movement of a statement, with the identifier that makes importing it twice add nothing."""

    source: str
    line: int | None
    booked: date
    amount: Decimal
    currency: str
    credit: bool
    reference: str
    debtor: str
    remittance: str
    reversal: bool = False
    status: str = "BOOK"


@dataclass(frozen=True)
class Statement:
    """The lines of one file, and the account they belong to when the file says it."""

    source: str
    lines: tuple[BankLine, ...]
    accounts: tuple[str, ...] = ()


def line_hash(key: tuple[object, ...], seen: dict[tuple[object, ...], int]) -> str:
    """The identifier of a bank line whose format gives none: its facts and its rank among identical lines of
    the file, so that two equal transfers on one day stay two payments and a second import finds both."""
    seen[key] = seen.get(key, 0) + 1
    return "bank-line:" + hashlib.sha256(repr((*key, seen[key])).encode("utf-8")).hexdigest()[:16]
