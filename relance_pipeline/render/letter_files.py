"""The files a letter may use, and the URLs a letter's HTML asks for, without loading WeasyPrint.

One rule serves both sides: the printer's URL fetcher (`render.letter`) serves what `LetterFiles.locate` finds
and refuses the rest, and `validate` reads the sample letters' HTML (and the stylesheets it would load) with the
parsers WeasyPrint itself uses (tinyhtml5, tinycss2), and reports each URL that rule refuses, so CI says on the
pull request what the night's run would refuse.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlparse

import tinycss2

from relance_pipeline.render import qr

if os.name == "nt":
    from nturl2path import url2pathname
else:

    def url2pathname(url: str) -> str:
        """urllib.request's on POSIX, without importing urllib.request and http.client (16 ms a command)."""
        return unquote(url)


STYLESHEET = "_base/letter.css"
"""The stylesheet every letter is printed with (the user's copy first)."""
_SVG = "{http://www.w3.org/2000/svg}"
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_CSS_DEPTH = 8
"""Stylesheets importing stylesheets: deeper than this is not followed (WeasyPrint would loop, not print)."""


class LetterFiles:
    """Template files (the user's copy first) and the invoices' documents: all a letter can fetch."""

    def __init__(self, folders: Sequence[Path], extra_files: Iterable[Path] = ()) -> None:
        self.folders = tuple(folder.resolve() for folder in folders)
        self.extra_files = frozenset(path.resolve() for path in extra_files)
        self._templates_digest: bytes | None = None

    def templates_digest(self) -> bytes:
        """Every file of the template folders, by name and content (computed once)."""
        if self._templates_digest is None:
            digest = hashlib.blake2b(digest_size=32)
            for folder in self.folders:
                for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
                    name = path.relative_to(folder).as_posix().encode("utf-8", "surrogateescape")
                    digest.update(b"%d:%s" % (len(name), name))
                    digest.update(hashlib.sha256(path.read_bytes()).digest())
                digest.update(b"\0")
            self._templates_digest = digest.digest()
        return self._templates_digest

    def base_url(self, template: str) -> str:
        """The URL a letter's relative references resolve against: its template, as if in templates/."""
        return (self.folders[0] / template).as_uri()

    def allows(self, url: str) -> bool:
        scheme = url.split(":", 1)[0].lower()
        if scheme == qr.SCHEME:
            return qr.readable(url)
        return scheme == "data" or (scheme == "file" and self.locate(url) is not None)

    def locate(self, url: str) -> Path | None:
        """The file a `file:` URL is served from, or None when it is refused."""
        path = Path(url2pathname(unquote(urlparse(url).path))).resolve()
        if path in self.extra_files and path.is_file():
            return path
        for folder in self.folders:
            if path.is_relative_to(folder):
                return self.lookup(path.relative_to(folder).as_posix())
        return None

    def lookup(self, name: str) -> Path | None:
        """A template file by its name, as the template loader would find it."""
        for folder in self.folders:
            candidate = (folder / name).resolve()
            if candidate.is_relative_to(folder) and candidate.is_file():
                return candidate
        return None


def refusal(url: str) -> str:
    """What a problem says of a URL a letter may not use (run and validate alike)."""
    if url.lower().startswith(f"{qr.SCHEME}:"):
        return f"the letter asks for a payment QR code relance cannot make ('{url[:60]}…'): use `payment_qr` as given"
    return f"the letter asks for '{url}': only files under templates/ can be used (no network)"


def refused(page: str, template: str, files: LetterFiles) -> list[str]:
    """Each URL the letter's page (or a stylesheet it loads) asks for and may not have, as written, once."""
    seen: dict[str, None] = {}
    stylesheet = files.lookup(STYLESHEET)
    asked = list(_page_urls(page, files.base_url(template)))
    if stylesheet is not None:
        asked += _stylesheet_urls(stylesheet.read_text(encoding="utf-8"), stylesheet.as_uri())
    for written, url in _followed(asked, files):
        if not files.allows(url):
            seen.setdefault(written)
    return list(seen)


def inputs_digest(page: str, template: str, files: LetterFiles, documents: Iterable[tuple[str, Path]]) -> bytes:
    """A digest of all a letter's PDF is made from besides the printer's code: the page, its template's name
    (relative URLs resolve against it), every template file (the stylesheet, fonts, a logo: whatever the page
    asks for among them) and the given invoice documents ((name in the books, file): those of the letter's
    invoices, which a template may link). Two letters with the same digest print the same bytes: `send` reuses
    the drafting night's preview as the letter when nothing it was made from changed. All template files rather
    than those the page asks for: finding those means parsing the page and its styles (3 ms a letter), hashing
    them all is once a process."""
    digest = hashlib.blake2b(digest_size=32)

    def add(part: bytes) -> None:
        digest.update(b"%d:" % len(part))
        digest.update(part)

    add(page.encode("utf-8"))
    add(template.encode("utf-8"))
    add(files.templates_digest())
    for name, document in documents:  # by the name the books give it: the same books anywhere, the same key
        add(name.encode("utf-8"))
        add(hashlib.sha256(document.read_bytes()).digest() if document.is_file() else b"missing")
    return digest.digest()


