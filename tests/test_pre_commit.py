"""The pre-commit hook offered to other repositories, and the configuration this repository and `relance init` use."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from relance_pipeline.commands.init import scaffold_folder

REPOSITORY = Path(__file__).resolve().parent.parent
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
BOOKS = ["relance.yaml", "ledger/clients/acme.yaml", "ledger/invoices/2026/F-1.yaml", "policies/rates.yaml"]
NOT_BOOKS = ["README.md", "relance_pipeline/cli.py", "outbox/journal.jsonl", "tests/test_load.py"]


def _hooks(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {hook["id"]: {**hook, "repo": repo["repo"]} for repo in config["repos"] for hook in repo["hooks"]}


def test_the_manifest_offers_the_relance_validate_hook() -> None:
    manifest = yaml.safe_load((REPOSITORY / ".pre-commit-hooks.yaml").read_text("utf-8"))
    assert [hook["id"] for hook in manifest] == ["relance-validate"]
    hook = manifest[0]
    assert (hook["entry"], hook["language"], hook["pass_filenames"]) == ("relance validate", "python", False)
    assert all(re.search(hook["files"], name) for name in BOOKS)
    assert not any(re.search(hook["files"], name) for name in NOT_BOOKS)


@pytest.mark.parametrize("folder", [REPOSITORY, scaffold_folder()], ids=["repository", "scaffold"])
def test_the_configuration_runs_relance_validate_ruff_and_the_yaml_check(folder: Path) -> None:
    hooks = _hooks(yaml.safe_load((folder / ".pre-commit-config.yaml").read_text("utf-8")))
    assert hooks["relance-validate"]["repo"] == "local"
    assert hooks["relance-validate"]["entry"] == "relance validate"
    assert hooks["relance-validate"]["pass_filenames"] is False
    assert hooks["check-yaml"]["repo"] == "https://github.com/pre-commit/pre-commit-hooks"
    assert hooks["ruff"]["repo"] == "https://github.com/astral-sh/ruff-pre-commit"
    assert all(re.search(hooks["relance-validate"]["files"], name) for name in BOOKS)


def _pre_commit(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(home),
        "PATH": f"{PRE_COMMIT.parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    return subprocess.run(
        [str(PRE_COMMIT), *args], cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=120
    )


def test_pre_commit_accepts_the_manifest_and_the_configuration(tmp_path: Path) -> None:
    manifest = _pre_commit("validate-manifest", ".pre-commit-hooks.yaml", cwd=REPOSITORY, home=tmp_path)
    assert manifest.returncode == 0, manifest.stdout + manifest.stderr
    config = _pre_commit("validate-config", ".pre-commit-config.yaml", cwd=REPOSITORY, home=tmp_path)
    assert config.returncode == 0, config.stdout + config.stderr


def test_the_local_hook_blocks_a_commit_of_broken_books(example_repo: Path, tmp_path: Path) -> None:
    # Only the local hook: the others are fetched from GitHub, which tests do not reach.
    config = yaml.safe_load((example_repo / ".pre-commit-config.yaml").read_text("utf-8"))
    config["repos"] = [repo for repo in config["repos"] if repo["repo"] == "local"]
    (example_repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    invoice = example_repo / "ledger/invoices/2026/F-2026-007.yaml"
    invoice.write_text(invoice.read_text("utf-8").replace("due: 2026-03-22", "due: 2026-13-01"), encoding="utf-8")
    subprocess.run(["git", "add", "--all"], cwd=example_repo, check=True)

    broken = _pre_commit("run", "--all-files", cwd=example_repo, home=tmp_path / "home")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "ledger/invoices/2026/F-2026-007.yaml:4: due: '2026-13-01' is not a date (YYYY-MM-DD)" in broken.stdout

    invoice.write_text(invoice.read_text("utf-8").replace("due: 2026-13-01", "due: 2026-03-22"), encoding="utf-8")
    subprocess.run(["git", "add", "--all"], cwd=example_repo, check=True)
    fixed = _pre_commit("run", "--all-files", cwd=example_repo, home=tmp_path / "home")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
