"""Time walks: the plan run night after night over small books, the journal written between nights as
`relance run` writes it, and the whole story of a client checked at the end.

The standard policy: relance-1 at 7 days, relance-2 at 21, appel at 30, lettre at 40, mise-en-demeure at 55,
at least 7 days between contacts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from planbooks import Ledger, entry

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
    # Each document was drafted once per channel, and never again.
    drafted = [(e.date, e.step, e.channel) for e in ledger.journal() if e.event == "drafted"]
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
    assert before == [
        (date(2026, 3, 8), "relance-1", ("F-1", "F-2")),
        # F-2 is 17 days late: mentioned at its own step (relance-1), its relance-2 is due at 21 days.
        (date(2026, 3, 22), "relance-2", ("F-1", "F-2")),
        (date(2026, 3, 29), "relance-2", ("F-2",)),
    ]
    # F-2 is paid on 04-02: the appel (due 03-31, 7 days after 03-29) lists F-1 alone.
    ledger.invoice("F-2", "acme", "2026-03-05", "300.00", extra="payments: [{date: 2026-04-02, amount: '300.00'}]\n")
    # F-1 is paid in two parts; the second, on 04-20, settles it before the mise en demeure.
    ledger.invoice(
        "F-1",
        "acme",
        "2026-03-01",
        "1000.00",
        extra="payments:\n  - {date: 2026-04-05, amount: '600.00'}\n  - {date: 2026-04-20, amount: '400.00'}\n",
    )
    after = walk(ledger, nights(date(2026, 4, 1), date(2026, 6, 30)))
    assert after == [(date(2026, 4, 5), "appel", ("F-1",)), (date(2026, 4, 12), "lettre", ("F-1",))]
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
    # Each invoice climbs its own steps: F-2, eleven days behind, is mentioned at its own step in F-1's
    # documents and gets each of its steps when it is due, never one it has not reached.
    assert sent == [
        date(2026, 3, 8),  # F-1 relance-1
        date(2026, 3, 19),  # F-2 relance-1
        date(2026, 3, 26),  # F-1 relance-2 (due 03-22, 7 days after 03-19), F-2 mentioned at relance-1
        date(2026, 4, 2),  # F-1 appel (due 03-31), F-2 relance-2
        date(2026, 4, 10),  # F-1 lettre at 40 days, F-2 mentioned at relance-2
        date(2026, 4, 17),  # F-2 appel
        date(2026, 4, 24),  # F-2 lettre
        date(2026, 5, 1),  # F-1 mise en demeure (due 04-25), F-2 mentioned at lettre
        date(2026, 5, 8),  # F-2 mise en demeure; then both await a decision
    ]
    # Every document went out on a date announced the night before it.
    for day in sent[1:]:
        assert day - timedelta(days=1) in expected.get(day, set()), day


def test_a_pull_request_merged_a_week_late_sends_one_document_per_client(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "books")
    ledger.client("acme")
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    ledger.night(date(2026, 3, 22), deliver=False)  # relance-1 drafted; the reviewer is on holiday
    # Every night while the pull request waits drafts nothing more for acme: no relance-2, no appel.
    assert walk(ledger, nights(date(2026, 3, 23), date(2026, 4, 20))) == []
    assert ledger.plan(date(2026, 4, 20)).waiting[0].detail == (
        "relance-1 drafted on 2026-03-22, waiting for review and sending of the email"
    )
    ledger.deliver(date(2026, 4, 21))  # merged and sent: one email
    story = walk(ledger, nights(date(2026, 4, 21), date(2026, 5, 31)))
    assert story[:2] == [(date(2026, 4, 28), "relance-2", ("F-1",)), (date(2026, 5, 5), "appel", ("F-1",))]
    delivered = [e for e in ledger.journal() if e.event != "drafted"]
    assert [(e.date, e.step) for e in delivered][:2] == [
        (date(2026, 4, 21), "relance-1"),
        (date(2026, 4, 28), "relance-2"),
    ]


def test_a_withdrawn_relance_1_is_drafted_again_as_relance_1(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "books")
    ledger.client("acme")
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    ledger.night(date(2026, 3, 8), deliver=False)
    ledger.withdraw(date(2026, 3, 9), "acme")  # she had phoned them: the draft is deleted in review
    story = walk(ledger, nights(date(2026, 3, 9), date(2026, 3, 31)))
    assert story[0] == (date(2026, 3, 16), "relance-1", ("F-1",))
    assert [step for _, step, _ in story] == ["relance-1", "relance-2", "appel"]


def test_a_withdrawn_mise_en_demeure_can_be_drafted_again(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "books")
    ledger.client("acme")
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    walk(ledger, nights(date(2026, 3, 1), date(2026, 4, 24)))
    (notice,) = ledger.night(date(2026, 4, 25), deliver=False).actions
    assert notice.step.id == "mise-en-demeure"
    ledger.withdraw(date(2026, 4, 27), "acme")  # stale: the reviewer deletes it
    (waiting,) = ledger.plan(date(2026, 5, 1)).waiting
    assert (waiting.reason, waiting.next_step, waiting.next_date) == ("interval", "mise-en-demeure", date(2026, 5, 4))
    assert walk(ledger, nights(date(2026, 5, 1), date(2026, 5, 10))) == [
        (date(2026, 5, 4), "mise-en-demeure", ("F-1",))
    ]
    assert ledger.plan(date(2026, 6, 1)).waiting[0].reason == "awaiting_decision"


def test_an_invoice_6_days_overdue_joining_a_client_at_the_lettre_step_is_recorded_at_relance_1(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "books")
    ledger.client("acme")
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    ledger.invoice("F-2", "acme", "2026-04-04", "250.00")
    story = walk(ledger, nights(date(2026, 3, 1), date(2026, 4, 10)))
    assert story[-1] == (date(2026, 4, 10), "lettre", ("F-1", "F-2"))
    (lettre,) = [e for e in ledger.journal() if e.step == "lettre" and e.event == "drafted"][:1]
    assert (lettre.step_of("F-1"), lettre.step_of("F-2")) == ("lettre", "relance-1")
    # Its own steps follow, each when it is due; F-1's mise en demeure leaves it out (a formal notice demands
    # its whole sum by a deadline), and F-2 gets its own relance-2 a week later.
    walk(ledger, nights(date(2026, 4, 11), date(2026, 6, 30)))
    drafted = [e for e in ledger.journal() if e.event == "drafted" and e.channel != "letter"]
    notices = [(e.date, e.invoices) for e in drafted if e.step == "mise-en-demeure"]
    assert notices[0] == (date(2026, 4, 25), ("F-1",))
    levels = [e.step_of("F-2") for e in drafted if "F-2" in e.invoices]
    assert levels == ["relance-1", "relance-2", "appel", "lettre", "mise-en-demeure"]


def test_a_call_sheet_never_recorded_holds_the_letter_back_and_the_plan_says_so(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "books")
    ledger.client("acme")
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    walk(ledger, nights(date(2026, 3, 1), date(2026, 3, 30)))
    assert ledger.night(date(2026, 3, 31), deliver=False).actions[0].step.id == "appel"
    assert walk(ledger, nights(date(2026, 4, 1), date(2026, 5, 31))) == []
    assert ledger.plan(date(2026, 5, 31)).waiting[0].detail == (
        "appel drafted on 2026-03-31, waiting for the call to be made (relance record called)"
    )


def test_with_manual_wait_days_an_unrecorded_call_stops_holding_the_client_back(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "books")
    standard = (ledger.root / "policies/standard.yaml").read_text(encoding="utf-8")
    ledger.policy("patient", standard.replace("min_interval_days: 7", "min_interval_days: 7\nmanual_wait_days: 5"))
    ledger.client("acme", policy="patient")
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    walk(ledger, nights(date(2026, 3, 1), date(2026, 3, 30)))
    ledger.night(date(2026, 3, 31), deliver=False)  # the appel, never recorded
    story = walk(ledger, nights(date(2026, 4, 1), date(2026, 4, 30)))
    # The call sheet lapses on 04-05; the lettre is due at 40 days (04-10), 7 days after the last contact.
    assert story[0] == (date(2026, 4, 10), "lettre", ("F-1",))
    # The skipped call is no contact: the lettre's history names the two emails only.
    (lettre,) = [e for e in ledger.journal() if e.event == "drafted" and e.step == "lettre" and e.channel == "email"]
    assert lettre.date == date(2026, 4, 10)
    contacts = [e.step for e in ledger.journal() if e.event != "drafted" and e.date < date(2026, 4, 10)]
    assert contacts == ["relance-1", "relance-2"]


def test_a_reminder_recorded_before_relance_makes_the_first_night_draft_the_next_step(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "books")
    ledger.client("kessler-vogt")
    ledger.invoice("F-1", "kessler-vogt", "2026-01-01", "5000.00")
    ledger.record(
        [
            entry(date(2026, 1, 10), "kessler-vogt", "relance-1", ("F-1",)),
            entry(date(2026, 1, 25), "kessler-vogt", "relance-2", ("F-1",), channel="phone", event="called"),
        ]
    )
    (action,) = ledger.night(date(2026, 2, 1)).actions
    assert action.step.id == "appel"
    assert [(c.date, c.step) for c in action.contacts["F-1"]] == [
        (date(2026, 1, 10), "relance-1"),
        (date(2026, 1, 25), "relance-2"),
    ]


def test_a_client_wide_hold_pauses_every_invoice_new_ones_included(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "books")
    ledger.client("acme")
    client = ledger.root / "ledger/clients/acme.yaml"
    client.write_text(
        client.read_text(encoding="utf-8") + "hold: {reason: other, until: 2026-05-31, note: rachat en cours}\n",
        encoding="utf-8",
    )
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    ledger.invoice("F-2", "acme", "2026-05-10", "300.00")  # a new invoice of the paused client
    assert walk(ledger, nights(date(2026, 3, 1), date(2026, 5, 31))) == []
    waiting = ledger.plan(date(2026, 5, 31)).waiting
    assert [(w.invoice.number, w.reason, w.detail, w.next_date) for w in waiting] == [
        ("F-1", "held", "client on hold, other until 2026-05-31: rachat en cours", date(2026, 6, 1)),
        ("F-2", "held", "client on hold, other until 2026-05-31: rachat en cours", date(2026, 6, 1)),
    ]
    assert walk(ledger, nights(date(2026, 6, 1), date(2026, 6, 1))) == [(date(2026, 6, 1), "relance-1", ("F-1", "F-2"))]


PLAN = """payment_plan:
  agreed: 2026-03-15
  instalments:
    - {due: 2026-03-31, amount: "250.00"}
    - {due: 2026-04-30, amount: "200.00"}
    - {due: 2026-05-31, amount: "200.00"}
