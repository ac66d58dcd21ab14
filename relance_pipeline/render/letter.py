"""A letter's HTML → PDF/A-3b bytes, with WeasyPrint.

Letters read nothing from the network: the URL fetcher serves the files of the template search path (CSS,
fonts, a logo) and the repository's invoice documents, `data:` URLs, the payment QR code's image from its
`relance-qr:` URL (qr.py), and refuses the rest.
The stylesheet and fonts are parsed once per printer; the font is pre-subset and embedded whole, which
spares WeasyPrint a subsetting pass on every letter, and its compressed streams are made once per process
(`pdf_reuse`). Nothing of the run (clock, random ids) goes in the file:
the dates in the metadata are the letter's date, and the PDF identifier is a hash of the content.
"""

from __future__ import annotations

import mimetypes
from hashlib import md5

from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from relance_pipeline.render import pdf_reuse, qr
from relance_pipeline.render.letter_files import STYLESHEET, LetterFiles

PDF_VARIANT = "pdf/a-3b"


class LocalFetcher(URLFetcher):  # type: ignore[misc]
    """Serves what `LetterFiles` finds (template files, the user's copy first, and invoice documents), `data:`
    URLs and QR codes; refuses anything else, and remembers what it refused."""

    def __init__(self, files: LetterFiles) -> None:
        super().__init__(allowed_protocols=("file", "data"))
        self.files = files
        self.refused: list[str] = []

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        scheme = url.split(":", 1)[0].lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == qr.SCHEME:
            try:
                return URLFetcherResponse(url, qr.png(url), {"Content-Type": "image/png"})
            except qr.NotACode:
                self.refused.append(url)
                raise
        found = self.files.locate(url) if scheme == "file" else None
        if found is None:
            self.refused.append(url)
            raise ValueError(f"relance letters only use files shipped with the templates, not {url}")
        content_type = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
        return URLFetcherResponse(found.as_uri(), found.read_bytes(), {"Content-Type": content_type})


class LetterPrinter:
    """Prints letters; build it once and reuse it, it holds the parsed stylesheet and the loaded fonts."""

    def __init__(self, files: LetterFiles) -> None:
        pdf_reuse.install()  # the whole fonts of every letter compressed once per process
        self.files = files
        self.fetcher = LocalFetcher(self.files)
        self.font_config = FontConfiguration()
        css = self.files.lookup(STYLESHEET)
        self.stylesheets = (
            [CSS(filename=str(css), url_fetcher=self.fetcher, font_config=self.font_config)] if css else []
        )
        self.image_cache: dict[str, object] = {}

    def pdf(self, page: str, template: str) -> bytes:
        """The PDF of one letter; `template` is its template name, against which relative URLs resolve."""
        document = HTML(string=page, base_url=self.files.base_url(template), url_fetcher=self.fetcher).render(
            font_config=self.font_config,
            stylesheets=self.stylesheets,
            cache=self.image_cache,
        )
        pdf = bytes(
            document.write_pdf(
                pdf_variant=PDF_VARIANT,
                full_fonts=True,
                hinting=False,
                uncompressed_pdf=False,
            )
        )
        self._forget_inline_images()
        self._forget_failed_images()
        return pdf

    def _forget_failed_images(self) -> None:
        """WeasyPrint caches a refused image as None and never asks the fetcher again: the next letter would
        go out without it, unrefused, and which letters were refused would depend on how many a worker
        printed. Forgotten, every letter asks, and every letter is refused alike."""
        for url in [url for url, image in self.image_cache.items() if image is None]:
            del self.image_cache[url]

    def _forget_inline_images(self) -> None:
        """Drop the images of `data:` and QR code URLs (each letter's QR code is its own) from the cache, with the
        image data WeasyPrint keeps under the image's id: the cache keeps only shared files (a logo), so a night
        of letters does not grow the memory letter by letter."""
        inline = [url for url in self.image_cache if url.startswith(("data:", f"{qr.SCHEME}:"))]
        for url in inline:
            image_id = md5(url.encode(), usedforsecurity=False).hexdigest()
            del self.image_cache[url]
            for key in [key for key in self.image_cache if key.startswith(image_id)]:
                del self.image_cache[key]

    def take_refused(self) -> list[str]:
        """The URLs refused since the last call (a template asking for the network, or a missing file)."""
        refused, self.fetcher.refused = self.fetcher.refused, []
        return refused
