"""Each rule of the JSON Schemas, told as `file:line: message` on a real file of the example repository."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from relance_pipeline.books.load import YamlFile, parse_document
from relance_pipeline.books.schema import KINDS, Kind, _leaf_errors, schema_problems
from relance_pipeline.commands.validate import validate

TODAY = date(2026, 6, 15)
INVOICE = "ledger/invoices/2026/F-2026-007.yaml"
CLIENT = "ledger/clients/bureau-levant.yaml"
CONFIG = "relance.yaml"
POLICY = "policies/standard.yaml"
RATES = "policies/rates.yaml"


def problems_in(root: Path, rel: str) -> list[str]:
    """The problems validate reports for one file (missing built-in templates aside: another test's subject)."""
    return [str(p) for p in validate(root, TODAY) if p.path == rel and p.code != "template.missing"]


def edit(root: Path, rel: str, old: str, new: str) -> None:
    file = root / rel
    text = file.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} should occur once in {rel}"
    file.write_text(text.replace(old, new), encoding="utf-8")


def case(rel: str, old: str, new: str, *expected: str, id: str) -> Any:
    return pytest.param(rel, old, new, [f"{rel}:{message}" for message in expected], id=id)


CASES = [
    # invoice
    case(
        INVOICE, "due: 2026-03-22", "due: 2026-13-01", "4: due: '2026-13-01' is not a date (YYYY-MM-DD)", id="month-13"
    ),
    case(INVOICE, "due: 2026-03-22", "due: 2026-02-30", "4: due: '2026-02-30' is not a date (YYYY-MM-DD)", id="feb-30"),
    case(
        INVOICE, "due: 2026-03-22", "due: 2026-3-22", "4: due: '2026-3-22' is not a date (YYYY-MM-DD)", id="short-date"
    ),
    case(
        INVOICE, "due: 2026-03-22", "due: 20260322", "4: due: '20260322' is not a date (YYYY-MM-DD)", id="date-number"
    ),
    case(
        INVOICE, "due: 2026-03-22\n", "", "1: the key 'due' is missing; add a line such as due: 2026-02-14", id="no-due"
    ),
    case(
        INVOICE,
        "document:",
        "documnt:",
        "6: unknown key 'documnt' (did you mean 'document'?)",
        id="typo-key",
    ),
    case(
        INVOICE,
        "document: documents/F-2026-007.pdf",
        "colour: red",
        "6: unknown key 'colour' (allowed: client, credit_notes, currency, document, due, hold, issued, number, "
        "payment_plan, payment_reference, payments, penalty_rate, total)",
        id="unknown-key",
    ),
    case(
        INVOICE,
        'total: "1200.00"',
        'total: "1200.001"',
        "5: total: '1200.001' is not an amount in euros such as 1200.00 (a dot before at most two decimals)",
        id="three-decimals-text",
    ),
    case(
        INVOICE,
        'total: "1200.00"',
        "total: 1200.001",
        "5: total: '1200.001' is not an amount in euros such as 1200.00 (a dot before at most two decimals)",
        id="three-decimals-number",
    ),
    case(
        INVOICE,
        'total: "1200.00"',
        "total: -5",
        "5: total: '-5' is not an amount in euros such as 1200.00 (a dot before at most two decimals)",
        id="negative-total",
    ),
    case(
        INVOICE,
        'total: "1200.00"',
        "total: 1200,00",
        "5: total: '1200,00' is not an amount in euros such as 1200.00 (a dot before at most two decimals)",
        id="decimal-comma",
    ),
    case(
        INVOICE,
        'total: "1200.00"',
        "total: 1e400",
        "5: total: '1e400' is not an amount in euros such as 1200.00 (a dot before at most two decimals)",
        id="huge-number",
    ),
    case(
        INVOICE,
        "\ndocument:",
        "\ncurrency: USD\ndocument:",
        "6: currency: 'USD' is not EUR (the only currency supported)",
        id="currency",
    ),
    case(
        INVOICE,
        "\ndocument:",
        "\npayments: 100\ndocument:",
        "6: payments: '100' should be a list (one '- ' line per item)",
        id="payments-not-a-list",
    ),
    case(
        INVOICE,
        "\ndocument:",
        '\npayments:\n  - {date: 2026-03-10, amount: "1.00"}\n  - date: 2026-03-11\n    amount: 12.345\n'
        '  - {date: 2026-03-12}\n  - {date: 2026-03-13, amount: "1", by: cheque}\ndocument:',
        "9: payments[2].amount: '12.345' is not an amount in euros such as 1200.00 (a dot before at most two decimals)",
        "10: payments[3]: the key 'amount' is missing; add a line such as amount: \"1200.00\"",
        "11: payments[4]: unknown key 'by' (allowed: amount, date, reference)",
        id="payment-items",
    ),
    case(
        INVOICE,
        "\ndocument:",
        '\ncredit_notes:\n  - {date: 2026-03-01, amount: "10"}\ndocument:',
        "7: credit_notes[1]: the key 'number' is missing; add a line such as number: AV-2026-001",
        id="credit-note-number",
    ),
    case(
        INVOICE,
        "\ndocument:",
        "\nhold:\n  reason: dispute\n  until: tomorrow\ndocument:",
        "7: hold.reason: 'dispute' is not one of: disputed, payment_plan, promise, other (did you mean 'disputed'?)",
        "8: hold.until: 'tomorrow' is not a date (YYYY-MM-DD)",
        id="hold",
    ),
    case(
        INVOICE,
        "\ndocument:",
        "\nhold: disputed\ndocument:",
        "6: hold: 'disputed' should be a mapping of keys (key: value lines)",
        id="hold-not-a-mapping",
    ),
    case(
        INVOICE,
        "\ndocument:",
        "\npenalty_rate: twelve\ndocument:",
        "6: penalty_rate: 'twelve' is not a rate in percent such as 12.15",
        id="penalty-rate",
    ),
    case(
        INVOICE,
        "documents/F-2026-007.pdf",
        "documents/F-2026-007.docx",
        "6: document: 'documents/F-2026-007.docx' is not the path of a PDF file in the repository "
        "(one line, at most 255 characters)",
        id="document-not-pdf",
    ),
    case(
        INVOICE,
        "document: documents/F-2026-007.pdf",
        'document: "documents/\\0F-2026-007.pdf"',
        "6: document: 'documents/\\x00F-2026-007.pdf' is not the path of a PDF file in the repository "
        "(one line, at most 255 characters)",
        id="document-control-character",
    ),
    case(
        INVOICE,
        "number: F-2026-007",
        "number: F 2026 007",
        "1: number: 'F 2026 007' is not an invoice number (letters, digits, / . _ -)",
        id="invoice-number",
    ),
    case(
        INVOICE,
        "client: atelier-ferrand",
        "client:",
        "2: client: has no value; it should be an identifier in lower case letters, digits, - and _",
        id="empty-value",
    ),
    case(
        INVOICE,
        "client: atelier-ferrand",
        "client: Atelier-Ferrand",
        "2: client: 'Atelier-Ferrand' is not an identifier in lower case letters, digits, - and _",
        id="identifier",
    ),
    # client
    case(
        CLIENT,
        "email: factures@bureau-levant.fr",
        'email: "factures@bureau-levant.fr\\nBcc: x@evil.example"',
        "3: email: 'factures@bureau-levant.fr\\nBcc: x@evil.example' is not one email address on one line, "
        "such as compta@example.fr",
        id="email-line-break",
    ),
    case(
        CLIENT,
        "email: factures@bureau-levant.fr",
        "email: a@levant.fr, b@levant.fr",
        "3: email: 'a@levant.fr, b@levant.fr' is not one email address on one line, such as compta@example.fr",
        id="two-emails",
    ),
    case(
        CLIENT,
        "name: Bureau Levant",
        "name: Bureau <Levant>",
        "1: name: 'Bureau <Levant>' is not a name on one line, without < or >",
        id="name-brackets",
    ),
    case(
        CLIENT,
        "kind: business",
        "kind: bussiness",
        "2: kind: 'bussiness' is not one of: business, consumer (did you mean 'business'?)",
        id="kind",
    ),
    case(CLIENT, "language: fr", "language: de", "8: language: 'de' is not one of: fr, en", id="language"),
    case(
        CLIENT,
        "language: fr\n",
        "",
        "1: the key 'language' is missing; add a line such as language: fr",
        id="no-language",
    ),
    case(
        CLIENT,
        "  - 69002 Lyon",
        "  - 69002 Lyon\n  - a\n  - b\n  - c\n  - d",
        "4: address: has 7 items; at most 6 are allowed",
        id="address-too-long",
    ),
    case(
        CLIENT,
        "  - 5 place Bellecour",
        "  - " + "x" * 201,
        "6: address[2]: '" + "x" * 55 + "...' is not one line of text (at most 200 characters)",
        id="address-line",
    ),
    case(
        CLIENT,
        "address:\n  - Bureau Levant\n  - 5 place Bellecour\n  - 69002 Lyon",
        "address: []",
        "4: address: is empty; it needs at least one item",
        id="address-empty",
    ),
    case(
        CLIENT,
        'siren: "483729158"',
        "siren: 483729158",
        '9: siren: 483729158 is read as a number; write it in quotes: siren: "483729158"',
        id="siren-unquoted",
    ),
    case(
        CLIENT,
        'siren: "483729158"',
        "phone: call me",
        "9: phone: 'call me' is not a phone number such as +33 6 12 34 56 78",
        id="phone",
    ),
    case(
        CLIENT,
        'siren: "483729158"',
        "relationship: old",
        "9: relationship: 'old' is not one of: new, regular",
        id="relationship",
    ),
    case(
        CLIENT,
        'siren: "483729158"',
        "policy: Standard",
        "9: policy: 'Standard' is not an identifier in lower case letters, digits, - and _",
        id="policy-name",
    ),
    # relance.yaml
    case(
        CONFIG, "  city: Lyon\n", "", "2: creditor: the key 'city' is missing; add a line such as city: Lyon", id="city"
    ),
    case(
        CONFIG,
        "timezone: Europe/Paris",
        "time_zone: Europe/Paris",
        "18: unknown key 'time_zone' (did you mean 'timezone'?)",
        id="misspelt-required-key",
    ),
    case(
        CONFIG,
        "timezone: Europe/Paris",
        "timezone: Paris time",
        "18: timezone: 'Paris time' is not a time zone such as Europe/Paris",
        id="timezone-shape",
    ),
    case(
        CONFIG,
        "https://durand-dev.fr",
        "durand-dev.fr",
        "13: creditor.website: 'durand-dev.fr' is not a web address starting with https://",
        id="website",
    ),
    case(
        CONFIG,
        'siret: "812 345 676 00017"',
        "siret: 81234567600017",
        '9: creditor.siret: 81234567600017 is read as a number; write it in quotes: siret: "81234567600017"',
        id="siret-unquoted",
    ),
    case(CONFIG, "locale: fr", "locale: de", "17: locale: 'de' is not one of: fr, en", id="locale"),
    case(
        CONFIG,
        "default_policy: standard",
        "default_policy: standard\npreviews: yes please",
        "20: previews: 'yes please' should be true or false",
        id="boolean",
    ),
    # policy
    case(
        POLICY,
        "min_interval_days: 7",
        "min_interval_days: -1",
        "4: min_interval_days: '-1' should be between 0 and 3650",
        id="min-interval-negative",
    ),
    case(
        POLICY,
        "min_interval_days: 7",
        'min_interval_days: "7"',
        "4: min_interval_days: '7' is in quotes, so it is text; write it without quotes: min_interval_days: 7",
        id="quoted-number",
    ),
    case(
        POLICY,
        "min_interval_days: 7\n",
        "",
        "1: the key 'min_interval_days' is missing; add a line such as min_interval_days: 7",
        id="no-min-interval",
    ),
    case(
        POLICY,
        "penalty_rate: b2b_default",
        "penalty_rate: b2b",
        "5: penalty_rate: 'b2b' is not b2b_default or a contractual rate in percent such as 15.00",
        id="policy-penalty-rate",
    ),
    case(
        POLICY,
        "    channels: [phone]",
        "    channels: [phone, fax, phone]",
        "18: steps[3].channels: lists 'phone' twice; each item once is enough",
        "18: steps[3].channels[2]: 'fax' is not one of: email, letter, sms, phone",
        id="channels",
    ),
    case(
        POLICY,
        "channels: [phone]",
        "channels: []",
        "18: steps[3].channels: is empty; it needs at least one item",
        id="no-channel",
    ),
    case(
        POLICY,
        "    template: appel\n",
        "",
        "16: steps[3]: the key 'template' is missing; add a line such as template: relance-1",
        id="step-template",
    ),
    case(
        POLICY,
        "    template: appel",
        "    template: appel\n    delay_days: 3",
        "20: steps[3]: unknown key 'delay_days' (did you mean 'deadline_days'?)",
        id="step-unknown-key",
    ),
    case(
        POLICY,
        "after_days: 30",
        "after_days: 30.5",
        "17: steps[3].after_days: '30.5' should be a whole number",
        id="after-days-fraction",
    ),
    case(
        POLICY,
        "deadline_days: 8",
        "deadline_days: 0",
        "29: steps[5].deadline_days: '0' should be between 1 and 90",
        id="deadline-days",
    ),
    case(
        POLICY,
        "formal_notice: true",
        "formal_notice: oui",
        "30: steps[5].formal_notice: 'oui' should be true or false",
        id="formal-notice",
    ),
]


