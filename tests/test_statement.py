"""The statement of what invoices paid late still owe (policy `paid_late_penalties: claimed`), planned as the
steps are and walked night by night. Amounts are computed by hand from the shipped rate table in each test's
comment: simple interest, actual/365, each semester at its rate, rounded once.
"""

from __future__ import annotations

import email
import email.policy
from datetime import date, datetime
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from loop_support import Mailbox, approve, smtp_server
from planbooks import Ledger, entry

from relance_pipeline.cli.main import main
from relance_pipeline.commands.run import run
from relance_pipeline.commands.send import send
from relance_pipeline.core import statement
from relance_pipeline.core.history import history
from relance_pipeline.model import SUFFIXES, Action, Plan

CLAIMED = """min_interval_days: 7
paid_late_penalties: claimed
steps:
  - {id: relance-1, after_days: 7, channels: [email], template: relance-1}
  - {id: relance-2, after_days: 21, channels: [email], template: relance-2, deadline_days: 10}
  - {id: mise-en-demeure, after_days: 55, channels: [letter, email], template: mise-en-demeure,
     deadline_days: 8, formal_notice: true}
"""


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    books = Ledger(tmp_path / "books")
    books.policy("claimed", CLAIMED)
    books.client("acme", policy="claimed")
    return books


def paid(*payments: tuple[str, str]) -> str:
    return "payments:\n" + "".join(f"  - {{date: {day}, amount: '{amount}'}}\n" for day, amount in payments)


def statement_of(tonight: Plan, client: str = "acme") -> list[tuple[str, int, Decimal, Decimal, Decimal]]:
    (action,) = [a for a in tonight.actions if a.client.id == client]
    assert action.is_statement and action.step.id == "statement"
    return [(a.invoice.number, a.days_overdue, a.charges, a.indemnity, a.total_due) for a in action.invoices]


def test_an_invoice_paid_late_owes_its_penalties_to_the_day_of_payment_and_the_40_euros(ledger: Ledger) -> None:
    # 3,000 due 2025-03-31, paid 2025-05-15: 45 days at 13.15 % (2025-S1) = 3000 × 13.15 × 45 / 36500
    # = 48.6370 → 48.64, + 40.00 = 88.64.
    ledger.invoice("F-1", "acme", "2025-03-31", "3000.00", extra=paid(("2025-05-15", "3000.00")))
    assert statement_of(ledger.plan(date(2025, 5, 16))) == [
        ("F-1", 45, Decimal("48.64"), Decimal("40.00"), Decimal("88.64"))
    ]


def test_a_partial_payment_lowers_the_base_from_the_next_day_across_1_july(ledger: Ledger) -> None:
    # 2,000 due 2025-06-15; 500 paid 2025-06-25, 1,500 on 2025-07-20 (35 days late):
    #   06-16..06-25 10 days on 2000 at 13.15 % = 7.2055; 06-26..06-30 5 days on 1500 at 13.15 % = 2.7021;
    #   07-01..07-20 20 days on 1500 at 12.15 % (2025-S2) = 9.9863 → 19.8938 → 19.89, + 40.00 = 59.89.
    # With F-1 (88.64) on the same statement: 148.53.
    ledger.invoice("F-1", "acme", "2025-03-31", "3000.00", extra=paid(("2025-05-15", "3000.00")))
    ledger.invoice(
        "F-2", "acme", "2025-06-15", "2000.00", extra=paid(("2025-06-25", "500.00"), ("2025-07-20", "1500.00"))
    )
    tonight = ledger.plan(date(2025, 7, 21))
    assert statement_of(tonight) == [
        ("F-1", 45, Decimal("48.64"), Decimal("40.00"), Decimal("88.64")),
        ("F-2", 35, Decimal("19.89"), Decimal("40.00"), Decimal("59.89")),
    ]
    assert tonight.actions[0].amount_asked == Decimal("148.53")


def test_the_leap_day_of_2024_counts_as_a_day_late(ledger: Ledger) -> None:
    # 1,000 due 2024-02-15, paid 2024-03-15: 2024-02-16..03-15 is 29 days (29 February included) at 14.50 %
    # (2024-S1) = 1000 × 14.50 × 29 / 36500 = 11.5205 → 11.52, + 40.00 = 51.52.
    ledger.invoice("F-1", "acme", "2024-02-15", "1000.00", extra=paid(("2024-03-15", "1000.00")))
    assert statement_of(ledger.plan(date(2024, 3, 20))) == [
        ("F-1", 29, Decimal("11.52"), Decimal("40.00"), Decimal("51.52"))
    ]


