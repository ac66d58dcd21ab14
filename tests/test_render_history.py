"""What the documents say happened before is what the journal says the client received: walked night by night
with the plan, then the words of the night's document read as the client would read them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from planbooks import Ledger, entry
from test_plan_nights import nights, walk

from relance_pipeline.model import Action
from relance_pipeline.render.renderer import Renderer


def words(ledger: Ledger, action: Action, day: date) -> dict[str, str]:
    drafts, problems = Renderer(ledger.root, ledger.books()).drafts(action, day)
    assert [p for p in problems if p.severity == "error"] == []
    return {draft.channel: " ".join(draft.text.split()) for draft in drafts}


def tonight(ledger: Ledger, day: date) -> Action:
    (action,) = ledger.night(day).actions
    return action


def test_a_second_reminder_after_a_withdrawn_first_one_cites_only_what_was_received(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "books")
    ledger.client("acme")
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    ledger.night(date(2026, 3, 8), deliver=False)
    ledger.withdraw(date(2026, 3, 9), "acme")  # she had phoned them
    first = tonight(ledger, date(2026, 3, 16))
    assert first.step.id == "relance-1"
    second = tonight(ledger, date(2026, 3, 23))
    assert second.step.id == "relance-2"
    text = words(ledger, second, date(2026, 3, 23))["email"]
    assert "Malgré mon courriel du 16 mars 2026, la facture F-1" in text
    assert "précédent rappel" not in text


def test_an_invoice_joining_a_lettre_is_mentioned_at_its_own_step_and_none_joins_a_mise_en_demeure(
    tmp_path: Path,
) -> None:
    ledger = Ledger(tmp_path / "books")
    ledger.client("acme")
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    walk(ledger, nights(date(2026, 3, 1), date(2026, 4, 9)))
    ledger.invoice("F-2", "acme", "2026-04-04", "250.00", issued="2026-03-05")  # 6 days overdue
    lettre = tonight(ledger, date(2026, 4, 10))
    assert (lettre.step.id, lettre.step_of("F-2").id) == ("lettre", "relance-1")
    text = words(ledger, lettre, date(2026, 4, 10))["email"]
    assert "Malgré mes relances du 8 mars 2026 (courriel), du 22 mars 2026 (courriel) et du 31 mars 2026" in text
    assert "Par ailleurs, la facture F-2 du 5 mars 2026, échue le 4 avril 2026, reste également à régler." in text
    walk(ledger, nights(date(2026, 4, 11), date(2026, 4, 24)))
    notice = tonight(ledger, date(2026, 4, 25))
    assert (notice.step.id, [a.invoice.number for a in notice.invoices]) == ("mise-en-demeure", ["F-1"])
    text = words(ledger, notice, date(2026, 4, 25))["email"]
    assert "F-2" not in text
    assert "et du 10 avril 2026 (courrier), la facture F-1" in text
    # The call was answered: "sans réponse" would be false.
    assert "sans réponse" not in text and "restées sans effet" not in text


def test_an_expired_dispute_never_meets_aucune_contestation(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "books")
    ledger.client("acme")
    hold = "hold: {reason: disputed, until: 2026-03-31, note: recette contestée}\n"
    ledger.invoice("F-1", "acme", "2026-02-01", "1000.00", extra=hold)
    ledger.record(
        [
            entry(date(2026, 2, 8), "acme", "relance-1", ("F-1",)),
            entry(date(2026, 2, 22), "acme", "relance-2", ("F-1",)),
            entry(date(2026, 3, 3), "acme", "appel", ("F-1",), channel="phone"),
            entry(date(2026, 3, 13), "acme", "lettre", ("F-1",), channel="letter"),
        ]
    )
    notice = tonight(ledger, date(2026, 4, 1))
    assert notice.step.id == "mise-en-demeure"
    letter = words(ledger, notice, date(2026, 4, 1))["letter"]
    assert "prestations réalisées et livrées." in letter
    assert "contestation" not in letter


def test_a_kept_promise_that_lapsed_is_cited_and_the_letter_does_not_call_it_unanswered(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "books")
    ledger.client("acme")
    ledger.invoice("F-1", "acme", "2026-02-01", "1000.00", extra="hold: {reason: promise, until: 2026-03-31}\n")
    ledger.record(
        [
            entry(date(2026, 2, 8), "acme", "relance-1", ("F-1",)),
            entry(date(2026, 2, 22), "acme", "relance-2", ("F-1",)),
            entry(date(2026, 3, 3), "acme", "appel", ("F-1",), channel="phone", event="called"),
            entry(date(2026, 3, 13), "acme", "lettre", ("F-1",), channel="letter"),
        ]
    )
    text = words(ledger, tonight(ledger, date(2026, 4, 1)), date(2026, 4, 1))["email"]
    assert "Vous m’aviez annoncé un règlement pour le 31 mars 2026 ; il ne m’est pas parvenu à ce jour." in text
    assert "sans réponse" not in text


def test_a_client_on_a_payment_plan_is_not_offered_one(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "books")
    ledger.client("acme")
    plan = "payment_plan:\n  agreed: 2026-03-15\n  instalments:\n    - {due: 2026-03-31, amount: '450.00'}\n"
    plan += "    - {due: 2026-04-30, amount: '200.00'}\n"
    ledger.invoice(
        "F-1", "acme", "2026-03-01", "650.00", extra=plan + "payments: [{date: 2026-03-31, amount: '450.00'}]\n"
    )
    walk(ledger, nights(date(2026, 3, 15), date(2026, 5, 20)))
    second = tonight(ledger, date(2026, 5, 21))
    assert (second.step.id, second.invoices[0].outstanding) == ("relance-2", Decimal("200.00"))
    text = words(ledger, second, date(2026, 5, 21))["email"]
    assert "Si une difficulté vous empêche de respecter l’échéancier convenu" in text
    assert "convenir ensemble d’un échéancier" not in text