@pytest.mark.parametrize(("rel", "old", "new", "expected"), CASES)
def test_a_schema_rule_is_reported_at_its_file_and_line(
    example_repo: Path, rel: str, old: str, new: str, expected: list[str]
) -> None:
    edit(example_repo, rel, old, new)
    assert problems_in(example_repo, rel) == expected


def test_the_example_books_pass_their_schemas(example_repo: Path) -> None:
    for rel in (INVOICE, CLIENT, CONFIG, POLICY, RATES):
        assert problems_in(example_repo, rel) == []


RATES_HEAD = "semesters:\n"
RATES_CASES = [
    pytest.param(
        '  2026-S3: {ecb_reference: "2.15", b2b_default: "12.15"}\n',
        ["2: semesters: the key '2026-S3' is not a semester such as 2026-S1"],
        id="semester-name",
    ),
    pytest.param(
        "  2026:\n    ecb_reference: '2.15'\n    b2b_default: '12.15'\n",
        ["2: semesters: the key '2026' is not a semester such as 2026-S1"],
        id="year-as-semester",
    ),
    pytest.param(
        '  2026-S1: {ecb_reference: "2.15"}\n',
        ["2: semesters.2026-S1: the key 'b2b_default' is missing; add a line such as b2b_default: \"12.15\""],
        id="row-missing-rate",
    ),
    pytest.param(
        '  2026-S1: {ecb_reference: "2.15", b2b_default: 12.15111}\n',
        ["2: semesters.2026-S1.b2b_default: '12.15111' is not a rate in percent such as 12.15"],
        id="rate-decimals",
    ),
    pytest.param(
        '  2026-S1: {ecb_reference: "2.15", b2b_default: "12.15", legal: "3"}\n',
        ["2: semesters.2026-S1: unknown key 'legal' (did you mean 'legal_other'?)"],
        id="row-unknown-key",
    ),
    pytest.param(
        '  2026-S1: {ecb_reference: "2.15", b2b_default: "12.15"}\necb_mro:\n  - {from: 2025-06-11}\n',
        ["4: ecb_mro[1]: the key 'rate' is missing; add a line such as rate: \"2.15\""],
        id="ecb-rate-missing",
    ),
]


