"""Templates → the wording of each document (a `Draft`): subject, text and HTML, before any PDF or email.

The legal lint reads drafts, so `validate` can check every template without building PDFs. An email
template is a single `.txt` file: its first paragraph is the subject, the rest the message; rendered once
as text and once with HTML escaping (the invoice list becoming a table), it gives both parts of the email.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from markupsafe import Markup

from relance_pipeline.model import Action, Books, Channel, Problem
from relance_pipeline.render import budget, environment, letter_words, sms, template_files, words
from relance_pipeline.render.context import template_variables
from relance_pipeline.render.lines import LISTED_LIMIT
from relance_pipeline.render.qr import epc_qr_url

WORDS_PLACED = "<!-- relance: the reviewed words -->"
"""Put before a letter's words: a page without it came from a layout that dropped them."""


@dataclass(frozen=True)
class Draft:
    channel: Channel
    template: str
    """The template's name, e.g. `relance-1/email.fr.txt`."""
    subject: str | None
    text: str
    """What the reader reads: the email's text part, the SMS, the call sheet, the letter's text."""
    html: str | None = None
    """The letter's HTML, or the email's HTML part."""


class Drafter:
    """Renders templates for actions; build it once, it keeps the compiled templates."""

    def __init__(self, root: Path, books: Books, *, lint_only: bool = False, listed_limit: int = LISTED_LIMIT) -> None:
        self.root = root
        self.books = books
        self.lint_only = lint_only
        """For the lint alone: no HTML part for emails, no QR code on letters (they say nothing to the lint)."""
        self.listed_limit = listed_limit
        """The invoices a document lists at most: LISTED_LIMIT, but for the lint's samples (samples.py)."""
        self.environments = environment.build(template_files.search_path(root), root)

    def variables(self, action: Action, as_of: date, channels: tuple[Channel, ...] | None = None) -> dict[str, Any]:
        """`channels`: those of the step still approved (a letter withdrawn in review is not mentioned)."""
        variables = template_variables(action, self.books, as_of, self.listed_limit)
        if channels is not None:
            variables["channels"] = channels
        return variables

    def reviewable(
        self, action: Action, channel: Channel, as_of: date, channels: tuple[Channel, ...] | None = None
    ) -> words.Words:
        """The words of an email or a letter as of `as_of`, each computed value a slot (see words.py).
        Raises TemplateFailure when the template is missing or wrong."""
        name = template_files.template_name(action.step.template, channel, action.client.language)
        language = action.client.language
        variables = {**self.variables(action, as_of, channels), "channel": channel, environment.SLOTS: True}
        table = words.marker("table", language)
        if channel == "email":
            text = tidy(self._render(self.environments.text, name, {**variables, "invoice_table": table}))
            subject, body = split_subject(text)
            return words.Words(subject, body)
        page = self._render(
            self.environments.html,
            name,
            {
                **variables,
                "invoice_table": Markup(f"<p>{html.escape(table)}</p>"),
                "payment_marker": words.marker("payment", language),
                "payment_qr": None,
            },
        )
        return words.Words(html_title(page), "\n\n".join(letter_words.from_page(page)) + "\n")

    def final(
        self,
        action: Action,
        channel: Channel,
        as_of: date,
        reviewed: words.Words,
        channels: tuple[Channel, ...] | None = None,
    ) -> Draft:
        """The email or letter that goes out: `reviewed` words (their slots filled for `as_of`), the structured
        parts (invoice table, payment details, QR code, addresses) rendered from the books as of `as_of`."""
        name = template_files.template_name(action.step.template, channel, action.client.language)
        variables = {**self.variables(action, as_of, channels), "channel": channel}
        subject = words.plain(reviewed.subject)
        paragraphs = [words.plain(p) if p not in self._markers(action) else p for p in reviewed.paragraphs()]
        if channel == "email":
            return self._final_email(name, variables, subject, paragraphs)
        return self._final_letter(name, variables, subject, paragraphs)

    def _markers(self, action: Action) -> dict[str, str]:
        return words.marker_kinds(action.client.language)

    def _final_email(self, name: str, variables: dict[str, Any], subject: str, paragraphs: list[str]) -> Draft:
        language = variables["language"]
        markers = words.marker_kinds(language)
        text_table = tidy(self._render(self.environments.text, f"_base/invoices.{language}.txt", variables))
        text = "\n\n".join(text_table.strip("\n") if p in markers else p for p in paragraphs) + "\n"
        if self.lint_only:
            return Draft("email", name, subject, typography(text, language))
        table = compact(self._render(self.environments.html, "_base/invoices.html", variables))
        blocks = [f'<div class="table">\n{table}\n</div>' if p in markers else paragraphs_html(p) for p in paragraphs]
        page = self._render(
            self.environments.html,
            "_base/email.html",
            {**variables, "subject": subject, "body": Markup("\n".join(blocks))},
        )
        return Draft("email", name, subject, typography(text, language), typography(page, language))

    def _final_letter(self, name: str, variables: dict[str, Any], subject: str, paragraphs: list[str]) -> Draft:
        language = variables["language"]
        markers = words.marker_kinds(language)
        qr = self._payment_qr(variables)
        variables = {**variables, "payment_qr": qr}
        parts: dict[str, str] = {
            "table": compact(self._render(self.environments.html, "_base/invoices.html", variables)),
            "payment": self._render(self.environments.html, "_base/payment-details.html", variables),
        }
        blocks = [parts[markers[p]] if p in markers else letter_words.to_html(p) for p in paragraphs]
        closing = ""
        if paragraphs and paragraphs[-1] not in markers:
            closing = letter_words.to_html(paragraphs[-1]).replace("<p>", '<p class="closing">', 1)
            blocks = blocks[:-1]
            # The last paragraph stays with the closing and the signature (a signature alone on page 2 reads
            # as an afterthought): both go into the sign-off block.
            if len(paragraphs) > 2 and paragraphs[-2] not in markers:
                closing = blocks.pop() + "\n" + closing
        if blocks and paragraphs[0] not in markers:
            blocks[0] = blocks[0].replace("<p>", '<p class="greeting">', 1)
        final = {
            **variables,
            "invoice_table": Markup(""),
            "letter_subject": subject,
            "letter_words": Markup("\n".join([WORDS_PLACED, *blocks])),
            "letter_closing": Markup(closing),
        }
        page = self._render(self.environments.html, name, final)
        if WORDS_PLACED not in page:
            # A copy of _base/letter.html from before drafts were words: it would print the template's own
            # blocks and silently drop what the reviewer approved.
            base = self.environments.display("_base/letter.html")
            message = (
                "has no place for the reviewed words (no `letter_words` branch: a copy older than drafts as "
                "words); start again from relance's _base/letter.html, or delete your copy to use it"
            )
            raise environment.TemplateFailure(Problem(base, None, message, code="template.letter_words"))
        page = typography(page.replace(WORDS_PLACED + "\n", ""), language)
        return Draft("letter", name, subject, html_text(page), page)

    def draft(self, action: Action, channel: Channel, as_of: date) -> Draft:
        """Raises TemplateFailure when the template is missing or wrong."""
        name = template_files.template_name(action.step.template, channel, action.client.language)
        variables = {**self.variables(action, as_of), "channel": channel}
        if channel == "email":
            return self._email(name, variables)
        if channel == "letter":
            return self._letter(name, variables)
        text = tidy(self._render(self.environments.text, name, variables))
        if channel == "sms":
            return Draft(channel, name, None, sms.to_gsm(text))
        return Draft(channel, name, None, typography(text, variables["language"]))

    def _email(self, name: str, variables: dict[str, Any]) -> Draft:
        language = variables["language"]
        text_table = tidy(self._render(self.environments.text, f"_base/invoices.{language}.txt", variables))
        text = tidy(self._render(self.environments.text, name, {**variables, "invoice_table": text_table}))
        subject, body = split_subject(text)
        if self.lint_only:
            return Draft("email", name, subject, typography(body, language))
        # The HTML part: the same text, escaped, with the HTML invoice table where the text list was.
        marked = tidy(self._render(self.environments.text, name, {**variables, "invoice_table": TABLE_MARK}))
        table = compact(self._render(self.environments.html, "_base/invoices.html", variables))
        body_html = paragraphs(html.escape(split_subject(marked)[1], quote=False))
        wrapped = f'<div class="table">\n{table}\n</div>'
        body_html = body_html.replace(f"<p>{TABLE_MARK}</p>", wrapped).replace(TABLE_MARK, table)
        page = self._render(
            self.environments.html, "_base/email.html", {**variables, "subject": subject, "body": Markup(body_html)}
        )
        # No typographic spaces in the subject: mail clients show it in fonts and places they do not suit.
        return Draft("email", name, subject, typography(body, language), typography(page, language))

    def _letter(self, name: str, variables: dict[str, Any]) -> Draft:
        language = variables["language"]
        table = Markup(compact(self._render(self.environments.html, "_base/invoices.html", variables)))
        qr = self._payment_qr(variables)
        page = self._render(self.environments.html, name, {**variables, "invoice_table": table, "payment_qr": qr})
        page = typography(page, language)
        return Draft("letter", name, html_title(page), html_text(page), page)

    def _payment_qr(self, variables: dict[str, Any]) -> str | None:
        """The letter's QR code URL, the same for its draft and its final document (they once differed: the
        final one left out the RF reference)."""
        if self.lint_only or variables["currency"] != "EUR":  # an EPC transfer is in euros only
            return None
        return epc_qr_url(
            variables["creditor"], variables["amount_due"], variables["payment_reference"], variables["payment_rf"]
        )

    def _render(self, env: Any, name: str, variables: dict[str, Any]) -> str:
        try:
            return budget.render(env.get_template(name), variables)
        except Exception as error:  # a user's template can fail in any way: say where, never a traceback
            raise environment.failure(error, self.environments, name) from None


