"""Text messages: the GSM alphabet, one segment where possible, the figures of the reminder."""

from __future__ import annotations

from pathlib import Path

import pytest
from render_support import AS_OF, action_for, books_of, client_for

from relance_pipeline.commands.init import init
from relance_pipeline.model import Language
from relance_pipeline.render import sms
from relance_pipeline.render.renderer import Renderer


def test_typography_becomes_plain_gsm_characters() -> None:
    assert sms.to_gsm("L’échéance « 1\u202f200,00\u00a0€ » — fenêtre, œuvre, reçu…") == (
        'L\'échéance "1 200,00 €" - fenetre, oeuvre, recu...'
    )


def test_a_template_written_on_several_lines_sends_one_line() -> None:
    assert sms.to_gsm("Bonjour,\n\n  merci  de régler.\n") == "Bonjour, merci de régler."


def test_segments_count_the_euro_sign_twice_and_fall_to_70_outside_gsm() -> None:
    assert sms.segments("a" * 160) == 1
    assert sms.segments("a" * 159 + "€") == 2  # € is an extension character: 161 septets
    assert sms.segments("a" * 306) == 2 and sms.segments("a" * 307) == 3
    assert sms.segments("ê" * 70) == 1 and sms.segments("ê" * 71) == 2


@pytest.mark.parametrize("step", ["relance-1", "relance-2", "appel", "lettre", "mise-en-demeure"])
@pytest.mark.parametrize("language", ["fr", "en"])
def test_each_sms_template_fits_one_segment_for_one_invoice_and_carries_the_amount(
    tmp_path: Path, step: str, language: Language
) -> None:
    root = tmp_path / "books"
    init(root)
    books = books_of(root)
    client = client_for(books, "consumer", language)
    rendering = Renderer(root, books).render(action_for(books, client, step, channels=("sms",)), AS_OF)
    assert rendering.ok and rendering.problems == (), rendering.problems
    (document,) = rendering.documents
    assert document.filename == f"{step}.sms.txt"
    text = document.content.decode("utf-8")
    assert text.endswith("\n") and "\n" not in text[:-1]
    message = text[:-1]
    assert sms.is_gsm(message) and sms.segments(message) == 1
    assert ("800,00 €" if language == "fr" else "€800.00") in message
    assert message.startswith("Camille Durand")
