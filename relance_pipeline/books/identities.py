"""Company, bank and tax identifiers (SIRET, SIREN, IBAN, BIC, VAT), checked with python-stdnum.

A letter with a mistyped IBAN sends the payment nowhere, and one with a wrong SIRET is not a valid
commercial document: each is checked by its check digits, and the message says how a right one looks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from stdnum import bic, iban
from stdnum.eu import vat
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidLength
from stdnum.exceptions import ValidationError as NumberError
from stdnum.fr import siren, siret


class Identity(NamedTuple):
    name: str
    check: Callable[[str], str]
    looks_like: str


IDENTITIES: dict[str, Identity] = {
    "siret": Identity("SIRET number", siret.validate, "a SIRET has 14 digits, such as 812 345 676 00017"),
    "siren": Identity("SIREN number", siren.validate, "a SIREN has 9 digits, such as 901 784 520"),
    "iban": Identity(
        "IBAN",
        iban.validate,
        "an IBAN is a country code, 2 check digits and the account number, such as FR76 3000 6000 0112 3456 7890 189",
    ),
    "bic": Identity("BIC", bic.validate, "a BIC has 8 or 11 letters and digits, such as AGRIFRPP"),
    "vat_id": Identity(
        "EU VAT number",
        vat.validate,
        "an EU VAT number is a country code followed by the number, such as FR40123456824",
    ),
}


def identity_problem(key: str, written: str) -> str | None:
    """None when `written` is a valid identifier of the kind `key`, else what is wrong, in plain words."""
    identity = IDENTITIES[key]
    try:
        identity.check(written)
    except InvalidChecksum:
        why = "its check digits do not match, so a character is mistyped or two are swapped"
    except InvalidLength:
        length = len("".join(written.split()))
        why = f"it has {length} characters; {identity.looks_like}"
    except InvalidComponent:
        why = f"a part of it (such as the country code) is unknown; {identity.looks_like}"
    except NumberError:
        why = identity.looks_like
    else:
        return None
    return f"'{written}' is not a valid {identity.name}: {why}"
