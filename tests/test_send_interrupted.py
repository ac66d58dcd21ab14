"""A send killed between the server's acceptance of a message and its journal line never sends it twice: the
message was noted in the sending list before its last byte went, so the next send journals it `unknown` and
waits for a person; a send killed before that point has handed nothing over, and the next one sends it."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from click.testing import CliRunner
from loop_support import Mailbox, add_draft, smtp_server

from relance_pipeline.books import journal
from relance_pipeline.cli.main import main
from relance_pipeline.commands.send import INTERRUPTED, send
from relance_pipeline.outbox import journal as journal_writer
from relance_pipeline.outbox import sending

SENT_ON = date(2026, 6, 16)


def send_dying(root: Path, environ: dict[str, str], where: str) -> None:
    """`send` in a forked child that dies like SIGKILL (no cleanup): `after-acceptance` when it is about to journal
    the server's acceptance, `before-handing` when it is about to note the message in the sending list."""
    child = os.fork()
    if child == 0:  # pragma: no cover - the child's coverage is not collected
        try:
            if where == "after-acceptance":
                real = journal_writer.append

                def append(at: Path, entries: object) -> None:
                    if any(entry.event == "sent" for entry in entries):  # type: ignore[attr-defined]
                        os._exit(137)
                    real(at, entries)  # type: ignore[arg-type]

                journal_writer.append = append  # type: ignore[assignment]
            else:

                def note(self: sending.SendingList, file: str, message_id: str | None) -> None:
                    os._exit(137)

                sending.SendingList.note = note  # type: ignore[method-assign]
            send(root, environ, today=SENT_ON)
        finally:
            os._exit(0)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 137


def events_of(root: Path, file: str) -> list[str]:
    entries, problems = journal.read_journal(root)
    assert problems == []
    return [entry.event for entry in entries if entry.file == file]


def test_a_send_killed_after_the_server_took_the_message_does_not_send_it_again(example_repo: Path) -> None:
    draft = add_draft(example_repo, "nordwind", "relance-1")
    mailbox = Mailbox()
    with smtp_server(mailbox) as environ:
        send_dying(example_repo, environ, "after-acceptance")
        assert len(mailbox.received) == 1 and events_of(example_repo, draft) == ["drafted"]
        again = send(example_repo, environ, today=SENT_ON)
    assert len(mailbox.received) == 1  # not twice
    assert [(line.file, line.note) for line in again.unknown] == [(draft, INTERRUPTED)]
    assert again.sent == [] and again.exit_code == 1
    assert events_of(example_repo, draft) == ["drafted", "unknown"]
    (unknown,) = again.unknown
    assert unknown.message_id is not None and unknown.message_id in mailbox.received[0].data.decode()
    assert not (example_repo / ".git" / sending.SENDING_LIST).exists()

    # The user finds it in the server's sent folder and says so; nothing is sent again.
    recorded = CliRunner().invoke(
        main,
        ["--repo", str(example_repo), "record", "sent", "--client", "nordwind", "--step", "relance-1",
         "--date", SENT_ON.isoformat()],
    )  # fmt: skip
    assert recorded.exit_code == 0, recorded.output
    with smtp_server(mailbox) as environ:
        settled = send(example_repo, environ, today=SENT_ON)
    assert settled.exit_code == 0 and len(mailbox.received) == 1


def test_a_send_killed_before_handing_the_message_over_sends_it_next_time_once(example_repo: Path) -> None:
    draft = add_draft(example_repo, "nordwind", "relance-1")
    mailbox = Mailbox()
    with smtp_server(mailbox) as environ:
        send_dying(example_repo, environ, "before-handing")
        assert mailbox.received == []
        again = send(example_repo, environ, today=SENT_ON)
    assert [line.file for line in again.sent] == [draft] and again.unknown == []
    assert len(mailbox.received) == 1 and events_of(example_repo, draft) == ["drafted", "sent"]


def test_a_send_that_ends_leaves_no_sending_list(example_repo: Path) -> None:
    add_draft(example_repo, "nordwind", "relance-1")
    with smtp_server(Mailbox()) as environ:
        report = send(example_repo, environ, today=SENT_ON)
    assert len(report.sent) == 1
    assert not (example_repo / ".git" / sending.SENDING_LIST).exists()
