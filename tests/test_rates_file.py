"""Editing policies/rates.yaml (rates_file.py): rows inserted, every byte already written kept."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from relance_pipeline.books.builders import rate_table
from relance_pipeline.books.load import YamlFile, parse_document
from relance_pipeline.commands.init import scaffold_folder
from relance_pipeline.core.rates import AddedRow
from relance_pipeline.model import EcbRate, Semester, SemesterRates
from relance_pipeline.outbox.rates_file import EditError, insert

SHIPPED = (scaffold_folder() / "policies/rates.yaml").read_text(encoding="utf-8")
BASIS = EcbRate(date(2025, 6, 11), Decimal("2.15"))


def added(semester: str, ecb: str = "2.15") -> AddedRow:
    rate = Decimal(ecb)
    return AddedRow(Semester.parse(semester), SemesterRates(rate, rate + 10), BASIS)


def lines_removed(text: str, *lines: str) -> str:
    for line in lines:
        assert text.count(line) == 1, line
        text = text.replace(line, "", 1)
    return text


def test_the_shipped_table_gets_the_row_after_its_last_row_and_before_its_closing_notes() -> None:
    edited = insert(SHIPPED, [added("2026-S2")], [])

    new_row = '  2026-S2: {ecb_reference: "2.15", b2b_default: "12.15"}\n'
    assert lines_removed(edited, new_row) == SHIPPED
    assert edited.index("2026-S1:") < edited.index(new_row) < edited.index("# Worked example")


def test_a_change_is_appended_to_the_history_in_its_style() -> None:
    edited = insert(SHIPPED, [], [EcbRate(date(2026, 9, 16), Decimal("2.4"))])

    assert lines_removed(edited, '  - {from: 2026-09-16, rate: "2.40"}\n') == SHIPPED
    assert '  - {from: 2025-06-11, rate: "2.15"}\n  - {from: 2026-09-16, rate: "2.40"}\nsemesters:' in edited


def test_the_edited_table_reads_back_with_the_new_row_and_only_the_ecb_figures() -> None:
    edited = insert(SHIPPED, [added("2026-S2"), added("2027-S1", "1.9")], [])

    document = parse_document("policies/rates.yaml", edited.encode())
    assert isinstance(document, YamlFile)
    table = rate_table(document)
    assert table.get(Semester(2027, 1)) == SemesterRates(Decimal("1.90"), Decimal("11.90"), None, None)
    assert table.last == Semester(2027, 1)


def test_a_gap_is_filled_in_its_place() -> None:
    text = (
        "semesters:\n"
        '  2024-S1: {ecb_reference: "4.50", b2b_default: "14.50"}\n'
        '  2025-S1: {ecb_reference: "3.15", b2b_default: "13.15"}\n'
    )

    edited = insert(text, [added("2024-S2", "4.25")], [])

    assert edited.splitlines()[2] == '  2024-S2: {ecb_reference: "4.25", b2b_default: "14.25"}'
    assert lines_removed(edited, '  2024-S2: {ecb_reference: "4.25", b2b_default: "14.25"}\n') == text


def test_block_rows_single_quotes_and_a_closing_comment_are_kept() -> None:
    text = (
        "semesters:\n"
        "  2026-S1:\n"
        "    ecb_reference: '2.15'\n"
        "    b2b_default: '12.15'  # checked 2026-01-02\n"
        "\n"
        "# figures re-checked every semester\n"
    )

    edited = insert(text, [added("2026-S2")], [])

    assert edited == (
        "semesters:\n"
        "  2026-S1:\n"
        "    ecb_reference: '2.15'\n"
        "    b2b_default: '12.15'  # checked 2026-01-02\n"
        "  2026-S2:\n"
        "    ecb_reference: '2.15'\n"
        "    b2b_default: '12.15'\n"
        "\n"
        "# figures re-checked every semester\n"
    )


def test_plain_numbers_stay_plain() -> None:
    text = "semesters:\n  2026-S1: {ecb_reference: 2.15, b2b_default: 12.15}\n"

    assert insert(text, [added("2026-S2")], []) == text + "  2026-S2: {ecb_reference: 2.15, b2b_default: 12.15}\n"


def test_a_hand_layout_the_editor_does_not_keep_is_kept_all_the_same() -> None:
    text = '---\nsemesters:\n  2026-S1: { ecb_reference: "2.15", b2b_default: "12.15" }   # spaced by hand\n'

    edited = insert(text, [added("2026-S2")], [])

    assert edited == text + '  2026-S2: {ecb_reference: "2.15", b2b_default: "12.15"}\n'


def test_windows_line_endings_are_kept() -> None:
    text = SHIPPED.replace("\n", "\r\n")

    edited = insert(text, [added("2026-S2")], [])

    assert lines_removed(edited, '  2026-S2: {ecb_reference: "2.15", b2b_default: "12.15"}\r\n') == text
    assert "\n" not in edited.replace("\r\n", "")


def test_in_a_file_of_mixed_line_ends_only_the_inserted_lines_are_new_and_they_end_as_their_neighbours() -> None:
    lines = SHIPPED.splitlines(keepends=True)
    text = "".join(line.replace("\n", "\r\n") if number % 3 == 0 else line for number, line in enumerate(lines))
    row = '  2026-S2: {ecb_reference: "2.15", b2b_default: "12.15"}\n'
    change = '  - {from: 2026-09-10, rate: "1.90"}\n'

    edited = insert(text, [added("2026-S2")], [EcbRate(date(2026, 9, 10), Decimal("1.90"))])

    new = edited.splitlines(keepends=True)
    inserted = [line for line in new if line.replace("\r\n", "\n") in (row, change)]
    assert len(new) == len(lines) + 2 and len(inserted) == 2
    for line in inserted:
        above = new[new.index(line) - 1]
        assert line.endswith("\r\n") == above.endswith("\r\n")
        new.remove(line)
    assert "".join(new) == text


def test_a_layout_that_cannot_be_kept_is_refused() -> None:
    text = 'semesters:\n  2026-S1: {ecb_reference: "2.15",\n            b2b_default: "12.15"}\n'

    with pytest.raises(EditError, match="layout cannot be kept"):
        insert(text, [added("2026-S2")], [])


def test_a_flow_history_is_refused_rather_than_rewritten() -> None:
    text = 'ecb_mro: [{from: 2025-06-11, rate: "2.15"}]\nsemesters:\n  2026-S1: {ecb_reference: "2.15"}\n'

    with pytest.raises(EditError, match="ecb_mro"):
        insert(text, [], [EcbRate(date(2026, 9, 16), Decimal("2.40"))])
