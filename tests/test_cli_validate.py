"""`relance validate` as a user runs it: one `file:line: message` per problem, exit 1, never a traceback."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from relance_pipeline.cli.main import main

BAD = "ledger/invoices/2026/bad.yaml"
LOCATED = re.compile(r"^[^\s:][^:]*(:\d+)?: \S.*$")


def relance(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--repo", str(root), *args], catch_exceptions=False)


def test_valid_books_exit_0_with_a_one_line_summary(example_repo: Path) -> None:
    result = relance(example_repo, "validate")
    assert result.exit_code == 0, result.output
    assert result.stdout == "valid: 6 invoices, 5 clients, 1 policy; rates to 2026-S1\n"


def test_a_missing_semester_of_today_warns_on_stderr_and_still_exits_0(example_repo: Path) -> None:
    # A table that ends long ago: whatever today is, its semester is missing.
    rates = example_repo / "policies/rates.yaml"
    rates.write_text('semesters:\n  2000-S1: {ecb_reference: "4.00", b2b_default: "14.00"}\n', encoding="utf-8")
    result = relance(example_repo, "validate")
    assert result.exit_code == 0, result.output
    assert result.stdout == "valid: 6 invoices, 5 clients, 1 policy; rates to 2000-S1\n"
    assert re.fullmatch(
        r"policies/rates\.yaml:1: warning: has no row for \d{4}-S[12], the semester of today \(\d{4}-\d\d-\d\d\); "
        r"the table ends at 2000-S1\. Run `relance rates update` or add the row by hand: "
        r"penalties after 2000-S1 cannot be computed\n",
        result.stderr,
    )


def test_an_invoice_with_a_schema_error_still_has_its_client_and_number_checked(example_repo: Path) -> None:
    (example_repo / "ledger/invoices/2026/F-2026-007.yaml").write_text(
        "number: F-2026-003\nclient: atelier-ferand\nissued: 2026-02-20\ndue: soon\ntotal: '1200.00'\n",
        encoding="utf-8",
    )
    result = relance(example_repo, "validate")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "ledger/invoices/2026/F-2026-007.yaml:1: number: 'F-2026-003' is already the number of "
        "ledger/invoices/2026/F-2026-003.yaml; each invoice needs its own number",
        "ledger/invoices/2026/F-2026-007.yaml:2: client: no client 'atelier-ferand' (did you mean 'atelier-ferrand'?): "
        "add ledger/clients/atelier-ferand.yaml or use the name of a file there",
        "ledger/invoices/2026/F-2026-007.yaml:4: due: 'soon' is not a date (YYYY-MM-DD)",
    ]


def test_a_reference_the_schema_already_refused_is_not_reported_twice(example_repo: Path) -> None:
    (example_repo / "ledger/invoices/2026/F-2026-007.yaml").write_text(
        "number: F-2026-007\nclient: Atelier Ferrand\nissued: 2026-02-20\ndue: 2026-03-20\ntotal: '1200.00'\n",
        encoding="utf-8",
    )
    result = relance(example_repo, "validate")
    assert result.exit_code == 1
    assert [line.split(": ")[0] for line in result.stdout.splitlines()] == ["ledger/invoices/2026/F-2026-007.yaml:2"]


def test_every_error_of_every_file_is_printed_in_one_pass_and_exits_1(example_repo: Path) -> None:
    (example_repo / "ledger/invoices/2026/F-2026-007.yaml").write_text(
        "number: F-2026-007\nclient: atelier-ferrand\nissued: 2026-02-20\ndue: 2026-13-01\ntotal: '1200.00'\n",
        encoding="utf-8",
    )
    (example_repo / "ledger/clients/nordwind.yaml").write_bytes(b"name: Nordwind\x00\n")
    (example_repo / "relance.yaml").write_text("creditor: [\n", encoding="utf-8")
    result = relance(example_repo, "validate")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "ledger/clients/nordwind.yaml:1: is a binary file, not YAML text",
        "ledger/invoices/2026/F-2026-007.yaml:4: due: '2026-13-01' is not a date (YYYY-MM-DD)",
        "relance.yaml:2: is not valid YAML: a value is missing here (is a [ or { left open?)",
    ]


BROKEN_FILES = [
    pytest.param(
        b"number: [F-1\nclient: x\n", "2: is not valid YAML: the [ opened on line 1 is not closed with ]", id="not-yaml"
    ),
    pytest.param(b"number: F-1\nclient: caf\xe9\n", "2: is not UTF-8 text (byte 0xe9); save it as UTF-8", id="latin-1"),
    pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "3: is a binary file, not YAML text", id="binary"),
    pytest.param(b"", "1: is empty; it should hold a YAML mapping", id="empty"),
    pytest.param(
        b"number: F-1\n# " + b"x" * (1024 * 1024),
        "1: is too large to be a books file (more than 1024 KiB)",
        id="huge",
    ),
    pytest.param(b"number: F-1\nnumber: F-2\n", "2: the key 'number' is written twice", id="duplicate-key"),
    pytest.param(
        b"number: !!python/object/apply:os.system [echo pwned]\n",
        "1: the YAML tag '!!python/object/apply:os.system' is not allowed: books hold plain data only",
        id="python-tag",
    ),
    pytest.param(
        b"a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + b"".join(
            f"{name}: &{name} [{', '.join([f'*{prev}'] * 10)}]\n".encode()
            for prev, name in zip("abcdefghij", "bcdefghijk", strict=True)
        ),
        "1: its aliases (*name) expand to more than 50000 values: write the values out instead",
        id="alias-bomb",
    ),
    pytest.param(b"x: " + b"[" * 5000 + b"]" * 5000, "1: is nested too deeply (more than 64 levels)", id="deep"),
    pytest.param(b"- number: F-1\n", "1: should hold a mapping of keys (key: value lines)", id="a-list"),
]


@pytest.mark.parametrize(("raw", "expected"), BROKEN_FILES)
def test_a_file_that_cannot_be_read_is_one_clean_problem(example_repo: Path, raw: bytes, expected: str) -> None:
    (example_repo / BAD).write_bytes(raw)
    result = relance(example_repo, "validate")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    about_bad = [line for line in lines if line.startswith(BAD)]
    assert len(about_bad) == 1, lines
    assert about_bad[0].startswith(f"{BAD}:{expected}")
    assert all(LOCATED.match(line) for line in lines), lines
    assert "Traceback" not in result.output


def test_a_folder_without_books_is_reported_not_crashed_on(tmp_path: Path) -> None:
    (tmp_path / "nothing-here").mkdir()
    result = relance(tmp_path / "nothing-here", "validate")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "policies/rates.yaml: is missing: the late-payment rates per semester live there",
        "relance.yaml: is missing: every dunning repository starts with it",
    ]


def test_a_usage_error_exits_2(example_repo: Path) -> None:
    assert relance(example_repo, "validate", "--strict").exit_code == 2


def test_a_repository_folder_that_does_not_exist_is_a_usage_error(tmp_path: Path) -> None:
    result = relance(tmp_path / "typo", "validate")
    assert result.exit_code == 2 and "does not exist" in result.output


def test_the_installed_command_reports_a_broken_file_without_a_traceback(example_repo: Path) -> None:
    (example_repo / BAD).write_bytes(b"number: !!python/object/new:os.system [echo pwned]\n")
    command = shutil.which("relance", path=os.path.dirname(sys.executable)) or shutil.which("relance")
    assert command is not None, "the console script `relance` is installed with the package"
    done = subprocess.run(
        [command, "--repo", str(example_repo), "validate"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert (
        f"{BAD}:1: the YAML tag '!!python/object/new:os.system' is not allowed: books hold plain data only\n"
        in done.stdout
    )
    assert "Traceback" not in done.stderr
    assert "pwned" not in done.stdout + done.stderr
