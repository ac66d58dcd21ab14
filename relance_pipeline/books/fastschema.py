"""A fast "valid" for the common case: the shipped JSON Schemas compiled to Python by fastjsonschema.

jsonschema is thorough and words every error, but it costs most of the time of reading large books (about
0.7 ms per invoice). The compiled check answers True only when jsonschema (Draft 2020-12 with the format
checker and `x-max-decimals`) would find the document valid; when it answers False, jsonschema decides and
words the errors. So it may only ever make reading faster, never more lenient. Where fastjsonschema and
jsonschema differ, the schema handed to fastjsonschema is made stricter, never looser:
- `x-max-decimals` (ours) counts the decimals as written, which no standard keyword can: a number schema that
  has it accepts whole numbers only here, so a written decimal number goes to jsonschema (amounts and rates
  are usually quoted text in the books, which the fast path takes);
- `format: date` is checked as jsonschema's format checker does (`date.fromisoformat`);
- fastjsonschema reads every unescaped `$` of a pattern as the end of the text, even inside `[...]`, so the
  shipped patterns escape a `$` they mean literally (common.json's email);
- a pattern's final `$` means the very end of the text here, also before a final newline in jsonschema:
  text ending in a newline is left to jsonschema;
- fastjsonschema ignores a keyword it does not implement (Draft 2020-12's `prefixItems`, `dependentRequired`,
  `unevaluatedProperties`...) where jsonschema checks it: a schema that uses one is never valid here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import fastjsonschema

Check = Callable[[Any], bool]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
# The keywords of the shipped schemas that fastjsonschema checks as jsonschema does, and the annotations.
_UNDERSTOOD = frozenset(
    {
        *("type", "enum", "const", "pattern", "minLength", "maxLength", "format", "minimum", "maximum"),
        *("items", "minItems", "maxItems", "uniqueItems", "required", "properties", "additionalProperties"),
        *("propertyNames", "anyOf", "$ref", "x-max-decimals"),
        *("$schema", "$id", "$defs", "$comment", "title", "description", "examples", "default", "x-expected"),
    }
)


def compile_schema(schema: Mapping[str, Any], others: Mapping[str, Mapping[str, Any]]) -> Check:
    """`others` maps the URI of each schema a `$ref` may reach (common.json) to its contents."""
    if not all(_understood(document) for document in (schema, *others.values())):
        return _never
    documents = {uri: _stricter(document) for uri, document in others.items()}

    def fetch(uri: str) -> Any:
        if uri not in documents:
            raise fastjsonschema.JsonSchemaDefinitionException(f"no schema {uri} is shipped")
        return documents[uri]

    validate = fastjsonschema.compile(
        _stricter(schema),
        handlers={"https": fetch, "http": fetch},
        formats={"date": _is_date},
        use_default=False,
    )

    def check(instance: Any) -> bool:
        try:
            validate(instance)
        except fastjsonschema.JsonSchemaValueException:
            return False
        return True

    return check


def _never(_: Any) -> bool:
    return False


def _understood(schema: Any) -> bool:
    """Every keyword of the schema, at any depth, is one of `_UNDERSTOOD`."""
    if isinstance(schema, list):
        return all(_understood(item) for item in schema)
    if not isinstance(schema, dict):
        return True
    for key, value in schema.items():
        if key not in _UNDERSTOOD:
            return False
        if key in ("enum", "const", "examples"):
            continue
        children = value.values() if key in ("properties", "$defs") and isinstance(value, dict) else [value]
        if not all(_understood(child) for child in children):
            return False
    return True


def _is_date(text: str) -> bool:
    if _DATE.match(text) is None:
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _stricter(schema: Any) -> Any:
    """The schema with each number schema that limits decimals (`x-max-decimals`) taking whole numbers only."""
    if isinstance(schema, list):
        return [_stricter(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    changed = {
        key: _stricter(value) if key not in ("enum", "const", "examples") else value for key, value in schema.items()
    }
    if "x-max-decimals" in changed and changed.get("type") == "number":
        changed["type"] = "integer"
    return changed
