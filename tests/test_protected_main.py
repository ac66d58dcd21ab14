"""The GitOps loop with `main` protected from the bot, run with the workflows' own scripts: a bare remote whose
pre-receive hook refuses every push to main but a reviewed merge, nightly drafts by `relance run`, merges made
late, and send.yml's steps (taken from the YAML, so that test and workflow cannot drift) against SMTP servers
on 127.0.0.1. What counts is what each client received: every Message-ID exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from loop_support import GIT_IDENTITY, Mailbox, git, smtp_server

from relance_pipeline.books import journal

ROOT = Path(__file__).parent.parent
BIN = str(Path(sys.executable).parent)
RECORD = "relance/sent"
SENT_ON = "2026-06-16"
"""The sends replay this day (RELANCE_AS_OF), inside the rate table."""
HOOK = """#!/bin/sh
# Branch protection: main takes only reviewed merges (a pull request merged on GitHub), never the bot's pushes.
while read -r old new ref; do
  if [ "$ref" = refs/heads/main ] && [ "$GIT_PUSH_OPTION_0" != reviewed-merge ]; then
    echo "main is protected: changes must go through a pull request" >&2
    exit 1
  fi
done
"""


def steps(name: str) -> dict[str, dict[str, Any]]:
    loaded = yaml.safe_load((ROOT / ".github/workflows" / name).read_text())
    (job,) = loaded["jobs"].values()
    return {step["name"]: step for step in job["steps"] if "name" in step}


def run_step(workflow: str, name: str, cwd: Path, environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """One `run:` block of a workflow, as GitHub runs it (`bash -eo pipefail`), with the workflow's env."""
    loaded = yaml.safe_load((ROOT / ".github/workflows" / workflow).read_text())
    literal = {key: str(value) for key, value in loaded.get("env", {}).items() if "${{" not in str(value)}
    script = steps(workflow)[name]["run"]
    runner = cwd.parent / "runner"
    runner.mkdir(exist_ok=True)
    for file in ("output", "summary"):
        (runner / file).touch()
    env = {
        **os.environ,
        **GIT_IDENTITY,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_OUTPUT": str(runner / "output"),
        "GITHUB_STEP_SUMMARY": str(runner / "summary"),
        "RUNNER_TEMP": str(runner),
        "GITHUB_REF_NAME": "main",
        **literal,
        **environ,
    }
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def protected_origin(example_repo: Path, tmp_path: Path) -> Path:
    git(example_repo, "add", "--all")
    git(example_repo, "commit", "--quiet", "-m", "books")
    remote = tmp_path / "origin.git"
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(remote))
    git(remote, "config", "receive.advertisePushOptions", "true")
    git(example_repo, "push", "--quiet", str(remote), "main")
    hook = remote / "hooks/pre-receive"
    hook.write_text(HOOK)
    hook.chmod(0o755)
    return remote


def clone(remote: Path, where: Path, branch: str = "main") -> Path:
    git(where.parent, "clone", "--quiet", "--branch", branch, str(remote), str(where))
    return where


def relance(cwd: Path, *args: str, environ: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(BIN) / "relance"), *args],
        cwd=cwd,
        env={**os.environ, **GIT_IDENTITY, **(environ or {})},
        capture_output=True,
        text=True,
        check=False,
    )


def nightly(remote: Path, where: Path, as_of: str) -> list[str]:
    """nightly.yml: the branch step's record merge, then `relance run --commit`, pushed to relance/nightly."""
    job = clone(remote, where)
    git(job, "fetch", "--quiet", "origin")
    exists = git(job, "ls-remote", "--heads", "origin", "relance/nightly").strip()
    git(job, "switch", "--quiet", "-C", "relance/nightly", "origin/relance/nightly" if exists else "origin/main")
    if exists:
        git(job, "merge", "--quiet", "--no-edit", "origin/main")
    if git(job, "ls-remote", "--heads", "origin", RECORD).strip():
        git(job, "merge", "--quiet", "--no-edit", f"origin/{RECORD}")
    before = set(git(job, "ls-files", "outbox").split())
    ran = relance(job, "run", "--as-of", as_of, "--commit")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    git(job, "push", "--quiet", "origin", "HEAD:refs/heads/relance/nightly")
    return sorted(set(git(job, "ls-files", "outbox").split()) - before)


