"""Letters: PDF/A read back with pypdf, for every template, language and kind of client."""

from __future__ import annotations

import io
import re
import socket
from pathlib import Path

import pytest
from pypdf import PdfReader
from pypdf.generic import BooleanObject, DictionaryObject, PdfObject
from render_support import AS_OF, action_for, books_of, client_for, plain

from relance_pipeline.model import Books, Language
from relance_pipeline.render.renderer import Renderer, Rendering

TEMPLATES = ("relance-1", "relance-2", "appel", "lettre", "mise-en-demeure")


def letter_of(renderer: Renderer, books: Books, kind: str, language: str, step: str, **changes: object) -> bytes:
    client = client_for(books, kind, language, **changes)  # type: ignore[arg-type]
    rendering = renderer.finalized(action_for(books, client, step, channels=("letter",)), AS_OF)
    assert rendering.ok, rendering.problems
    (document,) = rendering.documents
    assert document.filename == f"{step}.pdf"
    return document.content


def text_of(pdf: bytes) -> str:
    return plain(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))


def with_user_letter(tmp_path: Path, language: Language, template: str) -> Rendering:
    """The consumer's `lettre` letter in `language`, printed from new books whose templates/lettre/ holds this
    user's copy of the letter template."""
    from relance_pipeline.commands.init import init

    root = tmp_path / "books"
    init(root)
    (root / "templates/lettre").mkdir(parents=True)
    (root / f"templates/lettre/letter.{language}.html").write_text(template, encoding="utf-8")
    books = books_of(root)
    return Renderer(root, books).finalized(
        action_for(books, client_for(books, "consumer", language), "lettre", channels=("letter",)), AS_OF
    )


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("kind", ["business", "consumer"])
def test_every_letter_template_prints_the_amounts_dates_and_mentions_of_its_level(
    renderer: Renderer, books: Books, template: str, language: str, kind: str
) -> None:
    text = text_of(letter_of(renderer, books, kind, language, template))
    french = language == "fr"
    if kind == "business":  # F-2026-003 (3 000 outstanding) and F-2026-007 (1 200)
        assert "F-2026-003" in text and "F-2026-007" in text
        assert ("3 000,00 €" if french else "€3,000.00") in text
        assert ("14 févr. 2026" if french else "14 Feb 2026") in text  # the due date, in the table
    else:  # F-2026-005: 850 with a credit note of 50
        assert "F-2026-005" in text
        assert ("800,00 €" if french else "€800.00") in text
    assert ("Lyon, le 15 juin 2026" if french else "Lyon, 15 June 2026") in text
    assert "FR76 3000 6000 0112 3456 7890 189" in text and "AGRIFRPP" in text
    assert "SIRET 812 345 676 00017" in text
    later_step = template != "relance-1"
    if kind == "business" and later_step:
        assert "L441-10" in text
        assert ("40,00 €" if french else "€40.00") in text
        assert ("4 304,68 €" if french else "€4,304.68") in text  # 4 200 + 2 × 12.34 + 2 × 40
    if kind == "consumer":
        assert not re.search(
            r"40,00 €|€40\.00|pénalit|penalt|forfaitaire|frais de recouvrement|recovery costs", text, re.I
        )
    if template == "mise-en-demeure":
        assert "mise en demeure" in text.lower()
        # A letter cannot know the day it arrives: its 8 days run from receipt, no date is printed for them.
        assert (
            "dans un délai de 8 jours à compter de la réception de la présente"
            if french
            else "within 8 days of receiving this letter"
        ) in text
        assert ("23 juin 2026" if french else "23 June 2026") not in text
        assert ("injonction de payer" if french else "court") in text
        if kind == "consumer":
            assert ("intérêts au taux légal" if french else "legal interest") in text
    else:
        assert ("déjà réglé" if french else "already paid") in text


def dictionary(value: PdfObject) -> DictionaryObject:
    """The PDF dictionary a key leads to, following an indirect reference."""
    resolved = value.get_object()
    assert isinstance(resolved, DictionaryObject), resolved
    return resolved


