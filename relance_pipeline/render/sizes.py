"""The size of what a template operation would make, checked before Python makes it.

The output budget counts what a template writes, but a filter or a method asked for a width of a billion
(`"x"|center(10**9)`, `'%*s'|format(10**9, '')`, `'x'.ljust(10**9)`, a `replace` whose copies multiply) allocates
its gigabyte in one call, before anything is written. Each such operation is measured from its arguments first and
refused past `MAX_CHARACTERS`, with the same `TemplateTooLarge` as the output itself. The estimates are upper
bounds computed in time linear in the inputs, without building anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import wraps
from typing import Any

from relance_pipeline.render.budget import MAX_CHARACTERS, TemplateTooLarge

_PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_NUMBER = re.compile(r"\d+")
_SEQUENCES = (str, bytes, list, tuple)
_JSON_LINES = 1000
"""What `tojson(indent=n)` is allowed to indent: n spaces on a thousand lines."""


def check(estimate: int) -> None:
    if estimate > MAX_CHARACTERS:
        raise TemplateTooLarge()


def length(value: Any) -> int:
    return len(value) if isinstance(value, str | bytes | list | tuple | dict | set | frozenset) else 0


def _integers(values: Iterable[Any]) -> int:
    return sum(abs(v) for v in values if isinstance(v, int) and not isinstance(v, bool))


def _as_sequence(values: Any) -> tuple[Any, ...]:
    if isinstance(values, tuple):
        return values
    if isinstance(values, Mapping):
        return tuple(values.values())
    return (values,)


def binop(operator: str, left: Any, right: Any) -> None:
    """`+` of two strings or lists (a doubling loop), `%` formatting (`'%1000000000d' % 1`)."""
    if operator == "+" and isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
        check(len(left) + len(right))
    elif operator == "%" and isinstance(left, str):
        printf(left, right)


def printf(template: str, values: Any) -> None:
    """`template % values`: widths and precisions are what can grow; `*` takes them from the values."""
    arguments = _as_sequence(values)
    estimate = len(template) + sum(length(v) for v in arguments)
    for width, precision in _PRINTF.findall(template):
        for part in (width, precision):
            estimate += _integers(arguments) if part == "*" else int(part or 0)
    check(estimate)


def str_format(template: str, args: Iterable[Any], kwargs: Mapping[str, Any]) -> None:
    """`template.format(...)`: every number in a field's spec may be a width; a nested `{}` takes one from the
    arguments."""
    values = (*args, *kwargs.values())
    estimate = len(template) + sum(length(v) for v in values)
    for field in re.findall(r"\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}", template):
        _, _, spec = field[1:-1].partition(":")
        estimate += sum(int(n) for n in _NUMBER.findall(spec))
        if "{" in spec:
            estimate += _integers(values)
    check(estimate)


def replaced(text: str, old: Any, new: Any, count: Any = -1) -> None:
    """`text.replace(old, new, count)`: each occurrence grows by the difference; an empty `old` is everywhere."""
    if not isinstance(old, str) or not isinstance(new, str) or len(new) <= len(old):
        return
    found = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    check(len(text) + found * (len(new) - len(old)))


def joined(separator: str, items: list[Any]) -> None:
    check(len(separator) * max(len(items) - 1, 0) + sum(length(item) for item in items))


def indented(text: str, width: Any) -> None:
    check(len(text) + (text.count("\n") + 1) * (width if isinstance(width, int) else length(width)))


def string_method(text: str, name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> tuple[Any, ...]:
    """Checks a call of `text.<name>(*args)`; returns the arguments to call it with (an iterable to join made a
    list, so that it is measured and then joined, not consumed twice)."""
    given = (*args, *kwargs.values())
    if name in ("center", "ljust", "rjust", "zfill") and given:
        check(_integers(given[:1]))
    elif name == "expandtabs":
        check(len(text) + text.count("\t") * _integers(given[:1] or (8,)))
    elif name == "replace" and len(given) >= 2:
        replaced(text, *given[:3])
    elif name == "join" and args:
        items = list(args[0])
        joined(text, items)
        return (items, *args[1:])
    elif name == "translate" and given and isinstance(given[0], Mapping):
        check(len(text) * max([1, *(length(v) for v in given[0].values())]))
    return args


_GROWING = {"append": 1, "insert": 1, "add": 1, "setdefault": 1, "extend": -1, "update": -1}


def container_method(container: list[Any] | dict[Any, Any] | set[Any], name: str, args: tuple[Any, ...]) -> None:
    """A list, dict or set a template grows (`items.append(x)` in a loop, `items.extend(items)` doubling)."""
    grows = _GROWING.get(name)
    if grows is not None:
        check(len(container) + (grows if grows > 0 else sum(length(a) for a in args)))


def _checked(filter_function: Callable[..., Any], measure: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(filter_function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        replaced_args = measure(*args, **kwargs)
        return filter_function(*(replaced_args if replaced_args is not None else args), **kwargs)

    return bounded


def bounded_filters(filters: Mapping[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """Jinja's built-in filters that can make more than they are given, each measured first (the others, such
    as `truncate` or `wordwrap` with a plain wrap string, make at most a few times their input)."""

    def center(value: Any, width: Any = 80, *_: Any, **__: Any) -> None:
        check(length(str(value)) + _integers((width,)))

    def indent(value: Any, width: Any = 4, *_: Any, **__: Any) -> None:
        indented(str(value), width)

    def format_filter(value: Any, *args: Any, **kwargs: Any) -> None:
        printf(str(value), kwargs or args)

    def replace(context: Any, value: Any, old: Any, new: Any, count: Any = None) -> None:
        replaced(str(value), old, new, -1 if count is None else count)

    def join(context: Any, value: Any, d: Any = "", attribute: Any = None) -> tuple[Any, ...]:
        items = list(value)
        joined(str(d), items)
        return (context, items, d, attribute)

    def wordwrap(environment: Any, s: Any, width: Any = 79, break_long: Any = True, wrapstring: Any = None,
                 *_: Any) -> None:  # fmt: skip
        text = str(s)
        breaks = len(text) // max(width if isinstance(width, int) else 1, 1) + text.count("\n") + 1
        check(len(text) + breaks * max(length(wrapstring), 1))

    def batch(value: Any, linecount: Any, fill_with: Any = None) -> None:
        if fill_with is not None:  # the last batch is filled up to `linecount` items
            check(_integers((linecount,)))

    def slice_filter(value: Any, slices: Any, fill_with: Any = None) -> None:
        check(_integers((slices,)))  # `slices` lists, however few items there are

    def tojson(context: Any, value: Any, indent: Any = None) -> None:
        check(_integers((indent,)) * _JSON_LINES)

    measures: dict[str, Callable[..., Any]] = {
        "center": center,
        "indent": indent,
        "format": format_filter,
        "replace": replace,
        "join": join,
        "wordwrap": wordwrap,
        "batch": batch,
        "slice": slice_filter,
        "tojson": tojson,
    }
    return {name: _checked(filters[name], measure) for name, measure in measures.items() if name in filters}
