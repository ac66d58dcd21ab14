"""SMTP going wrong in every place a real server can: each fault is reported, what went out is recorded, the rest
is tried again by the next `relance send`, the exit code is 1, and no email ever reaches the server twice.

test_send.py covers a 451 on DATA and a connection closed after DATA; these are the other places.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from email import message_from_bytes, policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from click.testing import CliRunner
from loop_support import EMAILS, Mailbox, Received, add_draft, events, free_port, smtp_server

from relance_pipeline.books import journal
from relance_pipeline.cli.main import main
from relance_pipeline.commands.send import SendReport, send
from relance_pipeline.core.history import history
from relance_pipeline.model import JournalEntry

TODAY = date(2026, 6, 16)
NOW = datetime(2026, 6, 16, 9, 30, tzinfo=ZoneInfo("Europe/Paris"))
CLIENTS = ("atelier-ferrand", "lucie-martin", "nordwind")


def run_send(root: Path, environ: dict[str, str]) -> SendReport:
    return send(root, environ, today=TODAY, now=NOW)


def three_drafts(root: Path) -> list[str]:
    return [add_draft(root, client, "relance-1") for client in CLIENTS]


@dataclass
class Faulty(Mailbox):
    """Answers the n-th message (counted at MAIL FROM) with the reply given for its phase, or drops it there."""

    at_mail: dict[int, str] = field(default_factory=dict)
    at_rcpt: dict[int, str] = field(default_factory=dict)
    at_data: dict[int, str] = field(default_factory=dict)
    silent_after_data: set[int] = field(default_factory=set)
    messages: int = 0

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        self.messages += 1
        if self.messages in self.at_mail:
            return self.at_mail[self.messages]
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        reply = self.at_rcpt.get(self.messages)
        if reply == "drop":
            assert server.transport is not None
            server.transport.close()
            return "421 closing"
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.messages in self.silent_after_data:
            await asyncio.sleep(3)  # longer than the client waits: it gives up; nothing is delivered
            assert server.transport is not None
            server.transport.close()
            return "421 too late"
        if self.messages in self.at_data:
            return self.at_data[self.messages]
        self.received.append(
            Received(str(envelope.mail_from), list(envelope.rcpt_tos), bytes(envelope.original_content or b""))
        )
        return "250 OK"


@contextmanager
def mute_server(*, greeting: bytes = b"") -> Iterator[dict[str, str]]:
    """A TCP server that accepts connections and then says `greeting` (or nothing) and nothing more."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.05)  # accept() wakes up to see `stop`: closing the listener would not wake it
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            accepted.append(connection)
            with suppress(OSError):  # a client that already gave up is no fault of the server's
                connection.sendall(greeting)

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    try:
        port = listener.getsockname()[1]
        yield {"RELANCE_SMTP_HOST": "127.0.0.1", "RELANCE_SMTP_PORT": str(port), "RELANCE_SMTP_TIMEOUT": "1"}
    finally:
        # Every connection it accepted is closed, even one accepted while the test was ending.
        stop.set()
        server.join()
        listener.close()
        for connection in accepted:
            connection.close()


def assert_each_delivered_once(mailbox: Mailbox, root: Path, files: list[str]) -> None:
    sent = [e for e in journal.read_journal(root)[0] if e.event == "sent"]
    assert sorted(e.file for e in sent) == sorted(files)
    delivered = [m.message_id for m in mailbox.received]
    assert len(set(delivered)) == len(delivered) == len(CLIENTS)
    assert sorted(delivered) == sorted(str(e.message_id) for e in sent)
    assert sorted(r for m in mailbox.received for r in m.recipients) == sorted(EMAILS[c] for c in CLIENTS)


def message_id_in(root: Path, entry: JournalEntry) -> str:
    """The Message-ID of the .eml a journal line says went out (or may have)."""
    assert entry.document is not None
    return str(message_from_bytes((root / entry.document).read_bytes(), policy=policy.default)["Message-ID"])


