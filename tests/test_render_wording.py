"""The words follow the facts: each rate with its period, VAT words, the addressee's civility, French dates.

Amounts here are computed by money.py from the shipped rate table (not chosen), so that the rate a document
states is checked against the rate it charged.
"""

from __future__ import annotations

import dataclasses
import email.policy
from datetime import date, timedelta
from decimal import Decimal
from email.message import EmailMessage
from email.parser import BytesParser

from render_support import client_for, plain

from relance_pipeline.core import money
from relance_pipeline.model import Action, Amounts, Books, Client, Invoice
from relance_pipeline.render.formatting import long_date
from relance_pipeline.render.renderer import Renderer


def invoice(number: str, due: date, total: str, rate: str | None = None) -> Invoice:
    return Invoice(
        number=number,
        client="atelier-ferrand",
        issued=due - timedelta(days=30),
        due=due,
        total=Decimal(total),
        source=f"ledger/invoices/{number}.yaml",
        penalty_rate=Decimal(rate) if rate else None,
    )


def email_text(
    renderer: Renderer, books: Books, client: Client, step_id: str, invoices: tuple[Invoice, ...], as_of: date
) -> str:
    policy = books.policy_for(client)
    step = dataclasses.replace(next(s for s in policy.steps if s.id == step_id), channels=("email",))
    policy = dataclasses.replace(policy, steps=tuple(step if s.id == step_id else s for s in policy.steps))
    listed = []
    for item in invoices:
        amounts = money.amounts(dataclasses.replace(item, client=client.id), client, policy, books.rates, as_of, None)
        assert isinstance(amounts, Amounts), amounts
        listed.append(amounts)
    deadline = as_of + timedelta(days=step.deadline_days) if step.deadline_days else None
    action = Action(client=client, policy=policy, step=step, invoices=tuple(listed), deadline=deadline)
    rendering = renderer.finalized(action, as_of)  # the email as send makes it from the words as drafted
    assert rendering.ok, rendering.problems
    (document,) = rendering.documents
    message = BytesParser(policy=email.policy.default).parsebytes(document.content)
    assert isinstance(message, EmailMessage)
    body = message.get_body(("plain",))
    assert body is not None
    return plain(f"{message['Subject']}\n{body.get_content()}")


def test_french_dates_write_the_first_of_the_month_as_an_ordinal() -> None:
    assert long_date(date(2025, 7, 1), "fr") == "1er juillet 2025"
    assert long_date(date(2025, 7, 1), "fr", "full") == "mardi 1er juillet 2025"
    assert long_date(date(2025, 7, 11), "fr") == "11 juillet 2025"
    assert long_date(date(2025, 7, 1), "fr", "short") == "01/07/2025"
    assert long_date(date(2025, 7, 1), "en") == "1 July 2025"


def test_a_rate_that_changed_over_the_period_is_stated_with_each_period(renderer: Renderer, books: Books) -> None:
    # The rate table's worked example: 1200 due 2025-05-15, through 2025-08-20: 46 days at 13.15 % = 19.8871,
    # 51 days at 12.15 % = 20.3721; 40.26 + 40.00 → 1280.26
    client = client_for(books, "business", "fr")
    text = email_text(
        renderer, books, client, "relance-2", (invoice("F-1", date(2025, 5, 15), "1200.00"),), date(2025, 8, 20)
    )
    assert (
        "pénalités de retard au taux annuel de 13,15 % jusqu’au 30 juin 2025, puis 12,15 % (taux de refinancement "
        "de la BCE majoré de 10 points)" in text
    )
    assert "1 280,26 €" in text


def test_invoices_charged_at_different_rates_are_each_stated(renderer: Renderer, books: Books) -> None:
    # F-1 at its contractual 15.00 % (above the floors 3 × 2.76 and 3 × 2.62), F-2 at the default 12.15 %:
    # one rate for both would misstate one of them.
    client = client_for(books, "business", "fr")
    invoices = (invoice("F-1", date(2026, 3, 1), "1000.00", "15.00"), invoice("F-2", date(2026, 3, 1), "500.00"))
    text = email_text(renderer, books, client, "relance-2", invoices, date(2026, 4, 1))
    assert (
        "au taux annuel de 15,00 % (taux prévu au contrat) pour la facture F-1 et de 12,15 % (taux de "
        "refinancement de la BCE majoré de 10 points) pour la facture F-2" in text
    )


def test_a_contractual_rate_below_the_floor_is_stated_as_the_floor_for_that_period(
    renderer: Renderer, books: Books
) -> None:
    # 15.00 % in 2024-S1 is below 3 × 5.07 = 15.21 %: 10,000 due 2024-05-31 through 2024-07-20 is charged
    # 30 days at 15.21 % = 125.0137 and 20 days at 15.00 % = 82.1918: 207.21 + 40.00 = 10,247.21.
    client = client_for(books, "business", "fr")
    inv = invoice("F-1", date(2024, 5, 31), "10000.00", "15.00")
    text = email_text(renderer, books, client, "relance-2", (inv,), date(2024, 7, 20))
    assert (
        "15,21 % (plancher légal de trois fois le taux d’intérêt légal, supérieur au taux du contrat) jusqu’au "
        "30 juin 2024, puis 15,00 % (taux prévu au contrat)" in text
    )
    assert "10 247,21 €" in text