@pytest.mark.parametrize(("rows", "expected"), RATES_CASES)
def test_a_rate_table_rule_is_reported_at_its_file_and_line(example_repo: Path, rows: str, expected: list[str]) -> None:
    (example_repo / RATES).write_text(RATES_HEAD + rows, encoding="utf-8")
    found = [p for p in problems_in(example_repo, RATES) if ": warning: " not in p]
    assert found == [f"{RATES}:{message}" for message in expected]


def test_a_rate_table_without_semesters_is_reported(example_repo: Path) -> None:
    (example_repo / RATES).write_text("ecb_mro: []\n", encoding="utf-8")
    assert problems_in(example_repo, RATES) == [
        f"{RATES}:1: the key 'semesters' is missing; add a line such as "
        'semesters: {2026-S1: {ecb_reference: "2.15", b2b_default: "12.15"}}'
    ]


def test_a_file_that_is_a_list_is_reported_once(example_repo: Path) -> None:
    (example_repo / CLIENT).write_text("- name: Bureau Levant\n", encoding="utf-8")
    assert problems_in(example_repo, CLIENT) == [f"{CLIENT}:1: should hold a mapping of keys (key: value lines)"]


def test_every_error_of_a_file_is_reported_in_one_pass(example_repo: Path) -> None:
    (example_repo / INVOICE).write_text(
        "number: F-2026-007\nclient: Atelier\nissued: 2026-02-31\ndue: soon\ntotal: abc\nnote: x\n", encoding="utf-8"
    )
    assert problems_in(example_repo, INVOICE) == [
        f"{INVOICE}:2: client: 'Atelier' is not an identifier in lower case letters, digits, - and _",
        f"{INVOICE}:3: issued: '2026-02-31' is not a date (YYYY-MM-DD)",
        f"{INVOICE}:4: due: 'soon' is not a date (YYYY-MM-DD)",
        f"{INVOICE}:5: total: 'abc' is not an amount in euros such as 1200.00 (a dot before at most two decimals)",
        f"{INVOICE}:6: unknown key 'note' (allowed: client, credit_notes, currency, document, due, hold, issued, "
        "number, payment_plan, payment_reference, payments, penalty_rate, total)",
    ]