def later_everything_goes_out_once(root: Path, files: list[str], earlier: list[Received]) -> None:
    mailbox = Mailbox(received=list(earlier))
    with smtp_server(mailbox) as environ:
        again = run_send(root, environ)
        assert again.exit_code == 0 and again.failed == []
        assert run_send(root, environ).sent == []
    assert_each_delivered_once(mailbox, root, files)


def test_a_refused_connection_sends_nothing_records_no_failure_and_everything_goes_out_next_time(
    example_repo: Path,
) -> None:
    files = three_drafts(example_repo)
    port = free_port()
    for _night in range(3):  # an outage of three nights counts no failure against any email
        report = run_send(example_repo, {"RELANCE_SMTP_HOST": "127.0.0.1", "RELANCE_SMTP_PORT": str(port)})
        assert report.exit_code == 1
        assert report.stopped is not None and f"127.0.0.1:{port} (plain): cannot connect (" in report.stopped
        assert report.sent == [] and report.failed == []
        assert [d.file for d in report.to_send] == files
    assert [event for event, _ in events(example_repo)] == ["drafted"] * 3
    later_everything_goes_out_once(example_repo, files, [])


@pytest.mark.parametrize("greeting", [b"", b"220 slow.example ESMTP\r\n"], ids=["no-greeting", "no-ehlo-answer"])
def test_a_server_that_stops_answering_times_out_and_the_batch_waits(example_repo: Path, greeting: bytes) -> None:
    files = three_drafts(example_repo)
    started = time.monotonic()
    with mute_server(greeting=greeting) as environ:
        report = run_send(example_repo, environ)
    assert time.monotonic() - started < 15
    assert report.exit_code == 1 and report.stopped is not None
    assert "timed out" in report.stopped, report.stopped
    assert report.sent == [] and report.failed == [] and [d.file for d in report.to_send] == files
    later_everything_goes_out_once(example_repo, files, [])


def test_a_server_silent_after_the_data_leaves_that_message_unknown_and_the_others_go(example_repo: Path) -> None:
    files = three_drafts(example_repo)
    mailbox = Faulty(silent_after_data={2})
    with smtp_server(mailbox, timeout=10) as environ:
        settings = {**environ, "RELANCE_SMTP_TIMEOUT": "1"}
        report = run_send(example_repo, settings)
        again = run_send(example_repo, settings)
    assert report.exit_code == 1 and report.stopped is None
    assert [e.file for e in report.sent] == [files[0], files[2]] and report.failed == []
    (unknown,) = report.unknown
    assert (unknown.file, unknown.event, unknown.message_id) == (
        files[1],
        "unknown",
        message_id_in(example_repo, unknown),
    )
    assert unknown.note is not None and "may have accepted it" in unknown.note
    # Never tried again by a send: it waits for a person, and says so on every send.
    assert again.sent == [] and again.failed == [] and [d.file for d in again.waiting] == [files[1]]
    assert again.exit_code == 1 and mailbox.messages == 3, "red until a person settles it"


def test_a_message_whose_sending_is_recorded_failed_by_hand_goes_out_at_the_next_send(example_repo: Path) -> None:
    files = three_drafts(example_repo)
    mailbox = Faulty(silent_after_data={1})
    runner = CliRunner()
    with smtp_server(mailbox, timeout=10) as environ:
        settings = {**environ, "RELANCE_SMTP_TIMEOUT": "1"}
        first = runner.invoke(main, ["--repo", str(example_repo), "send", "--as-of", TODAY.isoformat()], env=settings)
        settled = runner.invoke(
            main,
            ["--repo", str(example_repo), "record", "failed", "--client", "atelier-ferrand", "--step", "relance-1"],
        )
        second = run_send(example_repo, settings)
    assert first.exit_code == 1
    (unknown,) = [e for e in journal.read_journal(example_repo)[0] if e.event == "unknown"]
    assert f"UNKNOWN {files[0]} {message_id_in(example_repo, unknown)}: " in first.output
    assert "relance record sent --client atelier-ferrand --step relance-1" in first.output
    assert settled.exit_code == 0, settled.output
    assert [e.file for e in second.sent] == [files[0]]
    assert_each_delivered_once(mailbox, example_repo, files)


