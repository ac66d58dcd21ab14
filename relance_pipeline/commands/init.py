"""`relance init DIR`: a new dunning repository made from the example shipped in the package."""

from __future__ import annotations

import shutil
import subprocess
from importlib import metadata, resources
from pathlib import Path

from relance_pipeline.render import template_files

PACKAGE_SOURCE = "relance-pipeline @ git+https://github.com/relance-pipeline/relance@v{version}"
"""Where a new repository's workflows install relance from, at the version that ran `relance init`: the
project's git repository at the release's tag while the package is not on PyPI; once it is, this becomes
`relance-pipeline=={version}`. Change it here, the one place (README, "Install")."""
REQUIREMENTS = Path("requirements.txt")
"""The file of the new repository that pins it; its workflows run `pip install -r requirements.txt`."""


class InitError(Exception):
    """The folder cannot receive a new repository (it is not empty, or cannot be written)."""


def scaffold_folder() -> Path:
    return Path(str(resources.files("relance_pipeline").joinpath("scaffold")))


def example_files() -> list[Path]:
    """The example's files, relative to the scaffold folder, sorted."""
    root = scaffold_folder()
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def init(target: Path, *, copy_templates: bool = False) -> list[Path]:
    """Write the example repository into `target` (created if needed); returns the files written."""
    if target.exists() and not target.is_dir():
        raise InitError(f"{target}: is a file; give the path of a new or empty folder")
    if target.exists() and any(target.iterdir()):
        raise InitError(f"{target}: not an empty folder; relance init never overwrites files")
    written: list[Path] = []
    try:
        target.mkdir(parents=True, exist_ok=True)
        source = scaffold_folder()
        for rel in example_files():
            written.append(_copy(source / rel, target / rel))
        (target / REQUIREMENTS).write_text(requirements(), encoding="utf-8")
        written.append(target / REQUIREMENTS)
        if copy_templates:
            package = template_files.package_folder()
            for file in sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
                written.append(_copy(file, target / template_files.REPOSITORY_FOLDER / file.relative_to(package)))
    except OSError as error:
        raise InitError(f"{target}: cannot be written ({error.strerror or error})") from None
    _git_init(target)
    return written


def requirements() -> str:
    """requirements.txt of a new repository: this very version of relance, so that a night never changes
    behaviour because a release appeared; upgrading is a commit that changes the version."""
    return (
        "# The relance this repository's workflows install (pip install -r requirements.txt). Pinned: a new\n"
        "# release changes nothing here until you change the version below, after reading its release notes.\n"
        f"{PACKAGE_SOURCE.format(version=metadata.version('relance-pipeline'))}\n"
    )


def _copy(source: Path, destination: Path) -> Path:
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, destination)
    return destination


def _git_init(target: Path) -> None:
    """A dunning repository is a git repository of its own (the history is the audit trail), even when
    made inside another one's work tree: its commits must never land in the enclosing repository."""
    if shutil.which("git") is None or (target / ".git").exists():
        return
    subprocess.run(["git", "init", "--quiet", "--initial-branch=main"], cwd=target, check=False)
