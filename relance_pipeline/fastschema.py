"""A fast "valid" for the common case: the shipped JSON Schemas compiled into plain Python predicates.

jsonschema is thorough and words every error, but it costs most of the time of reading large books (about
0.7 ms per invoice). A compiled predicate answers True only when the document is valid by the same rules
as jsonschema (Draft 2020-12 with the format checker and `x-max-decimals`); for anything else, including a
keyword it does not know, it answers False, and jsonschema decides and words the errors. So it may only
ever make reading faster, never more lenient.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urldefrag, urljoin

Check = Callable[[Any], bool]

_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$defs", "$comment", "title", "description", "examples", "default", "x-expected"}
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)


def _never(_: Any) -> bool:
    return False


def _always(_: Any) -> bool:
    return True


def compile_schema(schema: Mapping[str, Any], others: Mapping[str, Mapping[str, Any]]) -> Check:
    """`others` maps the URI of each schema a `$ref` may reach (common.json) to its contents."""
    documents = dict(others)
    base = str(schema.get("$id", ""))
    documents[base] = schema
    return _Compiler(documents).compile(schema, base)


class _Compiler:
    def __init__(self, documents: Mapping[str, Mapping[str, Any]]) -> None:
        self.documents = documents
        self.refs: dict[str, Check] = {}
        self.compiling: set[str] = set()

    def compile(self, schema: Any, base: str) -> Check:
        if schema is True:
            return _always
        if not isinstance(schema, dict):
            return _never
        checks: list[Check] = []
        for keyword, value in schema.items():
            if keyword in _ANNOTATIONS:
                continue
            build = _KEYWORDS.get(keyword)
            if build is None:
                return _never  # a keyword this compiler does not know: let jsonschema decide
            checks.append(build(self, value, schema, base))
        if not checks:
            return _always
        if len(checks) == 1:
            return checks[0]
        return lambda instance: all(check(instance) for check in checks)

    def ref(self, ref: str, base: str) -> Check:
        uri, fragment = urldefrag(urljoin(base, ref))
        key = f"{uri}#{fragment}"
        if key in self.refs:
            return self.refs[key]
        if key in self.compiling:
            # A schema that refers to itself: look the compiled check up when it runs.
            return lambda instance: self.refs[key](instance)
        self.compiling.add(key)
        target = _pointer(self.documents.get(uri), fragment)
        self.refs[key] = _never if target is None else self.compile(target, uri)
        self.compiling.discard(key)
        return self.refs[key]


def _pointer(document: Any, fragment: str) -> Any:
    if document is None:
        return None
    node = document
    for part in [p for p in fragment.split("/") if p]:
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


_TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": _is_number,
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _type(_: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    names = [value] if isinstance(value, str) else list(value)
    if any(name not in _TYPES for name in names):
        return _never
    checks = [_TYPES[name] for name in names]
    return checks[0] if len(checks) == 1 else (lambda v: any(check(v) for check in checks))


def _same(a: Any, b: Any) -> bool:
    """Stricter than jsonschema's equality (1 and 1.0 differ here): a False only defers to jsonschema."""
    return type(a) is type(b) and a == b


def _enum(_: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    if all(isinstance(choice, str) for choice in value):
        choices = frozenset(value)
        return lambda v: isinstance(v, str) and v in choices
    return lambda v: any(_same(v, choice) for choice in value)


def _const(_: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    return lambda v: _same(v, value)


def _pattern(_: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    search = re.compile(value).search
    return lambda v: not isinstance(v, str) or search(v) is not None


def _min_length(_: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    return lambda v: not isinstance(v, str) or len(v) >= value


def _max_length(_: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    return lambda v: not isinstance(v, str) or len(v) <= value


def _format(_: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    if value != "date":
        return _never
    return lambda v: not isinstance(v, str) or (_DATE.match(v) is not None and _iso_date(v))


def _iso_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _minimum(_: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    return lambda v: not _is_number(v) or v >= value


def _maximum(_: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    return lambda v: not _is_number(v) or v <= value


def _max_decimals(_: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    def check(v: Any) -> bool:
        if isinstance(v, bool) or not isinstance(v, (Decimal, float)):
            return True
        exponent = Decimal(str(v)).as_tuple().exponent
        return not (isinstance(exponent, int) and exponent < -value)

    return check


def _any_of(compiler: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    options = [compiler.compile(option, base) for option in value]
    return lambda v: any(option(v) for option in options)


def _ref(compiler: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    return compiler.ref(value, base)


def _items(compiler: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    item = compiler.compile(value, base)
    return lambda v: not isinstance(v, list) or all(item(x) for x in v)


def _min_items(_: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    return lambda v: not isinstance(v, list) or len(v) >= value


def _max_items(_: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    return lambda v: not isinstance(v, list) or len(v) <= value


def _unique_items(_: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    if not value:
        return _always
    # Only lists of text are judged here; jsonschema's equality decides anything else.
    return lambda v: not isinstance(v, list) or (all(isinstance(x, str) for x in v) and len(set(v)) == len(v))


def _required(_: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    keys = tuple(value)
    return lambda v: not isinstance(v, dict) or all(key in v for key in keys)


def _properties(compiler: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    checks = {name: compiler.compile(sub, base) for name, sub in value.items()}

    def check(v: Any) -> bool:
        if not isinstance(v, dict):
            return True
        for key, item in v.items():
            known = checks.get(key) if isinstance(key, str) else None
            if known is not None and not known(item):
                return False
        return True

    return check


def _additional_properties(compiler: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    if "patternProperties" in schema:
        return _never
    named = frozenset(schema.get("properties", {}))
    extra = compiler.compile(value, base) if value is not False else None

    def check(v: Any) -> bool:
        if not isinstance(v, dict):
            return True
        for key, item in v.items():
            if not isinstance(key, str):
                return False
            if key not in named and (extra is None or not extra(item)):
                return False
        return True

    return check


def _property_names(compiler: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    name = compiler.compile(value, base)
    return lambda v: not isinstance(v, dict) or all(isinstance(k, str) and name(k) for k in v)


_Builder = Callable[[_Compiler, Any, Mapping[str, Any], str], Check]
_KEYWORDS: dict[str, _Builder] = {
    "type": _type,
    "enum": _enum,
    "const": _const,
    "pattern": _pattern,
    "minLength": _min_length,
    "maxLength": _max_length,
    "format": _format,
    "minimum": _minimum,
    "maximum": _maximum,
    "x-max-decimals": _max_decimals,
    "anyOf": _any_of,
    "$ref": _ref,
    "items": _items,
    "minItems": _min_items,
    "maxItems": _max_items,
    "uniqueItems": _unique_items,
    "required": _required,
    "properties": _properties,
    "additionalProperties": _additional_properties,
    "propertyNames": _property_names,
}
