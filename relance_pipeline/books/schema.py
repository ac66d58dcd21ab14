"""JSON Schemas shipped in the package, and their errors told in plain words with file and line.

Each message says what is wrong and, where the schema knows it, what would be right: the wording of a
value comes from the schema's `x-expected` annotation, the example of a missing key from `examples`.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Iterator
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

import yaml

from relance_pipeline.books import fastschema
from relance_pipeline.books.load import BooksLoader, YamlFile
from relance_pipeline.model import Problem, in_file_order

if TYPE_CHECKING:  # jsonschema is imported only to explain an invalid file: valid books never pay for it
    from jsonschema import Draft202012Validator, ValidationError

Kind = Literal["config", "client", "invoice", "policy", "rates", "mapping"]
KINDS: tuple[Kind, ...] = ("config", "client", "invoice", "policy", "rates", "mapping")
_BASE = "https://relance.invalid/schemas/"
_TYPE_WORDS = {
    "object": "a mapping of keys (key: value lines)",
    "array": "a list (one '- ' line per item)",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "empty",
}


def _max_decimals(
    checker: Draft202012Validator, limit: int, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    """`x-max-decimals`: a number written with more decimals than the cent (or a rate's precision) allows."""
    if isinstance(instance, bool) or not isinstance(instance, (Decimal, float)):
        return
    exponent = Decimal(str(instance)).as_tuple().exponent
    if isinstance(exponent, int) and exponent < -limit:
        from jsonschema import ValidationError

        yield ValidationError(f"has more than {limit} decimals")


@cache
def _validator_class() -> Any:
    from jsonschema import Draft202012Validator, validators

    return validators.extend(Draft202012Validator, {"x-max-decimals": _max_decimals})


def _schema_text(name: str) -> dict[str, Any]:
    text = resources.files("relance_pipeline").joinpath("schemas", name).read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


@cache
def validator(kind: Kind) -> Draft202012Validator:
    from jsonschema import FormatChecker
    from referencing import Registry, Resource

    common = _schema_text("common.json")
    registry: Registry[Any] = Registry().with_resource(_BASE + "common.json", Resource.from_contents(common))
    return _validator_class()(_schema_text(f"{kind}.json"), registry=registry, format_checker=FormatChecker())


@cache
def fast_check(kind: Kind) -> fastschema.Check:
    """The same schema compiled to a plain predicate: a quick yes for valid documents (see fastschema.py)."""
    return fastschema.compile_schema(_schema_text(f"{kind}.json"), {_BASE + "common.json": _schema_text("common.json")})


def schema_problems(document: YamlFile, kind: Kind) -> list[Problem]:
    """Every schema error of the document, in the order of the file."""
    if fast_check(kind)(document.data):
        return []
    checker = validator(kind)
    if checker.is_valid(document.data):
        return []
    errors = list(_leaf_errors(checker.iter_errors(document.data)))
    misspelt = _misspelt_keys(errors)
    problems = [problem for error in errors for problem in _problems(document, error, misspelt)]
    return in_file_order(problems)


def _misspelt_keys(errors: list[ValidationError]) -> dict[tuple[str | int, ...], set[str]]:
    """Keys an unknown key probably meant (`time_zone` for `timezone`): the typo is reported, not the absence."""
    meant: dict[tuple[str | int, ...], set[str]] = {}
    for error in errors:
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = sorted(error.schema.get("properties", {}))
            for key in error.instance:
                if key not in allowed:
                    meant.setdefault(tuple(error.absolute_path), set()).update(_closest(str(key), allowed))
    return meant


def _leaf_errors(errors: Iterable[ValidationError]) -> Iterator[ValidationError]:
    for error in errors:
        # An anyOf with its own wording is told once, in that wording; one without, by its closest branch.
        if error.validator in ("anyOf", "oneOf") and "x-expected" not in error.schema and error.context:
            yield from _leaf_errors(_closest_branch(error))
        else:
            yield error


def _closest_branch(error: ValidationError) -> list[ValidationError]:
    """The errors of the first branch whose type the value has; if none has it, one error naming every type."""
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    wrong_type = [sub for sub in error.context if sub.validator == "type" and not sub.relative_path]
    for errors in branches.values():
        if not any(sub in wrong_type for sub in errors):
            return errors
    types = [name for sub in wrong_type for name in _names(sub.validator_value)]
    from jsonschema import ValidationError

    merged = ValidationError(
        f"{error.instance!r} is not of type {', '.join(types)}",
        validator="type",
        validator_value=types,
        instance=error.instance,
        schema={"type": types},
        path=error.relative_path,
        schema_path=error.relative_schema_path,
        parent=error.parent,
    )
    return [merged]


def _names(types: Any) -> list[str]:
    return [types] if isinstance(types, str) else list(types)


def _problems(
    document: YamlFile, error: ValidationError, misspelt: dict[tuple[str | int, ...], set[str]]
) -> list[Problem]:
    where = list(error.absolute_path)
    field = _field_name(where)
    schema: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    value = error.instance
    if "propertyNames" in error.absolute_schema_path:
        wanted = schema.get("x-expected", "an allowed name")
        line = document.line_of([*where, str(value)])
        return [Problem(document.path, line, _say(field, f"the key '{value}' is not {wanted}"), code="schema.key")]
    if error.validator == "additionalProperties" and isinstance(value, dict):
        allowed = sorted(schema.get("properties", {}))
        return [
            Problem(
                document.path,
                document.line_of([*where, key]),
                _unknown_key(field, str(key), allowed),
                code="schema.unknown_key",
            )
            for key in value
            if key not in allowed
        ]
    if error.validator == "required" and isinstance(value, dict):
        properties = schema.get("properties", {})
        line = document.line_of(where)
        return [
            Problem(
                document.path, line, _say(field, _missing_key(key, properties.get(key, {}))), code="schema.required"
            )
            for key in error.validator_value
            if key not in value and key not in misspelt.get(tuple(where), set())
        ]
    return [
        Problem(
            document.path,
            document.line_of(where),
            _say(field, _value_message(document, where, error)),
            code=f"schema.{error.validator}",
        )
    ]


def _value_message(document: YamlFile, where: list[str | int], error: ValidationError) -> str:
    schema: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    value = error.instance
    shown = _shown(document, where, value)
    retyped = _retype_hint(document, where, error)
    if retyped:
        return retyped
    expected = schema.get("x-expected")
    if value is None:
        return f"has no value; it should be {expected or _type_words(schema.get('type', 'string'))}"
    if expected:
        return f"{shown} is not {expected}"
    keyword = str(error.validator)
    if keyword == "type":
        words = _type_words(error.validator_value)
        return f"should be {words}, not {shown}" if isinstance(value, (dict, list)) else f"{shown} should be {words}"
    if keyword == "enum":
        return _not_one_of(shown, value, error.validator_value)
    if keyword == "const":
        return f"{shown} should be {error.validator_value}"
    if keyword in ("minimum", "maximum"):
        return f"{shown} should be {_bounds(schema)}"
    limit = error.validator_value
    messages = {
        "minItems": "is empty; it needs at least one item" if limit == 1 else f"needs at least {limit} items",
        "maxItems": f"has {_count(value)} items; at most {limit} are allowed",
        "minLength": "is empty; write some text",
        "maxLength": f"is longer than {limit} characters",
        "uniqueItems": f"lists {_repeated(value)} twice; each item once is enough",
        "x-max-decimals": f"{shown} has more than {limit} decimals",
    }
    return messages.get(keyword, str(error.message))


def _retype_hint(document: YamlFile, where: list[str | int], error: ValidationError) -> str | None:
    """'30' in quotes where a number is wanted, or 901784520 unquoted where text is: say how to write it."""
    value = error.instance
    written = document.written(where)
    if written is None or value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, str):
        try:
            other = yaml.load(written, Loader=BooksLoader)
        except yaml.YAMLError:
            return None
        if isinstance(other, str) or not _fits(error, other):
            return None
        return f"'{written}' is in quotes, so it is text; write it without quotes: {_assignment(where, written)}"
    if not _fits(error, written):
        return None
    kind = "true or false" if isinstance(value, bool) else "a number"
    quoted = json.dumps(written, ensure_ascii=False)
    return f"{written} is read as {kind}; write it in quotes: {_assignment(where, quoted)}"


