"""Every problem says what kind it is (`Problem.code`), so that code and tests never read its message to know."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import relance_pipeline

PACKAGE = Path(relance_pipeline.__file__).parent
CODE = re.compile(r"^[a-z]+(\.[a-z_]+)+$")


def _problem_calls() -> list[tuple[str, ast.Call]]:
    found = []
    for file in sorted(PACKAGE.rglob("*.py")):
        rel = file.relative_to(PACKAGE).as_posix()
        if rel == "model.py":
            continue
        for node in ast.walk(ast.parse(file.read_text("utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Problem":
                found.append((f"{rel}:{node.lineno}", node))
    return found


def test_every_problem_the_package_makes_has_a_code() -> None:
    calls = _problem_calls()
    assert len(calls) > 50  # the walk found the package's problems
    assert [where for where, call in calls if not any(k.arg == "code" for k in call.keywords)] == []


def test_codes_are_dotted_lower_case_names() -> None:
    codes: list[tuple[str, str]] = [
        (where, keyword.value.value)
        for where, call in _problem_calls()
        for keyword in call.keywords
        if keyword.arg == "code" and isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, str)
    ]
    assert [(where, code) for where, code in codes if not CODE.match(code)] == []