def test_the_letter_is_pdf_a_3b_dated_by_the_letter_with_its_font_embedded(renderer: Renderer, books: Books) -> None:
    pdf = letter_of(renderer, books, "business", "fr", "mise-en-demeure")
    reader = PdfReader(io.BytesIO(pdf))
    xmp = reader.xmp_metadata
    assert xmp is not None
    raw = xmp.stream.get_data().decode()
    assert 'pdfaid:part="3"' in raw or "<pdfaid:part>3</pdfaid:part>" in raw
    assert "B" in re.findall(r'pdfaid:conformance="?>?(\w)', raw)
    assert "2026-06-15" in raw  # created/modified: the letter's date, never the clock's
    assert reader.metadata is not None
    assert reader.metadata.title == "Mise en demeure de payer – factures F-2026-003, F-2026-007"
    assert "/OutputIntents" in dictionary(reader.trailer["/Root"])
    fonts = {
        dictionary(font)["/BaseFont"]
        for page in reader.pages
        for font in dictionary(dictionary(page["/Resources"])["/Font"]).values()
    }
    assert fonts and all("Relance-Sans" in str(name) for name in fonts)


def test_the_same_action_prints_byte_identical_pdfs_with_two_renderers(repo: Path, books: Books) -> None:
    client = client_for(books, "business", "en")
    action = action_for(books, client, "lettre", channels=("letter",))
    first = Renderer(repo, books).finalized(action, AS_OF).documents[0].content
    second = Renderer(repo, books).finalized(action, AS_OF).documents[0].content
    assert first == second


def test_a_letter_carries_the_payment_qr_code_as_an_image(renderer: Renderer, books: Books) -> None:
    reader = PdfReader(io.BytesIO(letter_of(renderer, books, "consumer", "fr", "lettre")))
    assert len(reader.pages[0].images) == 1


def test_client_text_that_looks_like_a_template_or_html_prints_literally(renderer: Renderer, books: Books) -> None:
    hostile = "ACME {{ 7*7 }} <script>alert(1)</script> & fils"
    pdf = letter_of(
        renderer, books, "business", "fr", "lettre", name=hostile, address=(hostile, "1 rue X", "75001 Paris")
    )
    text = text_of(pdf)
    assert hostile in text
    assert "ACME 49" not in text


def test_a_user_template_replaces_the_built_in_one_of_the_same_name(tmp_path: Path) -> None:
    rendering = with_user_letter(
        tmp_path,
        "fr",
        '{% extends "_base/letter.html" %}{% block subject %}Ma relance à moi{% endblock %}'
        "{% block message %}<p>Texte maison.</p>{% endblock %}",
    )
    assert rendering.ok, rendering.problems
    text = text_of(rendering.documents[0].content)
    assert "Objet : Ma relance à moi" in text and "Texte maison." in text
    assert "Malgré mes précédents rappels" not in text
    assert "FR76 3000 6000 0112 3456 7890 189" in text  # the rest of the layout still comes from _base/


def test_a_letter_never_fetches_from_the_network_and_names_the_template_asking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("a letter tried to reach the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    rendering = with_user_letter(
        tmp_path,
        "en",
        '{% extends "_base/letter.html" %}{% block subject %}Reminder{% endblock %}'
        '{% block registered %}<img src="https://example.com/logo.png">{% endblock %}'
        "{% block message %}<p>Text.</p>{% endblock %}",
    )
    assert not rendering.ok and rendering.documents == ()
    assert [str(p) for p in rendering.problems] == [
        "templates/lettre/letter.en.html: the letter asks for 'https://example.com/logo.png': "
        "only files under templates/ can be used (no network)"
    ]


def test_the_address_sits_in_the_window_of_a_french_dl_envelope(renderer: Renderer, books: Books) -> None:
    page = PdfReader(io.BytesIO(letter_of(renderer, books, "business", "fr", "mise-en-demeure"))).pages[0]
    found: dict[str, tuple[float, float]] = {}

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if text.strip() in ("Atelier Ferrand SAS", "44000 Nantes"):
            found[text.strip()] = (tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5])

    page.extract_text(visitor_text=visit)
    millimetre = 72 / 25.4
    height = float(page.mediabox.height) / millimetre
    (x, y), (_, last_y) = found["Atelier Ferrand SAS"], found["44000 Nantes"]
    assert 108 <= x / millimetre <= 112  # 110 mm from the left edge
    assert 45 <= height - y / millimetre <= 52  # the first baseline just under 45 mm from the top
    assert height - last_y / millimetre <= 90  # the whole address above the first fold (99 mm)


