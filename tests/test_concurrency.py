"""Two relance processes on one repository at once: one works, the other waits or stops; nothing twice.

`run` stops at once when the repository is busy (a second nightly job is a mistake to report, not to queue);
`send` and `record` wait up to 5 seconds for the lock, then stop with the same message.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import date
from pathlib import Path

import pytest
from loop_support import EMAILS, Mailbox, add_draft, events, smtp_server
from planbooks import deliver_open
from safety_support import (
    assert_journal_points_at_its_files,
    assert_no_duplicate_steps,
    complete_lines,
    hold_lock_elsewhere,
    relance_args,
    run_relance,
)

from relance_pipeline.outbox.lock import LockBusy, lock_path, repository_lock

BUSY = "another relance process (pid "


def start(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        relance_args(root, *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    out, err = process.communicate(timeout=120)
    return process.returncode, out + err


def test_two_runs_started_together_draft_once_and_the_other_says_the_repository_is_busy(
    example_repo: Path,
) -> None:
    overlapped = 0
    for night in ("2026-03-09", "2026-05-01"):
        first, second = (start(example_repo, "run", "--as-of", night, "--commit") for _ in range(2))
        outcomes = [finish(first), finish(second)]
        worked = [outcome for outcome in outcomes if "3 document sets drafted" in outcome[1]]
        assert len(worked) == 1 and worked[0][0] == 0, outcomes
        (code, message) = next(outcome for outcome in outcomes if outcome is not worked[0])
        assert "Traceback" not in message
        deliver_open(example_repo, date.fromisoformat(night))  # reviewed and sent: the next night escalates
        if code == 0:  # it started once the first had finished (a loaded machine): nothing was left to draft
            assert f"nothing to draft as of {night}" in message, message
            continue
        assert code == 1, message
        assert f"relance run: {BUSY}" in message and "nothing was done: run again when it has finished" in message
        overlapped += 1
    assert overlapped >= 1, "the two runs never ran at the same time"
    entries = assert_journal_points_at_its_files(example_repo)
    assert len([e for e in entries if e.event == "drafted"]) == 6
    assert_no_duplicate_steps(entries)
    log = subprocess.run(["git", "log", "--format=%s"], cwd=example_repo, capture_output=True, text=True, check=True)
    assert [line.split(":")[0] for line in log.stdout.splitlines()] == ["relance 2026-05-01", "relance 2026-03-09"]


def test_two_sends_at_once_deliver_each_email_once(example_repo: Path) -> None:
    files = [add_draft(example_repo, client, "relance-1") for client in ("atelier-ferrand", "lucie-martin", "nordwind")]
    mailbox = Mailbox()
    with smtp_server(mailbox) as environ:
        senders = [start(example_repo, "send", "--as-of", "2026-06-16", env=environ) for _ in range(2)]
        outcomes = [finish(sender) for sender in senders]
    assert [code for code, _ in outcomes] == [0, 0], outcomes
    printed = "".join(output for _, output in outcomes)
    assert sorted(line.split()[1] for line in printed.splitlines() if line.startswith("sent ")) == files
    assert "nothing to send" in printed  # the second waited for the first, then found nothing left
    assert len(mailbox.received) == 3
    assert sorted(r.recipients[0] for r in mailbox.received) == sorted(
        EMAILS[c] for c in ("atelier-ferrand", "lucie-martin", "nordwind")
    )
    assert [event for event, _ in events(example_repo)].count("sent") == 3


def test_a_send_that_cannot_get_the_lock_in_time_sends_nothing_and_says_why(example_repo: Path) -> None:
    add_draft(example_repo, "nordwind", "relance-1")
    mailbox = Mailbox()
    with smtp_server(mailbox) as environ, repository_lock(example_repo):
        started = time.monotonic()
        code, output = finish(start(example_repo, "send", "--as-of", "2026-06-16", env=environ))
        waited = time.monotonic() - started
    assert code == 1 and BUSY in output and str(os.getpid()) in output
    assert waited >= 5
    assert mailbox.received == []
    assert [event for event, _ in events(example_repo)] == ["drafted"]


def test_a_run_while_another_process_holds_the_repository_writes_nothing(example_repo: Path) -> None:
    with repository_lock(example_repo):
        done = run_relance(example_repo, "run", "--as-of", "2026-03-09")
    assert done.returncode == 1
    assert done.stderr.startswith(f"relance run: {BUSY}{os.getpid()}) is working on ")
    assert complete_lines(example_repo) == []
    assert sorted(p.name for p in (example_repo / "outbox").iterdir()) == [".gitkeep"]


def test_the_lock_of_a_killed_process_is_free_at_once(example_repo: Path) -> None:
    holder = hold_lock_elsewhere(example_repo, 60)
    with pytest.raises(LockBusy), repository_lock(example_repo):
        pass
    holder.send_signal(signal.SIGKILL)
    holder.communicate()  # reaps it and closes its pipe
    assert lock_path(example_repo).read_text().strip() == str(holder.pid)  # the file stays; the lock does not
    with repository_lock(example_repo):
        pass
    done = run_relance(example_repo, "run", "--as-of", "2026-03-09")
    assert done.returncode == 0, done.stdout + done.stderr
