"""What the two import verbs share: the lock, the column mapping, reading an input file within its size limit,
and writing the books edits all or none, each checked as `validate` would (import_bank.py, import_invoices.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TypeVar

from relance_pipeline.books.load import read_document
from relance_pipeline.books.read import MAPPINGS_FOLDER
from relance_pipeline.books.schema import schema_problems
from relance_pipeline.commands.validate import validate
from relance_pipeline.imports.csv_mapping import PRESETS, ColumnMapping, MappingKind, mapping_from
from relance_pipeline.model import Problem
from relance_pipeline.outbox.books_files import Conflict, restore_books_files, write_books_files
from relance_pipeline.outbox.lock import COMMAND_WAIT_SECONDS, LockBusy, repository_lock


@dataclass
class Imported:
    """What an import did; each verb's report adds what it has to say."""

    problems: list[Problem] = field(default_factory=list)
    dry_run: bool = False

    @property
    def exit_code(self) -> int:
        return 1 if any(p.severity == "error" for p in self.problems) else 0


Report = TypeVar("Report", bound=Imported)


def locked(root: Path, work: Callable[[], Report], busy: Callable[[], Report]) -> Report:
    """`work()` under the repository's lock; when another relance holds it, `busy()` with the problem saying so."""
    try:
        with repository_lock(root, wait_seconds=COMMAND_WAIT_SECONDS):
            return work()
    except LockBusy as held:
        report = busy()
        report.problems.append(Problem(str(root), None, str(held), code="lock.busy"))
        return report


def load_mapping(root: Path, name: str, kind: MappingKind) -> ColumnMapping | list[Problem]:
    """`imports/<name>.yaml` when the repository has it, else the preset of that name."""
    file = root / MAPPINGS_FOLDER / f"{name}.yaml"
    if file.is_file():
        document = read_document(root, file)
        if isinstance(document, Problem):
            return [document]
        problems = schema_problems(document, "mapping")
        if problems:
            return problems
        found = mapping_from(name, document.data)
        where = document.path
    elif name in PRESETS:
        found, where = PRESETS[name], f"preset {name}"
    else:
        known = ", ".join(sorted(PRESETS))
        return [
            Problem(
                f"{MAPPINGS_FOLDER}/{name}.yaml",
                None,
                f"no such mapping file, nor a preset ({known})",
                code="import.mapping_missing",
            )
        ]
    if found.kind != kind:
        return [Problem(where, None, f"a mapping of kind {found.kind}, not {kind}", code="import.mapping_kind")]
    return found


def read_input(name: str, file: Path, limit: int) -> bytes | Problem:
    """The bytes of a file given to import, unless it is larger than `limit` or unreadable."""
    try:
        if file.stat().st_size > limit:
            return Problem(
                name, None, f"the file is larger than {limit // (1024 * 1024)} MB; not read", code="file.too_large"
            )
        return file.read_bytes()
    except OSError as error:
        return Problem(name, None, f"cannot be read: {error.strerror or error}", code="file.unreadable")


def write_checked(
    root: Path,
    new: dict[str, bytes],
    before: dict[str, bytes | None],
    today: date,
    checked: Callable[[str], bool] = lambda path: True,
) -> list[Problem]:
    """Write the edits all or none; then, if `validate` finds an error in a written file that `checked` names,
    put every file back as it was and return those errors."""
    try:
        write_books_files(root, new, before)
    except Conflict as conflict:
        return [Problem(str(root), None, str(conflict), code="edit.conflict")]
    broken = [p for p in validate(root, today) if p.path in new and checked(p.path) and p.severity == "error"]
    if broken:
        restore_books_files(root, before)
    return broken


def shown_path(root: Path, file: Path) -> str:
    """The file as the user knows it: relative to the repository when inside it."""
    try:
        return file.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(file)
