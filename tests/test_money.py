"""Penalties, legal interest and the indemnity, checked against amounts computed by hand.

Every case states its arithmetic: amount = base × rate × days / 36 500, per stretch of days with one base and
one rate, summed unrounded and rounded once, half up, to the cent. Rates come from the shipped table.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relance_pipeline.books import builders
from relance_pipeline.books.load import YamlFile, read_document
from relance_pipeline.core import money
from relance_pipeline.model import (
    Amounts,
    Client,
    CreditNote,
    Invoice,
    Payment,
    Policy,
    RateTable,
    Semester,
    SemesterRates,
    Step,
)

SCAFFOLD = Path(__file__).resolve().parents[1] / "relance_pipeline" / "scaffold"


@pytest.fixture(scope="module")
def rates() -> RateTable:
    document = read_document(SCAFFOLD, SCAFFOLD / "policies" / "rates.yaml")
    assert isinstance(document, YamlFile), document
    return builders.rate_table(document)


def invoice(
    total: str,
    due: date,
    *,
    payments: tuple[tuple[date, str], ...] = (),
    credit_notes: tuple[tuple[date, str], ...] = (),
    rate: str | None = None,
) -> Invoice:
    return Invoice(
        number="F-TEST-001",
        client="acme",
        issued=date(due.year - 1, 1, 1),
        due=due,
        total=Decimal(total),
        source="ledger/invoices/F-TEST-001.yaml",
        payments=tuple(Payment(day, Decimal(amount)) for day, amount in payments),
        credit_notes=tuple(CreditNote(f"AV-{i}", day, Decimal(a)) for i, (day, a) in enumerate(credit_notes)),
        penalty_rate=Decimal(rate) if rate else None,
    )


def client(kind: str = "business") -> Client:
    return Client(
        id="acme",
        name="Acme",
        kind=kind,  # type: ignore[arg-type]
        email="a@example.org",
        address=("Acme",),
        language="fr",
        source="ledger/clients/acme.yaml",
    )


def policy(rate: str | None = None) -> Policy:
    steps = (
        Step("relance-1", 7, ("email",), "relance-1"),
        Step("mise-en-demeure", 30, ("letter",), "mise-en-demeure", 8, formal_notice=True),
    )
    return Policy("standard", steps, 7, "policies/standard.yaml", Decimal(rate) if rate else None)


def penalties(rates: RateTable, inv: Invoice, through: date, contractual: str | None = None) -> money.Charge:
    charge = money.penalties(inv, rates, through, Decimal(contractual) if contractual else None)
    assert isinstance(charge, money.Charge), charge
    return charge


def test_the_worked_example_of_the_rate_table_comes_out_exactly(rates: RateTable) -> None:
    # 2025-05-16..2025-06-30: 46 days at 13.15 % on 1200 = 19.8871
    # 2025-07-01..2025-08-20: 51 days at 12.15 % on 1200 = 20.3721; total 40.2592 → 40.26, + 40.00 = 80.26
    amounts = money.amounts(invoice("1200.00", date(2025, 5, 15)), client(), policy(), rates, date(2025, 8, 20), None)
    assert isinstance(amounts, Amounts)
    assert amounts.days_overdue == 97
    assert amounts.charges == Decimal("40.26")
    assert amounts.indemnity == Decimal("40.00")
    assert amounts.total_due == Decimal("1280.26")
    assert [(p.start, p.end, p.days, p.rate) for p in amounts.periods] == [
        (date(2025, 5, 16), date(2025, 6, 30), 46, Decimal("13.15")),
        (date(2025, 7, 1), date(2025, 8, 20), 51, Decimal("12.15")),
    ]
    assert amounts.periods[0].amount.quantize(Decimal("0.0001")) == Decimal("19.8871")
    assert amounts.periods[1].amount.quantize(Decimal("0.0001")) == Decimal("20.3721")


def test_penalties_within_one_semester_count_the_days_after_the_due_date(rates: RateTable) -> None:
    # due 2026-01-31, through 2026-03-02: 2026-02-01..03-02 = 28 + 2 = 30 days
    # 1000 × 12.15 × 30 / 36500 = 9.9863 → 9.99
    assert penalties(rates, invoice("1000.00", date(2026, 1, 31)), date(2026, 3, 2)).amount == Decimal("9.99")


def test_a_leap_february_counts_29_days_on_a_365_day_year(rates: RateTable) -> None:
    # due 2024-02-15, through 2024-03-15: 02-16..02-29 = 14 days, 03-01..03-15 = 15 days → 29 days
    # 1000 × 14.50 × 29 / 36500 = 11.5205 → 11.52 (a 366-day year would give 11.49)
    assert penalties(rates, invoice("1000.00", date(2024, 2, 15)), date(2024, 3, 15)).amount == Decimal("11.52")


def test_a_whole_leap_semester_is_182_days_over_365(rates: RateTable) -> None:
    # due 2023-12-31, through 2024-06-30: 2024-S1 = 31+29+31+30+31+30 = 182 days at 14.50 %
    # 1000 × 14.50 × 182 / 36500 = 72.3014 → 72.30
    charge = penalties(rates, invoice("1000.00", date(2023, 12, 31)), date(2024, 6, 30))
    assert charge.amount == Decimal("72.30")
    assert [p.days for p in charge.periods] == [182]


def test_penalties_split_at_1_january_with_each_semesters_rate(rates: RateTable) -> None:
    # due 2023-12-15, through 2024-01-20
    # 2023-12-16..12-31: 16 days at 14.00 % on 2000 = 12.2740
    # 2024-01-01..01-20: 20 days at 14.50 % on 2000 = 15.8904; total 28.1644 → 28.16
    charge = penalties(rates, invoice("2000.00", date(2023, 12, 15)), date(2024, 1, 20))
    assert charge.amount == Decimal("28.16")
    assert [(p.days, p.rate) for p in charge.periods] == [(16, Decimal("14.00")), (20, Decimal("14.50"))]


def test_partial_payment_lowers_the_penalty_base_from_the_next_day(rates: RateTable) -> None:
    # 1200 due 2025-05-15, 500 paid on 2025-06-10, through 2025-06-30
    # 05-16..06-10: 16 + 10 = 26 days on 1200 at 13.15 % = 11.2405 (the day of the payment still on 1200)
    # 06-11..06-30: 20 days on 700 at 13.15 % = 5.0438; total 16.2844 → 16.28
    inv = invoice("1200.00", date(2025, 5, 15), payments=((date(2025, 6, 10), "500.00"),))
    charge = penalties(rates, inv, date(2025, 6, 30))
    assert charge.amount == Decimal("16.28")
    assert [(p.days, p.base) for p in charge.periods] == [(26, Decimal("1200.00")), (20, Decimal("700.00"))]


def test_a_credit_note_dated_after_the_due_date_lowers_the_base_from_the_due_date(rates: RateTable) -> None:
    # 1000 due 2026-02-28, credit note of 200 on 2026-03-10, through 2026-03-31: the credit note corrects the
    # invoice, so 200 was never owed. 03-01..03-31: 31 days on 800 at 12.15 % = 8.2553 → 8.26
    # (lowering the base only from 03-11 would charge 10 days on 200 more: 8.92)
    inv = invoice("1000.00", date(2026, 2, 28), credit_notes=((date(2026, 3, 10), "200.00"),))
    charge = penalties(rates, inv, date(2026, 3, 31))
    assert charge.amount == Decimal("8.26")
    assert [(p.days, p.base) for p in charge.periods] == [(31, Decimal("800.00"))]


def test_a_credit_note_that_settles_an_invoice_leaves_no_penalty_on_the_amount_it_cancels(rates: RateTable) -> None:
    # 2400 due 2026-01-31, 2000 paid on 2026-01-30 (on time), credit note of 400 on 2026-02-07: the 400 was
    # never owed, so no penalty at all (lowering the base from 02-08 only would charge 7 days on 400 at 12.15 %
    # = 0.9321 → 0.93).
    inv = invoice(
        "2400.00",
        date(2026, 1, 31),
        payments=((date(2026, 1, 30), "2000.00"),),
        credit_notes=((date(2026, 2, 7), "400.00"),),
    )
    assert penalties(rates, inv, date(2026, 2, 28)).amount == Decimal("0.00")


def test_a_credit_note_after_the_date_computed_is_not_yet_known(rates: RateTable) -> None:
    # 1000 due 2026-02-28, credit note of 200 on 2026-03-10, computed through 2026-03-05: 5 days on 1000
    # at 12.15 % = 1.6644 → 1.66 (the credit note does not exist yet on that date)
    inv = invoice("1000.00", date(2026, 2, 28), credit_notes=((date(2026, 3, 10), "200.00"),))
    assert penalties(rates, inv, date(2026, 3, 5)).amount == Decimal("1.66")


def test_a_credit_note_before_the_due_date_lowers_the_base_of_every_day(rates: RateTable) -> None:
    # 1000, credit note of 400 on 2026-01-10, due 2026-01-31, through 2026-02-10: 10 days on 600 at 12.15 %
    # 600 × 12.15 × 10 / 36500 = 1.9973 → 2.00
    inv = invoice("1000.00", date(2026, 1, 31), credit_notes=((date(2026, 1, 10), "400.00"),))
    assert penalties(rates, inv, date(2026, 2, 10)).amount == Decimal("2.00")


def test_penalties_stop_growing_the_day_after_full_payment(rates: RateTable) -> None:
    # 1000 due 2026-03-01, paid in full on 2026-03-05: 03-02..03-05 = 4 days at 12.15 % = 1.3315 → 1.33
    inv = invoice("1000.00", date(2026, 3, 1), payments=((date(2026, 3, 5), "1000.00"),))
    assert penalties(rates, inv, date(2026, 3, 31)).amount == Decimal("1.33")


def test_an_invoices_contractual_rate_applies_across_semesters_in_one_period(rates: RateTable) -> None:
    # 1500 due 2025-06-20 at 15.00 % (above 3 × 3.71 and 3 × 2.76), through 2025-07-10:
    # 06-21..07-10 = 10 + 10 = 20 days; 1500 × 15 × 20 / 36500 = 12.3288 → 12.33
    inv = invoice("1500.00", date(2025, 6, 20), rate="15.00")
    amounts = money.amounts(inv, client(), policy(), rates, date(2025, 7, 10), None)
    assert isinstance(amounts, Amounts)
    assert amounts.charges == Decimal("12.33")
    assert [(p.start, p.end, p.days) for p in amounts.periods] == [(date(2025, 6, 21), date(2025, 7, 10), 20)]


def test_a_policy_rate_below_the_legal_floor_is_charged_at_the_floor_for_that_semester(rates: RateTable) -> None:
    # policy at 15.00 %, 10,000 due 2024-05-31, through 2024-07-20
    # 2024-S1 floor 3 × 5.07 = 15.21 % > 15.00: 06-01..06-30 = 30 days at 15.21 % = 125.0137
    # 2024-S2 floor 3 × 4.92 = 14.76 % < 15.00: 07-01..07-20 = 20 days at 15.00 % = 82.1918
    # total 207.2055 → 207.21 (15 % throughout would give 205.48)
    amounts = money.amounts(
        invoice("10000.00", date(2024, 5, 31)), client(), policy("15.00"), rates, date(2024, 7, 20), None
    )
    assert isinstance(amounts, Amounts)
    assert amounts.charges == Decimal("207.21")
    assert [(p.days, p.rate, p.basis) for p in amounts.periods] == [
        (30, Decimal("15.21"), "floor"),
        (20, Decimal("15.00"), "contract"),
    ]


def test_an_invoice_rate_below_the_floor_after_1_january_is_raised_to_it(rates: RateTable) -> None:
    # invoice at 15.00 %, 2000 due 2023-12-15, through 2024-01-20
    # 2023-S2 floor 3 × 4.22 = 12.66 %: 12-16..12-31 = 16 days at 15.00 % = 13.1507
    # 2024-S1 floor 15.21 % (leap year, still /365): 01-01..01-20 = 20 days at 15.21 % = 16.6685
    # total 29.8192 → 29.82
    charge = penalties(rates, invoice("2000.00", date(2023, 12, 15), rate="15.00"), date(2024, 1, 20), "15.00")
    assert charge.amount == Decimal("29.82")
    assert [(p.rate, p.basis) for p in charge.periods] == [(Decimal("15.00"), "contract"), (Decimal("15.21"), "floor")]


def test_an_invoice_paid_in_full_but_late_keeps_its_penalties(rates: RateTable) -> None:
    # 3000 due 2025-03-31, paid in full on 2025-05-15
    # on 2025-05-14: 04-01..05-14 = 44 days at 13.15 % = 47.5562 → 47.56
    # from the payment on: 04-01..05-15 = 45 days (the day of the payment still on 3000) = 48.6370 → 48.64
    inv = invoice("3000.00", date(2025, 3, 31), payments=((date(2025, 5, 15), "3000.00"),))
    assert penalties(rates, inv, date(2025, 5, 14)).amount == Decimal("47.56")
    assert penalties(rates, inv, date(2025, 5, 15)).amount == Decimal("48.64")
    assert penalties(rates, inv, date(2025, 9, 30)).amount == Decimal("48.64")


def test_the_policys_contractual_rate_applies_when_the_invoice_sets_none(rates: RateTable) -> None:
    # policy at 20.00 %, 500 due 2026-03-01, through 2026-03-31: 30 days; 500 × 20 × 30 / 36500 = 8.2192 → 8.22
    amounts = money.amounts(
        invoice("500.00", date(2026, 3, 1)), client(), policy("20.00"), rates, date(2026, 3, 31), None
    )
    assert isinstance(amounts, Amounts)
    assert amounts.charges == Decimal("8.22")


def test_the_invoices_rate_wins_over_the_policys(rates: RateTable) -> None:
    # invoice at 15.00 %, policy at 20.00 %: 1500 × 15 × 20 / 36500 = 12.33 (20 % would give 16.44)
    inv = invoice("1500.00", date(2025, 6, 20), rate="15.00")
    amounts = money.amounts(inv, client(), policy("20.00"), rates, date(2025, 7, 10), None)
    assert isinstance(amounts, Amounts)
    assert amounts.charges == Decimal("12.33")


def test_the_total_is_rounded_once_not_per_semester(rates: RateTable) -> None:
    # 100 due 2025-06-20, through 2025-08-07
    # 06-21..06-30: 10 days at 13.15 % = 0.3603; 07-01..08-07: 38 days at 12.15 % = 1.2649
    # once: 1.6252 → 1.63 ; per period it would be 0.36 + 1.26 = 1.62
    assert penalties(rates, invoice("100.00", date(2025, 6, 20)), date(2025, 8, 7)).amount == Decimal("1.63")


def test_half_a_cent_is_rounded_up(rates: RateTable) -> None:
    # 2022-S1 default rate 10.00 %: 456.25 × 10 × 1 / 36500 = 0.125 exactly → 0.13 (half up, not half even)
    assert penalties(rates, invoice("456.25", date(2022, 3, 1)), date(2022, 3, 2)).amount == Decimal("0.13")


def test_a_consumer_owes_neither_interest_nor_indemnity_before_the_mise_en_demeure(rates: RateTable) -> None:
    inv = invoice("800.00", date(2026, 2, 16))
    amounts = money.amounts(inv, client("consumer"), policy(), rates, date(2026, 6, 15), None)
    assert isinstance(amounts, Amounts)
    assert (amounts.charges, amounts.charge_kind, amounts.indemnity) == (Decimal("0.00"), "none", Decimal("0.00"))
    assert amounts.total_due == Decimal("800.00")


def test_a_consumer_owes_legal_interest_from_the_day_after_the_mise_en_demeure(rates: RateTable) -> None:
    # mise en demeure drafted 2026-04-20; interest 04-21..05-20 = 10 + 20 = 30 days at legal_other 2.62 %
    # 800 × 2.62 × 30 / 36500 = 1.7227 → 1.72; no indemnity
    inv = invoice("800.00", date(2026, 2, 16))
    amounts = money.amounts(inv, client("consumer"), policy(), rates, date(2026, 5, 20), date(2026, 4, 20))
    assert isinstance(amounts, Amounts)
    assert (amounts.charges, amounts.charge_kind, amounts.indemnity) == (
        Decimal("1.72"),
        "legal_interest",
        Decimal("0.00"),
    )


def test_consumer_legal_interest_splits_at_1_july(rates: RateTable) -> None:
    # notice 2025-06-20: 06-21..06-30 = 10 days at 3.71 % on 1000 = 1.0164; 07-01..07-15 = 15 days at 2.76 % = 1.1342
    # total 2.1507 → 2.15
    charge = money.legal_interest(invoice("1000.00", date(2025, 5, 1)), rates, date(2025, 6, 21), date(2025, 7, 15))
    assert isinstance(charge, money.Charge)
    assert charge.amount == Decimal("2.15")


def test_a_semester_missing_from_the_table_names_the_semester_invoice_and_file(rates: RateTable) -> None:
    inv = invoice("1200.00", date(2026, 6, 20))
    missing = money.penalties(inv, rates, date(2026, 7, 5), None)
    assert isinstance(missing, money.MissingRate)
    assert missing.semester == Semester(2026, 2)
    assert str(missing.problem()) == (
        "policies/rates.yaml: warning: no rates for 2026-S2 (needed for invoice F-TEST-001, "
        "ledger/invoices/F-TEST-001.yaml): client acme is held back until it is there; add the semester's row "
        "(ecb_reference, b2b_default, legal_individual, legal_other): `relance rates update` adds its ECB figures; "
        "a rate is never guessed"
    )


def test_a_missing_legal_rate_is_not_said_to_come_from_rates_update() -> None:
    # `relance rates update` reads the ECB series only: the legal rate comes from the arrêté, by hand.
    table = RateTable("policies/rates.yaml", {Semester(2026, 1): SemesterRates(Decimal("2.15"), Decimal("12.15"))})
    missing = money.legal_interest(invoice("500.00", date(2026, 1, 10)), table, date(2026, 2, 1), date(2026, 3, 1))
    assert isinstance(missing, money.MissingRate)
    message = missing.problem().message
    assert "fill in legal_other by hand from the arrêté fixing the taux de l'intérêt légal for 2026-S1" in message
    assert "rates update" not in message


def test_a_contractual_rate_is_not_applied_where_its_legal_floor_is_unknown(rates: RateTable) -> None:
    # 1200 due 2026-06-20 at 15 %, through 2026-07-05: the 5 days of 2026-S2 have no legal rate to check the
    # floor (3 × legal_other, L441-10 II) against, so nothing is computed rather than an unvouched rate.
    missing = money.penalties(invoice("1200.00", date(2026, 6, 20)), rates, date(2026, 7, 5), Decimal("15.00"))
    assert isinstance(missing, money.MissingRate)
    assert missing.semester == Semester(2026, 2) and missing.rate == "legal_other"
    ecb_only = RateTable("policies/rates.yaml", {Semester(2026, 1): SemesterRates(Decimal("2.15"), Decimal("12.15"))})
    partial = money.penalties(invoice("1200.00", date(2026, 3, 1)), ecb_only, date(2026, 3, 31), Decimal("15.00"))
    assert isinstance(partial, money.MissingRate)
    assert "no legal_other rate for 2026-S1" in partial.problem().message


def test_a_contractual_rate_applies_through_the_semesters_whose_legal_rate_is_known(rates: RateTable) -> None:
    # 1200 due 2026-06-10 at 15 %, through 2026-06-30: 20 days; 1200 × 15 × 20 / 36500 = 9.8630 → 9.86
    assert penalties(rates, invoice("1200.00", date(2026, 6, 10)), date(2026, 6, 30), "15.00").amount == Decimal("9.86")


def test_an_unpublished_legal_rate_is_reported_as_missing_not_guessed() -> None:
    table = RateTable("policies/rates.yaml", {Semester(2026, 1): SemesterRates(Decimal("2.15"), Decimal("12.15"))})
    missing = money.legal_interest(invoice("500.00", date(2026, 1, 10)), table, date(2026, 2, 1), date(2026, 3, 1))
    assert isinstance(missing, money.MissingRate)
    assert "no legal_other rate for 2026-S1" in missing.problem().message


def test_no_penalty_is_charged_on_or_before_the_due_date(rates: RateTable) -> None:
    assert penalties(rates, invoice("1000.00", date(2026, 3, 1)), date(2026, 3, 1)).amount == Decimal("0.00")


@settings(max_examples=200, deadline=None)
@given(
    total=st.integers(min_value=1, max_value=10_000_000),
    due_offset=st.integers(min_value=0, max_value=1200),
    days=st.integers(min_value=0, max_value=400),
    paid=st.integers(min_value=0, max_value=100),
    paid_after=st.integers(min_value=-30, max_value=400),
)
def test_penalties_grow_with_time_and_shrink_with_payments(
    rates: RateTable, total: int, due_offset: int, days: int, paid: int, paid_after: int
) -> None:
    due = date(2022, 1, 1) + timedelta(days=due_offset)
    through = min(due + timedelta(days=days), date(2026, 6, 30))
    amount = Decimal(total) / 100
    unpaid = invoice(str(amount), due)
    part = (amount * paid / 100).quantize(Decimal("0.01"))
    partly = invoice(str(amount), due, payments=((due + timedelta(days=paid_after), str(part)),))
    today, tomorrow = penalties(rates, unpaid, through), penalties(rates, unpaid, through + timedelta(days=1))
    assert today.amount <= tomorrow.amount or through >= date(2026, 6, 30)
    assert penalties(rates, partly, through).amount <= today.amount
    # The periods cover every day after the due date exactly once, and add up to the unrounded total.
    assert sum(p.days for p in today.periods) == max(0, (through - due).days)
    assert sum((p.amount for p in today.periods), Decimal(0)).quantize(Decimal("0.01"), ROUND_HALF_UP) == today.amount
