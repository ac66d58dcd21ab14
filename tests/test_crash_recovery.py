"""A run killed at any moment leaves the outbox and the journal consistent, and the next run finishes the work.

Two ways of killing: SIGKILL at random moments of a real `relance run` process (any instruction, including
inside WeasyPrint or git), and a forked run that dies exactly at each write it makes in turn (before each
rename of a document, in the middle of each journal append, at a line end of each append).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from loop_support import Mailbox, add_draft, approve, events, git, smtp_server
from planbooks import deliver_open
from safety_support import (
    assert_journal_points_at_its_files,
    assert_no_duplicate_steps,
    assert_nothing_unjournaled,
    complete_lines,
    outbox_files,
    relance_args,
    run_relance,
)

from relance_pipeline.books import journal
from relance_pipeline.commands.init import init
from relance_pipeline.commands.record import record_done
from relance_pipeline.commands.run import run
from relance_pipeline.commands.send import send

NIGHTS = ("2026-03-09", "2026-05-01", "2026-06-01", "2026-06-15")
"""Emails, then more emails, then call sheets, then letters with their emails (the catch-up is one step a run)."""


def fresh(root: Path) -> Path:
    init(root)
    return root


def assert_same_as_uninterrupted(crashed: Path, clean: Path) -> None:
    entries = assert_journal_points_at_its_files(crashed)
    assert (crashed / journal.JOURNAL_FILE).read_bytes().endswith(b"\n")
    assert_no_duplicate_steps(entries)
    assert_nothing_unjournaled(crashed, entries)
    assert outbox_files(crashed) == outbox_files(clean)


def assert_all_committed(root: Path) -> None:
    """Every journaled document, and the journal, is in the last commit as it is on disk."""
    status = git(root, "status", "--porcelain", "--untracked-files=all", "outbox").splitlines()
    assert [line for line in status if line != "?? outbox/.gitkeep"] == [], status  # (init commits nothing)


def outbox_stamp(root: Path) -> set[tuple[str, int, int]]:
    return {(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in (root / "outbox").rglob("*")}


def started_writing(process: subprocess.Popen[bytes], root: Path) -> bool:
    """Wait until the run has written something under outbox/ (True), or has ended (False)."""
    before = outbox_stamp(root)
    while process.poll() is None:
        try:
            if outbox_stamp(root) != before:
                return True
        except FileNotFoundError:  # a temporary file renamed between listing and stat: a write
            return True
        time.sleep(0.01)
    return False


EMAILS_POLICY = """\
min_interval_days: 7
steps:
  - {id: relance-1, after_days: 7, channels: [email], template: relance-1}
  - {id: relance-2, after_days: 21, channels: [email], template: relance-2, deadline_days: 10}
  - {id: appel, after_days: 30, channels: [email, sms, phone], template: appel}
  - {id: lettre, after_days: 40, channels: [email], template: lettre, deadline_days: 10}
