"""JSON Schemas shipped in the package, and their errors told in plain words with file and line."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any, Literal

from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from referencing import Registry, Resource

from .load import Document
from .model import Problem

Kind = Literal["config", "client", "invoice", "policy", "rates"]
_BASE = "https://relance.invalid/schemas/"
_TYPE_WORDS = {
    "object": "a mapping of keys",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
}


def _schema_text(name: str) -> dict[str, Any]:
    return json.loads(resources.files("relance_pipeline").joinpath("schemas", name).read_text("utf-8"))  # type: ignore[no-any-return]


@cache
def validator(kind: Kind) -> Draft202012Validator:
    common = _schema_text("common.json")
    registry: Registry[Any] = Registry().with_resource(_BASE + "common.json", Resource.from_contents(common))
    return Draft202012Validator(_schema_text(f"{kind}.json"), registry=registry, format_checker=FormatChecker())


def schema_problems(document: Document, kind: Kind) -> list[Problem]:
    """Every schema error of the document, in the order of the file."""
    checker = validator(kind)
    if checker.is_valid(document.data):
        return []
    problems = [_problem(document, error) for error in _leaf_errors(checker.iter_errors(document.data))]
    return sorted(set(problems), key=lambda p: (p.line or 0, p.message))


def _leaf_errors(errors: Iterator[ValidationError]) -> Iterator[ValidationError]:
    for error in errors:
        # An anyOf that carries its own wording is reported once, in that wording; others by their parts.
        if error.validator in ("anyOf", "oneOf") and "x-expected" not in error.schema and error.context:
            yield from _leaf_errors(iter(error.context))
        else:
            yield error


def _problem(document: Document, error: ValidationError) -> Problem:
    where = list(error.absolute_path)
    field = _field_name(where)
    value = error.instance
    expected = error.schema.get("x-expected") if isinstance(error.schema, dict) else None
    keyword = error.validator
    if keyword == "additionalProperties" and isinstance(value, dict):
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(value) - set(allowed))
        key = unknown[0] if unknown else "?"
        return Problem(document.path, document.line_of([*where, key]), _unknown_key(field, key, allowed))
    if keyword == "required":
        missing = str(error.message).split("'")[1] if "'" in str(error.message) else "?"
        place = f"{field}: " if field else ""
        return Problem(document.path, document.line_of(where), f"{place}the key '{missing}' is missing")
    if keyword == "propertyNames":
        return Problem(document.path, document.line_of(where), f"{field}: {value!r} is not {expected}")
    line = document.line_of(where)
    if expected and keyword in ("anyOf", "oneOf", "pattern", "format", "type", "const", "maxLength", "minLength"):
        return Problem(document.path, line, f"{field}: {_shown(value)} is not {expected}")
    if keyword == "type":
        words = _type_words(error.validator_value)
        return Problem(document.path, line, f"{field}: {_shown(value)} should be {words}")
    if keyword in ("enum", "const"):
        choices = error.validator_value if keyword == "enum" else [error.validator_value]
        listed = ", ".join(str(c) for c in choices)
        return Problem(document.path, line, f"{field}: {_shown(value)} is not one of: {listed}")
    return Problem(document.path, line, f"{field}: {_plain(error)}" if field else _plain(error))


def _unknown_key(field: str, key: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else f" (allowed: {', '.join(allowed)})"
    place = f"{field}: " if field else ""
    return f"{place}unknown key '{key}'{hint}"


def _field_name(where: list[str | int]) -> str:
    text = ""
    for part in where:
        text += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _shown(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    text = repr(str(value)) if not isinstance(value, bool) else str(value).lower()
    return text if len(text) <= 60 else text[:57] + "...'"


def _type_words(types: str | list[str]) -> str:
    names = [types] if isinstance(types, str) else types
    return " or ".join(_TYPE_WORDS.get(name, name) for name in names)


def _plain(error: ValidationError) -> str:
    keyword = error.validator
    limit = error.validator_value
    messages = {
        "minItems": f"needs at least {limit} item(s)",
        "maxItems": f"has more than {limit} items",
        "minimum": f"{_shown(error.instance)} is below the minimum {limit}",
        "maximum": f"{_shown(error.instance)} is above the maximum {limit}",
        "minLength": "is empty",
        "maxLength": f"is longer than {limit} characters",
        "uniqueItems": "lists the same item twice",
    }
    return messages.get(str(keyword), str(error.message))
