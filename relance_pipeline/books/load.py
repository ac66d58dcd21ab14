"""Files → raw documents. The only place that reads YAML.

A file that cannot be read comes back as a `Problem` value, never as an exception: the caller collects
every problem of every file and shows them together.

The loader is PyYAML's safe loader (the C one when present) with three changes that matter for books
kept by hand: dates stay text (so `2026-13-01` is reported by the schema, not raised by the parser),
decimals load as `Decimal` (never a float), and a key written twice is an error (a typo must not silently
replace a value).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Hashable, Iterable, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, ClassVar

import yaml

from relance_pipeline.books.yaml_errors import STANDARD_TAGS as _STANDARD_TAGS
from relance_pipeline.books.yaml_errors import yaml_problem
from relance_pipeline.model import Problem

MAX_FILE_BYTES = 1024 * 1024
MAX_NODES = 50_000
MAX_DEPTH = 64

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TIMESTAMP_TAG = _STANDARD_TAGS + "timestamp"
_MERGE_TAG = _STANDARD_TAGS + "merge"
_STR_TAG = _STANDARD_TAGS + "str"


class BooksLoader(_BaseLoader):  # type: ignore[valid-type, misc]
    """Safe loader for the books: dates as text, decimals as Decimal, duplicate keys refused."""

    yaml_implicit_resolvers: ClassVar[dict[Any, list[tuple[str, Any]]]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
        for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        # Every explicit tag is written with a `!`: a text without one needs no tag check (a quick path for
        # large books, where resolving each value's implicit tag again would cost a third of the loading).
        self._may_have_tags = not isinstance(stream, str) or "!" in stream

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        # An explicit tag (`!!int x`, `!!binary`, `!!python/object`) is refused before anything is built from it:
        # books are plain data, and PyYAML's own constructors raise bare exceptions on bad values.
        self._refuse_explicit_tag(node)
        return super().construct_object(node, deep=deep)

    def _refuse_explicit_tag(self, node: yaml.Node) -> None:
        if self._may_have_tags and node.tag != _STR_TAG and node.tag != self._implicit_tag(node):
            name = node.tag.replace(_STANDARD_TAGS, "!!")
            raise yaml.constructor.ConstructorError(
                None, None, f"the YAML tag '{name}' is not allowed: books hold plain data only", node.start_mark
            )

    def _implicit_tag(self, node: yaml.Node) -> str:
        if isinstance(node, yaml.MappingNode):
            return _STANDARD_TAGS + "map"
        if isinstance(node, yaml.SequenceNode):
            return _STANDARD_TAGS + "seq"
        if getattr(node, "style", None):  # quoted or block text
            return _STR_TAG
        return str(self.resolve(yaml.ScalarNode, node.value, (True, False)))

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            self._refuse_explicit_tag(key_node)
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.constructor.ConstructorError(
                    None, None, "a key must be plain text, not a list or a mapping", key_node.start_mark
                )
            if key_node.value in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key '{key_node.value}' is written twice", key_node.start_mark
                )
            seen.add(key_node.value)
        self.flatten_mapping(node)
        # Keys stay the text they are written as: `2026:` or `1:` is a key named "2026", so that every key
        # downstream is a string (sortable, comparable with the schema's names) whatever YAML makes of it. So
        # a key is its node's text, taken as it is rather than constructed (half the nodes of the books).
        mapping: dict[Hashable, Any] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                _as_text(key)  # raises: a key must be plain text
            mapping[key.value] = self.construct_object(value, deep=deep)
        return mapping


def _as_text(node: yaml.Node) -> yaml.ScalarNode:
    if not isinstance(node, yaml.ScalarNode):
        raise yaml.constructor.ConstructorError(
            None, None, "a key must be plain text, not a list or a mapping", node.start_mark
        )
    return yaml.ScalarNode(_STR_TAG, node.value, node.start_mark, node.end_mark)


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    text = str(loader.construct_scalar(node)).replace("_", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise yaml.constructor.ConstructorError(None, None, f"'{node.value}' is not a finite number", node.start_mark)
    return value


BooksLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)


class YamlFile:
    """A parsed YAML file, with its text kept to locate errors afterwards.

    Kept in the books cache as its text only: the parsed data is half the cache's size and time, and after the
    books are built only a rejected file's is read again (it is parsed again then, from the same text)."""

    __slots__ = ("_data", "path", "text")

    def __init__(self, path: str, data: Any, text: str) -> None:
        self.path, self.text, self._data = path, text, data

    @property
    def data(self) -> Any:
        if self._data is _UNPARSED:
            self._data = yaml.load(self.text, Loader=BooksLoader)
        return self._data

    def __reduce__(self) -> tuple[Any, ...]:
        return _unparsed, (self.path, self.text)

    def __eq__(self, other: object) -> bool:
        """The same file read: its data is a function of its text."""
        return isinstance(other, YamlFile) and (self.path, self.text) == (other.path, other.text)

    def __hash__(self) -> int:
        return hash((self.path, self.text))

    def __repr__(self) -> str:
        return f"YamlFile({self.path!r})"

    def line_of(self, where: Sequence[str | int]) -> int:
        """The line of the value at `where` (keys and list indexes), or of its nearest existing parent."""
        return line_of(self.text, where)

    def written(self, where: Sequence[str | int]) -> str | None:
        """The text of the scalar at `where` as written in the file, before YAML made a number or a boolean of it."""
        found = _node_at(self.text, where)
        if found is None or found[2] or not isinstance(found[1], yaml.ScalarNode):
            return None
        return str(found[1].value)


