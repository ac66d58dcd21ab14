"""The GitHub workflows of the loop: linted by actionlint (with shellcheck on their scripts), and the promises
of DESIGN.md that a reader of the YAML would check by eye."""

from __future__ import annotations

import glob
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from relance_pipeline.commands.init import scaffold_folder

ROOT = Path(__file__).parent.parent
WORKFLOWS = sorted((ROOT / ".github/workflows").glob("*.yml"))
# What `relance init` writes: the loop's workflows, and a ci.yml that validates the books (the project's own
# ci.yml runs its tests instead).
SCAFFOLD_WORKFLOWS = sorted((scaffold_folder() / ".github/workflows").glob("*.yml"))
LOOP = [".github/workflows/nightly.yml", ".github/workflows/send.yml"]
# The loop's jobs run where the repository variable allows: relance's own repository only when opted in, a books
# repository unless opted out. Nothing else differs between the two copies.
PROJECT_GATE, BOOKS_GATE = "if: vars.RELANCE_ENABLED == 'true'", "if: vars.RELANCE_ENABLED != 'false'"
BIN = str(Path(sys.executable).parent)


def workflow(name: str) -> dict[Any, Any]:
    loaded = yaml.safe_load((ROOT / ".github/workflows" / name).read_text())
    assert isinstance(loaded, dict)
    return loaded


def tool(name: str) -> str:
    found = shutil.which(name, path=BIN) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: it comes with the dev extras (pip install -e '.[dev]')")
    return found


