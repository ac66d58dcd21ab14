from __future__ import annotations

import hashlib
import shutil
from datetime import date, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session
from click.testing import CliRunner
from loop_support import (
    CREDITOR,
    EMAILS,
    Mailbox,
    add_draft,
    approve,
    events,
    git,
    smtp_server,
    withdraw,
)

from relance_pipeline.books import journal
from relance_pipeline.cli.main import main
from relance_pipeline.commands.send import SendReport, send

TODAY = date(2026, 6, 16)
NOW = datetime(2026, 6, 16, 9, 30, tzinfo=ZoneInfo("Europe/Paris"))


def run_send(root: Path, environ: dict[str, str], *, dry_run: bool = False) -> SendReport:
    return send(root, environ, dry_run=dry_run, today=TODAY, now=NOW)


def three_drafts(root: Path) -> list[str]:
    return [add_draft(root, client, "relance-1") for client in ("atelier-ferrand", "lucie-martin", "nordwind")]


def test_each_approved_email_reaches_the_server_once_across_repeated_sends(example_repo: Path) -> None:
    files = three_drafts(example_repo)
    mailbox = Mailbox()
    with smtp_server(mailbox) as environ:
        first = run_send(example_repo, environ)
        second = run_send(example_repo, environ)
    assert [e.file for e in first.sent] == files
    assert first.exit_code == 0
    assert second.sent == [] and second.exit_code == 0
    sent_ids = [e.message_id for e in first.sent if e.message_id is not None]
    assert len(sent_ids) == len(first.sent), "every sent line records its Message-ID"
    assert sorted(m.message_id for m in mailbox.received) == sorted(sent_ids)
    assert len(mailbox.received) == 3
    assert [m.recipients for m in mailbox.received] == [
        [EMAILS["atelier-ferrand"]],
        [EMAILS["lucie-martin"]],
        [EMAILS["nordwind"]],
    ]
    assert all(m.sender == CREDITOR for m in mailbox.received)
    assert events(example_repo)[3:] == [("sent", f) for f in files]


def test_the_sent_line_carries_the_message_id_of_the_draft_and_the_send_date(example_repo: Path) -> None:
    rel = add_draft(example_repo, "nordwind", "relance-2")
    with smtp_server(Mailbox()) as environ:
        run_send(example_repo, environ)
    entries, _ = journal.read_journal(example_repo)
    sent = entries[-1]
    assert (sent.event, sent.file, sent.date) == ("sent", rel, TODAY)
    received = message_from_bytes((example_repo / str(sent.document)).read_bytes(), policy=policy.default)
    assert sent.message_id == received["Message-ID"] and str(sent.message_id).endswith("@durand-dev.fr>")
    assert sent.invoices == entries[0].invoices and sent.sha256 == entries[0].sha256


def test_a_server_that_refuses_the_second_message_loses_nothing_and_duplicates_nothing(example_repo: Path) -> None:
    files = three_drafts(example_repo)
    mailbox = Mailbox(fail_on={2})
    with smtp_server(mailbox) as environ:
        first = run_send(example_repo, environ)
        assert first.exit_code == 1
        assert [e.file for e in first.sent] == [files[0], files[2]]
        assert [e.file for e in first.failed] == [files[1]]
        assert first.failed[0].note is not None and "451" in first.failed[0].note
        second = run_send(example_repo, environ)
        third = run_send(example_repo, environ)
    assert [e.file for e in second.sent] == [files[1]] and second.exit_code == 0
    assert third.sent == [] and third.failed == []
    delivered = sorted(m.message_id for m in mailbox.received)
    assert delivered == sorted({m.message_id for m in mailbox.received})
    assert len(delivered) == 3
    assert [event for event, _ in events(example_repo)[3:]] == ["sent", "failed", "sent", "sent"]


