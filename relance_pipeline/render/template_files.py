"""Where templates live and what they are called.

A repository's `templates/` folder overrides the templates shipped in the package, file by file (as a
theme is overridden in mkdocs): a user copies one file, edits it, and the rest keep working.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from relance_pipeline.model import Channel, Language

REPOSITORY_FOLDER = "templates"
_EXTENSIONS: dict[Channel, str] = {"email": "txt", "letter": "html", "sms": "txt", "phone": "md"}


def template_name(template: str, channel: Channel, language: Language) -> str:
    """`relance-1/email.fr.txt`: the file a step renders for one channel and language."""
    return f"{template}/{channel}.{language}.{_EXTENSIONS[channel]}"


def package_folder() -> Path:
    return Path(str(resources.files("relance_pipeline").joinpath("templates")))


def search_path(root: Path) -> list[Path]:
    """The folders a template is looked up in, the user's first."""
    return [root / REPOSITORY_FOLDER, package_folder()]


def available(root: Path) -> frozenset[str]:
    """Every template file name that the search path offers."""
    names: set[str] = set()
    for folder in search_path(root):
        if folder.is_dir():
            names.update(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    return frozenset(names)
