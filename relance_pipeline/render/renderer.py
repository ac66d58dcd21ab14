"""The rendering entry point: an action of the plan → its documents, linted.

    renderer = Renderer(root, books)          # once: templates, stylesheet and fonts are loaded here
    rendering = renderer.render(action, as_of)  # per action
    if rendering.ok: write rendering.documents under outbox/<as-of>/<client>/

Files per channel (DESIGN.md): `<step>.letter.txt` and `<step>.email.txt` (the words a reviewer reads, see
words.py; a letter also gets `<step>.preview.pdf`), `<step>.sms.txt`, `<step>.call.md`. The email and the
letter themselves are made by `send` on its own day (finalize.py). A template error or a lint error gives
problems and no documents for that action; warnings (an SMS longer than one segment) come with them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from relance_pipeline.books.cache import code_signature
from relance_pipeline.model import (
    DOCUMENT_ORDER,
    PREVIEW_SUFFIX,
    SENT_SUFFIXES,
    STATEMENT_SUFFIX,
    SUFFIXES,
    Action,
    Books,
    Channel,
    Problem,
)
from relance_pipeline.render import enclosures, letter_files, lint, mail
from relance_pipeline.render.drafts import Draft, Drafter
from relance_pipeline.render.environment import TemplateFailure
from relance_pipeline.render.lines import listing
from relance_pipeline.render.words import Words

if TYPE_CHECKING:
    from relance_pipeline.render.letter import LetterPrinter


@dataclass(frozen=True)
class RenderedDocument:
    channel: Channel
    filename: str
    """`<step>.letter.txt`, `<step>.email.txt` (the words), `<step>.sms.txt` or `<step>.call.md`."""
    content: bytes
    preview_sha256: str | None = None
    """A letter's words: the sha256 of the preview printed from them, and what it was printed from (`letter_key`)."""
    preview_key: str | None = None


@dataclass(frozen=True)
class Rendering:
    action: Action
    documents: tuple[RenderedDocument, ...]
    problems: tuple[Problem, ...]
    previews: tuple[tuple[str, bytes], ...] = ()
    """`<step>.preview.pdf`: each letter as it would go out on the drafting day, to look at (not journaled)."""

    @property
    def ok(self) -> bool:
        return not any(problem.severity == "error" for problem in self.problems)


PRINTER_LIBRARIES = (
    "weasyprint", "pydyf", "fonttools", "pillow", "tinycss2", "cssselect2", "tinyhtml5", "pyphen", "segno"
)  # fmt: skip
"""What turns a letter's HTML into PDF bytes besides relance's own code (segno: the QR code's image is made
by the printer, from its `relance-qr:` URL): a new version of any prints anew."""
FINALIZED: frozenset[Channel] = frozenset({"email", "letter"})
"""The channels whose words are reviewed and whose document is made on the day `send` runs."""


