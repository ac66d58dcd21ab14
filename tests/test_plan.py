"""The rules of the plan, one at a time, on small books written as real files.

The standard policy of the example: relance-1 at 7 days, relance-2 at 21, appel at 30, lettre at 40,
mise-en-demeure at 55 (the formal notice), at least 7 days between contacts.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from planbooks import Ledger, entry

from relance_pipeline.core.plan import plan
from relance_pipeline.core.report import aged_balance
from relance_pipeline.model import Plan


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    books = Ledger(tmp_path / "books")
    books.client("acme")
    return books


def steps(tonight: Plan) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(a.client.id, a.step.id, tuple(x.invoice.number for x in a.invoices)) for a in tonight.actions]


def reasons(tonight: Plan) -> list[tuple[str, str]]:
    return [(w.invoice.number, w.reason) for w in tonight.waiting]


def test_the_first_step_is_due_on_its_day_and_not_the_day_before(ledger: Ledger) -> None:
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    before = ledger.plan(date(2026, 3, 7))
    assert steps(before) == []
    assert [(w.reason, w.next_step, w.next_date) for w in before.waiting] == [
        ("not_yet", "relance-1", date(2026, 3, 8))
    ]
    assert steps(ledger.plan(date(2026, 3, 8))) == [("acme", "relance-1", ("F-1",))]


def test_a_waiting_invoice_one_day_overdue_reads_1_day_not_1_days(ledger: Ledger) -> None:
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    (waiting,) = ledger.plan(date(2026, 3, 2)).waiting
    assert waiting.detail == "1 day overdue; relance-1 at 7 days"


def test_an_invoice_is_not_overdue_on_its_due_date(ledger: Ledger) -> None:
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    tonight = ledger.plan(date(2026, 3, 1))
    assert (tonight.actions, tonight.waiting) == ((), ())


def test_paid_and_credited_invoices_are_not_dunned(ledger: Ledger) -> None:
    ledger.invoice("F-1", "acme", "2026-01-01", "1000.00", extra="payments: [{date: 2026-02-01, amount: '1000.00'}]\n")
    ledger.invoice(
        "F-2", "acme", "2026-01-01", "600.00", extra="credit_notes: [{number: AV-1, date: 2026-01-15, amount: '600'}]\n"
    )
    tonight = ledger.plan(date(2026, 4, 1))
    assert (tonight.actions, tonight.waiting) == ((), ())


def test_a_payment_after_the_as_of_date_does_not_count_yet(ledger: Ledger) -> None:
    ledger.invoice("F-1", "acme", "2026-01-01", "1000.00", extra="payments: [{date: 2026-05-01, amount: '1000.00'}]\n")
    assert steps(ledger.plan(date(2026, 4, 1))) == [("acme", "relance-1", ("F-1",))]
    assert ledger.plan(date(2026, 5, 1)).actions == ()


def test_a_partly_paid_invoice_is_dunned_for_what_is_left(ledger: Ledger) -> None:
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00", extra="payments: [{date: 2026-03-03, amount: '400.00'}]\n")
    (action,) = ledger.plan(date(2026, 3, 8)).actions
    assert action.invoices[0].outstanding == Decimal("600.00")


def test_a_held_invoice_waits_with_its_reason_until_the_hold_ends(ledger: Ledger) -> None:
    hold = "hold: {reason: payment_plan, until: 2026-04-30, note: 3 monthly payments}\n"
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00", extra=hold)
    held = ledger.plan(date(2026, 4, 30))
    assert held.actions == ()
    (waiting,) = held.waiting
    assert (waiting.reason, waiting.detail) == ("held", "payment plan until 2026-04-30: 3 monthly payments")
    assert (waiting.next_step, waiting.next_date) == ("relance-1", date(2026, 5, 1))
    assert steps(ledger.plan(date(2026, 5, 1))) == [("acme", "relance-1", ("F-1",))]


def test_a_hold_without_an_end_date_holds_until_removed(ledger: Ledger) -> None:
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00", extra="hold: {reason: disputed}\n")
    tonight = ledger.plan(date(2027, 3, 1))
    assert reasons(tonight) == [("F-1", "held")]
    assert tonight.waiting[0].detail == "disputed (no end date)"


def test_a_held_invoice_is_left_out_of_its_clients_document(ledger: Ledger) -> None:
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    ledger.invoice("F-2", "acme", "2026-03-01", "500.00", extra="hold: {reason: disputed, until: 2026-12-31}\n")
    tonight = ledger.plan(date(2026, 3, 8))
    assert steps(tonight) == [("acme", "relance-1", ("F-1",))]
    assert reasons(tonight) == [("F-2", "held")]


def test_one_document_per_client_at_the_most_advanced_step_due_lists_every_overdue_invoice(ledger: Ledger) -> None:
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    ledger.invoice("F-2", "acme", "2026-03-20", "500.00")
    ledger.invoice("F-3", "acme", "2026-04-30", "200.00")  # not due yet on 2026-04-01
    ledger.record([entry(date(2026, 3, 8), "acme", "relance-1", ("F-1",))])
    # F-1 is 31 days overdue: relance-2 is due; F-2 is 12 days overdue: its relance-1 is due too.
    tonight = ledger.plan(date(2026, 4, 1))
    assert steps(tonight) == [("acme", "relance-2", ("F-1", "F-2"))]
    assert tonight.waiting == ()


def test_an_overdue_invoice_joins_its_clients_document_before_its_own_step_is_due(ledger: Ledger) -> None:
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    ledger.invoice("F-2", "acme", "2026-03-06", "300.00")
    assert steps(ledger.plan(date(2026, 3, 8))) == [("acme", "relance-1", ("F-1", "F-2"))]


def test_a_step_needs_the_previous_one_so_a_long_overdue_invoice_starts_at_the_first(ledger: Ledger) -> None:
    ledger.invoice("F-1", "acme", "2025-12-01", "1000.00")
    assert steps(ledger.plan(date(2026, 4, 1))) == [("acme", "relance-1", ("F-1",))]


def test_no_document_within_the_minimum_interval_of_the_last_contact(ledger: Ledger) -> None:
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    ledger.record([entry(date(2026, 3, 20), "acme", "appel", ("F-0",), event="called", channel="phone")])
    ledger.record([entry(date(2026, 3, 8), "acme", "relance-1", ("F-1",))])
    tonight = ledger.plan(date(2026, 3, 22))
    assert tonight.actions == ()
    (waiting,) = tonight.waiting
    assert (waiting.reason, waiting.next_step, waiting.next_date) == ("interval", "relance-2", date(2026, 3, 27))
    assert steps(ledger.plan(date(2026, 3, 27))) == [("acme", "relance-2", ("F-1",))]


def test_a_draft_holds_its_client_back_until_it_is_delivered(ledger: Ledger) -> None:
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    first = ledger.night(date(2026, 3, 8), deliver=False)
    assert steps(first) == [("acme", "relance-1", ("F-1",))]
    # The same night again, and every night while the pull request waits: nothing more for acme.
    for day in (date(2026, 3, 8), date(2026, 3, 22), date(2026, 4, 30)):
        again = ledger.plan(day)
        assert again.actions == ()
        assert [(w.invoice.number, w.reason, w.detail) for w in again.waiting] == [
            ("F-1", "pending", "relance-1 drafted on 2026-03-08, waiting for review and sending of the email")
        ]


def test_the_interval_counts_from_the_day_the_client_received_the_reminder(ledger: Ledger) -> None:
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    ledger.night(date(2026, 3, 8), deliver=False)
    ledger.deliver(date(2026, 3, 20))  # the pull request was merged twelve days late
    assert ledger.plan(date(2026, 3, 26)).actions == ()
    (waiting,) = ledger.plan(date(2026, 3, 26)).waiting
    assert (waiting.reason, waiting.next_step, waiting.next_date) == ("interval", "relance-2", date(2026, 3, 27))
    assert steps(ledger.plan(date(2026, 3, 27))) == [("acme", "relance-2", ("F-1",))]


def test_a_step_in_the_journal_is_never_planned_again(ledger: Ledger) -> None:
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    ledger.record([entry(date(2026, 3, 8), "acme", "relance-1", ("F-1",))])
    for day in range(9, 22):
        tonight = ledger.plan(date(2026, 3, day))
        assert all(a.step.id != "relance-1" for a in tonight.actions)


def test_a_withdrawn_draft_is_not_issued_and_is_drafted_again_fresh_after_the_interval(ledger: Ledger) -> None:
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    ledger.invoice("F-2", "acme", "2026-03-05", "100.00")
    drafted = entry(date(2026, 3, 8), "acme", "relance-1", ("F-1", "F-2"), event="drafted")
    ledger.record([drafted, replace(drafted, date=date(2026, 3, 9), event="withdrawn")])
    # The reviewer deleted it (she had phoned them): F-1 is still at no step, and the client got nothing.
    tonight = ledger.plan(date(2026, 3, 12))
    assert tonight.actions == ()
    assert [(w.invoice.number, w.reason, w.next_step, w.next_date) for w in tonight.waiting] == [
        ("F-1", "interval", "relance-1", date(2026, 3, 16)),
        ("F-2", "interval", "relance-1", date(2026, 3, 16)),
    ]
    assert "withdrawn in review on 2026-03-09" in tonight.waiting[0].detail
    assert steps(ledger.plan(date(2026, 3, 16))) == [("acme", "relance-1", ("F-1", "F-2"))]


def test_a_hold_added_in_review_keeps_a_withdrawn_step_from_being_drafted_again(ledger: Ledger) -> None:
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    drafted = entry(date(2026, 3, 8), "acme", "relance-1", ("F-1",), event="drafted")
    ledger.record([drafted, replace(drafted, date=date(2026, 3, 9), event="withdrawn")])
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00", extra="hold: {reason: promise, until: 2026-03-31}\n")
    assert [ledger.plan(date(2026, 3, day)).actions for day in range(10, 32)] == [()] * 22
    assert steps(ledger.plan(date(2026, 4, 1))) == [("acme", "relance-1", ("F-1",))]


def test_after_the_last_step_the_invoice_awaits_a_decision_and_nothing_goes_out(ledger: Ledger) -> None:
    ledger.invoice("F-1", "acme", "2026-01-01", "1000.00")
    ledger.record([entry(date(2026, 2, 25), "acme", "mise-en-demeure", ("F-1",), channel="letter")])
    tonight = ledger.plan(date(2026, 6, 1))
    assert tonight.actions == ()
    (waiting,) = tonight.waiting
    assert waiting.reason == "awaiting_decision"
    assert "mise-en-demeure on 2026-02-25" in waiting.detail


def test_an_invoice_further_along_is_not_listed_again_at_an_earlier_step(ledger: Ledger) -> None:
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    ledger.invoice("F-2", "acme", "2026-04-01", "300.00")
    ledger.record([entry(date(2026, 4, 10), "acme", "lettre", ("F-1",), channel="letter")])
    # 04-20: F-2's relance-1 is due (19 days); F-1 had its lettre and waits for its mise en demeure, due on
    # 04-25 but 7 days after tonight's document at the earliest: 04-27.
    tonight = ledger.plan(date(2026, 4, 20))
    assert steps(tonight) == [("acme", "relance-1", ("F-2",))]
    assert [(w.invoice.number, w.next_step, w.next_date) for w in tonight.waiting] == [
        ("F-1", "mise-en-demeure", date(2026, 4, 27))
    ]


def test_an_invoice_awaiting_a_decision_is_left_out_of_a_new_document(ledger: Ledger) -> None:
    ledger.invoice("F-1", "acme", "2026-01-01", "1000.00")
    ledger.invoice("F-2", "acme", "2026-05-01", "300.00")
    ledger.record([entry(date(2026, 3, 1), "acme", "mise-en-demeure", ("F-1",), channel="letter")])
    tonight = ledger.plan(date(2026, 5, 8))
    assert steps(tonight) == [("acme", "relance-1", ("F-2",))]
    assert reasons(tonight) == [("F-1", "awaiting_decision")]


def test_a_step_the_policy_no_longer_has_is_ignored(ledger: Ledger) -> None:
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    ledger.record([entry(date(2026, 3, 8), "acme", "old-reminder", ("F-1",))])
    assert steps(ledger.plan(date(2026, 3, 20))) == [("acme", "relance-1", ("F-1",))]


def test_the_deadline_is_the_as_of_date_plus_the_steps_deadline_days(ledger: Ledger) -> None:
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    ledger.record([entry(date(2026, 3, 8), "acme", "relance-1", ("F-1",))])
    (action,) = ledger.plan(date(2026, 3, 22)).actions
    assert (action.step.id, action.deadline) == ("relance-2", date(2026, 3, 22) + timedelta(days=10))


def test_the_tone_follows_the_clients_relationship_and_the_language_is_the_clients(ledger: Ledger) -> None:
    ledger.client("nordwind", language="en", relationship="new")
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    ledger.invoice("F-2", "nordwind", "2026-03-01", "1000.00")
    tonight = ledger.plan(date(2026, 3, 8))
    assert [(a.client.id, a.tone, a.client.language) for a in tonight.actions] == [
        ("acme", "personal", "fr"),
        ("nordwind", "formal", "en"),
    ]


def test_business_invoices_carry_penalties_and_the_indemnity(ledger: Ledger) -> None:
    # 1000 due 2026-03-01, as of 2026-03-08: 7 days at 12.15 % = 2.3301 → 2.33, + 40.00
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    (action,) = ledger.plan(date(2026, 3, 8)).actions
    (amounts,) = action.invoices
    assert (amounts.charges, amounts.charge_kind, amounts.indemnity) == (
        Decimal("2.33"),
        "penalties",
        Decimal("40.00"),
    )
    assert action.total_due == Decimal("1042.33")


def test_a_consumer_owes_no_interest_and_no_indemnity_before_the_mise_en_demeure(ledger: Ledger) -> None:
    ledger.client("lucie", kind="consumer")
    ledger.invoice("F-1", "lucie", "2026-01-01", "800.00")
    (action,) = ledger.plan(date(2026, 3, 1)).actions
    (amounts,) = action.invoices
    assert (amounts.charges, amounts.charge_kind, amounts.indemnity) == (Decimal("0.00"), "none", Decimal("0.00"))
    assert action.total_due == Decimal("800.00")


def test_a_consumers_mise_en_demeure_starts_legal_interest_the_next_day(ledger: Ledger) -> None:
    ledger.policy(
        "two-steps",
        "min_interval_days: 7\nsteps:\n"
        "  - {id: relance-1, after_days: 7, channels: [email], template: relance-1}\n"
        "  - {id: mise-en-demeure, after_days: 20, channels: [letter], template: mise-en-demeure,"
        " formal_notice: true}\n"
        "  - {id: dernier-rappel, after_days: 60, channels: [email], template: relance-2}\n",
    )
    ledger.client("lucie", kind="consumer", policy="two-steps")
    ledger.invoice("F-1", "lucie", "2026-01-01", "800.00")
    ledger.record([entry(date(2026, 1, 8), "lucie", "relance-1", ("F-1",))])
    notice = entry(date(2026, 4, 20), "lucie", "mise-en-demeure", ("F-1",), event="drafted", channel="letter")
    ledger.record([notice, replace(notice, date=date(2026, 4, 22), event="posted")])
    # drafted 04-20, posted 04-22: 04-23..05-20 = 8 + 20 = 28 days at legal_other 2.62 % on 800 = 1.6079 → 1.61,
    # no indemnity (from the draft it would be 30 days, 1.72)
    (action,) = ledger.plan(date(2026, 5, 20)).actions
    (amounts,) = action.invoices
    assert action.step.id == "dernier-rappel"
    assert (amounts.charges, amounts.charge_kind, amounts.indemnity) == (
        Decimal("1.61"),
        "legal_interest",
        Decimal("0.00"),
    )


def test_consumer_legal_interest_runs_from_the_day_after_the_notice_email_was_sent(ledger: Ledger) -> None:
    ledger.policy(
        "two-steps",
        "min_interval_days: 7\nsteps:\n"
        "  - {id: mise-en-demeure, after_days: 20, channels: [email], template: mise-en-demeure,"
        " formal_notice: true}\n"
        "  - {id: dernier-rappel, after_days: 60, channels: [email], template: relance-2}\n",
    )
    ledger.client("lucie", kind="consumer", policy="two-steps")
    ledger.invoice("F-1", "lucie", "2026-01-01", "800.00")
    notice = entry(date(2026, 4, 20), "lucie", "mise-en-demeure", ("F-1",), event="drafted")
    ledger.record([notice, replace(notice, date=date(2026, 4, 21), event="sent")])
    # sent 04-21: 04-22..05-20 = 9 + 20 = 29 days at 2.62 % on 800 = 1.6653 → 1.67
    (action,) = ledger.plan(date(2026, 5, 20)).actions
    assert (action.invoices[0].charges, action.invoices[0].charge_kind) == (Decimal("1.67"), "legal_interest")


def test_a_mise_en_demeure_only_drafted_starts_no_legal_interest(ledger: Ledger) -> None:
    ledger.policy(
        "two-steps",
        "min_interval_days: 7\nsteps:\n"
        "  - {id: mise-en-demeure, after_days: 20, channels: [letter], template: mise-en-demeure,"
        " formal_notice: true}\n"
        "  - {id: dernier-rappel, after_days: 60, channels: [email], template: relance-2}\n",
    )
    ledger.client("lucie", kind="consumer", policy="two-steps")
    ledger.invoice("F-1", "lucie", "2026-01-01", "800.00")
    ledger.record([entry(date(2026, 4, 20), "lucie", "mise-en-demeure", ("F-1",), event="drafted", channel="letter")])
    # Never posted: the consumer never received it, so nothing runs (the draft's date would give 1.72 on 05-20),
    # and nothing more is drafted while the letter waits to be posted.
    tonight = ledger.plan(date(2026, 5, 20))
    assert tonight.actions == ()
    assert [(w.reason, w.detail) for w in tonight.waiting] == [
        (
            "pending",
            "mise-en-demeure drafted on 2026-04-20, waiting for the letter to be posted (relance record posted)",
        )
    ]
    report = aged_balance(ledger.books(), ledger.journal(), tonight, date(2026, 5, 20))
    assert report.clients[0].balance.interest == Decimal("0.00")


def test_a_withdrawn_mise_en_demeure_starts_no_legal_interest(ledger: Ledger) -> None:
    ledger.policy(
        "two-steps",
        "min_interval_days: 7\nsteps:\n"
        "  - {id: mise-en-demeure, after_days: 20, channels: [letter], template: mise-en-demeure,"
        " formal_notice: true}\n"
        "  - {id: dernier-rappel, after_days: 60, channels: [email], template: relance-2}\n",
    )
    ledger.client("lucie", kind="consumer", policy="two-steps")
    ledger.invoice("F-1", "lucie", "2026-01-01", "800.00")
    notice = entry(date(2026, 4, 20), "lucie", "mise-en-demeure", ("F-1",), event="drafted", channel="letter")
    ledger.record([notice, replace(notice, date=date(2026, 4, 21), event="withdrawn")])
    (action,) = ledger.plan(date(2026, 5, 20)).actions
    assert (action.invoices[0].charges, action.invoices[0].charge_kind) == (Decimal("0.00"), "none")


def test_a_missing_semester_holds_back_only_the_client_that_needs_it(ledger: Ledger) -> None:
    ledger.client("beta")
    ledger.invoice("F-2026-007", "acme", "2026-06-20", "1200.00")
    ledger.invoice("F-2026-008", "beta", "2026-06-01", "500.00")  # through 2026-06-15: inside the table
    tonight = ledger.plan(date(2026, 6, 15))
    assert [a.client.id for a in tonight.actions] == ["beta"]
    later = ledger.plan(date(2026, 7, 5))
    assert [a.client.id for a in later.actions] == []  # beta's F-2026-008 now needs 2026-S2 as well
    assert [str(p) for p in later.held_back] == [
        "policies/rates.yaml: warning: no rates for 2026-S2 (needed for invoice F-2026-007, "
        "ledger/invoices/F-2026-007.yaml): client acme is held back until it is there; add the semester's row "
        "(ecb_reference, b2b_default, legal_individual, legal_other): `relance rates update` adds its ECB "
        "figures; a rate is never guessed",
        "policies/rates.yaml: warning: no rates for 2026-S2 (needed for invoice F-2026-008, "
        "ledger/invoices/F-2026-008.yaml): client beta is held back until it is there; add the semester's row "
        "(ecb_reference, b2b_default, legal_individual, legal_other): `relance rates update` adds its ECB "
        "figures; a rate is never guessed",
    ]


def test_a_consumer_without_notice_goes_out_while_a_business_waits_for_the_missing_semester(ledger: Ledger) -> None:
    ledger.client("lucie", kind="consumer")
    ledger.invoice("F-1", "acme", "2026-06-20", "1200.00")
    ledger.invoice("F-2", "lucie", "2026-06-20", "800.00")
    later = ledger.plan(date(2026, 7, 5))
    # lucie owes no interest before a mise en demeure, so her amounts need no rate at all.
    assert [(a.client.id, a.total_due) for a in later.actions] == [("lucie", Decimal("800.00"))]
    assert [p.message.split(":")[0] for p in later.held_back] == [
        "no rates for 2026-S2 (needed for invoice F-1, ledger/invoices/F-1.yaml)"
    ]


def test_the_plan_is_sorted_and_the_same_inputs_give_the_same_plan(ledger: Ledger) -> None:
    for client_id in ("zeta", "beta", "mu"):
        ledger.client(client_id)
    for number, client_id in (("F-9", "zeta"), ("F-3", "beta"), ("F-1", "mu"), ("F-2", "beta"), ("F-5", "acme")):
        ledger.invoice(number, client_id, "2026-03-01", "100.00")
    ledger.invoice("F-4", "mu", "2026-03-01", "100.00", extra="hold: {reason: promise}\n")
    ledger.invoice("F-0", "zeta", "2026-03-01", "100.00", extra="hold: {reason: promise}\n")
    tonight = ledger.plan(date(2026, 3, 8))
    assert steps(tonight) == [
        ("acme", "relance-1", ("F-5",)),
        ("beta", "relance-1", ("F-2", "F-3")),
        ("mu", "relance-1", ("F-1",)),
        ("zeta", "relance-1", ("F-9",)),
    ]
    assert reasons(tonight) == [("F-4", "held"), ("F-0", "held")]
    assert plan(ledger.books(), ledger.journal(), date(2026, 3, 8)) == tonight
