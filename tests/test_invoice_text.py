from __future__ import annotations

from datetime import date
from decimal import Decimal

import yaml

from relance_pipeline.outbox.invoice_text import add_payment

DAY = date(2026, 6, 20)
ITEM = '{date: 2026-06-20, amount: "1200.00", reference: "VIR 42"}'


def added(text: str) -> str:
    result = add_payment(text, DAY, Decimal("1200"), "VIR 42")
    assert result is not None
    return result


def test_a_file_without_payments_gets_the_key_at_its_end() -> None:
    text = 'number: F-1\ntotal: "1200.00"  # TTC\n'
    assert added(text) == text + f"payments:\n  - {ITEM}\n"


def test_a_file_without_final_newline_keeps_its_last_line_whole() -> None:
    assert added("number: F-1") == f"number: F-1\npayments:\n  - {ITEM}\n"


def test_the_payment_goes_after_the_last_item_of_a_block_list_and_before_the_next_key() -> None:
    text = (
        "number: F-1\n"
        "payments:\n"
        "  # the first transfer\n"
        "  - date: 2026-05-01\n"
        '    amount: "100.00"\n'
        "\n"
        "hold:\n"
        "  reason: promise\n"
    )
    assert added(text) == text.replace('"100.00"\n', f'"100.00"\n  - {ITEM}\n')


def test_items_written_at_the_key_column_keep_that_column() -> None:
    text = 'payments:\n- {date: 2026-05-01, amount: "100.00"}\nnumber: F-1\n'
    assert added(text) == text.replace("}\n", f"}}\n- {ITEM}\n", 1)


def test_flow_lists_on_one_line_are_extended_in_place() -> None:
    assert added("payments: []  # none yet\n") == f"payments:  # none yet\n  - {ITEM}\n"
    text = 'payments: [{date: 2026-05-01, amount: "100.00"}]  # one\n'
    assert added(text) == f'payments: [{{date: 2026-05-01, amount: "100.00"}}, {ITEM}]  # one\n'


def test_every_result_is_yaml_with_the_payment_last() -> None:
    for text in ("number: F-1\n", "payments: []\n", 'payments:\n  - {date: 2026-05-01, amount: "1"}\n'):
        payments = yaml.safe_load(added(text))["payments"]
        assert payments[-1] == {"date": DAY, "amount": "1200.00", "reference": "VIR 42"}


def test_a_flow_list_over_several_lines_is_left_to_the_user() -> None:
    assert add_payment('payments: [\n  {date: 2026-05-01, amount: "1"}\n]\n', DAY, Decimal(1), None) is None


def test_windows_line_ends_are_kept() -> None:
    assert added("number: F-1\r\n").endswith(f"payments:\r\n  - {ITEM}\r\n")


def test_the_comment_after_an_empty_list_stays() -> None:
    text = "number: F-1\npayments: []   # nothing received yet, keep this note!\nhold: null\n"
    assert added(text) == (
        f"number: F-1\npayments:   # nothing received yet, keep this note!\n  - {ITEM}\nhold: null\n"
    )


def test_in_a_file_of_mixed_line_ends_the_new_lines_end_as_their_neighbours() -> None:
    block = 'number: F-1\npayments:\r\n  - {date: 2026-05-01, amount: "1"}\r\ndue: 2026-04-01\n'
    assert added(block) == block.replace('"1"}\r\n', f'"1"}}\r\n  - {ITEM}\r\n')
    at_the_end = "number: F-1\ntotal: 1\r\n"
    assert added(at_the_end) == at_the_end + f"payments:\r\n  - {ITEM}\r\n"
    empty = "number: F-1\npayments: []\r\n"
    assert added(empty) == f"number: F-1\npayments:\r\n  - {ITEM}\r\n"


def test_a_line_separator_inside_a_quoted_string_is_not_a_line_end() -> None:
    text = 'number: F-1\nnote: "a\u2028payments: []"\n'
    assert added(text) == text + f"payments:\n  - {ITEM}\n"