"""


def busy(root: Path, clients: int = 8) -> Path:
    """The example and `clients` more business clients, each with an invoice due with the example's ones; the
    new ones get no letter (three letters a night are enough to kill WeasyPrint at work)."""
    init(root)
    (root / "policies/emails.yaml").write_text(EMAILS_POLICY, encoding="utf-8")
    for number in range(clients):
        (root / f"ledger/clients/client-{number}.yaml").write_text(
            f"name: Client {number} SARL\nkind: business\nemail: compta@client-{number}.example\n"
            f"address: [Client {number} SARL, {number} rue du Port, 44000 Nantes]\nlanguage: fr\npolicy: emails\n",
            encoding="utf-8",
        )
        (root / f"ledger/invoices/2026/F-2026-{100 + number}.yaml").write_text(
            f"number: F-2026-{100 + number}\nclient: client-{number}\nissued: 2026-01-30\ndue: 2026-03-01\n"
            f'total: "{1000 + 10 * number}.00"\n',
            encoding="utf-8",
        )
    return root


KILLS_A_NIGHT = 3


def test_a_run_killed_at_random_moments_then_rerun_ends_exactly_as_an_uninterrupted_run(tmp_path: Path) -> None:
    """Real SIGKILLs, at least KILLS_A_NIGHT a night: every other try as soon as the run has written something
    (its batch of files, its journal append, its commit), the others at a random moment of its life."""
    clean, crashed = busy(tmp_path / "clean"), busy(tmp_path / "crashed")
    for books in (clean, crashed):
        approve(books, "the books")  # a commit to go back to when a night must be tried again
    lasting: dict[str, float] = {}
    for night in NIGHTS:
        started = time.monotonic()
        finished = run_relance(clean, "run", "--as-of", night, "--commit")
        lasting[night] = time.monotonic() - started
        assert finished.returncode == 0, finished.stdout + finished.stderr
        deliver_open(clean, date.fromisoformat(night))  # reviewed, merged and sent: the next steps can come
    rng = random.Random(20260309)
    kills = 0
    for night in NIGHTS:
        approve(crashed, "the last night's deliveries")  # (recorded after its commit)
        before, landed = git(crashed, "rev-parse", "HEAD").strip(), 0
        for attempt in range(16):
            process = subprocess.Popen(
                relance_args(crashed, "run", "--as-of", night, "--commit"),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            if attempt % 2:
                started_writing(process, crashed)
            else:
                time.sleep(rng.uniform(0, lasting[night] * 0.75))  # rarely past its end: most tries kill it
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                landed += 1
            _, errors = process.communicate()
            assert b"Traceback" not in errors, errors.decode()
            assert_journal_points_at_its_files(crashed)
            if process.returncode == 0:
                if landed >= KILLS_A_NIGHT:
                    break
                # It finished before enough kills: the night again from its start, for more of them.
                git(crashed, "reset", "--quiet", "--hard", before)
                git(crashed, "clean", "-fdq", "outbox")
        kills += landed
        finished = run_relance(crashed, "run", "--as-of", night, "--commit")
        assert finished.returncode == 0, finished.stdout + finished.stderr
        assert_all_committed(crashed)
        deliver_open(crashed, date.fromisoformat(night))
    assert kills >= KILLS_A_NIGHT * len(NIGHTS), f"only {kills} kills landed while the run was working"
    assert_same_as_uninterrupted(crashed, clean)


# --- a forked run dying at each of its writes in turn --------------------------------------------------------

MULTI_CHANNEL_POLICY = """\
min_interval_days: 7
steps:
  - id: appel
    after_days: 7
    channels: [email, sms, phone]
    template: appel
