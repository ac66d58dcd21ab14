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


def _lettre_with_joining(tmp_path: Path, language: str) -> tuple[Ledger, Action]:
    ledger = Ledger(tmp_path / "books")
    ledger.client("acme", language=language)
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    ledger.invoice("F-3", "acme", "2026-03-01", "500.00")
    walk(ledger, nights(date(2026, 3, 1), date(2026, 4, 9)))
    ledger.invoice("F-2", "acme", "2026-04-04", "250.00", issued="2026-03-05")
    ledger.invoice("F-4", "acme", "2026-04-03", "120.00", issued="2026-03-04")
    lettre = tonight(ledger, date(2026, 4, 10))
    assert (lettre.step.id, {n: s.id for n, s in lettre.own_steps.items()}) == (
        "lettre",
        {"F-2": "relance-1", "F-4": "relance-1"},
    )
    return ledger, lettre


def test_a_document_names_the_invoices_at_its_step_and_mentions_the_others_once(tmp_path: Path) -> None:
    ledger, lettre = _lettre_with_joining(tmp_path, "fr")
    for channel, text in words(ledger, lettre, date(2026, 4, 10)).items():
        assert "(appel), les factures F-1 et F-3 restent impayées à ce jour." in text, channel
        assert "ci-dessous restent impayées" not in text, channel
        assert text.count("Par ailleurs") == 1, channel
        assert (
            "Par ailleurs, les factures F-2 (échue le 4 avril 2026) et F-4 (échue le 3 avril 2026) restent "
            "également à régler." in text
        ), channel


def test_an_english_document_names_the_invoices_at_its_step_and_mentions_the_others_once(tmp_path: Path) -> None:
    ledger, lettre = _lettre_with_joining(tmp_path, "en")
    for channel, text in words(ledger, lettre, date(2026, 4, 10)).items():
        assert "(call), invoices F-1 and F-3 remain unpaid to date." in text, channel
        assert "below remain unpaid" not in text, channel
        assert "Invoices F-2 (due on 4 April 2026) and F-4 (due on 3 April 2026) are also outstanding." in text


def test_one_invoice_joining_a_second_reminder_is_named_once_beside_the_one_escalated(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "books")
    ledger.client("acme")
    ledger.invoice("F-1", "acme", "2026-03-01", "1000.00")
    walk(ledger, nights(date(2026, 3, 1), date(2026, 3, 21)))
    ledger.invoice("F-2", "acme", "2026-03-10", "250.00", issued="2026-03-05")
    second = tonight(ledger, date(2026, 3, 22))
    text = words(ledger, second, date(2026, 3, 22))["email"]
    assert (
        "Malgré mon courriel du 8 mars 2026, la facture F-1 du 1er mars 2026 reste impayée à ce jour, 21 jours après "
        "son échéance du 1er mars 2026. Par ailleurs, la facture F-2 du 5 mars 2026, échue le 10 mars 2026, reste "
        "également à régler." in text
    )


PLAN_3 = (
    "payment_plan:\n  agreed: 2026-03-15\n  instalments:\n    - {due: 2026-03-31, amount: '450.00'}\n"
    "    - {due: 2026-04-30, amount: '200.00'}\n    - {due: 2026-05-31, amount: '200.00'}\n"
    "payments: [{date: 2026-03-31, amount: '450.00'}, {date: 2026-05-02, amount: '50.00'}]\n"
)


def _missed_instalment(tmp_path: Path, language: str) -> tuple[Ledger, Action]:
    ledger = Ledger(tmp_path / "books")
    ledger.client("acme", language=language)
    policy = ledger.root / "policies/standard.yaml"
    policy.write_text(policy.read_text().replace("channels: [email]", "channels: [email, sms]"))
    ledger.invoice("F-1", "acme", "2026-03-01", "850.00", extra=PLAN_3)
    assert walk(ledger, nights(date(2026, 3, 15), date(2026, 5, 6))) == []
    first = tonight(ledger, date(2026, 5, 7))
    assert first.step.id == "relance-1"
    return ledger, first


def test_a_missed_instalment_is_named_as_such_with_the_plan_and_what_was_paid_of_each_instalment(
    tmp_path: Path,
) -> None:
    ledger, first = _missed_instalment(tmp_path, "fr")
    texts = words(ledger, first, date(2026, 5, 7))
    email = texts["email"]
    assert (
        "Sauf erreur de ma part, l’échéance du 30 avril 2026 de l’échéancier convenu le 15 mars 2026 pour la facture "
        "F-1 n’a pas encore été entièrement réglée." in email
    )
    assert (
        "Pour mémoire, cet échéancier prévoit 450,00 € le 31 mars 2026 (réglée), 200,00 € le 30 avril 2026 (réglée "
        "à hauteur de 50,00 €) et 200,00 € le 31 mai 2026 (à venir)." in email
    )
    # The invoice itself fell due on 1 March: never "échue le 30 avril" about it.
    assert "échéance de l’échéancier du 30 avril 2026 : 200,00 €, dont 50,00 € déjà réglés ; reste dû 150,00 €" in email
    assert "échue le 30 avril" not in email and "arrivée à échéance le 30 avril" not in email
    assert "Si vous avez déjà réglé cette échéance" in email
    assert texts["sms"].startswith("Camille Durand : rappel, échéance du 30/04/2026 de l'échéancier F-1 (150,00 €).")


def test_an_english_missed_instalment_reminder_cites_the_plan(tmp_path: Path) -> None:
    ledger, first = _missed_instalment(tmp_path, "en")
    texts = words(ledger, first, date(2026, 5, 7))
    assert (
        "According to my records, the instalment due on 30 April 2026 under the payment plan agreed on 15 March 2026 "
        "for invoice F-1 has not been fully paid yet." in texts["email"]
    )
    assert "(€50.00 of it paid) and €200.00 on 31 May 2026 (to come)." in texts["email"]
    assert "payment plan instalment due 30 April 2026: €200.00, of which €50.00 already paid" in texts["email"]
    assert "instalment of 30/04/2026 for invoice F-1 (€150.00)" in texts["sms"]


def test_two_missed_instalments_are_named_together_and_the_table_adds_them_up(tmp_path: Path) -> None:
    ledger, _ = _missed_instalment(tmp_path, "fr")
    walk(ledger, nights(date(2026, 5, 7), date(2026, 6, 8)))
    lettre = tonight(ledger, date(2026, 6, 9))
    assert lettre.step.id == "lettre"
    letter = words(ledger, lettre, date(2026, 6, 9))["letter"]
    assert (
        "les échéances du 30 avril 2026 et du 31 mai 2026 de l’échéancier convenu le 15 mars 2026 pour la facture "
        "F-1 restent impayées à ce jour." in letter
    )
    assert "200,00 € le 31 mai 2026 (non réglée)" in letter
    # The row is what the two instalments came to (400), what was paid of them (50), what is left (350).
    assert "F-1 (échéancier) 1er mars 2026 30 avr. 2026 400,00 € 50,00 € 350,00 €" in letter
    assert "convenir ensemble d’un échéancier" not in letter
