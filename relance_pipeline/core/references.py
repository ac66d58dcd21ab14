"""The RF creditor reference (ISO 11649) of an invoice: what a payer copies, or a QR code carries, so that the
transfer names its invoice in a form no typo survives (two check digits)."""

from __future__ import annotations

import re

from stdnum.iso7064 import mod_97_10

RF_BODY_LIMIT = 21


def rf_reference(number: str) -> str | None:
    """`RF72F2026003` for invoice F-2026-003: its letters and digits after `RF` and the check digits; None when
    the number has none, or more than the 21 the standard allows."""
    body = re.sub(r"[^A-Za-z0-9]", "", number).upper()
    if not body or len(body) > RF_BODY_LIMIT:
        return None
    return f"RF{mod_97_10.calc_check_digits(body + 'RF')}{body}"
