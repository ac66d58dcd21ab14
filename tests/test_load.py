"""The YAML loader: every file comes back as a YamlFile or as one Problem, never as an exception."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relance_pipeline.books.load import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    YamlFile,
    line_of,
    parse_document,
    read_document,
    yaml_files,
)
from relance_pipeline.model import Problem

PATH = "ledger/invoices/F-1.yaml"


def parsed(text: str | bytes) -> YamlFile:
    result = parse_document(PATH, text.encode("utf-8") if isinstance(text, str) else text)
    assert isinstance(result, YamlFile), result
    return result


def problem(text: str | bytes) -> str:
    result = parse_document(PATH, text.encode("utf-8") if isinstance(text, str) else text)
    assert isinstance(result, Problem), result
    return str(result)


def test_dates_stay_text_so_that_the_schema_can_report_an_impossible_date() -> None:
    assert parsed("due: 2026-02-14\nbad: 2026-13-01\n").data == {"due": "2026-02-14", "bad": "2026-13-01"}


def test_decimal_numbers_load_as_decimal_never_as_float() -> None:
    data = parsed("total: 1200.10\nrate: 1_200.5\ncount: 3\n").data
    assert data == {"total": Decimal("1200.10"), "rate": Decimal("1200.5"), "count": 3}
    assert isinstance(data["total"], Decimal)
    assert str(data["total"]) == "1200.10"


def test_keys_are_the_text_they_are_written_as_whatever_yaml_makes_of_them() -> None:
    assert parsed("2026: a\n1.5: b\nnull: c\ntrue: d\n").data == {"2026": "a", "1.5": "b", "null": "c", "true": "d"}


def test_a_merge_key_still_merges_and_its_keys_are_text_too() -> None:
    data = parsed("base: &b {1: x, city: Lyon}\nother:\n  <<: *b\n  city: Nantes\n").data
    assert data["other"] == {"1": "x", "city": "Nantes"}


def test_a_key_written_twice_is_reported_at_its_second_line() -> None:
    assert problem("number: A\nclient: b\nnumber: C\n") == f"{PATH}:3: the key 'number' is written twice"


def test_a_list_used_as_a_key_is_reported() -> None:
    assert problem("a: 1\n? [a, b]\n: 2\n") == f"{PATH}:2: a key must be plain text, not a list or a mapping"


def test_a_python_object_tag_is_refused_and_never_constructed() -> None:
    text = 'number: !!python/object/apply:os.system ["touch /tmp/relance-pwned"]\n'
    assert problem(text) == (
        f"{PATH}:1: the YAML tag '!!python/object/apply:os.system' is not allowed: books hold plain data only"
    )
    assert not Path("/tmp/relance-pwned").exists()


def test_a_custom_tag_is_refused() -> None:
    assert (
        problem("total: !money 12\n") == f"{PATH}:1: the YAML tag '!money' is not allowed: books hold plain data only"
    )


def test_an_infinite_or_nan_number_is_refused() -> None:
    assert problem("total: .inf\n") == f"{PATH}:1: '.inf' is not a finite number"
    assert problem("total: .nan\n") == f"{PATH}:1: '.nan' is not a finite number"


def test_a_file_that_is_not_utf8_names_the_byte_and_its_line() -> None:
    assert problem(b"number: F-1\nclient: caf\xe9\n") == f"{PATH}:2: is not UTF-8 text (byte 0xe9); save it as UTF-8"


def test_a_binary_file_is_refused() -> None:
    assert problem(b"\x89PNG\r\n\x1a\n\x00\x00IHDR") == f"{PATH}:3: is a binary file, not YAML text"


def test_a_utf8_byte_order_mark_is_accepted() -> None:
    assert parsed(b"\xef\xbb\xbfnumber: F-1\n").data == {"number": "F-1"}


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n", "~\n"])
def test_an_empty_file_is_reported_as_empty(text: str) -> None:
    assert problem(text) == f"{PATH}:1: is empty; it should hold a YAML mapping"


def test_an_empty_file_is_accepted_where_the_caller_allows_it() -> None:
    result = parse_document(PATH, b"# nothing yet\n", allow_empty=True)
    assert isinstance(result, YamlFile)
    assert result.data is None


def test_an_alias_bomb_is_refused_without_being_expanded() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 12)]
    assert problem("\n".join(lines)) == (
        f"{PATH}:1: its aliases (*name) expand to more than 50000 values: write the values out instead"
    )


def test_aliases_that_expand_to_a_reasonable_size_are_fine() -> None:
    data = parsed("address: &a [8 quai de la Fosse, 44000 Nantes]\ncopy: *a\n").data
    assert data["copy"] == ["8 quai de la Fosse", "44000 Nantes"]


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 200, 20_000])
def test_deep_nesting_is_refused(depth: int) -> None:
    assert problem("x: " + "[" * depth + "]" * depth) == f"{PATH}:1: is nested too deeply (more than 64 levels)"


def test_nesting_up_to_the_limit_is_fine() -> None:
    depth = MAX_DEPTH - 2
    assert parsed("x: " + "[" * depth + "]" * depth).data is not None


def test_a_file_larger_than_one_mebibyte_is_refused_without_being_parsed(tmp_path: Path) -> None:
    file = tmp_path / "ledger" / "invoices" / "huge.yaml"
    file.parent.mkdir(parents=True)
    file.write_bytes(b"number: F-1\n# " + b"a" * MAX_FILE_BYTES)
    assert str(read_document(tmp_path, file)) == (
        "ledger/invoices/huge.yaml:1: is too large to be a books file (more than 1024 KiB)"
    )


def test_a_file_of_exactly_the_limit_is_read(tmp_path: Path) -> None:
    file = tmp_path / "big.yaml"
    head = b"number: F-1\n# "
    file.write_bytes(head + b"a" * (MAX_FILE_BYTES - len(head) - 1) + b"\n")
    assert isinstance(read_document(tmp_path, file), YamlFile)


def test_a_folder_in_place_of_a_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    folder = tmp_path / "relance.yaml"
    folder.mkdir()
    found = read_document(tmp_path, folder)
    assert isinstance(found, Problem)
    assert found.path == "relance.yaml"
    assert found.message == "is a folder, not a file: books files are plain YAML files"


def test_line_of_finds_keys_list_items_and_falls_back_to_the_nearest_parent() -> None:
    text = "number: F-1\npayments:\n  - date: 2026-03-10\n    amount: '1.00'\n  - {date: 2026-03-11, amount: x}\n"
    assert line_of(text, ["number"]) == 1
    assert line_of(text, ["payments"]) == 2
    assert line_of(text, ["payments", 0, "amount"]) == 4
    assert line_of(text, ["payments", 1]) == 5
    assert line_of(text, ["payments", 1, "amount"]) == 5
    assert line_of(text, ["payments", 7, "amount"]) == 2
    assert line_of(text, ["hold", "reason"]) == 1


def test_written_gives_the_text_of_a_value_before_yaml_made_a_number_of_it() -> None:
    document = parsed("siren: 012345670\nlanguage: no\naddress: [a]\n")
    assert document.data["siren"] == 0o12345670
    assert document.written(["siren"]) == "012345670"
    assert document.written(["language"]) == "no"
    assert document.written(["address"]) is None
    assert document.written(["missing"]) is None


def test_yaml_files_are_found_below_a_folder_in_sorted_order(tmp_path: Path) -> None:
    for name in ["b.yaml", "a.yml", "sub/c.yaml", "notes.txt", "sub/.hidden/d.yaml"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("a: 1\n")
    found = [p.relative_to(tmp_path).as_posix() for p in yaml_files(tmp_path)]
    assert found == ["a.yml", "b.yaml", "sub/.hidden/d.yaml", "sub/c.yaml"]
    assert yaml_files(tmp_path / "absent") == []


# Property tests: whatever the input, the loader answers with a YamlFile or a Problem.

_TOKENS = [
    *"abc:- \n\t[]{},&*!|>'\"#%@`?~.0123456789\\",
    *["é", "\x00", "\ufeff", "\x85", "\u2028", "\r"],
    *[
        "key: ",
        "- ",
        "\n  ",
        "&a ",
        "*a",
        "<<: ",
        "? ",
        "---\n",
        "...\n",
        "%YAML 1.1\n",
        "!!str ",
        "!!int ",
        "!!float ",
    ],
    *[
        "!!binary ",
        "!!set ",
        "!!omap ",
        "!!timestamp ",
        "!!python/object:os.system ",
        "!x ",
        "2026-13-01",
        ".inf",
        "1e400",
    ],
]
_YAMLISH = st.lists(st.sampled_from(_TOKENS), max_size=60).map("".join)

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.decimals(allow_nan=False, allow_infinity=False, places=3)
    | st.text(max_size=30)
    | st.dates().map(str)
)
_KEYS = st.sampled_from(["number", "client", "total", "steps", "semesters", "creditor", "2026-S1", "id"]) | st.text(
    max_size=10
)
STRUCTURES = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(_KEYS, children, max_size=6),
    max_leaves=40,
)


def _answer(raw: bytes) -> YamlFile | Problem:
    result = parse_document(PATH, raw)
    assert isinstance(result, (YamlFile, Problem))
    if isinstance(result, Problem):
        assert result.path == PATH
        assert result.line is None or result.line >= 1
        assert result.message
    return result


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_YAMLISH)
def test_random_yaml_like_text_gives_a_document_or_a_problem(text: str) -> None:
    _answer(text.encode("utf-8"))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_give_a_document_or_a_problem(raw: bytes) -> None:
    _answer(raw)


def _dumped(data: Any) -> str:
    return yaml.safe_dump(_plain(data), allow_unicode=True, default_flow_style=False, sort_keys=False)


def _plain(data: Any) -> Any:
    if isinstance(data, Decimal):
        return float(data)
    if isinstance(data, dict):
        return {key: _plain(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_plain(item) for item in data]
    return data


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STRUCTURES)
def test_any_yaml_structure_loads_with_every_line_findable(data: Any) -> None:
    result = _answer(_dumped(data).encode("utf-8"))
    if isinstance(result, YamlFile) and isinstance(result.data, dict):
        for key in result.data:
            assert result.line_of([key]) >= 1
            result.written([key])
