"""Shared fixtures: real repositories in temporary folders, made from the example that `relance init` writes."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from relance_pipeline.commands.init import init
from relance_pipeline.model import Books
from relance_pipeline.render.renderer import Renderer

CHECKOUT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    # pytest's `pythonpath` puts the checkout first for this process only; the `relance` and `python`
    # processes the tests start must not import another installed copy either.
    inherited = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(CHECKOUT), *([inherited] if inherited else [])])


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


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example repository shared by a module's rendering tests (they only read it)."""
    root = tmp_path_factory.mktemp("render") / "books"
    init(root)
    return root


@pytest.fixture(scope="module")
def books(repo: Path) -> Books:
    from render_support import books_of

    return books_of(repo)


@pytest.fixture(scope="module")
def renderer(repo: Path, books: Books) -> Renderer:
    return Renderer(repo, books)