@dataclass
class Late(Mailbox):
    """Takes the n-th message, then answers 250 after `delay` seconds, or trickles `250-` lines until then."""

    late_on: set[int] = field(default_factory=set)
    delay: float = 4.0
    trickle: bool = False

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.attempts += 1
        self.received.append(
            Received(str(envelope.mail_from), list(envelope.rcpt_tos), bytes(envelope.original_content or b""))
        )
        if self.attempts in self.late_on:
            waited = 0.0
            while waited < self.delay:
                await asyncio.sleep(0.3)
                waited += 0.3
                if self.trickle:
                    await server.push("250-still working on it")
        return "250 OK"


@pytest.mark.parametrize("trickle", [False, True], ids=["answers-250-late", "trickles-250-lines"])
def test_a_message_accepted_after_the_timeout_is_unknown_and_reaches_the_client_once(
    example_repo: Path, trickle: bool
) -> None:
    files = three_drafts(example_repo)
    mailbox = Late(late_on={2}, trickle=trickle)
    runner = CliRunner()
    started = time.monotonic()
    with smtp_server(mailbox, timeout=10) as environ:
        settings = {**environ, "RELANCE_SMTP_TIMEOUT": "1"}
        first = run_send(example_repo, settings)
        elapsed = time.monotonic() - started
        second = run_send(example_repo, settings)
        settled = runner.invoke(
            main, ["--repo", str(example_repo), "record", "sent", "--client", "lucie-martin", "--step", "relance-1"]
        )
        third = run_send(example_repo, settings)
    # The whole exchange is bounded by the timeout, trickled lines or not (the old client waited them out).
    assert elapsed < 3.5, elapsed
    assert [e.file for e in first.unknown] == [files[1]] and first.unknown[0].note is not None
    assert "no complete answer within 1 s" in first.unknown[0].note
    assert second.sent == [] and third.sent == [] and third.waiting == []
    assert settled.exit_code == 0, settled.output
    assert_each_delivered_once(mailbox, example_repo, files)
    (settled_line,) = [e for e in journal.read_journal(example_repo)[0] if e.event == "sent" and e.file == files[1]]
    (unknown,) = [e for e in journal.read_journal(example_repo)[0] if e.event == "unknown"]
    assert settled_line.message_id == unknown.message_id == message_id_in(example_repo, unknown)


def test_a_greeting_trickled_line_by_line_is_cut_at_the_timeout(example_repo: Path) -> None:
    files = three_drafts(example_repo)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def trickle() -> None:
        connection, _ = listener.accept()
        with connection:
            while not stop.is_set():
                try:
                    connection.sendall(b"220-welcome, one moment\r\n")
                except OSError:
                    return
                time.sleep(0.3)

    threading.Thread(target=trickle, daemon=True).start()
    started = time.monotonic()
    port = str(listener.getsockname()[1])
    report = run_send(
        example_repo, {"RELANCE_SMTP_HOST": "127.0.0.1", "RELANCE_SMTP_PORT": port, "RELANCE_SMTP_TIMEOUT": "1"}
    )
    stop.set()
    listener.close()
    assert time.monotonic() - started < 3.5
    assert report.stopped is not None and "timed out" in report.stopped and report.sent == []
    later_everything_goes_out_once(example_repo, files, [])


