"""Make the letter font shipped in relance_pipeline/templates/_base/fonts/ from DejaVu Sans.

The subset keeps Latin-1, the euro sign and French typography (apostrophe, guillemets, narrow no-break
space, dashes, œ), so letters embed a font of a few dozen kilobytes whole, without subsetting at render
time. The Bitstream Vera licence lets a modified font be distributed only under a name without
"Bitstream" or "Vera": the subset is called "Relance Sans".

Usage: .venv/bin/python scripts/subset_fonts.py [/usr/share/fonts/truetype/dejavu]
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

TARGET = Path(__file__).resolve().parent.parent / "relance_pipeline" / "templates" / "_base" / "fonts"
FAMILY = "Relance Sans"
SOURCES = {"Regular": "DejaVuSans.ttf", "Bold": "DejaVuSans-Bold.ttf"}
CODEPOINTS = [
    *range(0x20, 0x7F),
    *range(0xA0, 0x100),
    0x0152,  # Œ
    0x0153,  # œ
    0x0178,  # Ÿ
    0x02BC,  # ʼ
    *range(0x2000, 0x200C),  # typographic spaces, including the thin space U+2009
    0x2010,  # hyphen
    0x2011,  # non-breaking hyphen, for invoice numbers
    0x2013,  # –
    0x2014,  # —
    0x2018,  # ‘
    0x2019,  # ’
    0x201C,  # “
    0x201D,  # ”
    0x201E,  # „
    0x2022,  # •
    0x2026,  # …
    0x2039,  # ‹
    0x203A,  # ›
    0x202F,  # narrow no-break space, Babel's French thousands separator
    0x20AC,  # €
    0x2116,  # №
    0x2122,  # ™
    0x2192,  # →
    0x2212,  # −
    0x2610,  # ☐
    0x2611,  # ☑
]


def make(style: str, source: Path) -> Path:
    options = subset.Options()
    # No ligatures: a "fi" glyph would copy and search as one unknown character in the PDF.
    options.layout_features = ["kern"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False
    font = TTFont(source, recalcTimestamp=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=CODEPOINTS)
    subsetter.subset(font)
    rename(font, style)
    target = TARGET / f"RelanceSans-{style}.ttf"
    font.save(target)
    return target


def rename(font: TTFont, style: str) -> None:
    postscript = f"RelanceSans-{style}"
    full = FAMILY if style == "Regular" else f"{FAMILY} {style}"
    names = font["name"]
    for record in list(names.names):
        if record.nameID in (1, 16):
            names.setName(FAMILY, record.nameID, record.platformID, record.platEncID, record.langID)
        elif record.nameID in (2, 17):
            names.setName(style, record.nameID, record.platformID, record.platEncID, record.langID)
        elif record.nameID == 3:
            names.setName(f"{postscript}; subset of DejaVu Sans", 3, record.platformID, record.platEncID, record.langID)
        elif record.nameID == 4:
            names.setName(full, 4, record.platformID, record.platEncID, record.langID)
        elif record.nameID == 6:
            names.setName(postscript, 6, record.platformID, record.platEncID, record.langID)


def main(argv: list[str]) -> int:
    folder = Path(argv[1]) if len(argv) > 1 else Path("/usr/share/fonts/truetype/dejavu")
    TARGET.mkdir(parents=True, exist_ok=True)
    for style, name in SOURCES.items():
        print(make(style, folder / name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
