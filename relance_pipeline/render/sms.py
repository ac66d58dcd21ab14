"""Text messages in the GSM 03.38 alphabet, so that a reminder fits one 160-character segment.

One character outside the GSM alphabet (a curly apostrophe, the narrow no-break space Babel writes in French
amounts, a ê) switches the whole message to UCS-2 and its segment to 70 characters. Typography is replaced by
its plain equivalent and the accents the alphabet lacks are dropped, as French phones do themselves.
"""

from __future__ import annotations

import re
import unicodedata

SEGMENT = 160
CONCATENATED_SEGMENT = 153
UCS2_SEGMENT = 70
UCS2_CONCATENATED_SEGMENT = 67

BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENDED = set("^{}\\[~]|€")
"""Characters of the extension table: each takes two of the 160."""

_TYPOGRAPHY = {
    "\u00a0": " ",
    "\u202f": " ",
    "\u2009": " ",
    "\u2019": "'",
    "\u2018": "'",
    "\u02bc": "'",
    "«": '"',
    "»": '"',
    "\u201c": '"',
    "\u201d": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2011": "-",
    "\u2026": "...",
    "œ": "oe",
    "Œ": "OE",
    "ç": "c",
    "\t": " ",
}


def to_gsm(text: str) -> str:
    """The message in the GSM alphabet, on one line; characters with no equivalent are dropped."""
    text = re.sub(r"«\s*", '"', re.sub(r"\s*»", '"', text))
    out: list[str] = []
    for char in text:
        char = _TYPOGRAPHY.get(char, char)
        if all(c in BASIC or c in EXTENDED for c in char):
            out.append(char)
            continue
        plain = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        out.append("".join(c for c in plain if c in BASIC or c in EXTENDED))
    # A template is written on several lines for readability; a text message is one paragraph.
    return " ".join("".join(out).split())


def is_gsm(text: str) -> bool:
    return all(char in BASIC or char in EXTENDED for char in text)


def length(text: str) -> int:
    """Septets used: an extension character counts twice."""
    return sum(2 if char in EXTENDED else 1 for char in text)


def segments(text: str) -> int:
    """How many SMS the text takes once sent."""
    if is_gsm(text):
        size = length(text)
        return 1 if size <= SEGMENT else -(-size // CONCATENATED_SEGMENT)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= UCS2_SEGMENT else -(-units // UCS2_CONCATENATED_SEGMENT)
