"""The rendering entry point: an action of the plan → its documents, linted.

    renderer = Renderer(root, books)          # once: templates, stylesheet and fonts are loaded here
    rendering = renderer.render(action, as_of)  # per action
    if rendering.ok: write rendering.documents under outbox/<as-of>/<client>/

Files per channel (DESIGN.md): `<step>.pdf` (letter), `<step>.eml` (email, with the letter PDF and the invoice
copies attached), `<step>.sms.txt`, `<step>.call.md`. A template error or a lint error gives problems and
no documents for that action; warnings (an SMS longer than one segment) come with the documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from relance_pipeline.model import DOCUMENT_ORDER, SUFFIXES, Action, Books, Channel, Problem
from relance_pipeline.render import letter_files, lint, mail
from relance_pipeline.render.drafts import Draft, Drafter
from relance_pipeline.render.environment import TemplateFailure

if TYPE_CHECKING:
    from relance_pipeline.render.letter import LetterPrinter


@dataclass(frozen=True)
class RenderedDocument:
    channel: Channel
    filename: str
    """`<step>.pdf`, `<step>.eml`, `<step>.sms.txt` or `<step>.call.md`; the writer puts it in the outbox."""
    content: bytes
    message_id: str | None = None
    """The email's Message-ID header, for the journal."""


@dataclass(frozen=True)
class Rendering:
    action: Action
    documents: tuple[RenderedDocument, ...]
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not any(problem.severity == "error" for problem in self.problems)


class Renderer:
    """Renders actions; create it once per run and call `render` per action."""

    def __init__(self, root: Path, books: Books) -> None:
        self.root = root
        self.books = books
        self.drafter = Drafter(root, books)
        self._printer: LetterPrinter | None = None
        self._locators: dict[str, lint.Locator] = {}

    def drafts(self, action: Action, as_of: date) -> tuple[list[Draft], list[Problem]]:
        """The wording of each channel of the action, and the lint's findings; no PDF is made."""
        drafts: list[Draft] = []
        problems: list[Problem] = []
        for channel in sorted(action.step.channels, key=DOCUMENT_ORDER.index):
            try:
                draft = self.drafter.draft(action, channel, as_of)
            except TemplateFailure as failure:
                problems.append(failure.problem)
                continue
            drafts.append(draft)
            problems += lint.lint(
                draft,
                lint.Facts.of(action, channel),
                self.drafter.environments.display(draft.template),
                self._locator(draft.template),
            )
        return drafts, problems

    def render(self, action: Action, as_of: date) -> Rendering:
        drafts, problems = self.drafts(action, as_of)
        if any(problem.severity == "error" for problem in problems):
            return Rendering(action, (), tuple(problems))
        documents: list[RenderedDocument] = []
        letter: bytes | None = None
        for draft in drafts:
            filename = f"{action.step.id}{SUFFIXES[draft.channel]}"
            if draft.channel == "letter":
                letter, refused = self._print(draft)
                problems += refused
                documents.append(RenderedDocument("letter", filename, letter))
            elif draft.channel == "email":
                email, found = self._email(draft, action, as_of, letter)
                problems += found
                if email is not None:
                    documents.append(RenderedDocument("email", filename, email.content, email.message_id))
            else:
                # One line, newline-terminated like any text file; the message is the line.
                text = draft.text if draft.text.endswith("\n") else draft.text + "\n"
                documents.append(RenderedDocument(draft.channel, filename, text.encode("utf-8")))
        if any(problem.severity == "error" for problem in problems):
            return Rendering(action, (), tuple(problems))
        return Rendering(action, tuple(documents), tuple(problems))

    def _print(self, draft: Draft) -> tuple[bytes, list[Problem]]:
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

    def printer(self) -> LetterPrinter:
        """WeasyPrint is loaded on the first letter only: `validate` and emails-only runs never pay for it."""
        if self._printer is None:
            from relance_pipeline.render.letter import LetterPrinter

            self._printer = LetterPrinter(self.drafter.environments.folders, self._documents())
        return self._printer

    def _documents(self) -> list[Path]:
        return [self.root / invoice.document for invoice in self.books.invoices if invoice.document]

    def _email(
        self, draft: Draft, action: Action, as_of: date, letter: bytes | None
    ) -> tuple[mail.Email | None, list[Problem]]:
        attachments: list[mail.Attachment] = []
        problems: list[Problem] = []
        if letter is not None:
            attachments.append(mail.Attachment(f"{action.step.id}-{as_of.isoformat()}.pdf", letter))
        for amounts in action.invoices:
            invoice = amounts.invoice
            if invoice.document is None:
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

    def _locator(self, template: str) -> lint.Locator:
        if template not in self._locators:
            self._locators[template] = lint.locator_for(self.drafter.environments.folders, self.root, template)
        return self._locators[template]