def test_a_consumer_owes_legal_interest_from_the_delivered_notice_and_never_the_40_euros(ledger: Ledger) -> None:
    # 800 due 2026-01-15, mise en demeure sent 2026-03-11, paid 2026-04-10: legal interest (legal_other,
    # 2.62 % in 2026-S1) from 03-12 through 04-10, 30 days: 800 × 2.62 × 30 / 36500 = 1.7227 → 1.72; no 40 €.
    ledger.client("paul", kind="consumer", policy="claimed")
    ledger.invoice("F-9", "paul", "2026-01-15", "800.00", extra=paid(("2026-04-10", "800.00")))
    ledger.record([entry(date(2026, 3, 11), "paul", "mise-en-demeure", ("F-9",))])
    assert statement_of(ledger.plan(date(2026, 4, 20)), "paul") == [
        ("F-9", 85, Decimal("1.72"), Decimal("0.00"), Decimal("1.72"))
    ]


def test_a_consumer_paid_late_without_a_delivered_notice_owes_nothing_and_gets_no_statement(ledger: Ledger) -> None:
    ledger.client("paul", kind="consumer", policy="claimed")
    ledger.invoice("F-9", "paul", "2026-01-15", "800.00", extra=paid(("2026-04-10", "800.00")))
    ledger.record([entry(date(2026, 3, 11), "paul", "mise-en-demeure", ("F-9",), event="drafted")])
    tonight = ledger.plan(date(2026, 4, 20))
    assert [a for a in tonight.actions if a.client.id == "paul"] == []


def test_waived_by_default_and_paid_in_time_owe_no_statement(ledger: Ledger) -> None:
    ledger.client("zeta")  # the standard policy: waived
    ledger.invoice("F-1", "zeta", "2025-03-31", "3000.00", extra=paid(("2025-05-15", "3000.00")))
    ledger.invoice("F-2", "acme", "2025-03-31", "3000.00", extra=paid(("2025-03-31", "3000.00")))
    assert ledger.plan(date(2025, 5, 16)).actions == ()


def test_the_statement_walked_night_by_night(ledger: Ledger) -> None:
    # F-1: 3,000 due 2025-03-31, paid 2025-05-15 after two reminders; F-2 paid late too.
    ledger.invoice("F-1", "acme", "2025-03-31", "3000.00", extra=paid(("2025-05-15", "3000.00")))
    assert [a.step.id for a in ledger.night(date(2025, 4, 7)).actions] == ["relance-1"]
    assert [a.step.id for a in ledger.night(date(2025, 4, 21)).actions] == ["relance-2"]
    assert [a.step.id for a in ledger.night(date(2025, 5, 12)).actions] == []  # mise en demeure at 55 days
    # 05-16, the day after the payment: the last contact (04-21) is past the interval: drafted, not delivered.
    first = ledger.night(date(2025, 5, 16), deliver=False)
    assert statement_of(first) == [("F-1", 45, Decimal("48.64"), Decimal("40.00"), Decimal("88.64"))]
    # While it waits for review, nothing more is drafted for the client, and the plan says why.
    waiting = ledger.plan(date(2025, 5, 23))
    assert waiting.actions == ()
    assert [(w.invoice.number, w.reason, w.next_step) for w in waiting.waiting] == [("F-1", "pending", "statement")]
    assert "statement drafted on 2025-05-16, waiting for review and sending of the email" in waiting.waiting[0].detail
    # Withdrawn in review on 05-24: drafted again, fresh, once the interval has passed (05-31).
    ledger.withdraw(date(2025, 5, 24), "acme")
    too_soon = ledger.plan(date(2025, 5, 30))
    assert too_soon.actions == ()
    assert [(w.reason, w.next_date) for w in too_soon.waiting] == [("interval", date(2025, 5, 31))]
    again = ledger.night(date(2025, 5, 31))
    assert statement_of(again) == [("F-1", 45, Decimal("48.64"), Decimal("40.00"), Decimal("88.64"))]
    # Delivered on 05-31: never again for F-1.
    assert ledger.plan(date(2025, 6, 30)) == Plan(date(2025, 6, 30), ())
    # A later invoice paid late is claimed on its own statement, F-1 not again.
    ledger.invoice(
        "F-2", "acme", "2025-06-15", "2000.00", extra=paid(("2025-06-25", "500.00"), ("2025-07-20", "1500.00"))
    )
    assert statement_of(ledger.plan(date(2025, 7, 21))) == [
        ("F-2", 35, Decimal("19.89"), Decimal("40.00"), Decimal("59.89"))
    ]


