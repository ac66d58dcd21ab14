"""What every letter's PDF repeats, compressed once per process: the embedded fonts.

Letters embed the shipped fonts whole (WeasyPrint's `full_fonts`), so every PDF carries the same font files and
the same ToUnicode maps, which pydyf compresses again (zlib level 9) for each document: about 5 ms a letter for
64 KB of font. Once `install`ed, the compressible streams that WeasyPrint's font step adds to a PDF made with
whole fonts are compressed once per process and their compressed bytes reused. pydyf writes such a stream the same
way (its dictionary, then `/Filter /FlateDecode`, then `/Length`), so the PDF is byte-identical to one made
without this. Subset fonts differ from one document to the next and are left to WeasyPrint.
"""

from __future__ import annotations

import functools
import hashlib
import zlib
from typing import Any

import weasyprint.pdf as weasyprint_pdf

_KEPT = 32
"""Streams kept: a few per font (file, ToUnicode map); a template with many fonts only compresses the rest."""
_LEVEL = 9
"""pydyf's level, so that the bytes are the ones it would write."""
_compressed: dict[bytes, bytes] = {}
_Stream = weasyprint_pdf.pydyf.Stream
"""pydyf, as WeasyPrint writes PDFs with it (a dependency of WeasyPrint's, not ours)."""


def install() -> None:
    """Wrap WeasyPrint's font step (once per process; idempotent)."""
    current = weasyprint_pdf.build_fonts_dictionary
    if getattr(current, "_relance_reuse", False):
        return

    @functools.wraps(current)
    def build_fonts_dictionary(pdf: Any, fonts: Any, compress: bool, subset: bool, options: Any) -> Any:
        first = len(pdf.objects)
        dictionary = current(pdf, fonts, compress, subset, options)
        if compress and not subset:
            for added in pdf.objects[first:]:
                if isinstance(added, _Stream) and added.compress:
                    _reuse(added)
        return dictionary

    build_fonts_dictionary._relance_reuse = True  # type: ignore[attr-defined]
    weasyprint_pdf.build_fonts_dictionary = build_fonts_dictionary


def _reuse(stream: Any) -> None:
    if not all(isinstance(item, bytes) for item in stream.stream):
        return
    raw = b"\n".join(stream.stream)
    key = hashlib.blake2b(raw, digest_size=20).digest() + len(raw).to_bytes(8, "big")
    data = _compressed.get(key)
    if data is None:
        compressor = zlib.compressobj(level=_LEVEL)
        data = compressor.compress(raw) + compressor.flush()
        if len(_compressed) < _KEPT:
            _compressed[key] = data
    stream.stream = [data]
    stream.compress = False
    stream.extra["Filter"] = "/FlateDecode"
