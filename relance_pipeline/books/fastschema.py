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
# The kind of a value as JSON Schema sees it, from its exact Python type; a type not listed is left to jsonschema.
_KIND_OF: dict[type, str] = {
    str: "string",
    dict: "object",
    list: "array",
    bool: "boolean",
    int: "integer",
    float: "number",
    Decimal: "number",
    type(None): "null",
}
_KINDS = frozenset(_KIND_OF.values())
# Keywords that apply to one kind of value only; jsonschema ignores them for the others.
_APPLIES_TO: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("pattern", "minLength", "maxLength", "format"), ("string",)),
    **dict.fromkeys(("minimum", "maximum", "x-max-decimals"), ("integer", "number")),
    **dict.fromkeys(("items", "minItems", "maxItems", "uniqueItems"), ("array",)),
    **dict.fromkeys(("required", "properties", "additionalProperties", "propertyNames"), ("object",)),
}


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
        """One predicate per schema: it looks at the value's kind once, then runs only the keywords that apply
        to that kind (a pattern to text, items to a list), as jsonschema ignores the others."""
        if schema is True:
            return _always
        if not isinstance(schema, dict):
            return _never
        allowed: frozenset[str] | None = None
        by_kind: dict[str, list[Check]] = {}
        generic: list[Check] = []
        closed = "properties" in schema and schema.get("additionalProperties") is False
        for keyword, value in schema.items():
            if keyword in _ANNOTATIONS or (closed and keyword == "additionalProperties"):
                continue
            if keyword == "type":
                allowed = _allowed_kinds(value)
                if allowed is None:
                    return _never
                continue
            build = _closed_object if closed and keyword == "properties" else _KEYWORDS.get(keyword)
            if build is None:
                return _never  # a keyword this compiler does not know: let jsonschema decide
            check = build(self, value, schema, base)
            kinds = _APPLIES_TO.get(keyword)
            if kinds is None:
                generic.append(check)
            for kind in kinds or ():
                by_kind.setdefault(kind, []).append(check)
        if allowed is None and not by_kind and len(generic) == 1:
            return generic[0]  # a bare `$ref` (with annotations): no layer of its own
        if allowed == frozenset({"string"}) and not generic:
            return _text_check(schema)
        return _dispatch(allowed, by_kind, generic)

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


def _allowed_kinds(value: Any) -> frozenset[str] | None:
    names = {value} if isinstance(value, str) else set(value)
    if not names <= _KINDS:
        return None
    return frozenset(names | {"integer"}) if "number" in names else frozenset(names)


def _dispatch(allowed: frozenset[str] | None, by_kind: Mapping[str, list[Check]], generic: list[Check]) -> Check:
    kinds = {kind: tuple(checks) for kind, checks in by_kind.items()}
    rest = tuple(generic)

    def check(instance: Any) -> bool:
        kind = _KIND_OF.get(type(instance))
        if kind is None or (allowed is not None and kind not in allowed):
            return False
        for one in kinds.get(kind, ()):
            if not one(instance):
                return False
        for one in rest:  # noqa: SIM110 - a plain loop: all() with a generator costs twice as much on this hot path
            if not one(instance):
                return False
        return True

    return check


def _text_check(schema: Mapping[str, Any]) -> Check:
    """A text schema (type, pattern, lengths, format) as one function: most values of the books are text."""
    search = re.compile(schema["pattern"]).search if "pattern" in schema else None
    shortest = schema.get("minLength", 0)
    longest = schema.get("maxLength")
    fmt = schema.get("format")
    if fmt not in (None, "date"):
        return _never

    def check(v: Any) -> bool:
        if type(v) is not str or len(v) < shortest or (longest is not None and len(v) > longest):
            return False
        if search is not None and search(v) is None:
            return False
        return fmt is None or (_DATE.match(v) is not None and _iso_date(v))

    return check


# Each builder returns the check of one keyword. Those in _APPLIES_TO only ever see values of their kind.
_Builder = Callable[[_Compiler, Any, Mapping[str, Any], str], Check]


def _same(a: Any, b: Any) -> bool:
    """Stricter than jsonschema's equality (1 and 1.0 differ here): a False only defers to jsonschema."""
    return type(a) is type(b) and a == b


def _enum(_: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    if all(isinstance(choice, str) for choice in value):
        choices = frozenset(value)
        return lambda v: type(v) is str and v in choices
    return lambda v: any(_same(v, choice) for choice in value)


def _const(_: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    return lambda v: _same(v, value)


def _pattern(_: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    search = re.compile(value).search
    return lambda v: search(v) is not None


def _min_length(_: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    return lambda v: len(v) >= value


def _max_length(_: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    return lambda v: len(v) <= value


def _format(_: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    if value != "date":
        return _never
    return lambda v: _DATE.match(v) is not None and _iso_date(v)


def _iso_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _minimum(_: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    return lambda v: bool(v >= value)


def _maximum(_: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    return lambda v: bool(v <= value)


def _max_decimals(_: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    def check(v: Any) -> bool:
        if type(v) is int:
            return True
        exponent = Decimal(str(v)).as_tuple().exponent
        return not (isinstance(exponent, int) and exponent < -value)

    return check


def _any_of(compiler: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    options = tuple(compiler.compile(option, base) for option in value)
    return lambda v: any(option(v) for option in options)


def _ref(compiler: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    return compiler.ref(value, base)


def _items(compiler: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    item = compiler.compile(value, base)
    return lambda v: all(item(x) for x in v)


def _min_items(_: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    return lambda v: len(v) >= value


def _max_items(_: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    return lambda v: len(v) <= value


def _unique_items(_: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    if not value:
        return _always
    # Only lists of text are judged here; jsonschema's equality decides anything else.
    return lambda v: all(type(x) is str for x in v) and len(set(v)) == len(v)


def _required(_: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    keys = tuple(value)
    return lambda v: all(key in v for key in keys)


def _properties(compiler: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    checks = {name: compiler.compile(sub, base) for name, sub in value.items()}

    def check(v: Any) -> bool:
        for key, item in v.items():
            known = checks.get(key) if type(key) is str else None
            if known is not None and not known(item):
                return False
        return True

    return check


def _closed_object(compiler: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    """`properties` with `additionalProperties: false`, in one pass over the keys."""
    if "patternProperties" in schema:
        return _never
    checks = {name: compiler.compile(sub, base) for name, sub in value.items()}

    def check(v: Any) -> bool:
        for key, item in v.items():
            known = checks.get(key) if type(key) is str else None
            if known is None or not known(item):
                return False
        return True

    return check


def _additional_properties(compiler: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    if "patternProperties" in schema:
        return _never
    named = frozenset(schema.get("properties", {}))
    extra = compiler.compile(value, base)

    def check(v: Any) -> bool:
        for key, item in v.items():
            if type(key) is not str:
                return False
            if key not in named and not extra(item):
                return False
        return True

    return check


def _property_names(compiler: _Compiler, value: Any, schema: Mapping[str, Any], base: str) -> Check:
    name = compiler.compile(value, base)
    return lambda v: all(type(k) is str and name(k) for k in v)


_KEYWORDS: dict[str, _Builder] = {
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
