from __future__ import annotations

import os
import stat
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from click.testing import CliRunner
from loop_support import add_draft, events

from relance_pipeline.books import journal
from relance_pipeline.books.read import read_books
from relance_pipeline.cli.main import main
from relance_pipeline.commands.record import record_payment
from relance_pipeline.commands.send import send
from relance_pipeline.core.plan import plan
from relance_pipeline.model import Payment, Plan

INVOICE = "ledger/invoices/2026/F-2026-007.yaml"


def relance(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--repo", str(root), *args], env={})
    return result.exit_code, result.output


def test_a_posted_letter_leaves_the_print_batch(example_repo: Path) -> None:
    letter = add_draft(
        example_repo,
        "atelier-ferrand",
        "lettre",
        (example_repo / "documents/F-2026-007.pdf").read_bytes(),
        channel="letter",
    )
    code, output = relance(example_repo, "record", "posted", "--client", "atelier-ferrand", "--step", "lettre",
                           "--date", "2026-06-17", "--note", "LRAR 1A 234 567 8901 2")  # fmt: skip
    assert code == 0 and f"recorded: {letter} posted on 2026-06-17" in output
    entries, _ = journal.read_journal(example_repo)
    assert (entries[-1].event, entries[-1].date, entries[-1].note) == (
        "posted",
        date(2026, 6, 17),
        "LRAR 1A 234 567 8901 2",
    )
    report = send(example_repo, {}, today=date(2026, 6, 18), now=datetime(2026, 6, 18, tzinfo=ZoneInfo("UTC")))
    assert report.to_post == [] and report.print_batch is None


def test_a_call_is_recorded_with_what_was_said(example_repo: Path) -> None:
    sheet = add_draft(example_repo, "nordwind", "appel", b"# Appel\n", channel="phone")
    code, _ = relance(example_repo, "record", "called", "--client", "nordwind", "--step", "appel",
                      "--note", "promised payment by 30/06", "--date", "2026-06-16")  # fmt: skip
    assert code == 0
    entries, _ = journal.read_journal(example_repo)
    assert (entries[-1].event, entries[-1].file, entries[-1].note) == ("called", sheet, "promised payment by 30/06")


def test_a_reminder_made_before_relance_is_recorded_and_escalation_resumes_after_it(example_repo: Path) -> None:
    # nordwind's F-2026-004 fell due on 2026-03-01; its two reminders and the call were made by hand.
    for event, step, day in (("sent", "relance-1", "2026-03-08"), ("sent", "relance-2", "2026-03-22"),
                             ("called", "appel", "2026-03-31")):  # fmt: skip
        code, output = relance(example_repo, "record", event, "--client", "nordwind", "--step", step, "--date", day)
        assert code == 0, output
        assert "(no draft: about F-2026-004)" in output
    entries, _ = journal.read_journal(example_repo)
    assert [(e.event, e.step, e.channel, e.invoices) for e in entries] == [
        ("sent", "relance-1", "email", ("F-2026-004",)),
        ("sent", "relance-2", "email", ("F-2026-004",)),
        ("called", "appel", "phone", ("F-2026-004",)),
    ]
    loaded = read_books(example_repo)
    assert loaded.books is not None
    tonight = plan(loaded.books, entries, date(2026, 4, 10))
    assert isinstance(tonight, Plan)
    assert [(a.client.id, a.step.id) for a in tonight.actions if a.client.id == "nordwind"] == [("nordwind", "lettre")]


def test_a_reminder_by_hand_names_its_invoices_and_its_step_must_be_the_policys(example_repo: Path) -> None:
    code, output = relance(example_repo, "record", "sent", "--client", "atelier-ferrand", "--step", "relance-1",
                           "--date", "2026-03-01", "--invoice", "F-2026-007")  # fmt: skip
    assert code == 0 and "about F-2026-007" in output
    code, output = relance(example_repo, "record", "sent", "--client", "atelier-ferrand", "--step", "rappel-2")
    assert (
        code == 1
        and "has no step 'rappel-2' (its steps: relance-1, relance-2, appel, lettre, mise-en-demeure)" in output
    )
    code, output = relance(example_repo, "record", "sent", "--client", "nordwind", "--step", "relance-1",
                           "--invoice", "F-2026-007")  # fmt: skip
    assert code == 1 and "client 'nordwind' has no invoice F-2026-007" in output
    code, output = relance(example_repo, "record", "sent", "--client", "nordwind", "--step", "relance-1",
                           "--date", "2026-02-01")  # fmt: skip
    assert code == 1 and "no invoice of 'nordwind' was overdue on 2026-02-01" in output
    assert len(events(example_repo)) == 1


def test_a_record_before_the_drafts_date_or_in_the_future_is_refused(example_repo: Path) -> None:
    add_draft(example_repo, "nordwind", "appel", b"# Appel\n", channel="phone", day=date(2026, 6, 15))
    code, output = relance(example_repo, "record", "called", "--client", "nordwind", "--step", "appel",
                           "--date", "2026-06-14")  # fmt: skip
    assert code == 1
    assert "drafted on 2026-06-15: it cannot have reached the client on 2026-06-14" in output
    code, output = relance(example_repo, "record", "called", "--client", "nordwind", "--step", "appel",
                           "--date", "2099-01-01")  # fmt: skip
    assert code == 1 and "--date 2099-01-01 is in the future" in output
    assert [event for event, _ in events(example_repo)] == ["drafted"]


def test_a_letter_is_recorded_posted_only_once(example_repo: Path) -> None:
    add_draft(
        example_repo, "nordwind", "lettre", (example_repo / "documents/F-2026-004.pdf").read_bytes(), channel="letter"
    )
    assert relance(example_repo, "record", "posted", "--client", "nordwind", "--step", "lettre")[0] == 0
    assert relance(example_repo, "record", "posted", "--client", "nordwind", "--step", "lettre")[0] == 1
    assert [event for event, _ in events(example_repo)] == ["drafted", "posted"]


def test_a_payment_is_appended_to_the_invoice_file_and_the_rest_is_untouched(example_repo: Path) -> None:
    file = example_repo / INVOICE
    before = file.read_text()
    code, output = relance(example_repo, "record", "paid", "F-2026-007", "--amount", "1200",
                           "--date", "2026-06-18", "--reference", "VIR ATELIER FERRAND")  # fmt: skip
    assert code == 0, output
    assert (
        file.read_text()
        == before + 'payments:\n  - {date: 2026-06-18, amount: "1200.00", reference: "VIR ATELIER FERRAND"}\n'
    )
    loaded = read_books(example_repo)
    assert loaded.books is not None and loaded.errors == []
    invoice = next(i for i in loaded.books.invoices if i.number == "F-2026-007")
    assert invoice.payments == (Payment(date(2026, 6, 18), invoice.total, "VIR ATELIER FERRAND"),)
    assert invoice.outstanding(date(2026, 6, 18)) == 0


def test_a_second_payment_goes_into_the_existing_list(example_repo: Path) -> None:
    file = example_repo / "ledger/invoices/2026/F-2026-003.yaml"
    code, _ = relance(example_repo, "record", "paid", "F-2026-003", "--amount", "1000,50", "--date", "2026-06-18")
    assert code == 0
    lines = file.read_text().splitlines()
    assert lines[-2].startswith("  - {date: 2026-03-10")
    assert lines[-1] == '  - {date: 2026-06-18, amount: "1000.50"}'


def test_a_payment_above_what_is_owed_is_refused_and_the_file_left_as_it_was(example_repo: Path) -> None:
    file = example_repo / INVOICE
    before = file.read_bytes()
    code, output = relance(example_repo, "record", "paid", "F-2026-007", "--amount", "5000.00", "--date", "2026-06-18")
    assert code == 1
    assert output.startswith(f"{INVOICE}:")
    assert file.read_bytes() == before


def test_an_unknown_invoice_or_a_wrong_amount_is_refused(example_repo: Path) -> None:
    code, output = relance(example_repo, "record", "paid", "F-1999-001", "--amount", "10")
    assert code == 1 and "no invoice numbered 'F-1999-001'" in output
    code, output = relance(example_repo, "record", "paid", "F-2026-007", "--amount", "12.345")
    assert code == 2 and "at most two decimals" in output


def test_a_payment_keeps_the_comment_the_link_and_the_mode_of_the_invoice_file(example_repo: Path) -> None:
    real = example_repo / "ledger/kept/F-2026-007.yaml"
    real.parent.mkdir()
    link = example_repo / INVOICE
    text = link.read_text() + "payments: []   # nothing received yet, keep this note!\n"
    real.write_text(text)
    real.chmod(0o600)
    link.unlink()
    link.symlink_to(os.path.relpath(real, link.parent))
    code, output = relance(example_repo, "record", "paid", "F-2026-007", "--amount", "1200", "--date", "2026-06-18")
    assert code == 0, output
    assert link.is_symlink() and stat.S_IMODE(real.stat().st_mode) == 0o600
    assert real.read_text() == text.replace(
        "payments: []   # nothing received yet, keep this note!\n",
        'payments:   # nothing received yet, keep this note!\n  - {date: 2026-06-18, amount: "1200.00"}\n',
    )


def test_a_payment_dated_after_today_is_refused_and_nothing_written(example_repo: Path) -> None:
    before = (example_repo / INVOICE).read_bytes()
    outcome = record_payment(example_repo, "F-2026-007", Decimal("1200"), date(2026, 6, 19), None, date(2026, 6, 18))
    assert isinstance(outcome, list) and [str(p) for p in outcome] == [
        "--date: 2026-06-19 is after today (2026-06-18): a payment is recorded once received"
    ]
    code, output = relance(example_repo, "record", "paid", "F-2026-007", "--amount", "1200", "--date", "2099-01-01")
    assert code == 1 and "--date: 2099-01-01 is after today" in output
    assert (example_repo / INVOICE).read_bytes() == before


def test_a_letter_cannot_be_recorded_posted_before_it_was_drafted(example_repo: Path) -> None:
    letter = add_draft(example_repo, "nordwind", "lettre", b"%PDF-1.7\n", channel="letter", day=date(2026, 6, 15))
    code, output = relance(example_repo, "record", "posted", "--client", "nordwind", "--step", "lettre",
                           "--date", "2026-06-14")  # fmt: skip
    assert code == 1
    assert f"{letter}: drafted on 2026-06-15: it cannot have reached the client on 2026-06-14, before it was" in output
    assert [event for event, _ in events(example_repo)] == ["drafted"]
    code, _ = relance(example_repo, "record", "posted", "--client", "nordwind", "--step", "lettre",
                      "--date", "2026-06-15")  # fmt: skip
    assert code == 0


def test_a_text_sent_before_relance_is_recorded_and_read_back_as_delivered(example_repo: Path) -> None:
    code, output = relance(example_repo, "record", "sent", "--client", "nordwind", "--step", "relance-1",
                           "--date", "2026-03-08", "--channel", "sms")  # fmt: skip
    assert code == 0, output
    assert "outbox/2026-03-08/nordwind/relance-1.sms.txt sent on 2026-03-08 (no draft: about F-2026-004)" in output
    entries, broken = journal.read_journal(example_repo)
    assert broken == [] and [(e.event, e.channel) for e in entries] == [("sent", "sms")]
    assert relance(example_repo, "validate")[0] == 0
    loaded = read_books(example_repo)
    assert loaded.books is not None
    tonight = plan(loaded.books, entries, date(2026, 3, 22))
    assert [(a.client.id, a.step.id) for a in tonight.actions if a.client.id == "nordwind"] == [
        ("nordwind", "relance-2")
    ]
    assert tonight.actions[-1].contacts["F-2026-004"][0].channels == ("sms",)