def test_every_schema_is_a_valid_draft_2020_12_schema() -> None:
    folder = resources.files("relance_pipeline").joinpath("schemas")
    for name in ("common", *KINDS):
        schema = json.loads(folder.joinpath(f"{name}.json").read_text("utf-8"))
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        Draft202012Validator.check_schema(schema)


def test_every_object_in_the_schemas_refuses_unknown_keys() -> None:
    folder = resources.files("relance_pipeline").joinpath("schemas")

    def objects(node: Any) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        if isinstance(node, dict):
            if node.get("type") == "object":
                found.append(node)
            for value in node.values():
                found += objects(value)
        elif isinstance(node, list):
            for value in node:
                found += objects(value)
        return found

    for kind in KINDS:
        for node in objects(json.loads(folder.joinpath(f"{kind}.json").read_text("utf-8"))):
            assert node.get("additionalProperties") is False or isinstance(node.get("additionalProperties"), dict)


# Property tests: the schema path turns any loaded document into problems, never into an exception.

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["2026-13-01", "2026-02-14", "fr", "email", "b2b_default", "1200.00", "a@b.fr", "FR76"])
)
_KEYS = st.sampled_from(
    [
        "number",
        "client",
        "total",
        "payments",
        "steps",
        "semesters",
        "creditor",
        "2026-S1",
        "id",
        "channels",
        "hold",
        "reason",
        "amount",
        "date",
        "address",
        "penalty_rate",
        "after_days",
        "ecb_reference",
    ]
) | st.text(max_size=8)
STRUCTURES = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_KEYS, children, max_size=6),
    max_leaves=30,
)


