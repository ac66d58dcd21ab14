"""A letter's page ↔ its words: the paragraphs of `<main>` as plain text, and back as HTML paragraphs.

The step's letter template is rendered with slots; its `<main>` (greeting, message, the invoice table's and
payment details' markers, closing) becomes the words a reviewer edits: one paragraph per `<p>`, `**bold**`
for `<strong>`, a line break for `<br>`. The signature, the letterhead and the addresses stay in the layout.
Back, each paragraph is escaped (a reviewer's `<` is a `<`, never markup) and only `**…**` becomes bold.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)
_BREAK = "\u2028"
"""A `<br>` while a paragraph is read; whitespace in HTML text is one space, whatever it is."""
_PARAGRAPH_TAGS = frozenset({"p", "li", "h1", "h2", "h3"})


class _MainWords(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._current: list[str] | None = None
        self._in_main = False
        self._skip_depth = 0
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "main":
            self._in_main = True
            return
        if not self._in_main:
            return
        if tag == "div":
            self._depth += 1
            if self._skip_depth or ("class", "signature") in attrs:
                self._skip_depth = self._skip_depth or self._depth
        if self._skip_depth:
            return
        if tag in _PARAGRAPH_TAGS:
            self._close()
            self._current = []
        elif tag in ("strong", "b") and self._current is not None:
            self._current.append("**")
        elif tag == "br" and self._current is not None:
            self._current.append(_BREAK)

    def handle_endtag(self, tag: str) -> None:
        if tag == "main":
            self._close()
            self._in_main = False
            return
        if not self._in_main:
            return
        if tag == "div":
            if self._skip_depth == self._depth:
                self._skip_depth = 0
            self._depth -= 1
            return
        if self._skip_depth:
            return
        if tag in _PARAGRAPH_TAGS:
            self._close()
        elif tag in ("strong", "b") and self._current is not None:
            self._current.append("**")

    def handle_data(self, data: str) -> None:
        if self._in_main and not self._skip_depth and self._current is not None:
            self._current.append(re.sub(r"\s+", " ", data))

    def _close(self) -> None:
        if self._current is None:
            return
        lines = "".join(self._current).split(_BREAK)
        text = "\n".join(" ".join(line.split()) for line in lines).strip().replace("****", "")
        if text:
            self.paragraphs.append(text)
        self._current = None


def from_page(page: str) -> list[str]:
    """The paragraphs of a letter page's `<main>`, signature left out."""
    parser = _MainWords()
    parser.feed(page)
    parser.close()
    return parser.paragraphs


def to_html(paragraph: str) -> str:
    """One paragraph of words → an HTML paragraph (escaped; `**…**` bold; a line break kept)."""
    escaped = html.escape(paragraph, quote=False)
    bold = _BOLD.sub(r"<strong>\1</strong>", escaped)
    return "<p>" + "<br>\n".join(bold.split("\n")) + "</p>"
