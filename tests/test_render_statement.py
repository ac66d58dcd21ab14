"""The statement's words: what each invoice paid late owes, said as the law says it, linted, in both languages.

The amounts are computed by money.py from the shipped rate table (test_statement.py checks them by hand):
F-1, 3,000 due 2026-01-31, paid 2026-03-17: 45 days at 12.15 % = 44.9384 → 44.94, + 40.00 = 84.94;
F-2, 2,000 due 2026-02-15, 500 paid 02-25 and 1,500 on 03-20 (33 days late): 10 days on 2000 = 6.6575 and
23 days on 1500 = 11.4842 at 12.15 % → 18.1418 → 18.14, + 40.00 = 58.14; together 143.08.
F-9, a consumer's 800 due 2026-01-15, notice sent 2026-03-11, paid 2026-04-10: 30 days at 2.62 % → 1.72.
"""

from __future__ import annotations

import email.policy
from datetime import date
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from planbooks import Ledger, entry
from render_support import plain
from test_statement import CLAIMED, paid

from relance_pipeline.model import Action, Language
from relance_pipeline.render import lint
from relance_pipeline.render.drafts import html_text
from relance_pipeline.render.renderer import Renderer

AS_OF = date(2026, 4, 20)


def statements(root: Path, language: Language, channels: str = "[letter, email]") -> tuple[Renderer, list[Action]]:
    ledger = Ledger(root)
    ledger.policy("claimed", CLAIMED + f"paid_late_channels: {channels}\n")
    ledger.client("acme", policy="claimed", language=language)
    ledger.client("paul", kind="consumer", policy="claimed", language=language)
    ledger.invoice("F-1", "acme", "2026-01-31", "3000.00", extra=paid(("2026-03-17", "3000.00")))
    ledger.invoice(
        "F-2", "acme", "2026-02-15", "2000.00", extra=paid(("2026-02-25", "500.00"), ("2026-03-20", "1500.00"))
    )
    ledger.invoice("F-9", "paul", "2026-01-15", "800.00", extra=paid(("2026-04-10", "800.00")))
    ledger.record([entry(date(2026, 3, 11), "paul", "mise-en-demeure", ("F-9",))])
    tonight = ledger.plan(AS_OF)
    assert [a.step.id for a in tonight.actions] == ["statement", "statement"]
    return Renderer(root, ledger.books()), list(tonight.actions)


def texts(renderer: Renderer, action: Action) -> dict[str, str]:
    rendering = renderer.finalized(action, AS_OF)
    assert rendering.ok and not rendering.problems, rendering.problems
    found: dict[str, str] = {}
    for document in rendering.documents:
        if document.channel == "email":
            message = BytesParser(policy=email.policy.default).parsebytes(document.content)
            assert isinstance(message, EmailMessage)
            body = message.get_body(("plain",))
            assert body is not None
            found["email"] = plain(f"{message['Subject']}\n{body.get_content()}")
    for draft in renderer.drafts(action, AS_OF)[0]:
        if draft.channel == "letter":
            found["letter"] = plain(html_text(draft.html or ""))
    return found


@pytest.fixture(scope="module")
def french(tmp_path_factory: pytest.TempPathFactory) -> tuple[Renderer, list[Action]]:
    return statements(tmp_path_factory.mktemp("fr") / "books", "fr")


def test_a_business_statement_lists_each_invoice_with_its_days_late_penalties_and_40_euros(
    french: tuple[Renderer, list[Action]],
) -> None:
    renderer, (acme, _) = french
    found = texts(renderer, acme)
    email_text = found["email"]
    assert email_text.startswith("Pénalités de retard : factures F-1, F-2 réglées après leur échéance")
    assert (
        "Facture F-1 du 31 janvier 2026, échue le 31 janvier 2026, de 3 000,00 € TTC, réglée le 17 mars 2026 "
        "(45 jours de retard) : pénalités de retard 44,94 € ; indemnité forfaitaire 40,00 €." in email_text
    )
    assert (
        "réglée le 20 mars 2026 (33 jours de retard) : pénalités de retard 18,14 € ; indemnité forfaitaire"
        in email_text
    )
    assert "article L441-10 du Code de commerce" in email_text and "12,15 % (taux de refinancement" in email_text
    assert "régler la somme de 143,08 € dans un délai de 15 jours, soit au plus tard le 5 mai 2026" in email_text
    letter = found["letter"]
    assert "F-1 31 janv. 2026 17 mars 2026 45 3 000,00 € 44,94 € 40,00 € 84,94 €" in letter
    assert "Total 5 000,00 € 63,08 € 80,00 € 143,08 €" in letter
    assert "dans un délai de 15 jours à compter de la réception de la présente" in letter


def test_a_consumer_statement_claims_legal_interest_and_no_business_words(
    french: tuple[Renderer, list[Action]],
) -> None:
    renderer, (_, paul) = french
    found = texts(renderer, paul)
    for text in found.values():
        assert (
            "intérêts au taux légal (2,62 % l’an) à compter du lendemain de la réception de ma mise en demeure" in text
        )
        assert "1,72 €" in text and "85 jours" in text
        for word in ("pénalité", "40,00", "indemnité", "L441-10", "trésorerie", "collaboration"):
            assert word not in text


def test_a_statement_in_english_names_french_law_and_reads_days_late(tmp_path: Path) -> None:
    renderer, (acme, paul) = statements(tmp_path / "books", "en", "[email]")
    business = texts(renderer, acme)["email"]
    assert business.startswith("Late-payment interest: invoices F-1, F-2 paid after the due date")
    assert "Our contract is governed by French law. Under Article L441-10" in business
    assert "paid on 17 March 2026 (45 days late): late-payment interest €44.94; recovery costs €40.00." in business
    assert "Please pay the sum of €143.08 within 15 days, that is by 5 May 2026" in business
    consumer = texts(renderer, paul)["email"]
    assert "legal interest (2.62% a year) from the day after you received my formal notice" in consumer
    assert "€40" not in consumer and "penalt" not in consumer


def test_the_lint_requires_the_basis_and_the_40_euros_in_a_business_statement(
    french: tuple[Renderer, list[Action]],
) -> None:
    renderer, (acme, paul) = french
    (drafts, _) = renderer.drafts(acme, AS_OF)
    email_draft = next(d for d in drafts if d.channel == "email")
    bare = type(email_draft)("email", email_draft.template, email_draft.subject, "Merci de régler 63,08 €.")
    found = lint.lint(bare, lint.Facts.of(acme, "email"), "statement/email.fr.txt", lambda _: ("x", None))
    messages = " ".join(p.message for p in found)
    assert "C. com. L441-10), in a statement" in messages and "40 € (C. com. D441-5), in a statement" in messages
    consumer = lint.lint(bare, lint.Facts.of(paul, "email"), "statement/email.fr.txt", lambda _: ("x", None))
    assert any("legal interest (C. civ. 1231-6)" in p.message for p in consumer)