@pytest.mark.parametrize(
    ("phase", "reply"),
    [
        ("at_rcpt", "450 4.2.1 mailbox busy, try later"),
        ("at_mail", "451 4.3.2 sender temporarily refused"),
        ("at_data", "452 4.3.1 insufficient storage"),
    ],
)
def test_a_4xx_for_one_message_fails_that_one_only_and_it_is_tried_again(
    example_repo: Path, phase: str, reply: str
) -> None:
    files = three_drafts(example_repo)
    mailbox = Faulty()
    getattr(mailbox, phase)[2] = reply
    with smtp_server(mailbox) as environ:
        report = run_send(example_repo, environ)
    assert report.exit_code == 1 and report.stopped is None
    assert [e.file for e in report.sent] == [files[0], files[2]]
    (failed,) = report.failed
    assert failed.file == files[1] and failed.note is not None and reply.split()[0] in failed.note
    assert " ".join(reply.split()[1:]) in failed.note
    later_everything_goes_out_once(example_repo, files, mailbox.received)


@pytest.mark.parametrize(
    ("phase", "reply"),
    [
        ("at_rcpt", "550 5.1.1 no such user"),
        ("at_mail", "553 5.7.1 sender not allowed"),
        ("at_data", "554 5.7.1 message refused as spam"),
    ],
)
def test_a_5xx_is_refused_for_good_and_not_tried_again_until_a_person_asks(
    example_repo: Path, phase: str, reply: str
) -> None:
    files = three_drafts(example_repo)
    mailbox = Faulty()
    getattr(mailbox, phase)[2] = reply
    runner = CliRunner()
    repo = ["--repo", str(example_repo)]
    with smtp_server(mailbox) as environ:
        first = run_send(example_repo, environ)
        later = [runner.invoke(main, [*repo, "send"], env=environ) for _night in range(3)]
        assert len(mailbox.received) == 2, "the refused message never reached the server again"
        asked = runner.invoke(main, [*repo, "record", "failed", "--client", "lucie-martin", "--step", "relance-1"])
        again = run_send(example_repo, environ)
    assert first.exit_code == 1 and [e.file for e in first.sent] == [files[0], files[2]]
    ((refused),) = first.failed
    assert refused.file == files[1] and refused.permanent and refused.note is not None and reply in refused.note
    for night in later:
        assert f"REFUSED {files[1]}: " in night.output and f"{reply}; refused for good by the server" in night.output
        assert "relance record failed --client lucie-martin --step relance-1" in night.output
    assert asked.exit_code == 0, asked.output
    assert [e.file for e in again.sent] == [files[1]] and again.exit_code == 0
    lines = [event for event, file in events(example_repo) if file == files[1]]
    assert lines == ["drafted", "failed", "failed", "sent"]
    assert_each_delivered_once(mailbox, example_repo, files)


def test_a_connection_dropped_at_the_recipient_stops_the_batch_and_loses_nothing(example_repo: Path) -> None:
    files = three_drafts(example_repo)
    mailbox = Faulty(at_rcpt={2: "drop"})
    with smtp_server(mailbox) as environ:
        report = run_send(example_repo, environ)
    assert report.exit_code == 1 and report.stopped is not None and "closed the connection" in report.stopped
    assert [e.file for e in report.sent] == files[:1] and [e.file for e in report.failed] == files[1:2]
    later_everything_goes_out_once(example_repo, files, mailbox.received)


def test_a_421_greeting_is_reported_and_nothing_is_sent(example_repo: Path) -> None:
    files = three_drafts(example_repo)
    with mute_server(greeting=b"421 4.3.2 service not available, closing\r\n") as environ:
        report = run_send(example_repo, environ)
    assert report.exit_code == 1 and report.stopped is not None and "421" in report.stopped
    assert report.sent == []
    later_everything_goes_out_once(example_repo, files, [])


