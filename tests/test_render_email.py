"""Emails: .eml files parsed back with the standard library, headers, parts and attachments checked."""

from __future__ import annotations

import email.policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from render_support import AS_OF, action_for, client_for, plain

from relance_pipeline.model import Books
from relance_pipeline.render.renderer import Renderer, Rendering

TEMPLATES = ("relance-1", "relance-2", "appel", "lettre", "mise-en-demeure")


def parse(content: bytes) -> EmailMessage:
    message = BytesParser(policy=email.policy.default).parsebytes(content)
    assert isinstance(message, EmailMessage)
    return message


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return plain(text.get_content()), html.get_content()


def rendered(renderer: Renderer, books: Books, kind: str, language: str, step: str, **changes: object) -> Rendering:
    client = client_for(books, kind, language, **changes)  # type: ignore[arg-type]
    rendering = renderer.finalized(action_for(books, client, step, channels=("email",)), AS_OF)
    assert rendering.ok, rendering.problems
    return rendering


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("kind", ["business", "consumer"])
def test_every_email_template_gives_a_text_and_an_html_part_with_the_same_figures(
    renderer: Renderer, books: Books, template: str, language: str, kind: str
) -> None:
    (document,) = rendered(renderer, books, kind, language, template).documents
    assert document.filename == f"{template}.eml"
    message = parse(document.content)
    text, html = parts(message)
    french = language == "fr"
    amount = ("3 000,00 €" if french else "€3,000.00") if kind == "business" else ("800,00 €" if french else "€800.00")
    assert amount in text and amount in plain(html)
    assert '<table class="invoices">' in html
    if kind == "business" and template != "relance-1":
        assert "L441-10" in text and ("40,00 €" if french else "€40.00") in text
    if template == "mise-en-demeure":
        assert "mise en demeure" in str(message["Subject"]).lower()
        assert ("23 juin 2026" if french else "23 June 2026") in text
    else:
        assert ("déjà réglé" if french else "already paid") in text
    assert message["Content-Language"] == language


def test_headers_name_the_creditor_and_client_and_date_the_message_at_nine_on_the_as_of_date(
    renderer: Renderer, books: Books
) -> None:
    (document,) = rendered(renderer, books, "business", "fr", "relance-2").documents
    message = parse(document.content)
    assert message["From"] == "Camille Durand <camille@durand-dev.fr>"
    assert message["Reply-To"] == "Camille Durand <camille@durand-dev.fr>"
    assert message["To"] == "Atelier Ferrand SAS <compta@atelier-ferrand.fr>"
    assert message["Subject"] == "Deuxième rappel : factures F-2026-003, F-2026-007 impayées"
    assert message["Date"] == "Mon, 15 Jun 2026 09:00:00 +0200"
    assert parsedate_to_datetime(message["Date"]).date() == AS_OF
    assert str(message["Message-ID"]).startswith("<") and str(message["Message-ID"]).endswith("@durand-dev.fr>")


def test_an_email_with_a_letter_attaches_the_same_pdf_and_the_invoice_copies(
    repo: Path, renderer: Renderer, books: Books
) -> None:
    client = client_for(books, "business", "fr")
    rendering = renderer.finalized(action_for(books, client, "mise-en-demeure"), AS_OF)
    assert rendering.ok, rendering.problems
    letter, mail = rendering.documents
    assert (letter.filename, mail.filename) == ("mise-en-demeure.pdf", "mise-en-demeure.eml")
    parts = list(parse(mail.content).iter_attachments())
    attachments = {name: part for part in parts if (name := part.get_filename()) is not None}
    assert len(attachments) == len(parts), "every attachment is named"
    assert sorted(attachments) == ["F-2026-003.pdf", "F-2026-007.pdf", "mise-en-demeure-2026-06-15.pdf"]
    assert attachments["mise-en-demeure-2026-06-15.pdf"].get_content() == letter.content
    assert attachments["F-2026-003.pdf"].get_content() == (repo / "documents/F-2026-003.pdf").read_bytes()
    assert all(part.get_content_type() == "application/pdf" for part in attachments.values())


def test_english_emails_format_money_and_dates_the_british_way(renderer: Renderer, books: Books) -> None:
    (document,) = rendered(renderer, books, "business", "en", "relance-2").documents
    text, _ = parts(parse(document.content))
    assert "€4,304.68" in text  # 4 200 + 2 × 12.34 + 2 × 40
    assert "by 25 June 2026" in text
    assert "Invoice F-2026-003 of 15 January 2026, due 14 February 2026" in text


def test_the_same_action_gives_the_same_bytes_and_another_date_another_message_id(repo: Path, books: Books) -> None:
    client = client_for(books, "consumer", "fr")
    action = action_for(books, client, "lettre")
    first = Renderer(repo, books).finalized(action, AS_OF).documents
    second = Renderer(repo, books).finalized(action, AS_OF).documents
    assert [d.content for d in first] == [d.content for d in second]
    later = Renderer(repo, books).finalized(action, AS_OF.replace(day=16)).documents
    assert parse(later[1].content)["Message-ID"] != parse(first[1].content)["Message-ID"]


def test_client_text_that_looks_like_a_template_or_html_stays_literal_and_escaped(
    renderer: Renderer, books: Books
) -> None:
    hostile = "ACME {{ 7*7 }} <script>alert(1)</script>"
    rendering = rendered(
        renderer, books, "business", "fr", "relance-1", contact=hostile, name=hostile + "\nBcc: x@evil"
    )
    message = parse(rendering.documents[0].content)
    text, html = parts(message)
    assert f"Bonjour {hostile}," in text
    assert "ACME 49" not in text and "ACME 49" not in html
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert message["Bcc"] is None
    assert message["To"].addresses[0].display_name == hostile + " Bcc: x@evil"


def test_amounts_are_in_the_invoices_currency_and_the_indemnity_in_euros(
    repo: Path, renderer: Renderer, books: Books
) -> None:
    import dataclasses

    client = client_for(books, "business", "en")
    action = action_for(books, client, "lettre", channels=("email", "letter"))
    in_francs = tuple(
        dataclasses.replace(amounts, invoice=dataclasses.replace(amounts.invoice, currency="CHF"))
        for amounts in action.invoices
    )
    action = dataclasses.replace(action, invoices=in_francs)
    drafts, problems = renderer.drafts(action, AS_OF)
    assert problems == []
    letter, mail = drafts
    assert "CHF3,000.00" in plain(mail.text)
    assert "€40.00" in plain(mail.text)  # the indemnity of D441-5 is a sum in euros
    assert letter.html is not None and "relance-qr:" not in letter.html  # an EPC QR code is for euros only
