"""Amounts, dates, rates and bank numbers written as a reader of the client's language expects them.

French: `1 200,00 €`, `20 août 2025`, `12,15 %`; English (British usage, as in Europe): `€1,200.00`,
`20 August 2025`, `12.15%`. Babel supplies the conventions, including the narrow no-break space that French
uses between thousands.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import lru_cache

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

from relance_pipeline.model import Language

LOCALES: dict[Language, str] = {"fr": "fr_FR", "en": "en_GB"}
DATE_FORMATS = ("short", "medium", "long", "full")


def money(amount: Decimal, language: Language, currency: str = "EUR") -> str:
    if not isinstance(amount, Decimal):
        raise TypeError(f"an amount is needed here, not {amount!r}")
    return _money(str(amount), language, currency)


@lru_cache(maxsize=4096)
def _money(amount: str, language: Language, currency: str) -> str:
    """Babel parses the locale's pattern on every call, and a letter repeats its amounts (40,00 €, 0,00 €) as a
    night does its dates. Keyed by the amount's text, not its value: -0.00 equals 0.00 but prints otherwise."""
    return str(format_currency(Decimal(amount), currency, locale=LOCALES[language]))


def money_formatter(language: Language, currency: str = "EUR") -> Callable[[Decimal], str]:
    """`money` for one language and currency, quick enough for a statement's 600,000 amounts (Babel takes
    ~20 µs each, the cache above is no help for amounts that never repeat). The symbols and their order are
    read from what `money` prints for two probes, so the two cannot disagree; an amount not in cents, or a
    currency whose pattern the probes do not fit, goes to `money` itself."""
    return _formatter(language, currency)


_PROBE = re.compile(r"(\D*)1(?P<group>\D)234(?P=group)567(\D)89(\D*)")


@lru_cache(maxsize=16)
def _formatter(language: Language, currency: str) -> Callable[[Decimal], str]:
    positive = _PROBE.fullmatch(money(Decimal("1234567.89"), language, currency))
    negative = _PROBE.fullmatch(money(Decimal("-1234567.89"), language, currency))
    if positive is None or negative is None or positive.group(2, 3) != negative.group(2, 3):
        return lambda amount: money(amount, language, currency)
    plus, minus = (positive.group(1), positive.group(4)), (negative.group(1), negative.group(4))
    symbols = str.maketrans({",": positive.group(2), ".": positive.group(3)})

    def formatted(amount: Decimal) -> str:
        if not isinstance(amount, Decimal) or amount.as_tuple().exponent != -2:
            return money(amount, language, currency)
        before, after = minus if amount.is_signed() else plus
        return before + f"{abs(amount):,.2f}".translate(symbols) + after

    return formatted


def long_date(day: date, language: Language, style: str = "long") -> str:
    """`20 août 2025` / `20 August 2025`; style `short` gives `20/08/2025`."""
    if not isinstance(day, date):
        # Babel would print today's date for None: a document must never depend on the clock.
        raise TypeError(f"a date is needed here, not {day!r}")
    if style not in DATE_FORMATS:
        raise ValueError(f"date style '{style}' is not one of {', '.join(DATE_FORMATS)}")
    return _long_date(day, language, style)


@lru_cache(maxsize=4096)
def _long_date(day: date, language: Language, style: str) -> str:
    text = str(format_date(day, style, locale=LOCALES[language]))
    if language == "fr" and day.day == 1 and style != "short":
        # French writes the first of the month as an ordinal, "le 1er juillet 2025" (Babel does not).
        text = re.sub(r"\b1(?= )", "1er", text, count=1)
    return text


def percent(rate: Decimal, language: Language) -> str:
    """A rate given in percent (12.15 means 12.15 %), with two decimals as the law states rates."""
    number = str(format_decimal(rate, "#,##0.00", locale=LOCALES[language]))
    return f"{number}\u00a0%" if language == "fr" else f"{number}%"


def grouped(number: str, size: int = 4) -> str:
    """An IBAN as it is printed: `FR76 3000 6000 …`."""
    compact = "".join(number.split())
    return " ".join(compact[i : i + size] for i in range(0, len(compact), size))


def siret(number: str) -> str:
    """`812 345 676 00017`: the SIREN in groups of three, then the establishment number."""
    compact = "".join(number.split())
    if len(compact) != 14 or not compact.isdigit():
        return number
    return f"{compact[0:3]} {compact[3:6]} {compact[6:9]} {compact[9:]}"