def test_the_command_prints_each_fault_exits_1_and_the_dry_run_counts_the_failures(example_repo: Path) -> None:
    files = three_drafts(example_repo)
    mailbox = Faulty(at_rcpt={1: "450 4.2.1 mailbox busy"}, at_data={3: "451 4.3.0 try again later"})
    runner = CliRunner()
    with smtp_server(mailbox) as environ:
        failing = runner.invoke(main, ["--repo", str(example_repo), "send", "--as-of", TODAY.isoformat()], env=environ)
        dry = runner.invoke(
            main, ["--repo", str(example_repo), "send", "--dry-run", "--as-of", TODAY.isoformat()], env=environ
        )
    assert failing.exit_code == 1
    assert f"failed {files[0]}: compta@atelier-ferrand.fr: 450 4.2.1 mailbox busy" in failing.output
    assert f"failed {files[2]}: 451 4.3.0 try again later" in failing.output
    (sent,) = [e for e in journal.read_journal(example_repo)[0] if e.event == "sent"]
    assert f"sent {files[1]} {sent.message_id}" in failing.output
    assert dry.exit_code == 0
    assert f"would send {files[0]} (failed 1×)" in dry.output and f"would send {files[2]} (failed 1×)" in dry.output
    later_everything_goes_out_once(example_repo, files, mailbox.received)


def test_send_exits_1_while_an_email_waits_on_a_person_and_plan_names_the_command_that_settles_it(
    example_repo: Path,
) -> None:
    files = three_drafts(example_repo)  # atelier-ferrand, lucie-martin, nordwind: messages 1, 2, 3
    mailbox = Faulty(at_data={1: "550 5.1.1 no such user"}, silent_after_data={2})
    runner = CliRunner()
    repo = ["--repo", str(example_repo)]
    refused = "--client atelier-ferrand --step relance-1"
    unknown = "--client lucie-martin --step relance-1"
    with smtp_server(mailbox, timeout=10) as environ:
        settings = {**environ, "RELANCE_SMTP_TIMEOUT": "1"}
        first = run_send(example_repo, settings)
        night = runner.invoke(main, [*repo, "send", "--as-of", "2026-06-17"], env=settings)
        tried = mailbox.messages
        plan = runner.invoke(main, [*repo, "plan", "--as-of", "2026-06-17"])
        for verb, who in (("failed", refused), ("sent", unknown)):
            recorded = runner.invoke(main, [*repo, "record", verb, *who.split()])
            assert recorded.exit_code == 0, recorded.output
        settled = runner.invoke(main, [*repo, "send", "--as-of", "2026-06-17"], env=settings)
    assert first.exit_code == 1 and [e.file for e in first.sent] == [files[2]]
    assert night.exit_code == 1 and tried == 3, "nothing was tried again, and the night is red"
    assert "waiting on a person: 2 emails; relance send exits 1 until each is settled" in night.output
    assert f"relance record failed {refused}" in night.output and f"relance record sent {unknown}" in night.output
    assert f"relance record failed {refused} for another try" in plan.output
    assert f"relance record sent {unknown}" in plan.output
    assert "to be sent again (relance send)" not in plan.output, "a refusal for good is not retried by send"
    assert settled.exit_code == 0, settled.output
    assert [file for event, file in events(example_repo) if event == "sent"] == [files[2], files[1], files[0]]
    assert sorted(r for m in mailbox.received for r in m.recipients) == sorted(
        EMAILS[c] for c in CLIENTS if c != "lucie-martin"
    )


def test_an_email_refused_for_good_is_a_task_of_the_nightly_pull_request_with_its_command() -> None:
    drafted = JournalEntry(
        date(2026, 6, 15), "nordwind", "relance-1", "email", ("F-2026-004",), "outbox/x", "", "drafted"
    )
    refused = replace(drafted, date=TODAY, event="failed", note="550 no such user", permanent=True)
    (task,) = history([drafted, refused]).tasks(date(2026, 6, 17))
    assert task.state == "refused" and "`relance record failed --client nordwind --step relance-1`" in task.words()
    assert history([drafted, replace(refused, permanent=False)]).tasks(date(2026, 6, 17)) == ()