_UNPARSED: Any = object()


def _unparsed(path: str, text: str) -> YamlFile:
    return YamlFile(path, _UNPARSED, text)


def read_document(root: Path, file: Path, *, allow_empty: bool = False) -> YamlFile | Problem:
    """Read one YAML file of the repository; `path` in errors is relative to `root`."""
    rel = relative(root, file)
    try:
        if os.path.islink(file) and not file.resolve().is_relative_to(root.resolve()):
            # A link committed in the books must not make relance read, and quote in its messages, a file of
            # the machine it runs on (a CI runner's keys, /proc/self/environ).
            return Problem(
                rel, 1, "is a link to a file outside the repository; books files live in it", code="file.link_outside"
            )
        raw = _read_bounded(file)
    except NotAFile as kind:
        return Problem(rel, None, f"is {kind}, not a file: books files are plain YAML files", code="file.not_a_file")
    except OSError as error:
        return Problem(rel, None, f"cannot be read: {error.strerror or error}", code="file.unreadable")
    if raw is None:
        return Problem(
            rel, 1, f"is too large to be a books file (more than {MAX_FILE_BYTES // 1024} KiB)", code="file.too_large"
        )
    return parse_document(rel, raw, allow_empty=allow_empty)


def parse_document(rel: str, raw: bytes, *, allow_empty: bool = False) -> YamlFile | Problem:
    if b"\x00" in raw:
        return Problem(rel, _line_at(raw, raw.index(b"\x00")), "is a binary file, not YAML text", code="file.binary")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return Problem(
            rel,
            _line_at(raw, error.start),
            f"is not UTF-8 text (byte 0x{raw[error.start]:02x}); save it as UTF-8",
            code="file.encoding",
        )
    too_deep = _too_deep(rel, text)
    if too_deep is not None:
        return too_deep
    try:
        data = yaml.load(text, Loader=BooksLoader)
    except yaml.MarkedYAMLError as error:
        return yaml_problem(rel, text, error)
    except yaml.YAMLError as error:
        return Problem(rel, 1, f"is not valid YAML: {' '.join(str(error).split())}", code="yaml.syntax")
    except RecursionError:
        return Problem(rel, 1, f"is nested too deeply (more than {MAX_DEPTH} levels)", code="yaml.too_deep")
    if data is None and not allow_empty:
        return Problem(rel, 1, "is empty; it should hold a YAML mapping", code="yaml.empty")
    # Checked after loading because aliases make a small text expand without bound (an alias bomb),
    # and everything downstream (schemas, templates) walks the expanded document.
    problem = _check_depth(rel, data) if _is_small_tree(text) else _check_shape(rel, data)
    return problem if problem is not None else YamlFile(rel, data, text)


