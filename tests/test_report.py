"""The aged balance: buckets, penalties accrued, last contact, next step, totals and DSO."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from planbooks import Ledger, entry

from relance_pipeline.cli import report_format
from relance_pipeline.core.report import AgedBalance, aged_balance, bucket_of


def balance_of(ledger: Ledger, as_of: date) -> AgedBalance:
    result = aged_balance(ledger.books(), ledger.journal(), ledger.plan(as_of), as_of)
    assert isinstance(result, AgedBalance), result
    return result


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    books = Ledger(tmp_path / "books")
    books.client("acme")
    books.client("lucie", kind="consumer")
    return books


@pytest.mark.parametrize(
    ("days", "bucket"), [(-5, 0), (0, 0), (1, 1), (30, 1), (31, 2), (60, 2), (61, 3), (90, 3), (91, 4), (400, 4)]
)
def test_days_overdue_fall_in_their_bucket_at_the_boundaries(days: int, bucket: int) -> None:
    assert bucket_of(days) == bucket


def test_each_client_owes_its_outstanding_amounts_by_age(ledger: Ledger) -> None:
    as_of = date(2026, 6, 15)
    ledger.invoice("F-1", "acme", "2026-06-30", "100.00", issued="2026-06-01")  # not due
    ledger.invoice("F-2", "acme", "2026-05-16", "200.00")  # 30 days
    ledger.invoice("F-3", "acme", "2026-05-15", "300.00", extra="payments: [{date: 2026-06-01, amount: '50'}]\n")
    ledger.invoice("F-4", "acme", "2026-03-17", "400.00")  # 90 days
    ledger.invoice("F-5", "acme", "2026-03-16", "500.00", extra="hold: {reason: disputed}\n")  # 91 days, held
    ledger.invoice("F-6", "acme", "2026-03-01", "600.00", extra="payments: [{date: 2026-04-01, amount: '600'}]\n")
    ledger.invoice("F-7", "acme", "2026-07-30", "700.00", issued="2026-06-20")  # issued after the date
    (row,) = [r for r in balance_of(ledger, as_of).clients if r.client.id == "acme"]
    assert row.balance.buckets == (
        Decimal("100.00"),
        Decimal("200.00"),
        Decimal("250.00"),
        Decimal("400.00"),
        Decimal("500.00"),
    )
    assert row.balance.outstanding == Decimal("1450.00")
    assert row.balance.indemnities == Decimal("160.00")  # four overdue invoices


def test_penalties_accrued_include_held_invoices_and_a_consumer_owes_none_before_notice(ledger: Ledger) -> None:
    # acme: 1000 due 2026-05-01, held; through 2026-06-15: 45 days at 12.15 % = 14.9795 → 14.98
    ledger.invoice("F-1", "acme", "2026-05-01", "1000.00", extra="hold: {reason: promise, until: 2026-06-30}\n")
    ledger.invoice("F-2", "lucie", "2026-05-01", "800.00")
    rows = {r.client.id: r for r in balance_of(ledger, date(2026, 6, 15)).clients}
    assert (rows["acme"].balance.penalties, rows["acme"].balance.indemnities) == (Decimal("14.98"), Decimal("40.00"))
    assert (rows["lucie"].balance.penalties, rows["lucie"].balance.indemnities) == (Decimal("0.00"), Decimal("0.00"))


def test_the_last_contact_and_the_next_step_come_from_the_journal_and_the_plan(ledger: Ledger) -> None:
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    ledger.invoice("F-2", "lucie", "2026-03-01", "80.00")
    ledger.record([entry(date(2026, 3, 8), "acme", "relance-1", ("F-1",))])
    report = balance_of(ledger, date(2026, 3, 15))
    rows = {r.client.id: r for r in report.clients}
    assert (rows["acme"].last_contact, rows["acme"].next_step, rows["acme"].next_date) == (
        date(2026, 3, 8),
        "relance-2",
        date(2026, 3, 22),
    )
    # lucie's relance-1 is in tonight's plan.
    assert (rows["lucie"].last_contact, rows["lucie"].next_step, rows["lucie"].next_date) == (
        None,
        "relance-1",
        date(2026, 3, 15),
    )


def test_a_contact_after_the_as_of_date_is_not_shown_as_the_last_one(ledger: Ledger) -> None:
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    ledger.record([entry(date(2026, 3, 8), "acme", "relance-1", ("F-1",))])
    (row,) = balance_of(ledger, date(2026, 3, 5)).clients
    assert row.last_contact is None


def test_totals_and_dso_over_the_last_365_days(ledger: Ledger) -> None:
    # Sales issued in (2025-06-15, 2026-06-15]: 1000 + 500 + (400 - 100 credited) = 1800; the 2025-01-10 invoice
    # is older. Receivables: 1000 + 0 (paid) + 300 + 200 (old one) = 1500. DSO = 1500 / 1800 × 365 = 304.17 → 304.
    ledger.invoice("F-1", "acme", "2026-05-01", "1000.00", issued="2026-04-01")
    ledger.invoice("F-2", "acme", "2026-02-01", "500.00", extra="payments: [{date: 2026-02-01, amount: '500'}]\n")
    ledger.invoice(
        "F-3",
        "lucie",
        "2026-06-30",
        "400.00",
        issued="2026-06-01",
        extra=("credit_notes: [{number: AV-1, date: 2026-06-05, amount: '100'}]\n"),
    )
    ledger.invoice("F-0", "lucie", "2025-02-10", "200.00", issued="2025-01-10")
    report = balance_of(ledger, date(2026, 6, 15))
    assert report.totals.outstanding == Decimal("1500.00")
    assert report.sales == Decimal("1800.00")
    assert report.dso == 304
    assert report.totals.buckets == tuple(map(Decimal, ("300.00", "0.00", "1000.00", "0.00", "200.00")))


def test_dso_is_none_when_nothing_was_invoiced_in_the_window(ledger: Ledger) -> None:
    ledger.invoice("F-0", "acme", "2024-02-10", "200.00", issued="2024-01-10")
    report = aged_balance(ledger.books(), [], ledger.plan(date(2025, 6, 15)), date(2025, 6, 15))
    assert isinstance(report, AgedBalance)
    assert (report.dso, report.sales) == (None, Decimal("0.00"))


def test_a_missing_semester_leaves_out_only_the_client_that_needs_it(ledger: Ledger) -> None:
    ledger.invoice("F-1", "acme", "2026-06-01", "100.00", extra="hold: {reason: disputed}\n")
    ledger.invoice("F-2", "lucie", "2026-06-01", "80.00")
    report = balance_of(ledger, date(2026, 7, 10))  # the held invoice needs no amounts in the plan, here it does
    assert [row.client.id for row in report.clients] == ["lucie"]
    assert [p.message.split(":")[0] for p in report.held_back] == [
        "no rates for 2026-S2 (needed for invoice F-1, ledger/invoices/F-1.yaml)"
    ]


def test_consumer_legal_interest_is_a_column_of_its_own(ledger: Ledger) -> None:
    ledger.invoice("F-1", "acme", "2026-05-01", "1000.00")
    ledger.invoice("F-2", "lucie", "2026-03-01", "800.00")
    notice = entry(date(2026, 5, 1), "lucie", "mise-en-demeure", ("F-2",), event="drafted", channel="letter")
    ledger.record([notice, replace(notice, date=date(2026, 5, 4), event="posted")])
    # acme: 05-02..06-15 = 45 days at 12.15 % on 1000 = 14.9795 → 14.98 penalties
    # lucie: posted 05-04, 05-05..06-15 = 27 + 15 = 42 days at 2.62 % on 800 = 2.4118 → 2.41 interest
    report = balance_of(ledger, date(2026, 6, 15))
    rows = {r.client.id: r.balance for r in report.clients}
    assert (rows["acme"].penalties, rows["acme"].interest) == (Decimal("14.98"), Decimal("0.00"))
    assert (rows["lucie"].penalties, rows["lucie"].interest) == (Decimal("0.00"), Decimal("2.41"))
    assert (report.totals.penalties, report.totals.interest) == (Decimal("14.98"), Decimal("2.41"))


def test_an_invoice_paid_in_full_but_late_stays_in_the_report_with_what_it_owes(ledger: Ledger) -> None:
    # 3000 due 2025-03-31, paid in full 2025-05-15: 45 days at 13.15 % = 48.6370 → 48.64, + 40.00 = 88.64,
    # waived by default but shown. On 2025-05-14 it is still open: 44 days = 47.5562 → 47.56 + 40.00.
    ledger.invoice("F-1", "acme", "2025-03-31", "3000.00", extra="payments: [{date: 2025-05-15, amount: '3000'}]\n")
    before = balance_of(ledger, date(2025, 5, 14)).clients[0]
    assert (before.balance.penalties, before.balance.indemnities, before.balance.paid_late) == (
        Decimal("47.56"),
        Decimal("40.00"),
        Decimal("0.00"),
    )
    (row,) = balance_of(ledger, date(2025, 9, 1)).clients
    assert (row.balance.outstanding, row.balance.penalties, row.balance.paid_late) == (
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("88.64"),
    )
    assert row.paid_late_penalties == "waived"
    assert "88.64 waived" in report_format.to_table(balance_of(ledger, date(2025, 9, 1)))


def test_penalties_after_a_late_payment_say_claimed_when_the_policy_claims_them(ledger: Ledger) -> None:
    ledger.policy(
        "claiming",
        "min_interval_days: 7\npaid_late_penalties: claimed\nsteps:\n"
        "  - {id: relance-1, after_days: 7, channels: [email], template: relance-1}\n",
    )
    ledger.client("beta", policy="claiming")
    ledger.invoice("F-1", "beta", "2025-03-31", "3000.00", extra="payments: [{date: 2025-05-15, amount: '3000'}]\n")
    (row,) = balance_of(ledger, date(2025, 9, 1)).clients
    assert (row.paid_late_penalties, row.balance.paid_late) == ("claimed", Decimal("88.64"))
    # Its next step is the statement that claims them, tonight; once delivered, there is none.
    assert (row.next_step, row.next_date) == ("statement", date(2025, 9, 1))
    ledger.night(date(2025, 9, 1))
    (after,) = balance_of(ledger, date(2025, 9, 2)).clients
    assert (after.next_step, after.last_contact, after.balance.paid_late) == (None, date(2025, 9, 1), Decimal("88.64"))


def test_an_invoice_paid_late_leaves_the_report_after_the_limitation_period(ledger: Ledger) -> None:
    # Between businesses 5 years (C. com. L110-4) from the late payment of 2025-05-15; a consumer 2 years.
    ledger.invoice("F-1", "acme", "2025-03-31", "3000.00", extra="payments: [{date: 2025-05-15, amount: '3000'}]\n")
    assert [r.client.id for r in balance_of(ledger, date(2030, 5, 14)).clients] == ["acme"]
    assert balance_of(ledger, date(2030, 5, 15)).clients == ()


def test_an_invoice_paid_on_time_or_settled_by_a_credit_note_owes_nothing_after(ledger: Ledger) -> None:
    ledger.invoice("F-1", "acme", "2026-03-31", "500.00", extra="payments: [{date: 2026-03-31, amount: '500'}]\n")
    ledger.invoice(
        "F-2",
        "acme",
        "2026-01-31",
        "2400.00",
        extra="payments: [{date: 2026-01-30, amount: '2000'}]\n"
        "credit_notes: [{number: AV-1, date: 2026-02-07, amount: '400'}]\n",
    )
    assert balance_of(ledger, date(2026, 6, 15)).clients == ()


def test_the_formats_carry_the_same_figures(ledger: Ledger) -> None:
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    ledger.invoice("F-2", "lucie", "2026-06-30", "80.00", issued="2026-06-01")
    report = balance_of(ledger, date(2026, 6, 15))
    data = json.loads(report_format.to_json(report))
    assert data["clients"][0]["client"] == "acme"
    assert data["clients"][0]["buckets"][">90"] == "1000.00"
    assert data["totals"]["outstanding"] == "1080.00"
    assert data["dso_days"] == report.dso
    rows = list(csv.DictReader(io.StringIO(report_format.to_csv(report))))
    assert [(r["client"], r["outstanding"], r["not due"]) for r in rows] == [
        ("acme", "1000.00", "0.00"),
        ("lucie", "80.00", "80.00"),
        ("total", "1080.00", "80.00"),
    ]
    assert rows[-1]["dso_days"] == str(report.dso)
    table = report_format.to_table(report)
    assert table.splitlines()[-1].startswith(f"DSO: {report.dso} days")
    assert any(line.startswith("total") and "1080.00" in line for line in table.splitlines())


def test_a_payment_plan_shows_its_instalments_met_and_missed_and_the_next_one_due(ledger: Ledger) -> None:
    plan = (
        "payment_plan:\n  agreed: 2026-03-15\n  instalments:\n    - {due: 2026-03-31, amount: '450.00'}\n"
        "    - {due: 2026-04-30, amount: '200.00'}\n    - {due: 2026-05-31, amount: '200.00'}\n"
        "payments: [{date: 2026-03-31, amount: '450.00'}, {date: 2026-05-02, amount: '50.00'}]\n"
    )
    ledger.invoice("F-1", "acme", "2026-03-01", "850.00", extra=plan)
    report = balance_of(ledger, date(2026, 5, 10))
    table = report_format.to_table(report)
    assert table.endswith(
        "Payment plans:\n  acme F-1: agreed 2026-03-15, 1 of 3 instalments met, 1 missed (150.00 due), "
        "next: 200.00 on 2026-05-31\n"
    )
    (row,) = json.loads(report_format.to_json(report))["clients"]
    assert row["payment_plans"] == [
        {
            "invoice": "F-1",
            "agreed": "2026-03-15",
            "instalments": [
                {"due": "2026-03-31", "amount": "450.00", "paid": "450.00"},
                {"due": "2026-04-30", "amount": "200.00", "paid": "50.00"},
                {"due": "2026-05-31", "amount": "200.00", "paid": "0.00"},
            ],
            "met": 1,
            "missed": 1,
            "arrears": "150.00",
            "next_due": "2026-05-31",
            "next_amount": "200.00",
        }
    ]
    kept = report_format.to_table(balance_of(ledger, date(2026, 4, 15)))
    assert "acme F-1: agreed 2026-03-15, 1 of 3 instalments met, next: 200.00 on 2026-04-30" in kept