"""
"""One action per client, three documents each: a kill can fall between two documents of one action."""

AS_OF = date(2026, 3, 9)
SENT_ON = date(2026, 6, 16)
"""The day the drafts of 2026-06-15 are sent (inside the rate table)."""
Crash = Callable[[int, bytes], int | None]


def multi_channel_repo(root: Path) -> Path:
    init(root)
    (root / "policies/standard.yaml").write_text(MULTI_CHANNEL_POLICY, encoding="utf-8")
    return root


def run_dying_at(root: Path, event: int, cut: Crash | None, *, commit: bool = False) -> str:
    """Run in a forked child that dies (os._exit, like SIGKILL: no cleanup) at its `event`-th write.

    Writes are counted in order: each rename of a finished document (R), each append to the journal (J). A
    rename dies before it happens (the temporary file stays); an append writes `cut(event, data)` bytes of its
    data first (None: all of it). Returns the writes the child made, as R and J, when it does not die.
    """
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child's coverage is not collected
        os.close(reader)
        count = 0
        made = ""
        real_replace, real_write = os.replace, os.write
        journal_file = str(root / journal.JOURNAL_FILE)

        def replace(source: object, target: object) -> None:
            nonlocal count, made
            count, made = count + 1, made + "R"
            if count == event:
                os._exit(137)
            real_replace(source, target)  # type: ignore[arg-type]

        def write(descriptor: int, data: bytes) -> int:
            nonlocal count, made
            if os.readlink(f"/proc/self/fd/{descriptor}") != journal_file:
                return real_write(descriptor, data)
            count, made = count + 1, made + "J"
            if count == event and cut is not None:
                keep = cut(event, bytes(data))
                if keep:
                    real_write(descriptor, bytes(data)[:keep])
                os._exit(137)
            return real_write(descriptor, data)

        os.replace, os.write = replace, write  # type: ignore[assignment]
        try:
            run(root, AS_OF, commit=commit)
        finally:
            real_write(writer, made.encode())
            os._exit(0)
    os.close(writer)
    _, status = os.waitpid(child, 0)
    with os.fdopen(reader) as pipe:
        made = pipe.read()
    if event:
        assert os.waitstatus_to_exitcode(status) == 137, f"the run did not reach its write {event}"
    return made


def mid_line(_event: int, data: bytes) -> int:
    return len(data) // 2 + 1 if data.count(b"\n") <= 1 else data.index(b"\n") + 7


def at_a_line_end(_event: int, data: bytes) -> int:
    """The kernel may stop a write of a killed process at a page boundary: here, just after a whole line."""
    return data.index(b"\n") + 1


def nothing(_event: int, _data: bytes) -> int:
    return 0


def test_a_run_dying_at_any_of_its_writes_is_finished_by_the_next_run(tmp_path: Path) -> None:
    clean = multi_channel_repo(tmp_path / "clean")
    writes = run_dying_at(clean, 0, None)
    assert writes == "R" * 9 + "J", "three actions of three documents written together, then one journal append"
    cuts: tuple[Crash | None, ...] = (mid_line, at_a_line_end, nothing)
    crashes = [(event, cut) for event, kind in enumerate(writes, start=1) for cut in (cuts if kind == "J" else (None,))]
    for number, (event, cut) in enumerate(crashes):
        root = multi_channel_repo(tmp_path / f"crash-{number}")
        run_dying_at(root, event, cut)
        assert_journal_points_at_its_files(root)
        result = run(root, AS_OF)
        assert not result.failed, result.problems
        assert_same_as_uninterrupted(root, clean)
        again = run(root, AS_OF)
        assert again.drafted == () and again.cleaned == ()
    assert len(crashes) == 9 + 3


def after_lines(count: int, then: int = 0) -> Crash:
    """A cut of the journal append after its first `count` whole lines, and `then` bytes of the next."""

    def cut(_event: int, data: bytes) -> int:
        end = 0
        for _ in range(count):
            end = data.index(b"\n", end) + 1
        return end + then

    return cut


def test_what_a_killed_run_left_is_named_by_the_run_that_cleans_it(tmp_path: Path) -> None:
    first_line_cut = multi_channel_repo(tmp_path / "first-line-cut")
    run_dying_at(first_line_cut, 10, after_lines(3, 10))  # the append, cut in the second action's first line
    result = run(first_line_cut, AS_OF)
    drafted_again = sorted(entry.file for drafted in result.drafted for entry in drafted.entries)
    assert len(result.drafted) == 2  # the second and third actions, whose files were not journaled
    assert sorted(result.cleaned) == sorted([*drafted_again, f"{journal.JOURNAL_FILE}: partial last line"])
    assert len(complete_lines(first_line_cut)) == 9

    lines_cut = multi_channel_repo(tmp_path / "lines-cut")
    run_dying_at(lines_cut, 10, after_lines(4))  # the second action's first line only
    result = run(lines_cut, AS_OF)
    # The third action's files, never journaled, are removed; the second's, cut after its first line, journaled.
    assert result.cleaned == (
        "outbox/2026-03-09/nordwind/appel.call.md",
        "outbox/2026-03-09/nordwind/appel.email.txt",
        "outbox/2026-03-09/nordwind/appel.sms.txt",
        "outbox/2026-03-09/lucie-martin/appel.sms.txt: journaled, its line had been cut off",
        "outbox/2026-03-09/lucie-martin/appel.call.md: journaled, its line had been cut off",
    )
    assert [entry.file for entry in result.drafted[0].entries] == [
        "outbox/2026-03-09/nordwind/appel.email.txt",
        "outbox/2026-03-09/nordwind/appel.sms.txt",
        "outbox/2026-03-09/nordwind/appel.call.md",
    ]

    temporary = multi_channel_repo(tmp_path / "temporary")
    run_dying_at(temporary, 5, None)  # before renaming the fifth document (the second action's second) into place
    (left,) = list((temporary / "outbox").rglob("*.tmp"))
    cleaned = run(temporary, AS_OF).cleaned
    assert left.relative_to(temporary).as_posix() in cleaned
    assert len(cleaned) == 5  # and the four documents renamed before it, not yet journaled


def whole(_event: int, data: bytes) -> int:
    return len(data)


def test_drafts_journaled_by_a_run_killed_before_its_commit_are_committed_by_the_next_run(tmp_path: Path) -> None:
    root = multi_channel_repo(tmp_path / "books")
    run_dying_at(root, 10, whole, commit=True)  # the (last) append done, then killed before `git commit`
    result = run(root, AS_OF, commit=True)
    assert result.drafted == () and result.commit is not None
    tracked = set(git(root, "ls-files", "outbox").split())
    assert {entry.file for entry in complete_lines(root)} | {journal.JOURNAL_FILE} <= tracked
    status = git(root, "status", "--porcelain", "--untracked-files=all", "outbox").splitlines()
    assert status == ["?? outbox/.gitkeep"]  # (init commits nothing; the run commits only its own files)


def test_a_last_journal_line_that_lost_only_its_line_end_is_kept_and_its_email_not_sent_again(
    example_repo: Path,
) -> None:
    draft = add_draft(example_repo, "nordwind", "relance-1")
    mailbox = Mailbox()
    with smtp_server(mailbox) as environ:
        assert send(example_repo, environ, today=SENT_ON).exit_code == 0
        journal_file = example_repo / journal.JOURNAL_FILE
        journal_file.write_bytes(journal_file.read_bytes().rstrip(b"\n"))  # as an editor may save it
        result = run(example_repo, AS_OF)
        assert result.cleaned == () and not result.failed
        again = send(example_repo, environ, today=SENT_ON)
    assert draft not in [entry.file for entry in again.sent]
    (sent,) = [e for e in journal.read_journal(example_repo)[0] if e.event == "sent"]
    assert [m.message_id for m in mailbox.received] == [sent.message_id]
    assert events(example_repo)[:2] == [("drafted", draft), ("sent", draft)]


def test_send_and_record_after_a_killed_run_cut_its_partial_line_first_and_lose_nothing(example_repo: Path) -> None:
    draft = add_draft(example_repo, "nordwind", "relance-1")
    call = add_draft(example_repo, "lucie-martin", "appel", b"# Fiche\n", channel="phone")
    journal_file = example_repo / journal.JOURNAL_FILE
    with journal_file.open("ab") as handle:
        handle.write(b'{"channel": "email", "client": "atelier-ferr')  # what a kill in the middle of an append leaves
    mailbox = Mailbox()
    with smtp_server(mailbox) as environ:
        report = send(example_repo, environ, today=SENT_ON)
    assert report.exit_code == 0, report.problems
    assert [entry.file for entry in report.sent] == [draft]
    assert (
        record_done(example_repo, "called", "lucie-martin", "appel", date(2026, 6, 16), "ok", date(2026, 6, 16))
        is not None
    )
    assert [event for event, _ in events(example_repo)] == ["drafted", "drafted", "sent", "called"]
    assert events(example_repo)[3] == ("called", call)
