"""A client past the invoices a document lists (`LISTED_LIMIT`): the largest are listed, the others summed on
the table's last row, and the words speak of all of them by their count."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from decimal import Decimal
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default

import pytest
from huge_support import huge_action
from pypdf import PdfReader
from render_support import AS_OF, action_for, client_for, plain

from relance_pipeline.figures import some
from relance_pipeline.model import Books
from relance_pipeline.render.lines import LISTED_LIMIT, line, listing
from relance_pipeline.render.renderer import Renderer
from relance_pipeline.ship.summary import summary

CAP = LISTED_LIMIT


def pdf_text(pdf: bytes) -> str:
    return plain(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))


def finalized(renderer: Renderer, books: Books, kind: str, language: str, step: str, count: int) -> dict[str, bytes]:
    client = client_for(books, kind, language)  # type: ignore[arg-type]
    action = huge_action(books, action_for(books, client, step, channels=("email", "letter")), count)
    rendering = renderer.finalized(action, AS_OF)
    assert rendering.ok, rendering.problems
    return {document.filename: document.content for document in rendering.documents}


def email_parts(content: bytes) -> tuple[EmailMessage, str, str]:
    message = BytesParser(policy=default).parsebytes(content)
    assert isinstance(message, EmailMessage)
    text, html = (message.get_body(preferencelist=(kind,)) for kind in ("plain", "html"))
    assert isinstance(text, EmailMessage) and isinstance(html, EmailMessage)
    return message, plain(text.get_content()), html.get_content()


def test_the_listing_keeps_the_largest_invoices_by_total_due_then_the_oldest_due_then_the_number(
    books: Books,
) -> None:
    client = client_for(books, "business", "fr")
    action = huge_action(books, action_for(books, client, "relance-2"), 6)
    # H-00004 … H-00006 share the largest total; H-00004 is the oldest due of them.
    listed = listing(action, AS_OF, limit=2)
    assert [item.number for item in listed.lines] == ["H-00004", "H-00005"]
    same_day = dataclasses.replace(action.invoices[5].invoice, due=action.invoices[3].invoice.due)
    tied = dataclasses.replace(
        action, invoices=(*action.invoices[:5], dataclasses.replace(action.invoices[5], invoice=same_day))
    )
    assert [item.number for item in listing(tied, AS_OF, limit=2).lines] == ["H-00004", "H-00006"]


def test_past_the_cap_the_totals_are_of_every_invoice_and_the_others_are_counted_and_summed(books: Books) -> None:
    client = client_for(books, "business", "fr")
    action = huge_action(books, action_for(books, client, "relance-2"), CAP + 5)
    listed = listing(action, AS_OF)
    every = [line(amounts, AS_OF, action) for amounts in action.invoices]
    assert len(listed.lines) == CAP and listed.count == CAP + 5 and listed.omitted == 5
    assert listed.totals.total_due == sum((item.total_due for item in every), Decimal(0))
    assert listed.omitted_totals is not None
    assert listed.omitted_totals.total_due == listed.totals.total_due - sum(
        (item.total_due for item in listed.lines), Decimal(0)
    )
    assert listed.most_days_overdue == max(item.days_overdue for item in every)
    assert [item.number for item in listed.lines] == sorted(item.number for item in listed.lines)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_letter_past_the_cap_lists_the_largest_the_others_row_and_the_totals_of_all(
    renderer: Renderer, books: Books, language: str
) -> None:
    documents = finalized(renderer, books, "business", language, "relance-2", CAP + 1)
    text = pdf_text(documents["relance-2.pdf"])
    listed = re.findall(r"H-\d{5}", text)
    assert "H-00001" not in listed  # the smallest
    assert sorted(set(listed)) == [f"H-{i:05d}" for i in range(2, CAP + 2)]
    french = language == "fr"
    assert ("… et 1 autre facture (voir le relevé de compte joint)" if french else "… and 1 other invoice") in text
    # 21 invoices of 100 + n (n ≤ 19) plus 12.34 and 40 each: every one counted in the totals and the sum asked.
    total = sum(Decimal(100 + min(i, CAP - 1)) for i in range(1, CAP + 2)) + (CAP + 1) * Decimal("52.34")
    shown = f"{total:,.2f}".replace(",", " ").replace(".", ",") + " €" if french else f"€{total:,.2f}"
    assert shown in text
    assert (
        "les 21 factures détaillées dans le relevé de compte joint"
        if french
        else "the 21 invoices listed in the statement"
    ) in text


def test_a_consumers_letter_past_the_cap_has_no_penalty_nor_indemnity_column(renderer: Renderer, books: Books) -> None:
    documents = finalized(renderer, books, "consumer", "fr", "relance-2", CAP + 3)
    text = pdf_text(documents["relance-2.pdf"])
    assert "… et 3 autres factures" in text
    assert not re.search(r"pénalit|indemnit|forfaitaire|40,00 €", text, re.I)


@pytest.mark.parametrize("step", ["relance-1", "relance-2", "lettre", "mise-en-demeure"])
def test_an_email_past_the_cap_names_only_listed_invoices_and_stays_small(
    renderer: Renderer, books: Books, step: str
) -> None:
    documents = finalized(renderer, books, "business", "fr", step, 400)
    message, text, html = email_parts(documents[f"{step}.eml"])
    named = set(re.findall(r"H-\d{5}", f"{message['Subject']} {text} {html}"))
    assert named <= {f"H-{i:05d}" for i in range(400 - CAP + 1, 401)}
    assert "… et 380 autres factures (voir le relevé de compte joint)" in text
    assert len(text) < 12_000 and len(html) < 40_000
    # The most overdue invoice is the oldest, left out (H-00001, 30 + 399 days): the words count from it.
    if step == "relance-2":
        assert "429 jours après la première échéance" in text


def test_the_words_past_the_cap_speak_of_the_invoices_at_their_own_step_by_their_count(
    renderer: Renderer, books: Books
) -> None:
    client = client_for(books, "business", "fr")
    action = huge_action(books, action_for(books, client, "lettre", channels=("email",)), CAP + 10)
    earlier = next(step for step in action.policy.steps if step.id == "relance-2")
    # The ten most recent invoices have not been through the earlier steps: they join at relance-2.
    joining = {amounts.invoice.number: earlier for amounts in action.invoices[-10:]}
    action = dataclasses.replace(action, own_steps=joining)
    (draft,), _ = renderer.drafts(action, AS_OF)
    text = plain(draft.text)
    assert "les 20 factures détaillées dans le relevé de compte joint restent impayées" in text
    assert (
        "Par ailleurs, 10 autres factures, également détaillées dans le relevé de compte joint, restent à régler."
        in text
    )
    message = text.partition("Bonjour")[2].partition("- Facture")[0]  # after the subject, before the list
    assert not re.search(r"H-\d{5}", message)


def test_a_call_sheet_and_a_text_message_past_the_cap_stay_short(renderer: Renderer, books: Books) -> None:
    client = client_for(books, "business", "fr", phone="+33 6 12 34 56 78")
    action = huge_action(books, action_for(books, client, "relance-2", channels=("phone", "sms")), 5000)
    drafts, problems = renderer.drafts(action, AS_OF)
    assert not [p for p in problems if p.severity == "error"], problems
    sheet, sms = (next(d for d in drafts if d.channel == c) for c in ("phone", "sms"))
    assert sheet.text.count("| H-") == CAP and "… et 4980 autres factures" in sheet.text
    assert len(sheet.text) < 12_000
    assert len(sms.text) < 320 and "+4997" in sms.text


def test_the_pull_requests_table_lists_the_documents_invoices_and_one_row_for_the_others(books: Books) -> None:
    client = client_for(books, "business", "fr")
    action = huge_action(books, action_for(books, client, "relance-2"), 5000)
    body = summary(AS_OF, [action], []).body
    rows = [row for row in body.splitlines() if row.startswith("| relance-2")]
    assert len(rows) == CAP + 2  # the listed, the others, the total
    assert "| … 4980 other invoices |" in body
    assert f"**{action.amount_asked:.2f}**" in body
    assert len(body) < 8_000


def test_a_line_of_output_names_a_few_invoice_numbers_and_counts_the_rest() -> None:
    numbers = [f"F-{i}" for i in range(1, 100_001)]
    assert some(numbers) == "F-1, F-2, F-3, F-4, F-5 +99995"
    assert some(numbers[:6]) == "F-1, F-2, F-3, F-4, F-5, F-6"


def test_the_letters_statement_of_account_lists_every_invoice_and_the_totals_of_all(
    renderer: Renderer, books: Books
) -> None:
    documents = finalized(renderer, books, "business", "fr", "relance-2", 130)
    statement = pdf_text(documents["relance-2.statement.pdf"])
    assert sorted(set(re.findall(r"H-\d{5}", statement))) == [f"H-{i:05d}" for i in range(1, 131)]
    assert "Relevé de compte de Atelier Ferrand" in statement
    assert "… et 110 autres factures" in pdf_text(documents["relance-2.pdf"])


def test_a_consumers_statement_of_account_has_no_penalty_nor_indemnity_column(renderer: Renderer, books: Books) -> None:
    documents = finalized(renderer, books, "consumer", "fr", "relance-2", CAP + 3)
    statement = pdf_text(documents["relance-2.statement.pdf"])
    assert len(set(re.findall(r"H-\d{5}", statement))) == CAP + 3
    assert not re.search(r"pénalit|indemnit|forfaitaire", statement, re.I)


def test_the_email_past_the_cap_attaches_the_statement_of_account_as_csv_with_every_invoice(
    renderer: Renderer, books: Books
) -> None:
    documents = finalized(renderer, books, "business", "fr", "relance-2", 400)
    message, _, _ = email_parts(documents["relance-2.eml"])
    (csv_part,) = [p for p in message.iter_attachments() if (p.get_filename() or "").endswith(".csv")]
    assert csv_part.get_filename() == "releve-de-compte-atelier-ferrand-2026-06-15.csv"
    assert csv_part.get_content_type() == "text/csv" and csv_part.get_content_charset() == "utf-8"
    assert csv_part.get_content().startswith("\ufeffFacture;Date;Échéance;")  # read as the UTF-8 it is
    rows = list(csv.reader(io.StringIO(csv_part.get_content().lstrip("\ufeff")), delimiter=";"))
    assert [row[0] for row in rows[1:-1]] == [f"H-{i:05d}" for i in range(1, 401)]
    amounts = [Decimal(row[-1].replace(",", ".")) for row in rows[1:-1]]
    assert Decimal(rows[-1][-1].replace(",", ".")) == sum(amounts)
    assert f"{sum(amounts):,.2f}".replace(",", "\u202f").replace(".", ",") in plain_text_amounts(message)


def plain_text_amounts(message: EmailMessage) -> str:
    text = message.get_body(preferencelist=("plain",))
    assert isinstance(text, EmailMessage)
    return str(text.get_content())


def test_under_the_cap_no_statement_of_account_is_made(renderer: Renderer, books: Books) -> None:
    documents = finalized(renderer, books, "business", "fr", "relance-2", CAP)
    assert sorted(documents) == ["relance-2.eml", "relance-2.pdf"]
    message, text, _ = email_parts(documents["relance-2.eml"])
    assert not [p for p in message.iter_attachments() if (p.get_filename() or "").endswith(".csv")]
    assert "relevé de compte" not in text