def _as_yaml(data: Any) -> bytes:
    def plain(node: Any) -> Any:
        if isinstance(node, Decimal):
            return float(node) if node.is_finite() else 0
        if isinstance(node, dict):
            return {key: plain(value) for key, value in node.items()}
        if isinstance(node, list):
            return [plain(item) for item in node]
        return node

    return yaml.safe_dump(plain(data), allow_unicode=True, sort_keys=False).encode("utf-8")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_KEYS, STRUCTURES, max_size=8), st.sampled_from(KINDS))
def test_any_yaml_mapping_gets_problems_from_every_schema_never_an_exception(data: Any, kind: Kind) -> None:
    document = parse_document("x.yaml", _as_yaml(data))
    if isinstance(document, YamlFile):
        for problem in schema_problems(document, kind):
            assert problem.path == "x.yaml"
            assert problem.line is not None and problem.line >= 1
            assert problem.message and "Traceback" not in problem.message


@cache
def _example_documents() -> list[tuple[Kind, Any]]:
    scaffold = Path(str(resources.files("relance_pipeline").joinpath("scaffold")))
    files: list[tuple[Kind, str]] = [
        ("config", "relance.yaml"),
        ("client", "ledger/clients/atelier-ferrand.yaml"),
        ("invoice", "ledger/invoices/2026/F-2026-006.yaml"),
        ("policy", "policies/standard.yaml"),
        ("rates", "policies/rates.yaml"),
    ]
    return [(kind, yaml.safe_load((scaffold / rel).read_text("utf-8"))) for kind, rel in files]