class Renderer:
    """Renders actions; create it once per run and call `render` per action."""

    def __init__(self, root: Path, books: Books) -> None:
        self.root = root
        self.books = books
        self.drafter = Drafter(root, books)
        self._printer: LetterPrinter | None = None
        self._letter_files: letter_files.LetterFiles | None = None
        self._locators: dict[str, lint.Locator] = {}

    def drafts(self, action: Action, as_of: date) -> tuple[list[Draft], list[Problem]]:
        """The wording of each channel of the action, and the lint's findings; no PDF is made."""
        drafted, problems = self._drafts(action, as_of)
        return [draft for draft, _ in drafted], problems

    def _drafts(self, action: Action, as_of: date) -> tuple[list[tuple[Draft, Words | None]], list[Problem]]:
        drafted: list[tuple[Draft, Words | None]] = []
        problems: list[Problem] = []
        for channel in sorted(action.step.channels, key=DOCUMENT_ORDER.index):
            try:
                if channel in FINALIZED:
                    reviewable = self.drafter.reviewable(action, channel, as_of)
                    draft = self.drafter.final(action, channel, as_of, reviewable)
                else:
                    reviewable, draft = None, self.drafter.draft(action, channel, as_of)
            except TemplateFailure as failure:
                problems.append(failure.problem)
                continue
            drafted.append((draft, reviewable))
            problems += self.lint_document(draft, action, channel)
        return drafted, problems

    def lint_document(self, draft: Draft, action: Action, channel: Channel, where: str | None = None) -> list[Problem]:
        """The legal lint of one document; `where` names a words file the findings are in instead of the
        template (reviewed words at `validate` and `send`)."""
        locate = self._locator(draft.template) if where is None else (lambda _: (where, None))
        path = self.drafter.environments.display(draft.template) if where is None else where
        return lint.lint(draft, lint.Facts.of(action, channel), path, locate)

    def render(self, action: Action, as_of: date) -> Rendering:
        drafted, problems = self._drafts(action, as_of)
        if any(problem.severity == "error" for problem in problems):
            return Rendering(action, (), tuple(problems))
        documents: list[RenderedDocument] = []
        previews: list[tuple[str, bytes]] = []
        for draft, reviewable in drafted:
            filename = f"{action.step.id}{SUFFIXES[draft.channel]}"
            if reviewable is not None:
                words = reviewable.text().encode("utf-8")
                if draft.channel == "letter":
                    pdf, refused = self.print_letter(draft)
                    problems += refused
                    previews.append((f"{action.step.id}{PREVIEW_SUFFIX}", pdf))
                    sha256 = hashlib.sha256(pdf).hexdigest()
                    documents.append(
                        RenderedDocument("letter", filename, words, sha256, self.letter_key(draft, action))
                    )
                else:
                    documents.append(RenderedDocument(draft.channel, filename, words))
            else:
                # One line, newline-terminated like any text file; the message is the line.
                text = draft.text if draft.text.endswith("\n") else draft.text + "\n"
                documents.append(RenderedDocument(draft.channel, filename, text.encode("utf-8")))
        if any(problem.severity == "error" for problem in problems):
            return Rendering(action, (), tuple(problems))
        return Rendering(action, tuple(documents), tuple(problems), tuple(previews))

    def finalized(self, action: Action, as_of: date, channels: tuple[Channel, ...] | None = None) -> Rendering:
        """The email (`<step>.eml`) and letter (`<step>.pdf`, and `<step>.statement.pdf` past LISTED_LIMIT
        invoices) as `send` makes them on `as_of` from words left as drafted; the other channels as drafted."""
        drafted, problems = self._drafts(action, as_of)
        documents: list[RenderedDocument] = []
        letter: bytes | None = None
        for draft, _ in drafted:
            if draft.channel == "letter":
                letter, refused = self.print_letter(draft)
                problems += refused
                documents.append(RenderedDocument("letter", f"{action.step.id}{SENT_SUFFIXES['letter']}", letter))
                listed = enclosures.beyond_the_cap(action, as_of)
                if listed is not None:
                    statement = enclosures.pdf(self.books, action, as_of, listed)
                    documents.append(RenderedDocument("letter", f"{action.step.id}{STATEMENT_SUFFIX}", statement))
            elif draft.channel == "email":
                email, found = self.email_document(draft, action, as_of, letter)
                problems += found
                if email is not None:
                    documents.append(
                        RenderedDocument("email", f"{action.step.id}{SENT_SUFFIXES['email']}", email.content)
                    )
        if any(problem.severity == "error" for problem in problems):
            return Rendering(action, (), tuple(problems))
        return Rendering(action, tuple(documents), tuple(problems))

    def email_document(
        self, draft: Draft, action: Action, as_of: date, letter: bytes | None
    ) -> tuple[mail.Email | None, list[Problem]]:
        """The .eml of a finalized email: the letter's PDF (when it goes too), past LISTED_LIMIT invoices the
        statement of account as CSV, and the copies of the invoices it lists attached."""
        attachments: list[mail.Attachment] = []
        problems: list[Problem] = []
        if letter is not None:
            attachments.append(mail.Attachment(f"{action.step.id}-{as_of.isoformat()}.pdf", letter))
        shown = listing(action, as_of)
        if shown.omitted:
            attachments.append(enclosures.csv_attachment(self.books, action, as_of, shown))
        # The copies of the invoices the email lists (all of them up to LISTED_LIMIT): never thousands of PDFs.
        listed = {item.number for item in shown.lines}
        for amounts in action.invoices:
            invoice = amounts.invoice
            if invoice.document is None or invoice.number not in listed:
                continue
            file = (self.root / invoice.document).resolve()
            if not file.is_relative_to(self.root.resolve()) or not file.is_file():
                problems.append(
                    Problem(
                        invoice.source,
                        None,
                        f"document: no file '{invoice.document}' to attach",
                        code="document.missing",
                    )
                )
                continue
            attachments.append(mail.Attachment(file.name, file.read_bytes()))
        try:
            return mail.build(draft, action.client, self.books.settings, as_of, attachments), problems
        except mail.AddressError as error:
            return None, [*problems, Problem(action.client.source, None, f"email: {error}", code="email.address")]

    def print_letter(self, draft: Draft) -> tuple[bytes, list[Problem]]:
        printer = self.printer()
        pdf = printer.pdf(draft.html or "", draft.template)
        path = self.drafter.environments.display(draft.template)
        problems = [
            Problem(
                path,
                None,
                letter_files.refusal(url),
                code="template.url",
            )
            for url in printer.take_refused()
        ]
        return pdf, problems

    def letter_key(self, draft: Draft, action: Action) -> str:
        """What a letter's PDF is printed from, as one digest: its HTML, the template files and its invoices'
        documents (letter_files.inputs_digest), relance's code and the printing libraries' versions. The printer
        is deterministic, so the same key gives the same bytes: `send` then takes the night's preview as the
        letter."""
        documents = [
            (a.invoice.document, self.root / a.invoice.document) for a in action.invoices if a.invoice.document
        ]
        inputs = letter_files.inputs_digest(draft.html or "", draft.template, self.fetchable(), documents)
        return hashlib.blake2b(_printer_signature() + inputs, digest_size=32).hexdigest()

    def fetchable(self) -> letter_files.LetterFiles:
        """All a letter may use: the template files (the user's copy first) and the invoices' documents."""
        if self._letter_files is None:
            self._letter_files = letter_files.LetterFiles(self.drafter.environments.folders, self._documents())
        return self._letter_files

    def printer(self) -> LetterPrinter:
        """WeasyPrint is loaded on the first letter only: `validate` and emails-only runs never pay for it."""
        if self._printer is None:
            from relance_pipeline.render.letter import LetterPrinter

            self._printer = LetterPrinter(self.fetchable())
        return self._printer

    def _documents(self) -> list[Path]:
        return [self.root / invoice.document for invoice in self.books.invoices if invoice.document]

    def _locator(self, template: str) -> lint.Locator:
        if template not in self._locators:
            self._locators[template] = lint.locator_for(self.drafter.environments.folders, self.root, template)
        return self._locators[template]


@cache
def _printer_signature() -> bytes:
    versions = []
    for name in PRINTER_LIBRARIES:
        try:
            versions.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name}=none")
    return code_signature() + ";".join(versions).encode("utf-8")
