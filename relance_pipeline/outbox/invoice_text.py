"""Add a payment to an invoice file as text, so that the user's file keeps its layout, comments and quoting.

Pure: text in, text out. Only the list's lines change: comments stay, and each new line ends as the line
next to it does. The caller checks the result by loading it again (a YAML rewrite by a library would
reorder keys and drop comments of a file the user keeps by hand).
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal

_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")
_KEY = r"^{key}[ \t]*:(?P<rest>.*?)(?P<newline>\r?\n)?$"
_ITEM = re.compile(r"^(?P<indent>[ \t]*)-(?:[ \t]|$)")
_EMPTY_FLOW = re.compile(r"^[ \t]*\[[ \t]*\](?P<comment>[ \t]*#.*)?$")
_ONE_LINE_FLOW = re.compile(r"^(?P<head>[ \t]*\[.*?)(?P<close>[ \t]*\])(?P<tail>[ \t]*(#.*)?)$")


def payment_item(day: date, amount: Decimal, reference: str | None) -> str:
    """`{date: 2026-06-20, amount: "1200.00", reference: "VIR 42"}`: one flow mapping, valid in any list."""
    fields = [f"date: {day.isoformat()}", f'amount: "{amount:.2f}"']
    if reference is not None:
        fields.append(f"reference: {json.dumps(reference, ensure_ascii=False)}")
    return "{" + ", ".join(fields) + "}"


def add_payment(text: str, day: date, amount: Decimal, reference: str | None, comment: str | None = None) -> str | None:
    """The file's text with one more payment; None when the payments list is written in a way this cannot
    extend safely (a flow list over several lines). `comment` follows the item on its line in a block list."""
    return add_item(text, "payments", payment_item(day, amount, reference), comment)


def credit_note_item(number: str, day: date, amount: Decimal) -> str:
    return (
        "{" + f'number: {json.dumps(number, ensure_ascii=False)}, date: {day.isoformat()}, amount: "{amount:.2f}"' + "}"
    )


def add_credit_note(text: str, number: str, day: date, amount: Decimal) -> str | None:
    """The file's text with one more credit note (as `add_payment`, for the `credit_notes` list)."""
    return add_item(text, "credit_notes", credit_note_item(number, day, amount))


def add_item(text: str, key: str, item: str, comment: str | None = None) -> str | None:
    """The file's text with `item` appended to the top-level list `key` (created at the end when absent)."""
    pattern = re.compile(_KEY.format(key=re.escape(key)))
    block_item = item if comment is None else f"{item}  # {' '.join(comment.split())}"
    lines = _LINE.findall(text)  # not str.splitlines: a U+2028 inside a quoted string does not end a YAML line
    newline = _ending(lines[0], "\n") if lines else "\n"
    for index, line in enumerate(lines):
        found = pattern.match(line)
        if found is None:
            continue
        rest = found.group("rest")
        empty = _EMPTY_FLOW.match(rest)
        if empty is not None:
            ending = _ending(line, newline)
            lines[index] = f"{key}:{empty.group('comment') or ''}{ending}  - {block_item}{ending}"
            return "".join(lines)
        flow = _ONE_LINE_FLOW.match(rest)
        if flow is not None:
            ending = found.group("newline") or ""
            lines[index] = f"{key}:{flow.group('head')}, {item}{flow.group('close')}{flow.group('tail')}{ending}"
            return "".join(lines)
        if rest.strip() and not rest.strip().startswith("#"):
            return None
        return _add_to_block(lines, index, block_item, newline)
    ended = [line for line in lines if line.endswith("\n")]
    ending = _ending(ended[-1], newline) if ended else newline
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += ending
    return "".join([*lines, f"{key}:{ending}", f"  - {block_item}{ending}"])


def _add_to_block(lines: list[str], key: int, item: str, newline: str) -> str:
    """Insert after the last item line of the block sequence that follows `payments:` at line `key`."""
    last = key
    indent: str | None = None
    for index in range(key + 1, len(lines)):
        line = lines[index]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        item_start = _ITEM.match(line)
        if item_start is not None and indent is None:
            indent = item_start.group("indent")
        if line[0] in " \t" or item_start is not None:
            last = index
            continue
        break
    ending = _ending(lines[last], newline)
    if not lines[last].endswith("\n"):
        lines[last] += ending
    lines.insert(last + 1, f"{indent if indent is not None else '  '}- {item}{ending}")
    return "".join(lines)


def _ending(line: str, otherwise: str) -> str:
    """The line end of `line` (`otherwise` for a last line without one): a new line next to it takes the same."""
    return "\r\n" if line.endswith("\r\n") else "\n" if line.endswith("\n") else otherwise
