"""The package's layout tells the flow: each subpackage imports only what stands below it."""

from __future__ import annotations

import ast
from pathlib import Path

import relance_pipeline

PACKAGE = Path(relance_pipeline.__file__).parent
LAYERS = ("books", "core", "render", "outbox", "ship", "imports", "commands", "cli")
"""Bottom to top; the shared modules beside them (model, clock, atomic, figures) stand below them all."""
SHARED = ("model", "clock", "atomic", "figures")


def _imported_modules(file: Path) -> set[str]:
    tree = ast.parse(file.read_text("utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("relance_pipeline"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("relance_pipeline"))
    return found


def _layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS + SHARED else None


def _rank(layer: str) -> int:
    return -1 if layer in SHARED else LAYERS.index(layer)


def test_no_subpackage_imports_one_that_stands_above_it() -> None:
    upward: list[str] = []
    for file in sorted(PACKAGE.rglob("*.py")):
        own = _layer_of("relance_pipeline." + ".".join(file.relative_to(PACKAGE).with_suffix("").parts))
        if own is None:
            continue
        for module in sorted(_imported_modules(file)):
            other = _layer_of(module)
            if other is not None and other != own and _rank(other) > _rank(own):
                upward.append(f"{file.relative_to(PACKAGE)} imports {module}")
    assert upward == []


def test_the_package_holds_subpackages_and_a_few_shared_modules_only() -> None:
    modules = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")
    folders = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())
    assert modules == sorted(SHARED)
    assert folders == sorted(LAYERS)
