"""The RF creditor reference (ISO 11649): printed beside one invoice's number, carried by its QR code, and
matched back when the bank passes it on in a statement's structured remittance."""

from __future__ import annotations

import email.policy
import io
import re
from decimal import Decimal
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import PIL.Image
import pytest
from click.testing import CliRunner
from render_support import AS_OF, action_for, client_for
from stdnum import iso11649

from relance_pipeline.cli.main import main
from relance_pipeline.core.references import rf_reference
from relance_pipeline.model import Books
from relance_pipeline.render.renderer import Renderer


@pytest.mark.parametrize("number", ["F-2026-003", "2014-03", "RE-20170509/505", "a.b_c", "0042", "X" * 21])
def test_the_rf_reference_of_an_invoice_number_is_a_valid_iso_11649_reference(number: str) -> None:
    reference = rf_reference(number)
    assert reference is not None and iso11649.is_valid(reference)
    assert reference[4:] == "".join(c for c in number.upper() if c.isalnum())


def test_a_number_too_long_or_without_letters_and_digits_has_no_rf_reference() -> None:
    assert rf_reference("X" * 22) is None and rf_reference("-/-") is None


def _text(renderer: Renderer, books: Books, kind: str) -> str:
    client = client_for(books, kind, "fr")
    rendering = renderer.finalized(action_for(books, client, "relance-1", channels=("email",)), AS_OF)
    (document,) = rendering.documents
    message = BytesParser(policy=email.policy.default).parsebytes(document.content)
    assert isinstance(message, EmailMessage)
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def test_a_reminder_of_one_invoice_gives_its_rf_reference_beside_its_number(renderer: Renderer, books: Books) -> None:
    assert f"F-2026-005 {rf_reference('F-2026-005')}" in _text(renderer, books, "consumer")


def test_a_reminder_of_several_invoices_gives_their_numbers_only(renderer: Renderer, books: Books) -> None:
    text = _text(renderer, books, "business")
    assert "Référence à indiquer : F-2026-003 F-2026-007" in " ".join(text.split()) and "RF" not in text


def test_the_rf_reference_a_bank_passes_on_as_structured_remittance_pays_the_invoice(
    example_repo: Path, tmp_path: Path
) -> None:
    statement = tmp_path / "qr-transfer.xml"
    statement.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">'
        "<BkToCstmrDbtCdtNtfctn><Ntfctn><Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id></Acct>"
        '<Ntry><Amt Ccy="EUR">800.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
        "<BookgDt><Dt>2026-06-20</Dt></BookgDt><NtryDtls><TxDtls><Refs><EndToEndId>E2E-1</EndToEndId></Refs>"
        "<RltdPties><Dbtr><Pty><Nm>L MARTIN</Nm></Pty></Dbtr></RltdPties><RmtInf><Strd><CdtrRefInf>"
        f"<Ref>{rf_reference('F-2026-005')}</Ref></CdtrRefInf></Strd></RmtInf></TxDtls></NtryDtls></Ntry>"
        "</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>\n",
        "utf-8",
    )
    result = CliRunner().invoke(main, ["--repo", str(example_repo), "import", "bank", str(statement)], env={})
    assert result.exit_code == 0, result.output
    assert "F-2026-005     invoice number in the label" in result.output


def _letter_code(renderer: Renderer, books: Books, kind: str) -> tuple[str, str, str, Decimal, str, str | None]:
    """What the payment QR code of the client's letter says, and its image in the printed PDF."""
    from pypdf import PdfReader

    from relance_pipeline.render import qr

    action = action_for(books, client_for(books, kind, "fr"), "lettre", channels=("letter",))
    (draft,), problems = renderer.drafts(action, AS_OF)
    assert problems == [] and draft.html is not None
    (url,) = re.findall(r'src="(relance-qr:[^"]+)"', draft.html)
    (letter,) = renderer.finalized(action, AS_OF).documents
    (image,) = PdfReader(io.BytesIO(letter.content)).pages[0].images
    assert image.image is not None
    assert image.image.convert("L").tobytes() == PIL.Image.open(io.BytesIO(qr.png(url))).convert("L").tobytes()
    return qr.fields(url)


def test_the_qr_code_of_a_letter_for_one_invoice_carries_its_rf_reference_as_the_structured_reference(
    renderer: Renderer, books: Books
) -> None:
    name, iban, _, amount, reference, rf = _letter_code(renderer, books, "consumer")
    assert rf == rf_reference("F-2026-005") and reference == f"F-2026-005 {rf}"
    assert (name, iban.replace(" ", ""), amount) == ("Camille Durand", "FR7630006000011234567890189", Decimal("800.00"))


def test_the_qr_code_of_a_letter_for_several_invoices_carries_their_numbers_as_its_text(
    renderer: Renderer, books: Books
) -> None:
    *_, reference, rf = _letter_code(renderer, books, "business")
    assert (reference, rf) == ("F-2026-003 F-2026-007", None)
