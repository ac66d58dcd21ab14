"""The one writer of policies/rates.yaml: rows and ECB rate changes inserted, everything else kept to the byte.

The table is a file the user edits and reviews, so an update is an edit, not a rewrite: ruamel.yaml's
round-trip mode keeps comments, order, quoting and layout. Before anything is written the result is checked
to be the old text with lines inserted and nothing else changed; when ruamel.yaml cannot promise that for
some layout, `EditError` asks the user to add the rows by hand instead.
"""

from __future__ import annotations

import difflib
import io
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString
from ruamel.yaml.tokens import CommentToken

from relance_pipeline.core.rates import AddedRow, format_rate
from relance_pipeline.model import EcbRate

_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")
# (mapping, sequence, offset) indentations tried, in order, until one reproduces the file exactly.
_LAYOUTS = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4), (4, 4, 0), (2, 4, 0), (3, 3, 0), (3, 5, 3))


class EditError(Exception):
    """The table cannot be edited without changing what is already written; the user adds the rows."""


def insert(text: str, rows: Sequence[AddedRow], changes: Sequence[EcbRate]) -> str:
    """The table's text with the semester rows and the `ecb_mro` changes inserted in date order."""
    source = text.replace("\r\n", "\n")
    yaml, normalized = _round_trip(source)
    data = yaml.load(source)
    semesters = data.get("semesters")
    if rows and (not isinstance(semesters, CommentedMap) or not semesters or semesters.fa.flow_style()):
        raise EditError("its semesters are not a block mapping with rows")
    for row in sorted(rows, key=lambda r: r.semester):
        _insert_row(semesters, row)
    history = data.get("ecb_mro")
    if changes and (not isinstance(history, CommentedSeq) or not history or history.fa.flow_style()):
        raise EditError("its ecb_mro history is not a block list with entries")
    for change in changes:
        _append_change(history, change)
    edited = _splice(source, normalized, _dump(yaml, data))
    if not _only_inserted(source, edited):
        raise EditError("the edit would change lines already written")
    return _with_line_ends(text, edited)


def _with_line_ends(text: str, edited: str) -> str:
    """`edited` is `text`, its line ends made LF, with lines inserted: each old line gets its own end back, and
    each new line the end of the line above it (below it, at the top). A file of mixed ends keeps them."""
    old = _LINE.findall(text)
    new = _LINE.findall(edited)
    matcher = difflib.SequenceMatcher(None, [line.replace("\r\n", "\n") for line in old], new, False)
    result: list[str] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            result.extend(old[i1:i2])
            continue
        if tag != "insert":
            raise EditError("the edit would change lines already written")
        neighbour = next((line for line in reversed(old[:i1]) if line.endswith("\n")), None)
        neighbour = neighbour or next((line for line in old[i1:] if line.endswith("\n")), "\n")
        ending = "\r\n" if neighbour.endswith("\r\n") else "\n"
        result.extend(line[:-1] + ending if line.endswith("\n") else line for line in new[j1:j2])
    return "".join(result)


def _round_trip(text: str) -> tuple[YAML, str]:
    """The editor that writes the file back most faithfully, and the text it writes back unedited.

    Either the text exactly, or, for a hand layout ruamel.yaml does not keep (`{ a: 1 }`), the same number
    of lines: then each line written stands for the same line of the file, and only the inserted lines of
    an edit are taken from the editor (see `_splice`).
    """
    best: tuple[int, YAML, str] | None = None
    lines = text.splitlines(keepends=True)
    for mapping, sequence, offset in _LAYOUTS:
        yaml = YAML(typ="rt")
        yaml.preserve_quotes = True
        yaml.width = 4096
        yaml.explicit_start = text.startswith("---")
        yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
        try:
            written = _dump(yaml, yaml.load(text))
        except YAMLError as error:
            raise EditError(f"ruamel.yaml cannot read it ({error})") from None
        if written == text:
            return yaml, written
        same = written.splitlines(keepends=True)
        if len(same) == len(lines):
            score = sum(a == b for a, b in zip(same, lines, strict=True))
            if best is None or score > best[0]:
                best = (score, yaml, written)
    if best is None:
        raise EditError("its layout cannot be kept by the YAML editor")
    return best[1], best[2]


