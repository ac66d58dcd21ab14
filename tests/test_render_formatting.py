"""Money, dates, rates and bank numbers in the client's language."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relance_pipeline.model import Language
from relance_pipeline.render import formatting


def test_french_amounts_and_dates_use_french_separators_and_month_names() -> None:
    assert formatting.money(Decimal("1200.00"), "fr") == "1\u202f200,00\u00a0€"
    assert formatting.long_date(date(2025, 8, 20), "fr") == "20 août 2025"
    assert formatting.percent(Decimal("12.15"), "fr") == "12,15\u00a0%"


def test_english_amounts_and_dates_follow_british_usage() -> None:
    assert formatting.money(Decimal("1200.00"), "en") == "€1,200.00"
    assert formatting.long_date(date(2025, 8, 20), "en") == "20 August 2025"
    assert formatting.long_date(date(2025, 8, 20), "en", "short") == "20/08/2025"
    assert formatting.percent(Decimal("12.15"), "en") == "12.15%"


def test_a_missing_date_is_an_error_rather_than_today() -> None:
    with pytest.raises(TypeError):
        formatting.long_date(None, "fr")  # type: ignore[arg-type]


def test_bank_numbers_are_printed_in_groups() -> None:
    assert formatting.grouped("FR7630006000011234567890189") == "FR76 3000 6000 0112 3456 7890 189"
    assert formatting.siret("81234567600017") == "812 345 676 00017"


@settings(max_examples=400, deadline=None)
@given(
    amount=st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False, allow_infinity=False)
    | st.sampled_from([Decimal("-0.00"), Decimal("0.00"), Decimal("-0.01"), Decimal("999.99"), Decimal("1000.00")]),
    language=st.sampled_from(["fr", "en"]),
)
def test_the_quick_money_formatter_prints_every_amount_in_cents_as_money_does(
    amount: Decimal, language: Language
) -> None:
    assert formatting.money_formatter(language)(amount) == formatting.money(amount, language)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_quick_money_formatter_does_not_ask_babel_for_amounts_in_cents(language: Language) -> None:
    quick = formatting.money_formatter(language)
    before = formatting._money.cache_info()
    shown = [quick(Decimal(f"{n}.{n % 100:02d}")) for n in range(-7_000_000, 7_000_000, 70_001)]
    after = formatting._money.cache_info()
    assert len(set(shown)) == len(shown) == 200
    assert (after.hits, after.misses) == (before.hits, before.misses)


@pytest.mark.parametrize("amount", ["5", "1.005", "-12.5", "1E+3"])
@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_quick_money_formatter_leaves_amounts_not_in_cents_to_money(amount: str, language: Language) -> None:
    assert formatting.money_formatter(language)(Decimal(amount)) == formatting.money(Decimal(amount), language)


def test_the_quick_money_formatter_follows_a_currency_without_cents() -> None:
    yen = formatting.money_formatter("en", "JPY")
    assert yen(Decimal("1234.56")) == formatting.money(Decimal("1234.56"), "en", "JPY") == "JP¥1,235"
