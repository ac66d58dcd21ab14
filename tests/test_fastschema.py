"""The compiled schemas agree with jsonschema: never valid where jsonschema finds an error.

Documents come from the example books, then hypothesis breaks them in every place with values chosen to
sit on the schemas' edges (wrong types, impossible dates, too many decimals, unknown keys, duplicates...).
"""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from relance_pipeline.books import fastschema
from relance_pipeline.books.load import YamlFile, read_document
from relance_pipeline.books.schema import KINDS, Kind, fast_check, validator

SCAFFOLD = Path(__file__).resolve().parents[1] / "relance_pipeline" / "scaffold"
EXAMPLES: dict[Kind, list[str]] = {
    "config": ["relance.yaml"],
    "rates": ["policies/rates.yaml"],
    "policy": ["policies/standard.yaml"],
    "client": [p.relative_to(SCAFFOLD).as_posix() for p in sorted((SCAFFOLD / "ledger/clients").glob("*.yaml"))],
    "invoice": [p.relative_to(SCAFFOLD).as_posix() for p in sorted((SCAFFOLD / "ledger/invoices").rglob("*.yaml"))],
    "mapping": [p.relative_to(SCAFFOLD).as_posix() for p in sorted((SCAFFOLD / "imports").glob("*.yaml"))],
}
EDGE_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    7,
    -1,
    10**13,
    Decimal("12.15"),
    Decimal("1.005"),
    Decimal("-3"),
    Decimal("1200.00"),
    "",
    " ",
    "x" * 201,
    "a\nb",
    "<b>",
    "fr",
    "de",
    "EUR",
    "USD",
    "business",
    "b2b_default",
    "email",
    "2026-02-28",
    "2026-02-30",
    "2026-13-01",
    "20260101",
    "1200.00",
    "1200.001",
    "12.15",
    "-12.5",
    "relance-1",
    "Relance 1",
    "F-2026/001.x",
    "doc.pdf",
    "compta@example.fr",
    "not an email",
    "+33 6 12 34 56 78",
    [],
    ["line"],
    ["a", "a"],
    ["email", "letter"],
    ["email", "fax"],
    {},
    {"reason": "disputed"},
    {"date": "2026-03-01", "amount": "10.00"},
]


def example(kind: Kind, rel: str) -> Any:
    document = read_document(SCAFFOLD, SCAFFOLD / rel)
    assert isinstance(document, YamlFile), document
    return document.data


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, (*prefix, index))
    return found


def mutate(data: Any, path: tuple[Any, ...], how: str, value: Any, key: str) -> Any:
    changed = copy.deepcopy(data)
    if not path:
        return value if how == "replace" else changed
    parent = changed
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if how == "replace":
        parent[last] = value
    elif how == "delete":
        del parent[last]
    elif how == "add" and isinstance(parent[last], dict):
        parent[last][key] = value
    elif how == "add" and isinstance(parent[last], list):
        parent[last].append(value)
    return changed


CASES = [(kind, rel) for kind in KINDS for rel in EXAMPLES[kind]]


@pytest.mark.parametrize(("kind", "rel"), CASES)
def test_every_example_document_takes_the_fast_path(kind: Kind, rel: str) -> None:
    assert fast_check(kind)(example(kind, rel))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    case=st.sampled_from(CASES),
    choice=st.integers(min_value=0),
    how=st.sampled_from(["replace", "delete", "add"]),
    value=st.sampled_from(EDGE_VALUES),
    key=st.sampled_from(["note", "until", "amount", "unknown_key", "penalty_rate", "phone", "deadline_days"]),
    depth=st.integers(min_value=1, max_value=2),
)
def test_a_broken_document_is_judged_as_jsonschema_judges_it(
    case: tuple[Kind, str], choice: int, how: str, value: Any, key: str, depth: int
) -> None:
    kind, rel = case
    data = example(kind, rel)
    for _ in range(depth):
        places = paths(data)
        data = mutate(data, places[choice % len(places)], how, value, key)
    fast, thorough = fast_check(kind)(data), validator(kind).is_valid(data)
    assert not fast or thorough  # never more lenient
    if not _left_to_jsonschema(data):
        assert fast == thorough  # and as strict where it decides


def _left_to_jsonschema(data: Any) -> bool:
    """A decimal number (x-max-decimals) or text ending in a newline (a pattern's `$`): see fastschema.py."""
    if isinstance(data, dict):
        return any(_left_to_jsonschema(k) or _left_to_jsonschema(v) for k, v in data.items())
    if isinstance(data, list):
        return any(_left_to_jsonschema(v) for v in data)
    return isinstance(data, Decimal | float) or (isinstance(data, str) and data.endswith("\n"))


def test_a_keyword_fastjsonschema_does_not_check_defers_to_jsonschema() -> None:
    schema = {"type": "object", "dependentRequired": {"until": ["reason"]}}
    assert Draft202012Validator(schema).is_valid({"reason": "x"})
    assert not fastschema.compile_schema(schema, {})({"reason": "x"})


def test_a_dollar_sign_inside_an_email_address_is_read_as_jsonschema_reads_it() -> None:
    client = example("client", EXAMPLES["client"][0])
    client["email"] = "compta$paris@example.fr"
    assert validator("client").is_valid(client)
    assert fast_check("client")(client)


def test_a_day_that_does_not_exist_is_not_a_date() -> None:
    invoice = example("invoice", EXAMPLES["invoice"][0])
    invoice["due"] = "2026-02-30"
    assert not fast_check("invoice")(invoice)
    assert not validator("invoice").is_valid(invoice)


@pytest.mark.parametrize("total", [Decimal("1200.5"), Decimal("1200.50"), Decimal("1200.505"), Decimal("1200.000")])
def test_a_written_decimal_number_is_left_to_jsonschema(total: Decimal) -> None:
    invoice = example("invoice", EXAMPLES["invoice"][0])
    invoice["total"] = total
    assert not fast_check("invoice")(invoice)
    assert validator("invoice").is_valid(invoice) == (total.as_tuple().exponent >= -2)  # type: ignore[operator]


def test_a_reference_to_another_schema_is_followed() -> None:
    common = {"$id": "https://x.invalid/common.json", "$defs": {"id": {"type": "string", "pattern": "^[a-z]+$"}}}
    check = fastschema.compile_schema(
        {"$id": "https://x.invalid/main.json", "items": {"$ref": "common.json#/$defs/id"}},
        {"https://x.invalid/common.json": common},
    )
    assert check(["abc", "de"])
    assert not check(["abc", "D"])