def _dump(yaml: YAML, data: Any) -> str:
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()


def _splice(source: str, normalized: str, edited: str) -> str:
    """Insert into `source` the lines the edit inserted into `normalized`, at the same places."""
    if normalized == source:
        return edited
    old, new = source.splitlines(keepends=True), edited.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, normalized.splitlines(keepends=True), new, False)
    result: list[str] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            result.extend(old[i1:i2])
        elif tag == "insert":
            result.extend(new[j1:j2])
        else:
            raise EditError("the edit would change lines already written")
    return "".join(result)


def _insert_row(semesters: CommentedMap, row: AddedRow) -> None:
    keys = list(semesters)
    position = sum(1 for key in keys if str(key) < str(row.semester))
    model = semesters[keys[min(position, len(keys) - 1)]]
    values = CommentedMap(
        (name, _like(model, name, value))
        for name, value in (("ecb_reference", row.rates.ecb_reference), ("b2b_default", row.rates.b2b_default))
    )
    if not isinstance(model, CommentedMap) or model.fa.flow_style():
        values.fa.set_flow_style()
    if position == len(keys):
        _append_keeping_tail(semesters, lambda: semesters.insert(position, str(row.semester), values))
    else:
        semesters.insert(position, str(row.semester), values)


def _append_change(history: CommentedSeq, change: EcbRate) -> None:
    model = history[-1]
    entry = CommentedMap((("from", change.since), ("rate", _like(model, "rate", change.rate))))
    if not isinstance(model, CommentedMap) or model.fa.flow_style():
        entry.fa.set_flow_style()
    _append_keeping_tail(history, lambda: history.append(entry))


def _like(model: Any, name: str, value: Decimal) -> Any:
    """The rate written with the quoting of the same field in a neighbouring row."""
    text = format_rate(value)
    existing = model.get(name) if isinstance(model, CommentedMap) else None
    if isinstance(existing, SingleQuotedScalarString):
        return SingleQuotedScalarString(text)
    if isinstance(existing, str | None):
        return DoubleQuotedScalarString(text)
    # A plain number: loading it gives the scalar ruamel.yaml writes back in the same form.
    return YAML(typ="rt").load(f"value: {text}\n")["value"]


def _append_keeping_tail(container: CommentedMap | CommentedSeq, append: Any) -> None:
    """Append, moving the comment lines that follow the old last item after the new one.

    ruamel.yaml attaches the lines after the last item (a closing note, a blank line, a comment above the
    next key) to that item; without the move they would end up between it and the new one.
    """
    old = _tail_slot(container)
    token = old[0].ca.items.get(old[1], [None] * 4)[old[2]] if old else None
    append()
    if token is None or old is None:
        return
    keep, _, rest = token.value.partition("\n")
    new = _tail_slot(container)
    if not rest or new is None:
        return
    token.value = keep + "\n"
    moved = CommentToken("\n" + rest, token.start_mark, None)
    slots = new[0].ca.items.setdefault(new[1], [None] * 4)
    slots[new[2]] = moved


def _tail_slot(node: Any) -> tuple[Any, Any, int] | None:
    """Where ruamel.yaml keeps the comment after the last item of a block collection: (holder, key, index)."""
    if isinstance(node, CommentedMap) and node and not node.fa.flow_style():
        key = list(node)[-1]
        return _tail_slot(node[key]) or (node, key, 2)
    if isinstance(node, CommentedSeq) and node and not node.fa.flow_style():
        index = len(node) - 1
        return _tail_slot(node[index]) or (node, index, 0)
    return None


def _only_inserted(old: str, new: str) -> bool:
    """True when `new` is `old` with whole lines added, each old line intact and in its place."""
    matcher = difflib.SequenceMatcher(None, old.splitlines(keepends=True), new.splitlines(keepends=True), False)
    return all(tag in ("equal", "insert") for tag, *_ in matcher.get_opcodes())
