"""Shared fixtures: real repositories in temporary folders, made from the example that `relance init` writes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from relance_pipeline.scaffold import init


@pytest.fixture
def example_repo(tmp_path: Path) -> Path:
    """A fresh copy of the example dunning repository (a git repository, as `relance init` makes it)."""
    root = tmp_path / "books"
    init(root)
    return root


@pytest.fixture
def write(tmp_path: Path) -> Callable[[Path, str, str], Path]:
    """Write a text file (creating folders) and return its path: write(root, "ledger/clients/x.yaml", text)."""

    def _write(root: Path, rel: str, text: str) -> Path:
        file = root / rel
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text, encoding="utf-8")
        return file

    return _write
