"""The repository's files → `Books`, with every problem found on the way.

Layout (DESIGN.md): relance.yaml, ledger/clients/*.yaml, ledger/invoices/**.yaml, policies/*.yaml and the
rate table policies/rates.yaml. Each file is read, checked against its schema, and turned into a record;
a file that fails is reported and left out, so that one pass reports the errors of every file.
"""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from relance_pipeline.books import builders
from relance_pipeline.books.load import YamlFile, read_document, relative, yaml_files
from relance_pipeline.books.schema import Kind, schema_problems
from relance_pipeline.model import Books, Client, Invoice, Policy, Problem, RateTable, Settings

CONFIG_FILE = "relance.yaml"
CLIENTS_FOLDER = "ledger/clients"
INVOICES_FOLDER = "ledger/invoices"
POLICIES_FOLDER = "policies"
RATES_FILE = "policies/rates.yaml"
MAPPINGS_FOLDER = "imports"
_Checker = Callable[[Path, Kind], YamlFile | None]
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass
class Loaded:
    """What reading the repository gave: the books when they hold together, and every problem.

    The parts that could be read are kept even when `books` cannot be made (relance.yaml or the rate table
    has errors), so that validate still checks the references between the other files in the same pass.
    """

    books: Books | None
    problems: list[Problem]
    documents: dict[str, YamlFile] = field(default_factory=dict)
    settings: Settings | None = None
    rates: RateTable | None = None
    clients: dict[str, Client] = field(default_factory=dict)
    invoices: tuple[Invoice, ...] = ()
    policies: dict[str, Policy] = field(default_factory=dict)
    rejected: frozenset[str] = frozenset()
    """Files that exist but were left out for their own errors: a reference to one is not a second error."""

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def read_books(root: Path) -> Loaded:
    with without_cycle_collection():
        return _read_books(root)


@contextmanager
def without_cycle_collection() -> Iterator[None]:
    """Reading thousands of files makes many objects and no reference cycles: the cyclic garbage collector would
    walk them again and again for nothing to collect (7 % of the time of reading 10,000 invoices). The plan,
    which works over all of them, runs without it too. Nested uses leave it as the outermost found it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _read_books(root: Path) -> Loaded:
    problems: list[Problem] = []
    documents: dict[str, YamlFile] = {}
    rejected: set[str] = set()

    def checked(file: Path, kind: Kind) -> YamlFile | None:
        found = read_document(root, file)
        if isinstance(found, Problem):
            problems.append(found)
            rejected.add(found.path)
            return None
        if not isinstance(found.data, dict):
            problems.append(
                Problem(found.path, 1, "should hold a mapping of keys (key: value lines)", code="yaml.not_mapping")
            )
            rejected.add(found.path)
            return None
        errors = schema_problems(found, kind)
        problems.extend(errors)
        documents[found.path] = found
        if errors:
            rejected.add(found.path)
            return None
        return found

    settings = _settings(root, checked, problems)
    rates = _rates(root, checked, problems)
    policies = {
        file.stem: builders.policy(file.stem, doc)
        for file in yaml_files(root / POLICIES_FOLDER)
        if file.name != Path(RATES_FILE).name and _named(root, file, problems)
        if (doc := checked(file, "policy")) is not None
    }
    clients = {
        file.stem: builders.client(file.stem, doc)
        for file in yaml_files(root / CLIENTS_FOLDER)
        if _named(root, file, problems)
        if (doc := checked(file, "client")) is not None
    }
    invoices = tuple(
        builders.invoice(doc) for file in yaml_files(root / INVOICES_FOLDER) if (doc := checked(file, "invoice"))
    )
    books = None
    if settings is not None and rates is not None:
        books = Books(
            settings=settings,
            clients=clients,
            invoices=invoices,
            policies=policies,
            rates=rates,
        )
    return Loaded(books, problems, documents, settings, rates, clients, invoices, policies, frozenset(rejected))


def _settings(root: Path, checked: _Checker, problems: list[Problem]) -> Settings | None:
    file = root / CONFIG_FILE
    if not os.path.lexists(file):
        problems.append(
            Problem(CONFIG_FILE, None, "is missing: every dunning repository starts with it", code="file.missing")
        )
        return None
    doc = checked(file, "config")
    return builders.settings(doc) if doc else None


def configured_timezone(root: Path) -> str | None:
    """relance.yaml's time zone, reading that file alone (today's date must not cost a read of the books)."""
    document = read_document(root, root / CONFIG_FILE)
    data = document.data if isinstance(document, YamlFile) else None
    timezone = data.get("timezone") if isinstance(data, dict) else None
    return timezone if isinstance(timezone, str) else None


def _rates(root: Path, checked: _Checker, problems: list[Problem]) -> RateTable | None:
    file = root / RATES_FILE
    if not os.path.lexists(file):
        problems.append(
            Problem(RATES_FILE, None, "is missing: the late-payment rates per semester live there", code="file.missing")
        )
        return None
    doc = checked(file, "rates")
    return builders.rate_table(doc) if doc else None


def _named(root: Path, file: Path, problems: list[Problem]) -> bool:
    """A client or policy is known by its file name, which must be a plain identifier."""
    if _ID.match(file.stem):
        return True
    suggestion = re.sub(r"[^a-z0-9_-]+", "-", file.stem.lower()).strip("-_") or "name"
    problems.append(
        Problem(
            relative(root, file),
            1,
            f"the file name '{file.stem}' cannot be used as an identifier: use lower case letters, digits, - and _ "
            f"(for example {suggestion}{file.suffix})",
            code="file.name",
        )
    )
    return False


def mapping_problems(root: Path) -> list[Problem]:
    """The schema errors of the CSV column mappings in imports/ (read only when an import uses them, but
    checked with the books so that a broken one shows on the pull request before a night needs it)."""
    problems: list[Problem] = []
    folder = root / MAPPINGS_FOLDER
    for file in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        found = read_document(root, file)
        problems += [found] if isinstance(found, Problem) else schema_problems(found, "mapping")
    return problems