def test_the_printer_forgets_each_letters_qr_code_so_a_night_does_not_grow_its_memory(repo: Path, books: Books) -> None:
    renderer = Renderer(repo, books)
    first = letter_of(renderer, books, "business", "fr", "lettre")
    for language in ("fr", "en"):
        letter_of(renderer, books, "consumer", language, "mise-en-demeure")
    cache = renderer.printer().image_cache
    assert not [key for key in cache if key.startswith("data:")]
    assert len(cache) == 0, "the example's letters use no shared image file"
    assert letter_of(renderer, books, "business", "fr", "lettre") == first


def test_a_one_page_letter_is_laid_out_once_its_page_counter_included(
    renderer: Renderer, books: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The footer's `1 / 1` needs the page count, which WeasyPrint fills in the margin boxes after the layout:
    the page itself is laid out once (a counter of pages in the letter's body would lay it out again)."""
    from weasyprint.layout import page as weasyprint_page

    laid_out: list[int] = []
    original = weasyprint_page.remake_page

    def counted(index: int, *args: object) -> object:
        laid_out.append(index)
        return original(index, *args)

    monkeypatch.setattr(weasyprint_page, "remake_page", counted)
    pdf = letter_of(renderer, books, "consumer", "fr", "relance-1")
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    assert laid_out == [0]
    assert "1 / 1" in text_of(pdf)


def test_the_qr_code_is_one_pixel_a_module_printed_without_smoothing(renderer: Renderer, books: Books) -> None:
    page = PdfReader(io.BytesIO(letter_of(renderer, books, "business", "fr", "lettre"))).pages[0]
    (image,) = page.images
    assert image.image is not None
    width, height = image.image.size
    assert width == height and 21 <= width <= 177  # QR versions 1 to 40, no border: one pixel a module
    resources = page["/Resources"].get_object()
    assert isinstance(resources, DictionaryObject)
    xobjects = resources["/XObject"].get_object()
    assert isinstance(xobjects, DictionaryObject)
    (stream,) = [xobjects[name].get_object() for name in xobjects]
    assert isinstance(stream, DictionaryObject)
    interpolate = stream["/Interpolate"]
    assert isinstance(interpolate, BooleanObject) and interpolate.value is False


def test_the_fonts_compressed_once_give_the_bytes_weasyprint_writes(
    renderer: Renderer, books: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    import weasyprint.pdf

    reused = letter_of(renderer, books, "business", "fr", "lettre")
    assert letter_of(renderer, books, "business", "fr", "lettre") == reused  # from the compressed streams kept
    wrapped = weasyprint.pdf.build_fonts_dictionary
    monkeypatch.setattr(weasyprint.pdf, "build_fonts_dictionary", wrapped.__wrapped__)
    assert letter_of(renderer, books, "business", "fr", "lettre") == reused
    assert "Atelier Ferrand" in text_of(reused)


def test_a_template_writing_its_own_qr_code_url_is_refused(tmp_path: Path) -> None:
    rendering = with_user_letter(
        tmp_path,
        "en",
        '{% extends "_base/letter.html" %}{% block subject %}Reminder{% endblock %}'
        '{% block registered %}<img src="relance-qr:WyJFdmlsIl0=">{% endblock %}'
        "{% block message %}<p>Text.</p>{% endblock %}",
    )
    assert not rendering.ok and rendering.documents == ()
    assert [p.code for p in rendering.problems] == ["template.url"]
    assert "a payment QR code relance cannot make" in rendering.problems[0].message


@pytest.mark.parametrize(
    "payload",
    [
        b"[" * 100_000 + b"]" * 100_000,  # deep enough to exhaust the JSON parser's stack
        b'{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5", "f": "6"}',  # six keys are not six texts
        b'"abcdef"',
        b'["Evil", "FR76", "", "1.00", "ref", 7]',
    ],
)
def test_a_qr_code_url_that_relance_did_not_write_is_not_a_code(payload: bytes) -> None:
    import base64

    from relance_pipeline.render import qr

    url = f"relance-qr:{base64.urlsafe_b64encode(payload).decode()}"
    assert not qr.readable(url)
    with pytest.raises(qr.NotACode):
        qr.png(url)
