"""A PDF written as it goes: each object goes to the output when it is made, only the offsets are kept.

WeasyPrint lays out a whole document in memory (a 4,000-invoice letter took 27 s and 580 MB), which a
statement of account listing every invoice of a large client cannot afford. This writer knows just enough
PDF (ISO 32000-1) for pages of positioned text and rules: numbered objects written in any order, streams
compressed with zlib (deterministic for a given zlib), the cross-reference table and trailer at the end. The
shipped TrueType font is embedded whole as a Type0 font (Identity-H, CIDToGIDMap Identity: a character code
is a glyph id), with its widths and a ToUnicode map so the text can be searched and copied.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

from fontTools.ttLib import TTFont

_HEADER = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"  # the binary comment tells transfer tools the file is not text


class PdfStream:
    """Numbered objects written to `out` at once; `finish` writes the cross-reference table and trailer."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._position = 0
        self._offsets: dict[int, int] = {}
        self._next = 1
        self._write(_HEADER)

    def reserve(self) -> int:
        """An object number to refer to now and write later (the page tree, known only at the end)."""
        number = self._next
        self._next += 1
        return number

    def add(self, body: bytes, number: int | None = None) -> int:
        number = self.reserve() if number is None else number
        if number in self._offsets:
            raise ValueError(f"PDF object {number} written twice")
        self._offsets[number] = self._position
        self._write(b"%d 0 obj\n%b\nendobj\n" % (number, body))
        return number

    def add_stream(self, entries: bytes, data: bytes, number: int | None = None, level: int = 6) -> int:
        """`level` 3 for the pages of a long document: 6x quicker than 6, for 20 % more bytes."""
        packed = zlib.compress(data, level)
        body = b"<< %b /Filter /FlateDecode /Length %d >>\nstream\n%b\nendstream" % (entries, len(packed), packed)
        return self.add(body, number)

    def finish(self, root: int, info: int) -> None:
        missing = sorted(set(range(1, self._next)) - set(self._offsets))
        if missing:
            raise ValueError(f"PDF objects reserved but never written: {missing}")
        start = self._position
        rows = [b"0000000000 65535 f \n"] + [b"%010d 00000 n \n" % self._offsets[n] for n in range(1, self._next)]
        self._write(b"xref\n0 %d\n%b" % (self._next, b"".join(rows)))
        trailer = b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
        self._write(trailer % (self._next, root, info, start))

    def _write(self, data: bytes) -> None:
        # Counted here rather than asked of `out`: a pipe or a socket has no position.
        self._out.write(data)
        self._position += len(data)


def text_string(text: str) -> bytes:
    """A PDF text string (document information) in UTF-16BE with its byte order mark: any character fits."""
    return b"<FEFF%b>" % text.encode("utf-16-be").hex().upper().encode("ascii")


class _Notdef(dict[int, str]):
    """Characters the font lacks are drawn as its .notdef glyph (id 0, an empty box) instead of failing: a
    client's name may hold anything, and a box shows where a character is missing."""

    def __missing__(self, key: int) -> str:
        return "0000"


class _Advance(dict[str, int]):
    def __init__(self, values: dict[str, int], notdef: int) -> None:
        super().__init__(values)
        self.notdef = notdef

    def __missing__(self, key: str) -> int:
        return self.notdef


@dataclass(frozen=True)
class Font:
    """A TrueType font as the PDF uses it: glyph ids for the characters, their widths in thousandths of em."""

    name: str
    data: bytes
    glyph_codes: _Notdef
    """ord(character) → the glyph id as four hex digits, for `str.translate` (one C call per string)."""
    advances: _Advance
    widths: tuple[int, ...]
    """Every glyph's width by glyph id, in thousandths of the em."""
    unicode: tuple[tuple[int, str], ...]
    """(glyph id, character) for the ToUnicode map: the lowest code point when a glyph serves several."""
    bbox: tuple[int, int, int, int]
    ascent: int
    descent: int
    cap_height: int

    def encode(self, text: str) -> bytes:
        return b"<%b>" % text.translate(self.glyph_codes).encode("ascii")

    def width(self, text: str, size: float) -> float:
        return sum(map(self.advances.__getitem__, text)) * size / 1000


@lru_cache(maxsize=8)
def load_font(path: Path) -> Font:
    data = path.read_bytes()
    font = TTFont(path)
    scale = 1000 / font["head"].unitsPerEm
    order = font.getGlyphOrder()
    ids = {name: index for index, name in enumerate(order)}
    metrics = font["hmtx"].metrics
    widths = tuple(round(metrics[name][0] * scale) for name in order)
    cmap = {code: ids[name] for code, name in sorted(font.getBestCmap().items())}
    first: dict[int, str] = {}
    for code, glyph in cmap.items():
        first.setdefault(glyph, chr(code))
    head, os2 = font["head"], font["OS/2"]
    return Font(
        name=font["name"].getDebugName(6) or path.stem,
        data=data,
        glyph_codes=_Notdef({code: f"{glyph:04X}" for code, glyph in cmap.items()}),
        advances=_Advance({chr(code): widths[glyph] for code, glyph in cmap.items()}, widths[0]),
        widths=widths,
        unicode=tuple(sorted(first.items())),
        bbox=(round(head.xMin * scale), round(head.yMin * scale), round(head.xMax * scale), round(head.yMax * scale)),
        ascent=round(os2.sTypoAscender * scale),
        descent=round(os2.sTypoDescender * scale),
        cap_height=round(getattr(os2, "sCapHeight", os2.sTypoAscender) * scale),
    )


def embed_font(pdf: PdfStream, font: Font) -> int:
    """The font's objects (file, descriptor, CID font, ToUnicode, Type0); returns the Type0 font's number."""
    file = pdf.add_stream(b"/Length1 %d" % len(font.data), font.data)
    name = b"/" + font.name.encode("ascii", "replace").replace(b" ", b"")
    descriptor = pdf.add(
        b"<< /Type /FontDescriptor /FontName %b /Flags 32 /FontBBox [%d %d %d %d] /ItalicAngle 0 /Ascent %d "
        b"/Descent %d /CapHeight %d /StemV 80 /FontFile2 %d 0 R >>"
        % (name, *font.bbox, font.ascent, font.descent, font.cap_height, file)
    )
    widths = b" ".join(b"%d" % w for w in font.widths)
    cid = pdf.add(
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont %b /CIDSystemInfo << /Registry (Adobe) /Ordering "
        b"(Identity) /Supplement 0 >> /FontDescriptor %d 0 R /W [0 [%b]] /CIDToGIDMap /Identity >>"
        % (name, descriptor, widths)
    )
    to_unicode = pdf.add_stream(b"", _to_unicode(font))
    return pdf.add(
        b"<< /Type /Font /Subtype /Type0 /BaseFont %b /Encoding /Identity-H /DescendantFonts [%d 0 R] "
        b"/ToUnicode %d 0 R >>" % (name, cid, to_unicode)
    )


def _to_unicode(font: Font) -> bytes:
    pairs = [b"<%04X> <%b>" % (glyph, char.encode("utf-16-be").hex().upper().encode()) for glyph, char in font.unicode]
    blocks = [pairs[i : i + 100] for i in range(0, len(pairs), 100)]  # a bfchar block holds 100 at most
    body = b"".join(b"%d beginbfchar\n%b\nendbfchar\n" % (len(block), b"\n".join(block)) for block in blocks)
    return (
        b"/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        b"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        b"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n%b"
        b"endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n" % body
    )
