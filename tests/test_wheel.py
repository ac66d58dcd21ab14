"""The package as a user gets it: the wheel built from the sdist (scripts/build-dist, as the release does),
installed in a new virtual environment outside the checkout, makes and runs a repository as the checkout does.

Marked `wheel` (about half a minute): `pytest -m "not wheel"` leaves it out of a quick run; `make test` runs it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest
from click.testing import CliRunner

from relance_pipeline.cli.main import main
from relance_pipeline.commands.init import init

pytestmark = pytest.mark.wheel

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-04-13"


@dataclass(frozen=True)
class Installed:
    sdist: Path
    wheel: Path
    venv: Path
    elsewhere: Path
    """A folder outside the checkout, to work in."""

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        # Without the PYTHONPATH conftest.py sets: this relance must import the installed wheel, not the checkout.
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        return subprocess.run(
            [str(self.venv / "bin" / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            check=False,
            cwd=self.elsewhere,
            env=env,
            timeout=300,
        )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("wheel")
    assert not base.resolve().is_relative_to(ROOT)
    built = subprocess.run(
        [str(ROOT / "scripts/build-dist"), str(base / "dist")],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHON": sys.executable},
    )
    assert built.returncode == 0, built.stderr
    sdist, wheel = map(Path, built.stdout.split())
    (base / "elsewhere").mkdir()
    made = Installed(sdist, wheel, base / "venv", base / "elsewhere")
    subprocess.run([sys.executable, "-m", "venv", str(made.venv)], check=True)
    # The dependencies at the locked versions, from pip's cache or the index pip is configured with.
    pip = made.run("python", "-m", "pip", "install", "--quiet", "-c", str(ROOT / "constraints.txt"), str(wheel))
    assert pip.returncode == 0, pip.stdout + pip.stderr
    return made


def tracked(folder: str) -> list[str]:
    listed = subprocess.run(["git", "ls-files", folder], capture_output=True, text=True, check=True, cwd=ROOT)
    return listed.stdout.split()


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts[:1]
    }


def test_the_wheel_and_the_sdist_carry_the_schemas_templates_fonts_and_the_scaffold(installed: Installed) -> None:
    shipped = [rel for folder in ("schemas", "templates", "scaffold") for rel in tracked(f"relance_pipeline/{folder}")]
    assert "relance_pipeline/scaffold/.github/workflows/nightly.yml" in shipped
    assert "relance_pipeline/templates/_base/fonts/RelanceSans-Regular.ttf" in shipped
    in_wheel = set(zipfile.ZipFile(installed.wheel).namelist())
    assert [rel for rel in shipped if rel not in in_wheel] == []
    with tarfile.open(installed.sdist) as sdist:
        top = sdist.getnames()[0].split("/")[0]
        in_sdist = {name.removeprefix(f"{top}/") for name in sdist.getnames()}
    assert [rel for rel in [*shipped, "constraints.txt", "README.md"] if rel not in in_sdist] == []


def test_the_installed_relance_is_the_wheel_and_says_its_version(installed: Installed) -> None:
    where = installed.run("python", "-c", "import relance_pipeline; print(relance_pipeline.__file__)")
    assert Path(where.stdout.strip()).is_relative_to(installed.venv), where.stdout + where.stderr
    version = installed.run("relance", "--version")
    assert version.returncode == 0 and version.stdout == f"relance, version {metadata.version('relance-pipeline')}\n"


def test_init_and_run_from_the_wheel_give_the_repository_and_outbox_of_the_checkout(
    installed: Installed, tmp_path: Path
) -> None:
    made = installed.run("relance", "init", "books")
    assert made.returncode == 0, made.stdout + made.stderr
    ran = installed.run("relance", "--repo", "books", "run", "--as-of", AS_OF)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    books = installed.elsewhere / "books"

    init(tmp_path / "books")
    checkout = CliRunner().invoke(main, ["--repo", str(tmp_path / "books"), "run", "--as-of", AS_OF])
    assert checkout.exit_code == 0, checkout.output
    assert ran.stdout == checkout.stdout

    outbox = tree(books / "outbox")
    assert len(outbox) > 3 and "journal.jsonl" in outbox
    assert tree(books) == tree(tmp_path / "books")