def relative(root: Path, file: Path) -> str:
    prefix = f"{root}{os.sep}" if str(root) not in ("", ".") else ""
    text = str(file)
    if prefix and text.startswith(prefix) and os.sep == "/":
        return text[len(prefix) :]  # the common case, without pathlib's slower relative_to
    try:
        return file.relative_to(root).as_posix()
    except ValueError:
        return file.as_posix()


def yaml_files(folder: Path) -> list[Path]:
    """The YAML files below `folder`, sorted by their path's parts, so that every run sees them in the same order.

    Like `rglob("*")`, it does not descend into symbolic links to folders, and it keeps links to files.
    """
    if not folder.is_dir():
        return []
    found: list[tuple[tuple[str, ...], str]] = []
    for directory, _folders, files in os.walk(folder):
        base = os.path.relpath(directory, folder)
        parts = () if base == "." else tuple(base.split(os.sep))
        for name in files:
            if name.endswith((".yaml", ".yml")) and name not in (".yaml", ".yml"):
                path = os.path.join(directory, name)
                found.append(((*parts, name), path))  # a FIFO, a device, a broken link: read, and refused
        for name in _folders:
            if name.endswith((".yaml", ".yml")):  # a folder where a books file is expected: said, not skipped
                found.append(((*parts, name), os.path.join(directory, name)))
    found.sort()
    return [Path(path) for _, path in found]


class NotAFile(Exception):
    """What a books path names instead of a file (a FIFO, a folder, a device), said in the message."""


def _read_bounded(file: Path) -> bytes | None:
    # O_NONBLOCK: opening a FIFO must not wait for a writer; the check below refuses it before any read.
    descriptor = os.open(file, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        raise NotAFile(_KINDS.get(stat.S_IFMT(mode), "not a regular file"))
    with os.fdopen(descriptor, "rb") as handle:
        # Asking for MAX_FILE_BYTES + 1 at once makes Python set that much memory aside for every file (a third
        # of the time of reading large books); the size on disk says how much to ask for. A file that grew since
        # is read on up to the limit.
        size = os.fstat(handle.fileno()).st_size
        raw = handle.read(size + 1 if 0 < size <= MAX_FILE_BYTES else MAX_FILE_BYTES + 1)
        if len(raw) > size:
            raw += handle.read(MAX_FILE_BYTES + 1 - len(raw))
    return None if len(raw) > MAX_FILE_BYTES else raw


_KINDS = {
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFDIR: "a folder",
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
    stat.S_IFSOCK: "a socket",
}

_SAFE_TO_COMPOSE = 1000
"""Nesting the C composer can build without running out of C stack (it crashes the process at tens of thousands)."""
_OPENERS = (
    yaml.BlockMappingStartToken,
    yaml.BlockSequenceStartToken,
    yaml.FlowMappingStartToken,
    yaml.FlowSequenceStartToken,
)
_CLOSERS = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)