"""


def test_a_kept_payment_plan_sends_nothing(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "books")
    ledger.client("acme")
    paid = "payments:\n  - {date: 2026-03-29, amount: '250.00'}\n  - {date: 2026-04-30, amount: '200.00'}\n"
    paid += "  - {date: 2026-05-31, amount: '200.00'}\n"
    ledger.invoice("F-1", "acme", "2026-03-01", "650.00", extra=PLAN + paid)
    ledger.record([entry(date(2026, 3, 8), "acme", "relance-1", ("F-1",))])
    assert walk(ledger, nights(date(2026, 3, 15), date(2026, 6, 30))) == []
    (waiting,) = ledger.plan(date(2026, 4, 15)).waiting
    assert (waiting.reason, waiting.detail) == (
        "payment_plan",
        "payment plan agreed 2026-03-15, 1 of 3 instalments met, next: 200.00 on 2026-04-30",
    )


def test_a_missed_instalment_sends_one_courteous_reminder_about_what_is_due(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "books")
    ledger.client("acme")
    paid = "payments:\n  - {date: 2026-03-29, amount: '250.00'}\n  - {date: 2026-04-30, amount: '200.00'}\n"
    ledger.invoice("F-1", "acme", "2026-03-01", "650.00", extra=PLAN + paid)  # the third is not paid
    ledger.record(
        [
            entry(date(2026, 3, 8), "acme", "relance-1", ("F-1",)),
            entry(date(2026, 3, 12), "acme", "relance-2", ("F-1",)),
        ]
    )
    assert walk(ledger, nights(date(2026, 3, 15), date(2026, 6, 6))) == []
    # From the plan's own level: relance-1 seven days after the missed instalment, for the 200.00 due.
    (action,) = ledger.night(date(2026, 6, 7)).actions
    assert (action.step.id, action.invoices[0].outstanding, action.invoices[0].days_overdue) == (
        "relance-1",
        Decimal("200.00"),
        7,
    )
    assert action.contacts["F-1"] == ()  # the reminders before the plan are not the plan's
    assert walk(ledger, nights(date(2026, 6, 8), date(2026, 6, 29))) == [(date(2026, 6, 21), "relance-2", ("F-1",))]