def _followed(asked: list[tuple[str, str]], files: LetterFiles) -> Iterator[tuple[str, str]]:
    """The URLs asked for, and those of the stylesheets they serve (an @import of an @import…)."""
    queue = [(written, url, 0) for written, url in asked]
    visited: set[str] = set()
    while queue:
        written, url, depth = queue.pop(0)
        if url in visited:
            continue
        visited.add(url)
        yield written, url
        served = files.locate(url) if url.lower().startswith("file:") else None
        if served is not None and served.suffix.lower() == ".css" and depth < _CSS_DEPTH:
            text = served.read_text(encoding="utf-8", errors="replace")
            queue += [(inner, inner_url, depth + 1) for inner, inner_url in _css_urls(text, served.as_uri())]


_MAY_ASK = re.compile(r"<\s*(?:img|image|embed|object|link|use|feimage|style|base)\b|style\s*=", re.IGNORECASE)
"""What every element or attribute `_page_urls` reads a URL from begins with (a tag's name, any case; a `style`
attribute): a page with none of them asks for nothing, and is not parsed (most letters: a third of validate's
URL check)."""


def _page_urls(page: str, base_url: str) -> Iterator[tuple[str, str]]:
    """(as written, resolved) for every URL WeasyPrint fetches from a page: images, embedded objects,
    stylesheets and attachments linked, SVG images, and the `url()`s and `@import`s of its styles."""
    if _MAY_ASK.search(page) is None:
        return
    import tinyhtml5  # only for the pages that may ask for something

    tree = tinyhtml5.parse(page, namespace_html_elements=False)
    base = next(iter(tree.iter("base")), None)
    if base is not None and base.get("href", "").strip():
        base_url = urljoin(base_url, base.get("href", "").strip())
    for element in tree.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        for written in _element_urls(tag, element):
            yield written, urljoin(base_url, written)
        if tag == "style":
            yield from _css_urls("".join(element.itertext()), base_url)
        if element.get("style"):
            yield from _css_urls(element.get("style", ""), base_url, declarations=True)


def _element_urls(tag: str, element: Any) -> Iterator[str]:
    rel = set(element.get("rel", "").lower().split())
    attribute = {"img": "src", "embed": "src", "object": "data"}.get(tag)
    if tag == "link" and ("stylesheet" in rel or "attachment" in rel) and "alternate" not in rel:
        attribute = "href"
    if tag in (f"{_SVG}image", f"{_SVG}use", f"{_SVG}feImage"):
        attribute = _XLINK_HREF if element.get(_XLINK_HREF) else "href"
    value = _cleaned(element.get(attribute, "")) if attribute else ""
    if value and not value.startswith("#"):
        yield value


def _cleaned(value: str) -> str:
    """As WeasyPrint reads a URL attribute: outer spaces dropped, tabs and line breaks inside removed."""
    return value.strip(" \t\n\f\r").replace("\t", "").replace("\n", "").replace("\r", "")


@lru_cache(maxsize=8)
def _stylesheet_urls(text: str, base_url: str) -> tuple[tuple[str, str], ...]:
    """Every letter loads the same stylesheet: it is parsed once, not once per letter (half of validate's URL
    check)."""
    return tuple(_css_urls(text, base_url))


def _css_urls(text: str, base_url: str, *, declarations: bool = False) -> Iterator[tuple[str, str]]:
    nodes = tinycss2.parse_blocks_contents(text) if declarations else tinycss2.parse_stylesheet(text)
    for written in _tokens_urls(nodes):
        if written and not written.startswith("#"):
            yield written, urljoin(base_url, written)


def _tokens_urls(nodes: Iterable[Any]) -> Iterator[str]:
    for node in nodes:
        kind = getattr(node, "type", "")
        if kind == "url":
            yield node.value.strip()
        elif kind == "function" and node.lower_name == "url":
            yield from (token.value.strip() for token in node.arguments if token.type == "string")
        elif kind == "at-rule" and node.lower_at_keyword == "import":
            yield from (token.value.strip() for token in node.prelude if token.type == "string")
        for part in ("prelude", "content", "arguments", "value"):
            inner = getattr(node, part, None)
            if isinstance(inner, list):
                yield from _tokens_urls(inner)