def _too_deep(rel: str, text: str) -> Problem | None:
    """Measure the nesting on the scanner's tokens (a flat stream) before the composer recurses into it.

    Each level of nesting needs one of `[ { - ? :`, so a text with fewer of them is not measured at all.
    """
    if sum(text.count(mark) for mark in "[{-?:") < _SAFE_TO_COMPOSE:
        return None
    try:
        return _deepest_token(rel, yaml.scan(text, Loader=BooksLoader))
    except yaml.YAMLError:
        pass
    # libyaml (PyYAML >= 6.0.4) stops at a nesting limit of its own, in words that change between releases, and
    # it reads every opening bracket of a line before handing out the first: the pure-Python scanner has no limit
    # and hands tokens out as it goes, so the project's own limit is the one the user hears about.
    try:
        return _deepest_token(rel, yaml.scan(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError:
        return None  # the parser reports it, at a depth the scan has seen to be safe


def _deepest_token(rel: str, tokens: Iterable[yaml.Token]) -> Problem | None:
    depth = 0
    for token in tokens:
        if isinstance(token, _OPENERS):
            depth += 1
            if depth > MAX_DEPTH:
                return Problem(
                    rel,
                    token.start_mark.line + 1,
                    f"is nested too deeply (more than {MAX_DEPTH} levels)",
                    code="yaml.too_deep",
                )
        elif isinstance(token, _CLOSERS):
            depth -= 1
    return None


def _line_at(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def _check_shape(rel: str, data: Any) -> Problem | None:
    """Count the nodes of the document as aliases expand them, without expanding them."""
    sizes: dict[int, int] = {}
    stack: list[tuple[Any, int, bool]] = [(data, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        if depth > MAX_DEPTH:
            return Problem(rel, 1, f"is nested too deeply (more than {MAX_DEPTH} levels)", code="yaml.too_deep")
        children = _children(node)
        if not children:
            continue
        if done:
            sizes[id(node)] = 1 + sum(sizes.get(id(child), 1) for child in children)
            if sizes[id(node)] > MAX_NODES:
                return Problem(
                    rel,
                    1,
                    f"its aliases (*name) expand to more than {MAX_NODES} values: write the values out instead",
                    code="yaml.aliases",
                )
            continue
        if id(node) in sizes:
            continue
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in children if id(child) not in sizes)
    return None


def _is_small_tree(text: str) -> bool:
    """No alias (an alias needs a `*`), so every value is written out in the text; and every value takes at least
    a third of a character (an entry like `?,` in a flow list makes a mapping, a null key and a null value from two
    characters), so a text this short cannot hold MAX_NODES values."""
    return "*" not in text and len(text) < MAX_NODES // 4


def _check_depth(rel: str, data: Any) -> Problem | None:
    """`_check_shape` for a small tree: only its depth can be wrong."""
    if _deeper_than(data, 1):
        return Problem(rel, 1, f"is nested too deeply (more than {MAX_DEPTH} levels)", code="yaml.too_deep")
    return None


def _deeper_than(node: Any, depth: int) -> bool:
    if depth > MAX_DEPTH:
        return True
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
    if not children:
        return False
    if depth + 1 > MAX_DEPTH:  # its keys and items sit one level deeper
        return True
    return any(_deeper_than(child, depth + 1) for child in children if isinstance(child, (dict, list)))


def _children(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return [*node.keys(), *node.values()]
    if isinstance(node, list):
        return node
    return []


def line_of(text: str, where: Iterable[str | int]) -> int:
    """Find the line of a value by composing the YAML again; used only when reporting an error.

    A key's line is where the key is written; a list item's, where the item starts. When the path goes
    further than the document (a missing key), the line of the deepest part that exists is given.
    """
    found = _node_at(text, where)
    return 1 if found is None else found[0]


def _node_at(text: str, where: Iterable[str | int]) -> tuple[int, yaml.Node, bool] | None:
    """(line, node, stopped early) for the deepest part of `where` that the document has."""
    try:
        node: yaml.Node | None = yaml.compose(text, Loader=BooksLoader)
    except (yaml.YAMLError, RecursionError):
        return None
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in where:
        found = _child(node, part)
        if found is None:
            return line, node, True
        line, node = found
    return line, node, False


def _child(node: yaml.Node, part: str | int) -> tuple[int, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                return key.start_mark.line + 1, value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        item = node.value[part]
        return item.start_mark.line + 1, item
    return None