def test_the_mise_en_demeure_email_closes_with_a_complete_formula_and_the_civility(
    renderer: Renderer, books: Books
) -> None:
    client = client_for(books, "business", "fr", contact="M. Leroy")
    text = email_text(
        renderer, books, client, "mise-en-demeure", (invoice("F-1", date(2026, 3, 1), "1000.00"),), date(2026, 5, 4)
    )
    assert "Je vous prie d’agréer, Monsieur, l’expression de mes salutations distinguées." in text
    assert "Veuillez agréer mes salutations distinguées," not in text
    # An email's deadline is a date counted from the day it goes out: 2026-05-04 + 8 days.
    assert "dans un délai de 8 jours, soit au plus tard le 12 mai 2026" in text


def test_a_consumer_is_greeted_by_the_civility_of_her_address_and_owes_no_business_words(
    renderer: Renderer, books: Books
) -> None:
    client = client_for(books, "consumer", "fr", contact=None, name="Paul Girard", address=("M. Paul Girard", "Lyon"))
    inv = dataclasses.replace(invoice("F-1", date(2026, 3, 1), "800.00"), client=client.id)
    text = email_text(renderer, books, client, "relance-2", (inv,), date(2026, 4, 1))
    assert "Monsieur," in text and "Madame, Monsieur" not in text
    for word in ("trésorerie", "collaboration", "bon de commande"):
        assert word not in text


def test_a_consumer_whose_name_says_no_civility_is_addressed_by_the_civility_field(
    renderer: Renderer, books: Books
) -> None:
    # "Paul Girard" and "12 rue X" say nothing: without `civility` the greeting can only be "Madame, Monsieur".
    plain_client = client_for(books, "consumer", "fr", contact=None, name="Paul Girard", address=("12 rue X", "Lyon"))
    inv = dataclasses.replace(invoice("F-1", date(2026, 3, 1), "800.00"), client=plain_client.id)
    before = email_text(renderer, books, plain_client, "relance-2", (inv,), date(2026, 4, 1))
    assert "Madame, Monsieur," in before
    addressed = dataclasses.replace(plain_client, civility="monsieur")
    text = email_text(renderer, books, addressed, "mise-en-demeure", (inv,), date(2026, 4, 1))
    assert text.count("Monsieur,") == 2 and "Madame, Monsieur" not in text  # greeting and closing
    assert "Je vous prie d’agréer, Monsieur, l’expression de mes salutations distinguées." in text
    english = dataclasses.replace(addressed, language="en", civility="madame")
    assert "Dear Madam," in email_text(renderer, books, english, "mise-en-demeure", (inv,), date(2026, 4, 1))


def test_a_franchise_creditor_writes_no_ttc_and_the_article_293_b(renderer: Renderer, books: Books) -> None:
    creditor = dataclasses.replace(books.settings.creditor, vat_regime="franchise", vat_id=None)
    franchise = dataclasses.replace(books, settings=dataclasses.replace(books.settings, creditor=creditor))
    client = client_for(books, "business", "fr")
    text = email_text(
        Renderer(renderer.root, franchise),
        franchise,
        client,
        "relance-1",
        (invoice("F-1", date(2026, 3, 1), "1000.00"),),
        date(2026, 3, 8),
    )
    assert "TTC" not in text
    assert "TVA non applicable, art. 293 B du CGI" in text


def test_a_business_in_another_eu_state_is_not_told_incl_vat_and_is_named_the_european_order(
    renderer: Renderer, books: Books
) -> None:
    client = books.clients["nordwind"]  # DE VAT number: reverse charge
    inv = dataclasses.replace(invoice("F-1", date(2026, 3, 1), "3600.00"), client=client.id)
    text = email_text(renderer, books, client, "mise-en-demeure", (inv,), date(2026, 5, 4))
    assert "incl. VAT" not in text
    assert "Reverse charge" in text
    assert "Our contract is governed by French law. Under Article L441-10" in text
    assert "European order for payment (Regulation (EC) No 1896/2006)" in text
    for literal in ("Unless I am mistaken", "at your disposal", "late-payment penalties", "registered letter"):
        assert literal not in text


def test_one_day_late_reads_in_the_singular_in_both_languages(renderer: Renderer, books: Books) -> None:
    # A policy may put its second reminder a day after the due date: "1 jour", never "1 jours".
    inv = invoice("F-1", date(2026, 3, 31), "1000.00")
    french = email_text(renderer, books, client_for(books, "business", "fr"), "relance-2", (inv,), date(2026, 4, 1))
    assert "1 jour après son échéance du 31 mars 2026" in french
    english = email_text(renderer, books, client_for(books, "business", "en"), "relance-2", (inv,), date(2026, 4, 1))
    assert "1 day after its due date of 31 March 2026" in english
    later = email_text(renderer, books, client_for(books, "business", "fr"), "relance-2", (inv,), date(2026, 4, 22))
    assert "22 jours après son échéance" in later
