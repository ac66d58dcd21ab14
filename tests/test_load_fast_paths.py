"""The quick ways load.py reads large books give the same answers as the plain ways they replace."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from relance_pipeline.books.load import MAX_DEPTH, _check_depth, _check_shape, _is_small_tree, relative, yaml_files


def test_yaml_files_finds_what_rglob_finds_in_the_same_order_links_and_folders_included(tmp_path: Path) -> None:
    for rel in (
        "a/x.yaml",
        "a/.yaml",
        "a/y.yml",
        "a/z.YAML",
        "a/..yaml",
        "a/b.yaml/in.yaml",
        "real/r.yaml",
        ".hidden/h.yaml",
        "a-b.yaml",
        "a b.yaml",
        "a/notes.txt",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x: 1\n", encoding="utf-8")
    os.symlink(tmp_path / "real", tmp_path / "a" / "folder-link")
    os.symlink(tmp_path / "real" / "r.yaml", tmp_path / "a" / "file-link.yaml")
    os.symlink(tmp_path / "nowhere", tmp_path / "a" / "broken.yaml")
    # A broken link or a folder named like a books file is listed too: reading it says what it is.
    expected = sorted(p for p in tmp_path.rglob("*") if p.suffix in (".yaml", ".yml"))
    assert yaml_files(tmp_path) == expected
    assert len(expected) == 11


def test_relative_paths_are_posix_and_relative_to_the_root(tmp_path: Path) -> None:
    assert relative(tmp_path, tmp_path / "ledger" / "clients" / "a.yaml") == "ledger/clients/a.yaml"
    assert relative(Path("."), Path("ledger/a.yaml")) == "ledger/a.yaml"
    assert relative(tmp_path / "books", tmp_path / "books-2" / "a.yaml") == (tmp_path / "books-2" / "a.yaml").as_posix()


def nested(depth: int, leaf: Any) -> Any:
    node = leaf
    for level in range(depth):
        node = {"k": node} if level % 2 else [node]
    return node


documents = st.recursive(
    st.none() | st.integers() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=3), children, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(data=documents, depth=st.integers(min_value=0, max_value=MAX_DEPTH + 3))
def test_a_small_tree_gets_the_same_verdict_as_the_full_shape_check(data: Any, depth: int) -> None:
    document = nested(depth, data)
    assume(_is_small_tree(yaml.safe_dump(document)))
    assert _check_depth("f.yaml", document) == _check_shape("f.yaml", document)


def test_depth_is_counted_as_the_full_check_counts_it() -> None:
    assert _check_depth("f.yaml", nested(MAX_DEPTH - 1, "leaf")) is None
    assert _check_depth("f.yaml", nested(MAX_DEPTH, "leaf")) is not None
    assert _check_shape("f.yaml", nested(MAX_DEPTH, "leaf")) is not None
    assert _check_depth("f.yaml", nested(MAX_DEPTH, {})) == _check_shape("f.yaml", nested(MAX_DEPTH, {}))


def test_a_text_with_an_alias_or_a_long_text_gets_the_full_check() -> None:
    assert not _is_small_tree("a: &x [1]\nb: *x\n")
    assert not _is_small_tree("a: '" + "x" * 20_000 + "'\n")
