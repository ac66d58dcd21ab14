"""The rate table's coverage, the rates in force on a date, and what the ECB series adds (rates.py), and the
`relance rates` listing that shows them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner

from relance_pipeline.cli.main import main
from relance_pipeline.core.rates import (
    coverage,
    format_rate,
    in_force,
    legal_rates_source,
    plan_update,
    rate_in_force,
)
from relance_pipeline.model import EcbRate, RateTable, Semester, SemesterRates

SERIES = (
    EcbRate(date(2016, 3, 16), Decimal("0.0")),
    EcbRate(date(2022, 7, 27), Decimal("0.5")),
    EcbRate(date(2024, 6, 12), Decimal("4.25")),
    EcbRate(date(2025, 6, 11), Decimal("2.15")),
)


def _row(ecb: str, legal: tuple[str, str] | None = None) -> SemesterRates:
    rate = Decimal(ecb)
    if legal is None:
        return SemesterRates(rate, rate + 10)
    return SemesterRates(rate, rate + 10, Decimal(legal[0]), Decimal(legal[1]))


def _table(rows: dict[str, SemesterRates], history: tuple[EcbRate, ...] = ()) -> RateTable:
    return RateTable("policies/rates.yaml", {Semester.parse(k): v for k, v in rows.items()}, history)


def test_the_rate_in_force_is_the_last_change_on_or_before_the_day() -> None:
    assert rate_in_force(SERIES, date(2024, 6, 11)) == SERIES[1]
    assert rate_in_force(SERIES, date(2024, 6, 12)) == SERIES[2]
    assert rate_in_force(SERIES, date(2026, 7, 1)) == SERIES[3]
    assert rate_in_force(SERIES, date(2016, 3, 15)) is None


def test_a_change_taking_effect_on_1_july_is_the_reference_rate_of_the_second_half() -> None:
    series = (*SERIES, EcbRate(date(2026, 7, 1), Decimal("1.90")))
    table = _table({"2026-S1": _row("2.15", ("6.67", "2.62"))})

    update = plan_update(table, series, until=date(2026, 7, 1))

    assert [(a.semester, a.rates) for a in update.added] == [(Semester(2026, 2), _row("1.90"))]


def test_a_missing_semester_gets_the_ecb_rate_in_force_on_its_first_day_plus_ten_points() -> None:
    table = _table({"2026-S1": _row("2.15", ("6.67", "2.62"))})

    update = plan_update(table, SERIES, until=date(2026, 11, 15))

    [added] = update.added
    assert added.semester == Semester(2026, 2)
    assert added.rates == SemesterRates(Decimal("2.15"), Decimal("12.15"), None, None)
    assert added.basis == EcbRate(date(2025, 6, 11), Decimal("2.15"))
    assert update.disagreements == () and update.unsourced == ()


def test_a_semester_that_has_not_started_is_never_added() -> None:
    table = _table({"2026-S1": _row("2.15", ("6.67", "2.62"))})

    assert plan_update(table, SERIES, until=date(2026, 6, 30)).added == ()
    assert [a.semester for a in plan_update(table, SERIES, until=date(2027, 1, 1)).added] == [
        Semester(2026, 2),
        Semester(2027, 1),
    ]


def test_a_gap_inside_the_table_is_filled() -> None:
    table = _table({"2024-S1": _row("4.50"), "2025-S1": _row("4.25")})

    update = plan_update(table, SERIES, until=date(2025, 3, 1))

    assert [(a.semester, a.rates.ecb_reference) for a in update.added] == [(Semester(2024, 2), Decimal("4.25"))]


def test_a_semester_the_series_does_not_reach_back_to_is_reported_not_added() -> None:
    late_series = SERIES[2:]
    table = _table({"2023-S2": _row("4.00"), "2024-S2": _row("4.25")})

    update = plan_update(table, late_series, until=date(2024, 8, 1))

    assert update.added == ()
    assert update.unsourced == (Semester(2024, 1),)


def test_a_table_figure_the_series_contradicts_is_reported_with_both_figures() -> None:
    table = _table({"2024-S2": SemesterRates(Decimal("4.00"), Decimal("14.25"))})

    update = plan_update(table, SERIES, until=date(2024, 8, 1))

    [wrong] = update.disagreements
    assert wrong.where == ("semesters", "2024-S2", "ecb_reference")
    assert (wrong.table, wrong.source, wrong.day) == (Decimal("4.00"), Decimal("4.25"), date(2024, 7, 1))
    assert str(wrong) == (
        "2024-S2 ecb_reference is 4.00 but the ECB series gives 4.25 in force on 2024-07-01; "
        "check the figure and correct it by hand (left unchanged)"
    )
    assert update.added == ()


def test_figures_equal_in_value_but_written_differently_agree() -> None:
    table = _table({"2022-S2": SemesterRates(Decimal("0.00"), Decimal("10.00"))})

    assert plan_update(table, SERIES, until=date(2022, 12, 1)).disagreements == ()


def test_a_history_entry_the_series_contradicts_is_reported() -> None:
    history = (EcbRate(date(2022, 7, 27), Decimal("0.50")), EcbRate(date(2024, 6, 12), Decimal("4.50")))
    table = _table({"2024-S2": _row("4.25")}, history)

    update = plan_update(table, SERIES, until=date(2024, 8, 1))

    assert [(d.where, d.table, d.source) for d in update.disagreements] == [
        (("ecb_mro", 1, "rate"), Decimal("4.50"), Decimal("4.25"))
    ]


def test_rate_changes_after_the_history_are_added_once_and_not_beyond_the_date() -> None:
    history = (EcbRate(date(2024, 6, 12), Decimal("4.25")),)
    series = (
        *SERIES,
        EcbRate(date(2025, 7, 2), Decimal("2.15")),  # the same rate again: not a change
        EcbRate(date(2026, 9, 16), Decimal("2.40")),
        EcbRate(date(2026, 12, 16), Decimal("2.65")),  # decided, not yet in force on the date
    )
    table = _table({"2024-S2": _row("4.25")}, history)

    update = plan_update(table, series, until=date(2026, 11, 15))

    assert update.changes == (
        EcbRate(date(2025, 6, 11), Decimal("2.15")),
        EcbRate(date(2026, 9, 16), Decimal("2.40")),
    )


def test_without_a_history_list_no_change_is_proposed() -> None:
    assert plan_update(_table({"2026-S1": _row("2.15")}), SERIES, until=date(2026, 11, 15)).changes == ()


def test_an_empty_table_starts_at_the_semester_of_the_date() -> None:
    update = plan_update(_table({}), SERIES, until=date(2026, 3, 1))

    assert [a.semester for a in update.added] == [Semester(2026, 1)]


def test_rates_are_written_with_two_decimals_or_more() -> None:
    assert [format_rate(Decimal(text)) for text in ("0", "4.5", "12.15", "3.655", "10")] == [
        "0.00",
        "4.50",
        "12.15",
        "3.655",
        "10.00",
    ]


def test_coverage_names_the_gaps_and_the_rows_without_legal_rates() -> None:
    table = _table(
        {"2025-S1": _row("3.15", ("7.21", "3.71")), "2025-S2": _row("2.15"), "2026-S2": _row("2.15")},
        (EcbRate(date(2025, 6, 11), Decimal("2.15")),),
    )

    span = coverage(table)

    assert (span.first, span.last) == (Semester(2025, 1), Semester(2026, 2))
    assert span.gaps == (Semester(2026, 1),)
    assert span.without_legal == (Semester(2025, 2), Semester(2026, 2))
    assert span.ecb_history_to == date(2025, 6, 11)


def test_the_contractual_floor_is_three_times_the_legal_rate_and_unknown_without_it() -> None:
    table = _table({"2026-S1": _row("2.15", ("6.67", "2.62")), "2026-S2": _row("2.15")})

    assert in_force(table, date(2026, 6, 30)).contractual_floor == Decimal("7.86")
    assert in_force(table, date(2026, 7, 1)).contractual_floor is None
    assert in_force(table, date(2027, 1, 1)).row is None


def test_the_legal_rates_are_looked_for_in_the_arrete_published_the_month_before() -> None:
    assert "Journal officiel, June 2026" in legal_rates_source(Semester(2026, 2))
    assert "Journal officiel, December 2026" in legal_rates_source(Semester(2027, 1))


def _rates(repo: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--repo", str(repo), "rates", *args])
    return result.exit_code, result.stdout, result.stderr


def test_the_listing_shows_the_rates_in_force_for_each_kind_of_client(example_repo: Path) -> None:
    code, out, _ = _rates(example_repo, "--as-of", "2026-06-15")

    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "policies/rates.yaml: 2022-S1 to 2026-S1 (9 semesters); ECB rate changes recorded to 2025-06-11"
    assert lines[1] == "Rates in force on 2026-06-15 (2026-S1):"
    assert " ".join(lines[2].split()) == (
        "business client, no contractual rate (B2B default) 12.15 % ECB reference 2.15 % + 10 points"
    )
    assert lines[3].split()[:7] == ["business", "client,", "contractual", "rate", "at", "least", "7.86"]
    assert "consumer client, legal interest" in lines[4] and "2.62 %" in lines[4]
    assert "creditor acting for professional needs" in lines[5] and "2.62 %" in lines[5]
    assert "creditor an individual" in lines[6] and "6.67 %" in lines[6]
    assert lines[7] == "Missing: nothing up to 2026-S1"


def test_the_listing_says_where_to_find_a_semester_the_table_lacks(example_repo: Path) -> None:
    code, out, _ = _rates(example_repo, "--as-of", "2027-02-01")

    assert code == 0
    assert "Rates in force on 2027-02-01 (2027-S1): none, the table has no row for 2027-S1" in out
    missing = out[out.index("Missing:") :].splitlines()
    assert [line.split(":")[0].strip() for line in missing[1:]] == ["2026-S2", "2027-S1"]
    assert "`relance rates update`" in missing[1] and "FM/B.U2.EUR.4F.KR.MRR_FR.LEV" in missing[1]
    assert "taux de l'intérêt légal for 2026-S2 (Journal officiel, June 2026" in missing[1]


def test_the_listing_gives_the_line_to_fill_in_for_a_row_without_legal_rates(
    example_repo: Path, write: Callable[[Path, str, str], Path]
) -> None:
    rates = example_repo / "policies/rates.yaml"
    write(
        example_repo,
        "policies/rates.yaml",
        rates.read_text() + '  2026-S2: {ecb_reference: "2.15", b2b_default: "12.15"}\n',
    )

    code, out, _ = _rates(example_repo, "--as-of", "2026-11-15")

    assert code == 0
    assert "no contractual rate (B2B default)" in out and "12.15 %" in out
    assert out.count("missing") == 4
    assert (
        '    2026-S2: {ecb_reference: "2.15", b2b_default: "12.15", legal_individual: "x.xx", legal_other: "x.xx"}'
        in (out.splitlines())
    )


def test_the_listing_of_an_invalid_table_names_the_file_and_line(
    example_repo: Path, write: Callable[[Path, str, str], Path]
) -> None:
    write(example_repo, "policies/rates.yaml", 'semesters:\n  2026-S1: {ecb_reference: "two", b2b_default: "12.15"}\n')

    code, out, _ = _rates(example_repo, "--as-of", "2026-06-15")

    assert code == 1
    assert out.startswith("policies/rates.yaml:2: ")
