"""`relance init`: the example repository shipped in the package, identical to the top of this repository."""

from __future__ import annotations

import subprocess
from datetime import date
from importlib import metadata
from pathlib import Path

import pytest
from click.testing import CliRunner
from packaging.requirements import Requirement

from relance_pipeline.cli.main import main
from relance_pipeline.commands.init import REQUIREMENTS, InitError, example_files, init, scaffold_folder
from relance_pipeline.commands.validate import validate
from relance_pipeline.render import template_files

REPOSITORY = Path(__file__).resolve().parent.parent


def test_the_scaffold_holds_the_example_books_and_their_tooling() -> None:
    names = {path.as_posix() for path in example_files()}
    expected = {
        "relance.yaml",
        "policies/standard.yaml",
        "policies/rates.yaml",
        "ledger/clients/atelier-ferrand.yaml",
        "ledger/invoices/2026/F-2026-007.yaml",
        "documents/F-2026-007.pdf",
        "templates/README.md",
        "outbox/.gitkeep",
        ".pre-commit-config.yaml",
    }
    assert expected <= names


# The project's ci.yml runs its own tests, a books repository's validates its books; the loop's workflows differ
# by the variable that turns them on (both: tests/test_workflows.py).
NOT_SHARED = {".github/workflows/ci.yml", ".github/workflows/nightly.yml", ".github/workflows/send.yml"}


@pytest.mark.parametrize("rel", [path.as_posix() for path in example_files() if path.as_posix() not in NOT_SHARED])
def test_each_file_of_the_scaffold_is_identical_at_the_top_of_the_repository(rel: str) -> None:
    # The repository is its own example: a fork runs as it is, and `relance init` gives the same books.
    top = REPOSITORY / rel
    assert top.is_file(), f"{rel} is in relance_pipeline/scaffold/ but not at the top of the repository"
    assert top.read_bytes() == (scaffold_folder() / rel).read_bytes(), f"{rel} differs from the scaffold's copy"


def test_the_top_level_books_have_no_file_the_scaffold_lacks() -> None:
    scaffold = {path.as_posix() for path in example_files()}
    for folder in ("ledger", "policies", "documents"):
        for file in sorted((REPOSITORY / folder).rglob("*")):
            if file.is_file():
                rel = file.relative_to(REPOSITORY).as_posix()
                assert rel in scaffold, f"{rel} is at the top of the repository but not in the scaffold"


def test_init_writes_every_file_of_the_example(tmp_path: Path) -> None:
    target = tmp_path / "books"
    written = init(target)
    assert sorted(path.relative_to(target) for path in written) == sorted([*example_files(), REQUIREMENTS])
    for rel in example_files():
        assert (target / rel).read_bytes() == (scaffold_folder() / rel).read_bytes()


def test_init_pins_the_relance_its_workflows_install_to_the_version_that_made_it(tmp_path: Path) -> None:
    init(tmp_path / "books")
    pins = [line for line in (tmp_path / "books/requirements.txt").read_text().splitlines() if not line.startswith("#")]
    version = metadata.version("relance-pipeline")
    assert pins == [f"relance-pipeline @ git+https://github.com/relance-pipeline/relance@v{version}"]
    assert Requirement(pins[0]).name == "relance-pipeline"


def test_init_makes_a_git_repository_on_main(tmp_path: Path) -> None:
    target = tmp_path / "books"
    init(target)
    top = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"], cwd=target, capture_output=True, text=True, check=True
    )
    assert Path(top.stdout.strip()) == target.resolve()
    branch = subprocess.run(["git", "symbolic-ref", "HEAD"], cwd=target, capture_output=True, text=True, check=True)
    assert branch.stdout.strip() == "refs/heads/main"


def test_init_inside_another_repository_makes_a_repository_of_its_own(tmp_path: Path) -> None:
    """Commits of the dunning (run --commit) must never land in an enclosing project's repository."""
    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True)
    init(tmp_path / "books")
    top = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"], cwd=tmp_path / "books", capture_output=True, text=True, check=True
    )
    assert Path(top.stdout.strip()) == (tmp_path / "books").resolve()


def test_init_into_an_existing_empty_folder_is_fine(tmp_path: Path) -> None:
    init(tmp_path)
    assert (tmp_path / "relance.yaml").is_file()


def test_init_refuses_a_folder_that_is_not_empty_and_leaves_it_untouched(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine\n")
    with pytest.raises(InitError, match="not an empty folder; relance init never overwrites files"):
        init(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_init_refuses_a_file(tmp_path: Path) -> None:
    file = tmp_path / "books"
    file.write_text("x")
    with pytest.raises(InitError, match="is a file; give the path of a new or empty folder"):
        init(file)


def test_relance_init_on_a_folder_that_is_not_empty_exits_1_with_a_clear_message(tmp_path: Path) -> None:
    (tmp_path / "relance.yaml").write_text("creditor: {}\n")
    result = CliRunner().invoke(main, ["init", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stderr == f"relance init: {tmp_path}: not an empty folder; relance init never overwrites files\n"
    assert (tmp_path / "relance.yaml").read_text() == "creditor: {}\n"


def test_relance_init_says_what_it_made_and_what_to_do_next(tmp_path: Path) -> None:
    target = tmp_path / "books"
    result = CliRunner().invoke(main, ["init", str(target)], catch_exceptions=False)
    assert result.exit_code == 0
    assert result.stdout == (
        f"created {target} ({len(example_files()) + 1} files); next: cd {target} && relance validate\n"
    )


def test_a_new_repository_has_no_problem(tmp_path: Path) -> None:
    init(tmp_path / "books")
    assert validate(tmp_path / "books", date(2026, 6, 15)) == []


def test_init_with_copy_templates_copies_every_built_in_template(tmp_path: Path) -> None:
    target = tmp_path / "books"
    init(target, copy_templates=True)
    package = template_files.package_folder()
    built_in = sorted(
        p.relative_to(package) for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    )
    assert built_in, "the package ships templates"
    for rel in built_in:
        assert (target / "templates" / rel).read_bytes() == (package / rel).read_bytes()