def tidy(text: str) -> str:
    """Templates are written for people to read: trailing spaces and runs of blank lines are dropped."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def compact(markup: str) -> str:
    """An HTML fragment without blank lines, so that it stays one paragraph of the message."""
    return "\n".join(line for line in markup.splitlines() if line.strip())


def split_subject(text: str) -> tuple[str, str]:
    head, _, body = text.partition("\n\n")
    return " ".join(head.split()), body.strip("\n") + "\n"


def paragraphs_html(paragraph: str) -> str:
    """One paragraph of words, escaped, as an HTML paragraph (a line break for each single newline)."""
    return "<p>" + "<br>\n".join(html.escape(paragraph, quote=False).splitlines()) + "</p>"


def paragraphs(body: str) -> str:
    """Escaped text → HTML paragraphs, a line break for each single newline."""
    return "\n".join("<p>" + "<br>\n".join(block.splitlines()) + "</p>" for block in body.strip().split("\n\n"))


TABLE_MARK = "\u2063invoice-table\u2063"
"""Stands for the invoice table while the text is escaped (U+2063, invisible, is never in a template)."""
_FRENCH_SPACE = re.compile(r"(?<=[^\s>]) ([:;!?»])")


def typography(text: str, language: str) -> str:
    """French puts a no-break space before two-part punctuation, so `:` never starts a line."""
    if language != "fr":
        return text
    text = _FRENCH_SPACE.sub("\u00a0\\1", text)
    return text.replace("« ", "«\u00a0")


def html_title(page: str) -> str:
    found = re.search(r"<title>(.*?)</title>", page, re.S)
    return " ".join(html.unescape(found.group(1)).split()) if found else ""


class _TextExtractor(HTMLParser):
    _BLOCKS = frozenset({"p", "div", "tr", "table", "address", "header", "footer", "main", "br", "h1", "h2", "li"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script", "head"):
            self._skip += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "head"):
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_text(page: str) -> str:
    """The words of an HTML page, one block a line (what the lint reads of a letter)."""
    extractor = _TextExtractor()
    extractor.feed(page)
    lines = (" ".join(line.split()) for line in "".join(extractor.parts).splitlines())
    return "\n".join(line for line in lines if line) + "\n"
