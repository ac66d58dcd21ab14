"""How the package is installed: the tests run the checkout, and constraints.txt pins what `make test` installs."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import relance_pipeline

ROOT = Path(__file__).resolve().parent.parent


def locked() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, separator, version = line.partition("==")
            assert separator and version, f"constraints.txt: {line!r} is not an exact pin (name==version)"
            pins[canonicalize_name(name)] = version
    return pins


def test_the_tests_import_the_checkout_and_so_do_the_processes_they_start() -> None:
    assert Path(relance_pipeline.__file__).resolve().is_relative_to(ROOT)
    done = subprocess.run(
        [sys.executable, "-c", "import relance_pipeline; print(relance_pipeline.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
        env=os.environ,
    )
    assert Path(done.stdout.strip()).resolve().is_relative_to(ROOT)


def test_the_lock_pins_each_dependency_and_build_requirement_within_the_pyproject_range() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = [
        *pyproject["project"]["dependencies"],
        *pyproject["project"]["optional-dependencies"]["dev"],
        *pyproject["build-system"]["requires"],
        "pip",
    ]
    pins = locked()
    for text in wanted:
        requirement = Requirement(text)
        version = pins.get(canonicalize_name(requirement.name))
        assert version is not None, f"{requirement.name} is not in constraints.txt: run `make lock`"
        assert requirement.specifier.contains(version, prereleases=True), f"{requirement.name}=={version} ∉ {text}"