def test_actionlint_finds_nothing_wrong_in_the_workflows() -> None:
    assert [w.name for w in WORKFLOWS] == ["ci.yml", "nightly.yml", "release.yml", "send.yml"]
    done = subprocess.run(
        [tool("actionlint"), "-shellcheck", tool("shellcheck"), "-no-color", *map(str, WORKFLOWS + SCAFFOLD_WORKFLOWS)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_does_report_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo $HOME\n")
    done = subprocess.run(
        [tool("actionlint"), "-shellcheck", tool("shellcheck"), "-no-color", str(broken)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1 and "SC2086" in done.stdout


def test_relance_init_ships_the_same_loop_workflows_and_gitattributes() -> None:
    assert [w.name for w in SCAFFOLD_WORKFLOWS] == ["ci.yml", "nightly.yml", "send.yml"]
    assert (scaffold_folder() / ".gitattributes").read_bytes() == (ROOT / ".gitattributes").read_bytes()
    for rel in LOOP:
        shipped = (scaffold_folder() / rel).read_text()
        assert shipped.count(BOOKS_GATE) == 1 and PROJECT_GATE not in shipped, rel
        assert shipped.replace(BOOKS_GATE, PROJECT_GATE) == (ROOT / rel).read_text(), rel


@pytest.mark.parametrize("rel", LOOP)
def test_the_loop_runs_only_where_the_repository_variable_allows(rel: str) -> None:
    for root, gate in ((ROOT, PROJECT_GATE), (scaffold_folder(), BOOKS_GATE)):
        loaded = yaml.safe_load((root / rel).read_text())
        assert [f"if: {job['if']}".split(" && ")[0] for job in loaded["jobs"].values()] == [gate], root / rel


def test_a_books_repository_installs_the_relance_its_requirements_pin_and_the_project_its_checkout() -> None:
    for rel in [".github/workflows/ci.yml", *LOOP]:
        loaded = yaml.safe_load((scaffold_folder() / rel).read_text())
        scripts = "\n".join(step.get("run", "") for job in loaded["jobs"].values() for step in job["steps"])
        assert "python -m pip install --quiet -r requirements.txt" in scripts, rel
        assert "relance-pipeline" not in scripts and "RELANCE_PACKAGE" not in scripts, rel
    for rel in LOOP:
        assert "python -m pip install --quiet -c constraints.txt ." in (ROOT / rel).read_text(), rel


def test_the_release_builds_on_a_version_tag_and_publishes_by_trusted_publishing_alone() -> None:
    release = workflow("release.yml")
    assert release[True] == {"push": {"tags": ["v*"]}}
    assert release["permissions"] == {"contents": "read"}
    build, publish = release["jobs"]["build"], release["jobs"]["publish"]
    assert "scripts/build-dist dist" in "\n".join(step.get("run", "") for step in build["steps"])
    assert "permissions" not in build
    assert publish["needs"] == "build" and publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    assert publish["steps"][-1] == {"uses": "pypa/gh-action-pypi-publish@release/v1"}
    assert "secrets." not in (ROOT / ".github/workflows/release.yml").read_text()


def test_ci_runs_the_readme_test_command_on_the_oldest_and_newest_python_supported() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    prefix = "Programming Language :: Python :: "
    supported = [c.removeprefix(prefix) for c in project["classifiers"] if c.startswith(prefix)]
    assert project["requires-python"] == f">={supported[0]}"
    test = workflow("ci.yml")["jobs"]["test"]
    assert test["strategy"]["matrix"]["python"] == [supported[0], supported[-1]]
    assert next(step["run"] for step in test["steps"] if "run" in step) == "bash .ci/run"
    assert "make test" in (ROOT / ".ci/run").read_text()


def test_every_scaffold_file_is_matched_by_the_package_data_globs() -> None:
    # setuptools expands these globs as the standard library does, which skips hidden folders unless named.
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    package = ROOT / "relance_pipeline"
    matched = {Path(m) for p in patterns["relance_pipeline"] for m in glob.glob(p, root_dir=package, recursive=True)}
    scaffold = [p.relative_to(package) for p in scaffold_folder().rglob("*") if p.is_file()]
    assert [str(p) for p in scaffold if p not in matched] == []
    assert Path("scaffold/.github/workflows/send.yml") in matched


def test_each_workflow_has_least_permissions_and_its_own_concurrency_group() -> None:
    assert workflow("ci.yml")["permissions"] == {"contents": "read"}
    assert workflow("nightly.yml")["permissions"] == {"contents": "write", "pull-requests": "write"}
    assert workflow("send.yml")["permissions"] == {"contents": "write"}
    assert workflow("release.yml")["permissions"] == {"contents": "read"}
    groups = [workflow(w.name)["concurrency"]["group"] for w in WORKFLOWS]
    assert len(set(groups)) == len(WORKFLOWS)
    assert workflow("send.yml")["concurrency"]["cancel-in-progress"] is False


def test_the_nightly_drafts_on_a_branch_and_opens_one_pull_request() -> None:
    nightly = workflow("nightly.yml")
    assert set(nightly[True]) == {"schedule", "workflow_dispatch"}  # PyYAML reads the key `on` as True
    scripts = "\n".join(step.get("run", "") for step in nightly["jobs"]["draft"]["steps"])
    assert nightly["env"]["BRANCH"] == "relance/nightly"
    for command in ("relance rates update", "relance validate", "relance run --commit", "gh pr create", "gh pr edit"):
        assert command in scripts
    assert scripts.index("relance rates update") < scripts.index("relance validate") < scripts.index("relance run")
    assert "GITHUB_STEP_SUMMARY" in scripts


def test_send_runs_on_main_for_outbox_changes_never_for_its_own_commit_and_reads_smtp_from_secrets() -> None:
    send = workflow("send.yml")
    assert send[True]["push"] == {"branches": ["main"], "paths": ["outbox/**"]}
    job = send["jobs"]["send"]
    assert "github.actor != 'github-actions[bot]'" in job["if"]
    send_step = next(step for step in job["steps"] if step.get("id") == "send")
    assert "relance send" in send_step["run"]
    for name in ("HOST", "PORT", "USER", "PASSWORD", "STARTTLS", "SSL"):
        assert send_step["env"][f"RELANCE_SMTP_{name}"] == f"${{{{ secrets.RELANCE_SMTP_{name} }}}}"
    commit_step = job["steps"][-1]
    assert commit_step["if"].startswith("always()") and "[skip ci]" in commit_step["run"]


def test_the_nightly_imports_the_committed_statements_before_it_updates_the_rates_and_drafts() -> None:
    shipped = yaml.safe_load((scaffold_folder() / ".github/workflows/nightly.yml").read_text("utf-8"))
    for nightly in (workflow("nightly.yml"), shipped):
        scripts = "\n".join(step.get("run", "") for step in nightly["jobs"]["draft"]["steps"])
        assert "relance import bank --format markdown" in scripts and "imports/bank/*.xml" in scripts
        order = [scripts.index(c) for c in ("relance import bank", "relance rates update", "relance run")]
        assert order == sorted(order)


@pytest.mark.parametrize(
    ("name", "job", "command"), [("nightly.yml", "draft", "relance import bank"), ("send.yml", "send", "relance send")]
)
def test_the_nightly_and_send_keep_the_books_cache_keyed_on_the_books_tree(name: str, job: str, command: str) -> None:
    steps = workflow(name)["jobs"][job]["steps"]
    cached = [index for index, step in enumerate(steps) if str(step.get("uses", "")).startswith("actions/cache@")]
    assert len(cached) == 1
    cache = steps[cached[0]]
    assert cache["with"]["path"] == ".git/relance"
    key_step = next(index for index, step in enumerate(steps) if step.get("id") == "books-key")
    assert cache["with"]["key"] == "${{ steps.books-key.outputs.key }}"
    assert "HEAD:ledger" in steps[key_step]["run"] and "relance --version" in steps[key_step]["run"]
    lines = [[line.strip() for line in step.get("run", "").splitlines()] for step in steps]
    first_use = next(index for index, run in enumerate(lines) if any(line.startswith(command) for line in run))
    assert key_step < cached[0] < first_use


def test_every_books_workflow_that_validates_or_sends_checks_out_the_whole_history() -> None:
    # A shallow clone has no commit to show that a revert took journal lines away (ship/journal_history.py).
    for rel in [".github/workflows/ci.yml", *LOOP]:
        loaded = yaml.safe_load((scaffold_folder() / rel).read_text())
        for job in loaded["jobs"].values():
            (checkout,) = [step for step in job["steps"] if step.get("uses", "").startswith("actions/checkout@")]
            assert checkout["with"]["fetch-depth"] == 0, rel


def test_the_send_job_records_what_went_out_also_when_send_exits_1() -> None:
    # send exits 1 while an email waits on a person (unknown, or refused for good): the job turns red, and the
    # journal lines of the emails that did go out must still be committed and pushed.
    for root in (ROOT, scaffold_folder()):
        loaded = yaml.safe_load((root / ".github/workflows/send.yml").read_text())
        (job,) = loaded["jobs"].values()
        names = [step.get("name", "") for step in job["steps"]]
        send = next(step for step in job["steps"] if step.get("id") == "send")
        record = next(step for step in job["steps"] if step.get("name", "").startswith("Record what was sent"))
        assert names.index(record["name"]) > names.index(send["name"])
        assert record["if"].startswith("always() && ") and "steps.send.outcome == 'failure'" in record["if"]
        assert 'exit "$status"' in send["run"], "send's own exit code decides the job's colour"