def _fits(error: ValidationError, value: Any) -> bool:
    schema = error.schema
    if not isinstance(schema, dict) or "$ref" in json.dumps(schema):
        return False
    from jsonschema import FormatChecker
    from referencing.exceptions import Unresolvable

    try:
        return bool(_validator_class()(schema, format_checker=FormatChecker()).is_valid(value))
    except Unresolvable:
        return False


def _assignment(where: list[str | int], text: str) -> str:
    return f"{where[-1]}: {text}" if where and isinstance(where[-1], str) else text


def _missing_key(key: str, schema: dict[str, Any]) -> str:
    examples = schema.get("examples")
    if not examples:
        return f"the key '{key}' is missing"
    return f"the key '{key}' is missing; add a line such as {key}: {_yaml_value(examples[0])}"


def _yaml_value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_yaml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_yaml_value(item)}" for key, item in value.items()) + "}"
    if isinstance(value, str):
        try:
            reads_as_text = isinstance(yaml.load(value, Loader=BooksLoader), str)
        except yaml.YAMLError:
            reads_as_text = False
        return value if reads_as_text else json.dumps(value, ensure_ascii=False)
    return json.dumps(value)


def _unknown_key(field: str, key: str, allowed: list[str]) -> str:
    close = _closest(key, allowed)
    hint = f" (did you mean '{close[0]}'?)" if close else f" (allowed: {', '.join(allowed)})"
    return _say(field, f"unknown key '{key}'{hint}")


def _closest(word: str, choices: list[str]) -> list[str]:
    return difflib.get_close_matches(word, choices, n=1)


def _not_one_of(shown: str, value: Any, choices: list[Any]) -> str:
    listed = ", ".join(str(choice) for choice in choices)
    close = _closest(str(value), [str(choice) for choice in choices])
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"{shown} is not one of: {listed}{hint}"


def _bounds(schema: dict[str, Any]) -> str:
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        return f"between {low} and {high}"
    return f"at least {low}" if low is not None else f"at most {high}"


def _say(field: str, text: str) -> str:
    return f"{field}: {text}" if field else text


def _field_name(where: Iterable[str | int]) -> str:
    text = ""
    for part in where:
        text += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _shown(document: YamlFile, where: list[str | int], value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    written = document.written(where)
    text = repr(written if written is not None else str(value))
    return text if len(text) <= 60 else text[:56] + "...'"


def _type_words(types: str | list[str]) -> str:
    names = [types] if isinstance(types, str) else types
    return " or ".join(_TYPE_WORDS.get(name, name) for name in names)


def _count(value: Any) -> int:
    return len(value) if isinstance(value, (list, dict)) else 0


def _repeated(items: Any) -> str:
    seen: list[Any] = []
    for item in items if isinstance(items, list) else []:
        if item in seen:
            return repr(str(item)) if not isinstance(item, (dict, list)) else "an item"
        seen.append(item)
    return "an item"
