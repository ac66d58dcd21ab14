"""Time walks: the plan run night after night over small books, the journal written between nights as
`relance run` writes it, and the whole story of a client checked at the end.

The standard policy: relance-1 at 7 days, relance-2 at 21, appel at 30, lettre at 40, mise-en-demeure at 55,
at least 7 days between contacts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path

from planbooks import Ledger

from relance_pipeline.model import Plan


def nights(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def walk(ledger: Ledger, days: Iterable[date]) -> list[tuple[date, str, tuple[str, ...]]]:
    """Run each night; return what was drafted: (date, step, invoices) for every document."""
    story = []
    for day in days:
        tonight: Plan = ledger.night(day)
        story += [(day, a.step.id, tuple(x.invoice.number for x in a.invoices)) for a in tonight.actions]
    return story


def test_a_single_invoice_climbs_every_step_on_its_day_once_then_awaits_a_decision(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "books")
    ledger.client("acme")
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    story = walk(ledger, nights(date(2026, 2, 20), date(2026, 6, 30)))
    assert story == [
        (date(2026, 3, 8), "relance-1", ("F-1",)),
        (date(2026, 3, 22), "relance-2", ("F-1",)),
        (date(2026, 3, 31), "appel", ("F-1",)),
        (date(2026, 4, 10), "lettre", ("F-1",)),
        (date(2026, 4, 25), "mise-en-demeure", ("F-1",)),
    ]
    (waiting,) = ledger.plan(date(2026, 6, 30)).waiting
    assert waiting.reason == "awaiting_decision"
    # Each document was journaled once per channel, and never again.
    drafted = [(e.date, e.step, e.channel) for e in ledger.journal()]
    assert len(drafted) == len(set(drafted)) == 7


def test_missed_nights_catch_up_one_step_per_run_never_jumping_to_the_mise_en_demeure(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "books")
    ledger.client("acme")
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    # The job did not run from 2026-03-02 to 2026-05-14: the invoice is 75 days overdue when it comes back.
    days = [*nights(date(2026, 2, 25), date(2026, 3, 1)), *nights(date(2026, 5, 15), date(2026, 6, 30))]
    assert walk(ledger, days) == [
        (date(2026, 5, 15), "relance-1", ("F-1",)),
        (date(2026, 5, 22), "relance-2", ("F-1",)),
        (date(2026, 5, 29), "appel", ("F-1",)),
        (date(2026, 6, 5), "lettre", ("F-1",)),
        (date(2026, 6, 12), "mise-en-demeure", ("F-1",)),
    ]


def test_with_a_one_day_interval_catch_up_is_one_step_per_night(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "books")
    standard = (ledger.root / "policies/standard.yaml").read_text(encoding="utf-8")
    ledger.policy("daily", standard.replace("min_interval_days: 7", "min_interval_days: 1"))
    ledger.client("acme", policy="daily")
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    assert [step for _, step, _ in walk(ledger, nights(date(2026, 5, 15), date(2026, 5, 25)))] == [
        "relance-1",
        "relance-2",
        "appel",
        "lettre",
        "mise-en-demeure",
    ]


def test_a_second_invoice_joins_the_clients_document_and_the_interval_holds_between_contacts(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "books")
    ledger.client("acme")
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    ledger.invoice("F-2", "acme", "2026-03-12", "400.00", issued="2026-02-10")
    story = walk(ledger, nights(date(2026, 3, 1), date(2026, 3, 22)))
    waiting = ledger.plan(date(2026, 3, 22)).waiting
    assert [(w.invoice.number, w.reason, w.next_date) for w in waiting] == [
        ("F-1", "interval", date(2026, 3, 26)),
        ("F-2", "not_yet", date(2026, 4, 2)),
    ]
    story += walk(ledger, nights(date(2026, 3, 23), date(2026, 3, 31)))
    assert story == [
        # F-2 is not due yet on 03-08: only F-1.
        (date(2026, 3, 8), "relance-1", ("F-1",)),
        # F-2's relance-1 is due on 03-19 (7 days); F-1 had its relance-1 and is not listed again.
        (date(2026, 3, 19), "relance-1", ("F-2",)),
        # F-1's relance-2 is due on 03-22, but the last contact was 03-19: it waits for 03-26, F-2 joins it.
        (date(2026, 3, 26), "relance-2", ("F-1", "F-2")),
    ]


def test_a_payment_ends_the_story_of_an_invoice_and_of_its_client(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "books")
    ledger.client("acme")
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    ledger.invoice("F-2", "acme", "2026-03-05", "300.00")
    before = walk(ledger, nights(date(2026, 3, 1), date(2026, 3, 31)))
    assert [(day, step) for day, step, _ in before] == [
        (date(2026, 3, 8), "relance-1"),
        (date(2026, 3, 22), "relance-2"),
        (date(2026, 3, 31), "appel"),
    ]
    # F-2 is paid on 04-02: the lettre of 04-10 lists F-1 alone.
    ledger.invoice("F-2", "acme", "2026-03-05", "300.00", extra="payments: [{date: 2026-04-02, amount: '300.00'}]\n")
    # F-1 is paid in two parts; the second, on 04-20, settles it before the mise en demeure (04-25).
    ledger.invoice(
        "F-1",
        "acme",
        "2026-03-01",
        "1000.00",
        extra="payments:\n  - {date: 2026-04-05, amount: '600.00'}\n  - {date: 2026-04-20, amount: '400.00'}\n",
    )
    after = walk(ledger, nights(date(2026, 4, 1), date(2026, 6, 30)))
    assert after == [(date(2026, 4, 10), "lettre", ("F-1",))]
    tonight = ledger.plan(date(2026, 6, 30))
    assert (tonight.actions, tonight.waiting) == ((), ())


def test_clients_escalate_independently_of_each_other(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "books")
    ledger.client("acme")
    ledger.client("kappa", kind="consumer", relationship="new")
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    ledger.invoice("F-2", "kappa", "2026-03-10", "200.00")
    story: list[tuple[date, str, str]] = []
    for day in nights(date(2026, 3, 1), date(2026, 4, 30)):
        story += [(day, a.client.id, a.step.id) for a in ledger.night(day).actions]
    assert [s for s in story if s[1] == "acme"] == [
        (date(2026, 3, 8), "acme", "relance-1"),
        (date(2026, 3, 22), "acme", "relance-2"),
        (date(2026, 3, 31), "acme", "appel"),
        (date(2026, 4, 10), "acme", "lettre"),
        (date(2026, 4, 25), "acme", "mise-en-demeure"),
    ]
    assert [s for s in story if s[1] == "kappa"] == [
        (date(2026, 3, 17), "kappa", "relance-1"),
        (date(2026, 3, 31), "kappa", "relance-2"),
        (date(2026, 4, 9), "kappa", "appel"),
        (date(2026, 4, 19), "kappa", "lettre"),
    ]


def test_the_date_a_waiting_invoice_expects_is_the_night_its_next_document_goes_out(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "books")
    ledger.client("acme")
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    ledger.invoice("F-2", "acme", "2026-03-12", "400.00", issued="2026-02-10")
    expected: dict[date, set[date]] = {}
    sent: list[date] = []
    for day in nights(date(2026, 3, 2), date(2026, 5, 31)):
        if ledger.night(day).actions:
            sent.append(day)
        # After the night's run, the plan of the same day says when each waiting invoice goes out next.
        for waiting in ledger.plan(day).waiting:
            if waiting.next_date is not None:
                expected.setdefault(waiting.next_date, set()).add(day)
    assert sent == [
        date(2026, 3, 8),  # F-1 relance-1
        date(2026, 3, 19),  # F-2 relance-1
        date(2026, 3, 26),  # F-1 relance-2 (due 03-22, 7 days after 03-19), F-2 joins
        date(2026, 4, 2),  # appel (due 03-31, 7 days after 03-26)
        date(2026, 4, 10),  # lettre at 40 days
        date(2026, 4, 25),  # mise en demeure at 55 days; then both await a decision
    ]
    # Every document went out on a date announced the night before it.
    for day in sent[1:]:
        assert day - timedelta(days=1) in expected.get(day, set()), day
