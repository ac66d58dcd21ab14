"""OFX 1.x (SGML, leaf tags left open) and 2.x (XML) statements → `Statement`.

A tokenizer of our own rather than ofxtools or ofxparse: ofxtools refuses real bank files its strict
model does not know (3 of the 6 public ofxparse samples: a 10-digit BANKID, an empty tag, a header
variant), ofxparse has had no release since 2021 and pulls in BeautifulSoup, and neither gives the line of
a bad value. Only STMTTRN's few fields matter here; every other tag is passed over. French banks write
amounts with a decimal comma (`<TRNAMT>-12,50`), which is read too.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from decimal import Decimal, InvalidOperation

from relance_pipeline.imports.imported import BankLine, Statement, line_hash
from relance_pipeline.model import CENT, Problem

MAX_OFX_BYTES = 20 * 1024 * 1024
_TAG = re.compile(r"<(/?)([A-Za-z0-9_.]+)>([^<]*)")
_CHARSETS = {"1252": "cp1252", "ISO-8859-1": "latin-1", "8859-1": "latin-1", "UTF-8": "utf-8", "NONE": "cp1252"}


def is_ofx(data: bytes) -> bool:
    head = data[:2048].upper()
    return b"OFXHEADER" in head or b"<OFX>" in head


def read_ofx(name: str, data: bytes) -> Statement | Problem:
    if len(data) > MAX_OFX_BYTES:
        return Problem(
            name, None, f"the file is larger than {MAX_OFX_BYTES // (1024 * 1024)} MB; not read", code="file.too_large"
        )
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        return Problem(name, None, "a DTD or entity declaration is not allowed", code="import.dtd")
    text = _decode(data)
    if text is None:
        return Problem(name, None, "not readable text in its declared character set", code="file.encoding")
    lines: list[BankLine] = []
    accounts: list[str] = []
    currency = "EUR"
    seen: dict[tuple[object, ...], int] = {}
    current: dict[str, tuple[str, int]] | None = None
    for match in _TAG.finditer(text):
        closing, tag, value = match.group(1), match.group(2).upper(), " ".join(match.group(3).split())
        line = text.count("\n", 0, match.start()) + 1
        if tag == "STMTTRN":
            if closing and current is not None:
                found = _line(name, current, currency)
                if isinstance(found, Problem):
                    return found
                lines.append(found if found.reference else _hashed(found, seen))
                current = None
            elif not closing:
                current = {"": ("", line)}
        elif closing:
            continue
        elif current is not None and value:
            current[tag] = (value, line)
        elif tag == "CURDEF" and value:
            currency = value.upper()
        elif tag == "ACCTID" and value:
            accounts.append(value)
    if not lines and b"<STMTTRN>" not in data.upper() and b"<OFX>" not in data.upper():
        return Problem(name, None, "not an OFX statement", code="import.not_statement")
    return Statement(name, tuple(lines), tuple(dict.fromkeys(accounts)))


def _hashed(line: BankLine, seen: dict[tuple[object, ...], int]) -> BankLine:
    """A line without FITID: date, amount, label and its rank among identical ones, the same on each import."""
    return replace(line, reference=line_hash((line.booked, line.amount, line.credit, line.remittance), seen))


def _decode(data: bytes) -> str | None:
    head = data[:1024].decode("ascii", "replace").upper()
    declared = re.search(r'ENCODING="([A-Z0-9_-]+)"', head) or re.search(r"CHARSET:\s*([A-Z0-9_-]+)", head)
    encoding = _CHARSETS.get(declared.group(1), declared.group(1).lower()) if declared else "utf-8"
    if "ENCODING:UTF-8" in head.replace(" ", ""):
        encoding = "utf-8"
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _line(name: str, fields: dict[str, tuple[str, int]], currency: str) -> BankLine | Problem:
    start = fields[""][1]
    amount_text, amount_line = fields.get("TRNAMT", ("", start))
    try:
        amount = Decimal(amount_text.replace(" ", "").replace(",", "."))
    except InvalidOperation:
        return Problem(name, amount_line, f"TRNAMT '{amount_text}' is not an amount", code="import.amount")
    if not amount.is_finite() or abs(amount) >= Decimal("1e12"):
        return Problem(name, amount_line, f"TRNAMT '{amount_text}' is not an amount", code="import.amount")
    posted, posted_line = fields.get("DTPOSTED", ("", start))
    try:
        booked = date(int(posted[0:4]), int(posted[4:6]), int(posted[6:8]))
    except ValueError:
        return Problem(name, posted_line, f"DTPOSTED '{posted}' is not a date", code="import.date")
    fitid = fields.get("FITID", ("", start))[0]
    label = " ".join(v for k in ("NAME", "MEMO") if (v := fields.get(k, ("", 0))[0]))
    kind = fields.get("TRNTYPE", ("", 0))[0].upper()
    value = abs(amount)
    return BankLine(
        source=name,
        line=start,
        booked=booked,
        amount=value.quantize(CENT) if value == value.quantize(CENT) else value,
        currency=fields.get("CURRENCY", (currency, 0))[0][:3].upper() or currency,
        credit=amount > 0,
        reference=f"FITID:{fitid}" if fitid else "",
        debtor=fields.get("NAME", ("", 0))[0],
        remittance=label,
        reversal=kind in ("REVERSAL",),
    )