def _replace_somewhere(data: Any, path: list[int], value: Any) -> Any:
    """The document with one value (chosen by `path`, read as indexes into its keys and items) replaced."""
    if not path or not isinstance(data, (dict, list)) or not data:
        return value
    index = path[0] % len(data)
    if isinstance(data, dict):
        key = list(data)[index]
        return {**data, key: _replace_somewhere(data[key], path[1:], value)}
    return [*data[:index], _replace_somewhere(data[index], path[1:], value), *data[index + 1 :]]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(range(5)), st.lists(st.integers(min_value=0, max_value=50), max_size=4), STRUCTURES)
def test_an_example_file_with_one_value_replaced_gets_located_problems(which: int, path: list[int], value: Any) -> None:
    kind, data = _example_documents()[which]
    changed = _replace_somewhere(data, path, value)
    document = parse_document("x.yaml", _as_yaml(changed))
    if isinstance(document, YamlFile):
        for problem in schema_problems(document, kind):
            assert problem.line is not None and problem.line >= 1


def test_an_any_of_without_its_own_wording_is_told_by_its_closest_branch() -> None:
    schema = {
        "type": "object",
        "properties": {
            "limit": {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "string", "pattern": "^none$"}]}
        },
    }
    errors = list(_leaf_errors(Draft202012Validator(schema).iter_errors({"limit": 0})))
    assert [(error.validator, list(error.absolute_path)) for error in errors] == [("minimum", ["limit"])]


def test_an_any_of_whose_types_all_differ_from_the_value_names_every_type() -> None:
    schema = {"properties": {"limit": {"anyOf": [{"type": "integer"}, {"type": "string"}]}}}
    errors = list(_leaf_errors(Draft202012Validator(schema).iter_errors({"limit": [1]})))
    assert [(e.validator, e.validator_value, list(e.absolute_path)) for e in errors] == [
        ("type", ["integer", "string"], ["limit"])
    ]
