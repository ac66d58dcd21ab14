"""How figures read outside the letters (plan JSON and tables, summaries, messages): amounts and counts.

The letters, emails and texts format amounts for their language (`render/formatting.py`); everything else
writes them here, so that the plan's JSON, the pull request's table and a message never disagree by a cent.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from relance_pipeline.model import CENT


def amount(value: Decimal) -> str:
    """Two decimals, half up, as a string (a JSON number would turn money into a float): `1280.26`."""
    return f"{value.quantize(CENT, rounding=ROUND_HALF_UP):.2f}"


def count(number: int, noun: str, plural: str | None = None) -> str:
    """`1 invoice`, `2 invoices`, `0 policies` (with `plural` for a noun that does not take an s)."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


NAMED_LIMIT = 5
"""The invoice numbers a line of output names before it counts the rest: a client with 100 000 invoices is one
short line, not a megabyte."""


def some(names: Sequence[str], shown: int = NAMED_LIMIT) -> str:
    """`F-1, F-2` or, past `shown` (and one more, which a count would not shorten), `F-1, …, F-5 +99995`."""
    if len(names) <= shown + 1:
        return ", ".join(names)
    return f"{', '.join(names[:shown])} +{len(names) - shown}"