def test_a_connection_dropped_after_the_data_is_unknown_never_resent_and_the_rest_goes(example_repo: Path) -> None:
    files = three_drafts(example_repo)
    mailbox = Mailbox(drop_on={2})
    with smtp_server(mailbox) as environ:
        first = run_send(example_repo, environ)
        second = run_send(example_repo, environ)
    assert [e.file for e in first.sent] == [files[0], files[2]] and first.failed == []
    assert [e.file for e in first.unknown] == [files[1]] and first.exit_code == 1
    assert second.sent == [] and [d.file for d in second.waiting] == [files[1]]
    assert mailbox.attempts == 3 and len(mailbox.received) == 2
    assert [event for event, _ in events(example_repo)[3:]] == ["sent", "unknown", "sent"]


class WatchingMailbox(Mailbox):
    """Looks at the journal on disk when the second message arrives, as a crash at that moment would leave it."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root
        self.journal_at_second: list[tuple[str, str]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.attempts == 1:
            self.journal_at_second = events(self.root)
        return await super().handle_DATA(server, session, envelope)


def test_each_send_is_on_disk_in_the_journal_before_the_next_message_is_tried(example_repo: Path) -> None:
    files = three_drafts(example_repo)
    mailbox = WatchingMailbox(example_repo)
    with smtp_server(mailbox) as environ:
        run_send(example_repo, environ)
    assert mailbox.journal_at_second[3:] == [("sent", files[0])]


def test_a_draft_deleted_in_review_is_withdrawn_and_not_sent(example_repo: Path) -> None:
    kept, removed, _ = three_drafts(example_repo)
    withdraw(example_repo, removed)
    mailbox = Mailbox()
    with smtp_server(mailbox) as environ:
        report = run_send(example_repo, environ)
        again = run_send(example_repo, environ)
    assert [(e.file, e.note) for e in report.withdrawn] == [(removed, "removed in review")]
    assert removed not in [e.file for e in report.sent] and kept in [e.file for e in report.sent]
    assert len(mailbox.received) == 2
    assert again.withdrawn == [] and again.sent == []
    assert ("withdrawn", removed) in events(example_repo)


def test_an_edited_draft_is_sent_as_edited_with_its_new_sha(example_repo: Path) -> None:
    rel = add_draft(example_repo, "nordwind", "relance-1")
    edited = (example_repo / rel).read_bytes().replace(b"Dear Mr Jansen,", b"Petit rappel amical, Mr Jansen,")
    (example_repo / rel).write_bytes(edited)
    approve(example_repo, "review: reworded")
    mailbox = Mailbox()
    with smtp_server(mailbox) as environ:
        report = run_send(example_repo, environ)
    assert "Petit rappel amical" in _text(mailbox.received[0].data)
    assert report.sent[0].sha256 == hashlib.sha256(edited).hexdigest()
    assert report.sent[0].note == "edited in review"


@pytest.mark.parametrize(
    "typed",
    [
        "To: boss@elsewhere.example",
        "Bcc: spy@example.org",
        "From: other@example.org",
        "X-Note : reviewed\nCc: someone@evil.example",
        "Message-ID: <second@evil.example>",
    ],
    ids=["to", "bcc", "from", "space-before-colon", "message-id"],
)
def test_header_lines_typed_into_the_words_are_words_the_headers_come_from_the_books(
    example_repo: Path, typed: str
) -> None:
    rel = add_draft(example_repo, "nordwind", "relance-1")
    words = (example_repo / rel).read_text(encoding="utf-8")
    subject, _, body = words.partition("\n\n")
    (example_repo / rel).write_text(f"{typed}\n{subject}\n\n{typed}\n\n{body}", encoding="utf-8")
    approve(example_repo, "review: headers typed into the words")
    mailbox = Mailbox()
    with smtp_server(mailbox) as environ:
        report = run_send(example_repo, environ)
    assert [e.file for e in report.sent] == [rel], report.problems
    [received] = mailbox.received
    assert received.sender == CREDITOR and received.recipients == [EMAILS["nordwind"]]
    message = message_from_bytes(received.data, policy=policy.default)
    assert message["To"].addresses[0].addr_spec == EMAILS["nordwind"] and message["Cc"] is None
    assert message["Bcc"] is None and len(message.get_all("Message-ID") or []) == 1
    assert message["From"].addresses[0].addr_spec == CREDITOR
    assert "evil" not in str(message["Message-ID"]) and len(message.get_all("Date") or []) == 1


def test_a_draft_whose_invoices_were_all_paid_since_is_withdrawn(example_repo: Path) -> None:
    rel = add_draft(example_repo, "nordwind", "relance-1")
    invoice = example_repo / "ledger/invoices/2026/F-2026-004.yaml"
    invoice.write_text(invoice.read_text() + 'payments:\n  - {date: 2026-06-15, amount: "3600.00"}\n')
    mailbox = Mailbox()
    with smtp_server(mailbox) as environ:
        report = run_send(example_repo, environ)
    assert mailbox.received == []
    assert [(e.file, e.note) for e in report.withdrawn] == [(rel, "paid since it was drafted")]


def test_a_message_without_date_gets_the_time_of_sending(example_repo: Path) -> None:
    add_draft(example_repo, "nordwind", "relance-1")
    mailbox = Mailbox()
    with smtp_server(mailbox) as environ:
        run_send(example_repo, environ)
    received = message_from_bytes(mailbox.received[0].data, policy=policy.default)
    assert received["Date"].datetime == NOW


def test_a_dry_run_lists_what_would_go_and_writes_and_sends_nothing(example_repo: Path) -> None:
    files = three_drafts(example_repo)
    withdraw(example_repo, files[0])
    before = (example_repo / journal.JOURNAL_FILE).read_bytes()
    mailbox = Mailbox()
    with smtp_server(mailbox) as environ:
        report = run_send(example_repo, environ, dry_run=True)
    assert [d.file for d in report.to_send] == files[1:]
    assert [e.file for e in report.withdrawn] == [files[0]]
    assert mailbox.received == []
    assert (example_repo / journal.JOURNAL_FILE).read_bytes() == before


def test_without_smtp_settings_nothing_is_sent_and_the_drafts_wait(example_repo: Path) -> None:
    rel = add_draft(example_repo, "nordwind", "relance-1")
    report = run_send(example_repo, {})
    assert report.exit_code == 1
    assert "RELANCE_SMTP_HOST: is not set" in str(report.problems[0])
    assert events(example_repo) == [("drafted", rel)]


def test_starttls_demanded_of_a_server_without_it_sends_nothing_in_clear(example_repo: Path) -> None:
    rel = add_draft(example_repo, "nordwind", "relance-1")
    mailbox = Mailbox()
    with smtp_server(mailbox) as environ:
        report = run_send(example_repo, {**environ, "RELANCE_SMTP_STARTTLS": "1"})
        retried = run_send(example_repo, environ)
    assert report.sent == [] and report.failed == [] and report.stopped is not None and "STARTTLS" in report.stopped
    assert [e.file for e in retried.sent] == [rel]
    assert len(mailbox.received) == 1


def _authenticator(server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object) -> AuthResult:
    login = getattr(auth_data, "login", b"")
    password = getattr(auth_data, "password", b"")
    return AuthResult(success=(login, password) == (b"camille", b"s3cret-pa55"), handled=False)


def test_send_logs_in_and_never_prints_nor_records_the_password(example_repo: Path) -> None:
    add_draft(example_repo, "nordwind", "relance-1")
    add_draft(example_repo, "lucie-martin", "relance-1")
    mailbox = Mailbox()
    runner = CliRunner()
    options = {"authenticator": _authenticator, "auth_require_tls": False}
    with smtp_server(mailbox, **options) as environ:
        login = {**environ, "RELANCE_SMTP_USER": "camille", "RELANCE_SMTP_ALLOW_CLEAR": "1"}
        wrong = runner.invoke(
            main,
            ["--repo", str(example_repo), "send", "--as-of", TODAY.isoformat()],
            env={**login, "RELANCE_SMTP_PASSWORD": "wr0ng-pa55"},
        )
        right = runner.invoke(
            main,
            ["--repo", str(example_repo), "send", "--as-of", TODAY.isoformat()],
            env={**login, "RELANCE_SMTP_PASSWORD": "s3cret-pa55"},
        )
    assert wrong.exit_code == 1 and "login refused" in wrong.output
    assert right.exit_code == 0, right.output
    assert len(mailbox.received) == 2
    journal_text = (example_repo / journal.JOURNAL_FILE).read_text()
    for secret in ("wr0ng-pa55", "s3cret-pa55"):
        assert secret not in wrong.output + right.output + journal_text


def test_the_send_command_prints_each_message_and_exits_1_when_one_failed(example_repo: Path) -> None:
    files = three_drafts(example_repo)
    with smtp_server(Mailbox(fail_on={1})) as environ:
        result = CliRunner().invoke(
            main, ["--repo", str(example_repo), "send", "--as-of", TODAY.isoformat()], env=environ
        )
    assert result.exit_code == 1
    assert f"failed {files[0]}: 451" in result.output
    assert f"sent {files[1]} <" in result.output


def test_the_send_command_says_so_when_there_is_nothing_to_send(example_repo: Path) -> None:
    result = CliRunner().invoke(main, ["--repo", str(example_repo), "send", "--dry-run"], env={})
    assert (result.exit_code, result.output) == (0, "nothing to send\n")


def test_send_refuses_to_run_on_the_drafting_branch_but_a_dry_run_may(example_repo: Path) -> None:
    add_draft(example_repo, "nordwind", "relance-1")
    git(example_repo, "switch", "--quiet", "-c", "relance/nightly")
    mailbox = Mailbox()
    with smtp_server(mailbox) as environ:
        refused = run_send(example_repo, environ)
        dry = run_send(example_repo, environ, dry_run=True)
    assert refused.exit_code == 1 and "is on relance/nightly" in refused.problems[0].message
    assert mailbox.received == [] and len(events(example_repo)) == 1
    assert len(dry.to_send) == 1


def test_an_untracked_draft_is_refused_and_waits_while_committed_ones_go(example_repo: Path) -> None:
    committed = add_draft(example_repo, "nordwind", "relance-1")
    untracked = add_draft(example_repo, "lucie-martin", "relance-1", commit=False)
    mailbox = Mailbox()
    with smtp_server(mailbox) as environ:
        report = run_send(example_repo, environ)
    assert [e.file for e in report.sent] == [committed]
    assert [(p.path, p.message) for p in report.problems] == [
        (untracked, "is not committed: only a committed and merged draft is sent")
    ]
    assert report.exit_code == 1 and [m.recipients for m in mailbox.received] == [[EMAILS["nordwind"]]]
    assert ("withdrawn", untracked) not in events(example_repo)


def test_a_draft_modified_after_its_commit_is_refused_until_the_change_is_committed(example_repo: Path) -> None:
    rel = add_draft(example_repo, "nordwind", "relance-1")
    (example_repo / rel).write_bytes((example_repo / rel).read_bytes().replace(b"Dear Mr Jansen", b"Salut"))
    mailbox = Mailbox()
    with smtp_server(mailbox) as environ:
        refused = run_send(example_repo, environ)
        approve(example_repo, "review: reworded")
        accepted = run_send(example_repo, environ)
    assert refused.sent == [] and refused.exit_code == 1
    assert "differs from the commit at HEAD" in refused.problems[0].message
    assert [e.file for e in accepted.sent] == [rel] and "Salut" in _text(mailbox.received[0].data)
    assert len(mailbox.received) == 1


def test_a_draft_deleted_in_the_work_tree_only_is_neither_sent_nor_withdrawn(example_repo: Path) -> None:
    rel = add_draft(example_repo, "nordwind", "relance-1")
    (example_repo / rel).unlink()
    with smtp_server(Mailbox()) as environ:
        report = run_send(example_repo, environ)
    assert report.withdrawn == [] and report.sent == []
    assert "deleted in the work tree" in report.problems[0].message
    assert events(example_repo) == [("drafted", rel)]


def test_send_refuses_a_detached_head(example_repo: Path) -> None:
    add_draft(example_repo, "nordwind", "relance-1")
    git(example_repo, "switch", "--quiet", "--detach", "HEAD")
    mailbox = Mailbox()
    with smtp_server(mailbox) as environ:
        report = run_send(example_repo, environ)
    assert report.exit_code == 1 and mailbox.received == []
    assert [p.message for p in report.problems] == [
        "HEAD is detached: send from the branch the drafts were merged into (git switch main)"
    ]


def test_send_outside_git_sends_nothing(tmp_path: Path) -> None:
    from relance_pipeline.commands.init import init

    root = tmp_path / "books"
    init(root)
    shutil.rmtree(root / ".git")
    add_draft(root, "nordwind", "relance-1", commit=False)
    mailbox = Mailbox()
    with smtp_server(mailbox) as environ:
        report = run_send(root, environ)
    assert report.exit_code == 1 and mailbox.received == []
    assert "is not a git repository" in report.problems[0].message


@pytest.mark.parametrize("file", ["/etc/passwd", "outbox/../relance.yaml", "../x.eml", "ledger/clients/nordwind.yaml"])
def test_a_journal_line_naming_a_file_outside_the_outbox_is_an_error_and_never_read(
    example_repo: Path, file: str
) -> None:
    rel = add_draft(example_repo, "nordwind", "relance-1")
    journal_file = example_repo / journal.JOURNAL_FILE
    journal_file.write_text(journal_file.read_text().replace(rel, file))
    approve(example_repo)
    mailbox = Mailbox()
    with smtp_server(mailbox) as environ:
        report = run_send(example_repo, environ)
    assert mailbox.received == [] and report.exit_code == 1
    assert [(p.path, p.line) for p in report.problems] == [(journal.JOURNAL_FILE, 1)]
    assert "which is not a path inside outbox/" in report.problems[0].message
    validated = CliRunner().invoke(main, ["--repo", str(example_repo), "validate"])
    assert validated.exit_code == 1 and "outbox/journal.jsonl:1: " in validated.output


def test_the_date_is_the_time_of_sending_not_the_drafting_day(example_repo: Path) -> None:
    add_draft(example_repo, "nordwind", "relance-1")
    mailbox = Mailbox()
    with smtp_server(mailbox) as environ:
        run_send(example_repo, environ)
    received = message_from_bytes(mailbox.received[0].data, policy=policy.default)
    assert received.get_all("Date") is not None and len(received.get_all("Date") or []) == 1
    assert received["Date"].datetime == NOW


def _text(data: bytes) -> str:
    message = message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def test_a_draft_whose_client_was_put_on_hold_in_review_is_withdrawn(example_repo: Path) -> None:
    rel = add_draft(example_repo, "nordwind", "relance-1")
    client = example_repo / "ledger/clients/nordwind.yaml"
    client.write_text(client.read_text() + "hold: {reason: other, until: 2026-07-31, note: rachat en cours}\n")
    approve(example_repo, "review: pause the client")
    mailbox = Mailbox()
    with smtp_server(mailbox) as environ:
        report = run_send(example_repo, environ)
    assert mailbox.received == []
    assert [(e.file, e.note) for e in report.withdrawn] == [(rel, "put on hold since it was drafted")]


def test_a_missed_instalment_goes_out_asking_what_is_due_under_the_plan_not_the_whole_balance(
    example_repo: Path,
) -> None:
    invoice = example_repo / "ledger/invoices/2026/F-2026-004.yaml"
    invoice.write_text(
        invoice.read_text()
        + "payment_plan:\n  agreed: 2026-04-01\n  instalments:\n    - {due: 2026-04-30, amount: '1200.00'}\n"
        "    - {due: 2026-05-31, amount: '1200.00'}\n    - {due: 2026-06-30, amount: '1200.00'}\n"
        "payments: [{date: 2026-04-30, amount: '1200.00'}]\n"
    )
    add_draft(example_repo, "nordwind", "relance-1")
    mailbox = Mailbox()
    with smtp_server(mailbox) as environ:
        report = run_send(example_repo, environ)
    assert report.exit_code == 0 and len(mailbox.received) == 1
    received = message_from_bytes(mailbox.received[0].data, policy=policy.default)
    assert isinstance(received, EmailMessage)
    body = received.get_body(("plain",))
    assert body is not None
    text = " ".join(body.get_content().split())
    assert "payment plan instalment due 31 May 2026: €1,200.00" in text
    assert "€2,400.00" not in text and "€3,600.00" not in text
