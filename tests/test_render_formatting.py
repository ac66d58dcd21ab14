"""Money, dates, rates and bank numbers in the client's language."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

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