def merge_pull_request(remote: Path, where: Path) -> None:
    """The reviewer merges the nightly pull request (GitHub's merge button: the only way into main)."""
    reviewer = clone(remote, where)
    git(reviewer, "merge", "--quiet", "--no-ff", "-m", "Merge pull request: relance/nightly", "origin/relance/nightly")
    git(reviewer, "push", "--quiet", "-o", "reviewed-merge", "origin", "main")


def send_job(remote: Path, where: Path, smtp: dict[str, str]) -> tuple[str, str]:
    """send.yml on a fresh checkout of main: take in the record, send, record what was sent."""
    job = clone(remote, where)
    git(job, "fetch", "--quiet", "origin")
    smtp = {"RELANCE_AS_OF": SENT_ON, **smtp}
    outputs = []
    for name in ("Take in the record of earlier sends", "Send the approved emails", "Record what was sent"):
        matching = next(step for step in steps("send.yml") if step.startswith(name))
        done = run_step("send.yml", matching, job, smtp)
        outputs.append(done.stdout + done.stderr)
        if name.startswith("Record"):
            assert done.returncode == 0, done.stdout + done.stderr
    summary = (where.parent / "runner/summary").read_text()
    return "\n".join(outputs), summary


def test_with_main_protected_each_email_reaches_its_client_once_over_a_week_of_sends(
    example_repo: Path, tmp_path: Path
) -> None:
    remote = protected_origin(example_repo, tmp_path)
    drafted = nightly(remote, tmp_path / "night-1", "2026-06-15")
    emails = [file for file in drafted if file.endswith(".email.txt")]
    assert len(emails) == 3
    merge_pull_request(remote, tmp_path / "merge-1")
    mailbox = Mailbox()
    with smtp_server(mailbox) as smtp:
        output, summary = send_job(remote, tmp_path / "send-1", smtp)
        # The bot could not push to main; every later send still knows what went out.
        assert "main refused the bot's push: the record is on relance/sent" in summary
        for day in range(2, 5):
            send_job(remote, tmp_path / f"send-{day}", smtp)
        # The next nights take the record in: nothing is drafted again for the clients who just got an email.
        second_night = nightly(remote, tmp_path / "night-2", "2026-06-16")
        merge_pull_request(remote, tmp_path / "merge-2")
        send_job(remote, tmp_path / "send-5", smtp)
    received = Counter(message.message_id for message in mailbox.received)
    assert sorted(received.values()) == [1, 1, 1], received
    assert [file for file in second_night if file.endswith(".email.txt")] == []
    on_main = clone(remote, tmp_path / "main-after")
    entries, problems = journal.read_journal(on_main)
    assert problems == []
    assert sorted(e.file for e in entries if e.event == "sent") == emails
    assert "sent outbox/" in output


def test_a_slow_server_and_a_dropping_one_deliver_nothing_twice_with_main_protected(
    example_repo: Path, tmp_path: Path
) -> None:
    from test_smtp_faults import Late

    remote = protected_origin(example_repo, tmp_path)
    emails = [file for file in nightly(remote, tmp_path / "night-1", "2026-06-15") if file.endswith(".email.txt")]
    merge_pull_request(remote, tmp_path / "merge-1")
    slow = Late(late_on={1}, delay=3.0)
    with smtp_server(slow, timeout=10) as smtp:
        output, _ = send_job(remote, tmp_path / "send-1", {**smtp, "RELANCE_SMTP_TIMEOUT": "1"})
        again, _ = send_job(remote, tmp_path / "send-2", {**smtp, "RELANCE_SMTP_TIMEOUT": "1"})
    assert f"UNKNOWN {emails[0]}" in output and f"UNKNOWN {emails[0]}" in again
    dropping = Mailbox(drop_on={1}, received=list(slow.received))
    with smtp_server(dropping) as smtp:
        send_job(remote, tmp_path / "send-3", smtp)
    received = Counter(message.message_id for message in dropping.received)
    # The late server took the first email; the others went once; nothing was sent twice.
    assert sorted(received.values()) == [1, 1, 1], received