def test_a_reminder_due_tonight_goes_first_and_the_statement_waits(ledger: Ledger) -> None:
    ledger.invoice("F-1", "acme", "2025-03-31", "3000.00", extra=paid(("2025-05-15", "3000.00")))
    ledger.invoice("F-3", "acme", "2025-05-01", "500.00")
    tonight = ledger.plan(date(2025, 5, 16))
    assert [(a.step.id, [x.invoice.number for x in a.invoices]) for a in tonight.actions] == [("relance-1", ["F-3"])]
    assert [(w.invoice.number, w.reason, w.next_step) for w in tonight.waiting] == [("F-1", "not_yet", "statement")]
    assert "tonight's relance-1 goes first" in tonight.waiting[0].detail


def test_a_held_invoice_is_not_claimed(ledger: Ledger) -> None:
    extra = paid(("2025-05-15", "3000.00")) + "hold: {reason: disputed, until: 2025-12-31}\n"
    ledger.invoice("F-1", "acme", "2025-03-31", "3000.00", extra=extra)
    assert ledger.plan(date(2025, 5, 16)).actions == ()


def test_a_statement_is_drafted_by_run_sent_once_by_send_and_never_drafted_again(ledger: Ledger) -> None:
    # 3,000 due 2026-01-31, paid 2026-03-17: 45 days at 12.15 % (2026-S1) = 44.9384 → 44.94, + 40.00 = 84.94.
    ledger.invoice("F-1", "acme", "2026-01-31", "3000.00", extra=paid(("2026-03-17", "3000.00")))
    approve(ledger.root, "books")
    night = date(2026, 4, 20)
    result = run(ledger.root, night)
    assert [(d.action.step.id, [e.file for e in d.entries]) for d in result.drafted] == [
        ("statement", [f"outbox/2026-04-20/acme/statement{SUFFIXES['email']}"])
    ]
    approve(ledger.root)
    mailbox = Mailbox()
    sent_on = datetime(2026, 4, 21, 9, 30, tzinfo=ZoneInfo("Europe/Paris"))
    with smtp_server(mailbox) as environ:
        first = send(ledger.root, environ, today=date(2026, 4, 21), now=sent_on)
        second = send(ledger.root, environ, today=date(2026, 4, 21), now=sent_on)
    # Its invoice is paid (that is what it is about): the statement is sent, not withdrawn as "paid since".
    assert [e.file for e in first.sent] == [f"outbox/2026-04-20/acme/statement{SUFFIXES['email']}"]
    assert first.withdrawn == [] and first.exit_code == 0
    assert second.sent == [] and len(mailbox.received) == 1
    message = email.message_from_bytes(mailbox.received[0].data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(("plain",))
    assert body is not None and "84,94\u00a0€" in body.get_content()
    later = ledger.plan(date(2026, 6, 15))
    assert later.actions == () and later.waiting == ()


def test_the_statement_drafted_is_made_again_on_the_day_of_sending_with_the_same_amounts(ledger: Ledger) -> None:
    ledger.invoice("F-1", "acme", "2025-03-31", "3000.00", extra=paid(("2025-05-15", "3000.00")))
    drafted = ledger.night(date(2025, 5, 16), deliver=False).actions[0]
    books = ledger.books()
    again = statement.drafted_again(
        books, books.clients["acme"], drafted.policy, history(ledger.journal()), ("F-1",), date(2025, 5, 19)
    )
    assert isinstance(again, Action) and again.is_statement
    assert again.invoices == drafted.invoices  # 48.64 + 40.00, whatever the day
    assert (drafted.deadline, again.deadline) == (date(2025, 5, 31), date(2025, 6, 3))


def test_a_statement_sent_by_hand_is_recorded_and_not_drafted_again(ledger: Ledger) -> None:
    ledger.invoice("F-1", "acme", "2025-03-31", "3000.00", extra=paid(("2025-05-15", "3000.00")))
    args = ["--repo", str(ledger.root), "record", "sent", "--client", "acme", "--step", "statement"]
    done = CliRunner().invoke(main, [*args, "--invoice", "F-1", "--date", "2025-05-20"], env={})
    assert done.exit_code == 0, done.output
    assert ledger.plan(date(2025, 6, 15)) == Plan(date(2025, 6, 15), ())
    # A policy that waives them has no statement to record.
    ledger.client("zeta")
    ledger.invoice("F-2", "zeta", "2025-03-31", "3000.00", extra=paid(("2025-05-15", "3000.00")))
    refused = CliRunner().invoke(main, [*args[:5], "zeta", *args[6:], "--invoice", "F-2", "--date", "2025-05-20"])
    assert refused.exit_code == 1 and "has no step 'statement'" in refused.output
