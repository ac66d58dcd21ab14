from __future__ import annotations

import io
import zlib
from pathlib import Path

import pytest
from PIL import Image

from relance_pipeline.render.preview import PreviewError, encode_png, first_page_png

INVOICE = Path(__file__).parent.parent / "documents/F-2026-007.pdf"


def test_the_preview_is_the_first_page_at_90_dpi_with_ink_on_it() -> None:
    image = Image.open(io.BytesIO(first_page_png(INVOICE.read_bytes())))
    image.load()
    assert image.mode == "RGB" and image.size == (745, 1053)
    darkest, lightest = image.convert("L").getextrema()
    assert isinstance(darkest, int) and isinstance(lightest, int)  # one band: a (min, max) pair of ints
    assert darkest < 64 and lightest == 255


def test_the_same_pdf_gives_the_same_png_bytes() -> None:
    pdf = INVOICE.read_bytes()
    assert first_page_png(pdf) == first_page_png(pdf)


def test_the_png_has_no_chunk_that_could_vary() -> None:
    png = first_page_png(INVOICE.read_bytes())
    chunks = []
    position = 8
    while position < len(png):
        length = int.from_bytes(png[position : position + 4], "big")
        chunks.append(png[position + 4 : position + 8])
        position += 12 + length
    assert chunks == [b"IHDR", b"IDAT", b"IEND"]


def test_encode_png_round_trips_pixels() -> None:
    rows = b"\x00" + bytes([255, 0, 0, 0, 0, 255]) + b"\x00" + bytes([0, 255, 0, 10, 20, 30])
    image = Image.open(io.BytesIO(encode_png(2, 2, rows)))
    pixels = [image.getpixel((x, y)) for y in range(2) for x in range(2)]
    assert pixels == [(255, 0, 0), (0, 0, 255), (0, 255, 0), (10, 20, 30)]
    assert zlib.decompress(encode_png(2, 2, rows)[8 + 25 + 8 : -12]) == rows


def test_bytes_that_are_not_a_pdf_raise_a_preview_error() -> None:
    with pytest.raises(PreviewError):
        first_page_png(b"not a pdf")
