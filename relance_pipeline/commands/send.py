"""`relance send`: every approved email draft goes out once; letters and call sheets are listed for the user.

Approved means committed on the branch the drafts were merged into: a draft that is untracked, differs from
the commit at HEAD, or sits on a drafting branch or a detached HEAD is refused with one line each, and
waits. The journal says what is still to do (`pending`):
- a draft whose file is gone was removed in review: it is recorded `withdrawn` and never sent, and so is a
  draft whose invoices were all paid (or put on hold) since it was drafted;
- a draft whose file changed since it was drafted is sent as the reviewer left it, with the new sha256;
- each message accepted by the server gets its `sent` line (with its Message-ID) appended and flushed to
  disk before the next message is tried, so a crash mid-batch loses no record; a message the server refuses
  gets a `failed` line and is tried again by the next `send`, unless the refusal is permanent (5xx): that
  line says so and no `send` tries it again until a person asks (`relance record failed`) or withdraws it;
  when the connection breaks before a message is handed over, the batch stops and the rest waits for the
  next `send`; when no connection opened at all, no message was tried and none gets a line;
- a message handed over without an answer (a timeout, the connection lost after its data) gets an `unknown`
  line: the server may have accepted it, so no `send` tries it again until a person settles it
  (`relance record sent` or `relance record failed`); the next message gets a new connection.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Literal

from relance_pipeline import clock
from relance_pipeline.books import journal
from relance_pipeline.books.read import read_books
from relance_pipeline.core.history import History, history
from relance_pipeline.core.pending import OpenDraft, pending
from relance_pipeline.core.plan import is_held
from relance_pipeline.core.refresh import action_on
from relance_pipeline.model import (
    SENT_SUFFIXES,
    STATEMENT_STEP,
    Action,
    Books,
    Channel,
    Client,
    Invoice,
    JournalEntry,
    Problem,
    letter_preview,
    made_by_send,
    sent_document,
    sent_statement,
)
from relance_pipeline.outbox import journal as journal_writer
from relance_pipeline.outbox import write as outbox_writer
from relance_pipeline.outbox.lock import COMMAND_WAIT_SECONDS, LockBusy, repository_lock
from relance_pipeline.outbox.sending import SendingList
from relance_pipeline.render.drafts import Draft
from relance_pipeline.render.environment import TemplateFailure
from relance_pipeline.render.finalize import NotSent, approved_words
from relance_pipeline.ship import print_batch
from relance_pipeline.ship.git import approval
from relance_pipeline.ship.journal_history import removed_lines
from relance_pipeline.ship.outgoing import Outgoing, prepare
from relance_pipeline.ship.smtp import Accepted, Broken, Mailer, Refused, SmtpConfig, Unknown, smtp_config

MailerFactory = Callable[[SmtpConfig], Mailer]
SendEvent = Literal["sent", "failed", "unknown"]


@dataclass
class SendReport:
    """What `send` did (or, in a dry run, would do)."""

    dry_run: bool = False
    sent: list[JournalEntry] = field(default_factory=list)
    failed: list[JournalEntry] = field(default_factory=list)
    unknown: list[JournalEntry] = field(default_factory=list)
    """Handed over without an answer in this send: never sent again without a person."""
    waiting: list[OpenDraft] = field(default_factory=list)
    """Emails of earlier sends whose outcome is unknown, or refused for good, still to be settled by a person."""
    withdrawn: list[JournalEntry] = field(default_factory=list)
    to_send: list[OpenDraft] = field(default_factory=list)
    """Dry run: the emails that would be sent. Otherwise: those left for the next run (batch stopped)."""
    to_post: list[OpenDraft] = field(default_factory=list)
    to_call: list[OpenDraft] = field(default_factory=list)
    to_text: list[OpenDraft] = field(default_factory=list)
    print_batch: str | None = None
    problems: list[Problem] = field(default_factory=list)
    stopped: str | None = None

    @property
    def exit_code(self) -> int:
        errors = [p for p in self.problems if p.severity == "error"]
        # An email waiting on a person (unknown, or refused for good) keeps every send red until it is settled.
        return 1 if self.failed or self.unknown or self.waiting or errors or self.stopped else 0


def send(
    root: Path,
    environ: Mapping[str, str],
    *,
    dry_run: bool = False,
    today: date | None = None,
    now: datetime | None = None,
    mailer: MailerFactory = Mailer,
) -> SendReport:
    """Send the approved email drafts of the repository at `root`; see the module's docstring.

    `environ` holds the RELANCE_SMTP_* settings; `today` (the date of the journal lines and of the print
    batch) and `now` (the Date of a message that has none) default to the clock in relance.yaml's timezone.
    """
    report = SendReport(dry_run=dry_run)
    try:
        with repository_lock(root, wait_seconds=COMMAND_WAIT_SECONDS):
            _send(root, today, now, environ, mailer, report)
    except LockBusy as busy:
        report.problems.append(Problem(str(root), None, str(busy), code="lock.busy"))
    return report


def _send(
    root: Path,
    today: date | None,
    now: datetime | None,
    environ: Mapping[str, str],
    mailer: MailerFactory,
    report: SendReport,
) -> None:
    loaded = read_books(root)
    if journal_writer.repair_tail(root) is not None:
        cut = "its unfinished last line, left by an interrupted run, was cut"
        report.problems.append(Problem(journal.JOURNAL_FILE, None, cut, severity="warning", code="journal.cut"))
    entries, broken_lines = journal.read_journal(root)
    if loaded.books is None or broken_lines:
        report.problems += loaded.errors + broken_lines
        return
    lost = removed_lines(root)  # a journal that forgot a send would send it again
    if lost:
        report.problems += lost
        return
    books = loaded.books
    clock_now = clock.now_in(books.settings.timezone)
    # A send replayed as of another day (--as-of) dates its messages that day, at the time of sending.
    now = now or (clock_now if today is None else datetime.combine(today, clock_now.timetz()))
    today = today or clock_now.date()
    sending = SendingList(root)
    interrupted = _interrupted(root, sending, entries, today)
    if interrupted and not report.dry_run:
        journal_writer.append(root, interrupted)
        sending.clear()
    report.unknown += interrupted
    entries = entries + interrupted
    drafts = pending(entries)
    approved = approval(root, [draft.file for draft in drafts])
    if isinstance(approved, Problem):
        if not report.dry_run:  # a dry run shows what a send from here would do, refusing nothing
            report.problems.append(approved)
            return
        approved = {}
    report.problems += [
        Problem(file, None, reason, code="send.not_approved") for file, reason in sorted(approved.items())
    ]
    by_number = {invoice.number: invoice for invoice in books.invoices}
    open_drafts, withdrawn = _sort_out(root, books, by_number, [d for d in drafts if d.file not in approved], today)
    open_drafts, later = _one_set_per_client(root, open_drafts)
    report.problems += later
    finalizer = _Finalizer(root, books, by_number, entries, withdrawn, today, write=not report.dry_run)
    letters = [d for d in open_drafts if d.entry.channel == "letter"]
    for draft in letters:
        finalizer.letter(draft)
    emails = [d for d in open_drafts if d.entry.channel == "email" and d.unknown is None and d.refused is None]
    report.waiting = [d for d in open_drafts if d.entry.channel == "email" and (d.unknown or d.refused)]
    report.to_post = [d for d in letters if d.file not in finalizer.refused]
    report.to_call = [d for d in open_drafts if d.entry.channel == "phone"]
    report.to_text = [d for d in open_drafts if d.entry.channel == "sms"]
    ready: list[tuple[OpenDraft, Outgoing]] = []
    for draft in emails:
        made = finalizer.email(draft)
        if made is None:
            continue
        client = books.clients.get(draft.entry.client)
        outgoing = prepare(made.file, made.content, client, books.settings.creditor.email, now)
        if isinstance(outgoing, Problem):
            report.problems.append(outgoing)
        else:
            # Written as it goes out (its Date the time of sending): the journal's sha256 is of these bytes.
            if not report.dry_run:
                outbox_writer.write_if_changed(root, made.file, outgoing.data)
            ready.append((draft, outgoing))
            finalizer.made[draft.file] = made
    report.problems += finalizer.problems
    withdrawn = withdrawn + finalizer.withdrawn
    if report.dry_run:
        report.withdrawn = withdrawn
        report.to_send = [draft for draft, _ in ready]
        return
    journal_writer.append(root, withdrawn)
    report.withdrawn = withdrawn
    if ready:
        config = smtp_config(environ)
        if isinstance(config, list):
            report.problems += config
            report.to_send = [draft for draft, _ in ready]
        else:
            _deliver_all(root, today, mailer(config), ready, report, finalizer.made, sending)
    report.print_batch = _write_print_batch(root, today, report)


def _sort_out(
    root: Path, books: Books, invoices: Mapping[str, Invoice], drafts: list[OpenDraft], today: date
) -> tuple[list[OpenDraft], list[JournalEntry]]:
    """The approved drafts still to act on, and a `withdrawn` line for each of the others. A statement is
    about invoices paid by definition: what it claims stays owed after their payment. `invoices`: the books' by
    number."""
    client_of = books.clients.get
    keep: list[OpenDraft] = []
    withdrawn: list[JournalEntry] = []
    for draft in drafts:
        listed = [invoices[n] for n in draft.entry.invoices if n in invoices]
        if not (root / draft.file).is_file():
            reason = "removed in review"
        elif draft.entry.step != STATEMENT_STEP and listed and all(i.outstanding(today) <= 0 for i in listed):
            reason = "paid since it was drafted"
        elif listed and all(_held(client_of(i.client), i, today) for i in listed):
            reason = "put on hold since it was drafted"
        elif _stale(root, books, draft, today):
            age, limit = (today - draft.entry.date).days, books.settings.stale_after_days
            reason = f"stale: drafted {age} days ago, more than stale_after_days ({limit}); to be drafted again"
        else:
            keep.append(draft)
            continue
        withdrawn.append(replace(draft.entry, date=today, event="withdrawn", note=reason))
    return keep, withdrawn


def _one_set_per_client(root: Path, drafts: list[OpenDraft]) -> tuple[list[OpenDraft], list[Problem]]:
    """Never two documents for one client in one send: of the document sets (a step's email and letter) still
    to be made for a client, the oldest goes; the others wait for the next send, with a warning."""
    chosen: dict[str, tuple[PurePosixPath, str]] = {}
    keep: list[OpenDraft] = []
    waiting: list[Problem] = []
    for draft in drafts:  # sorted by file: the drafting day first
        entry = draft.entry
        made = sent_document(draft.file, entry.channel)
        to_make = made is not None and draft.unknown is None and draft.refused is None and not (root / made).is_file()
        key = (PurePosixPath(draft.file).parent, entry.step)
        if not to_make or chosen.setdefault(entry.client, key) == key:
            keep.append(draft)
            continue
        folder, step = chosen[entry.client]
        first = f"{folder}/{step}"
        message = f"waits for the next send: {entry.client} already gets {first} in this one"
        waiting.append(Problem(draft.file, None, message, severity="warning", code="send.one_per_client"))
    return keep, waiting


def _stale(root: Path, books: Books, draft: OpenDraft, today: date) -> bool:
    """An email or letter still to be made, approved too long after it was drafted: its words may no longer fit
    (a step's timing, what the client was told since). One already made (a letter waiting to be posted) or
    handed to a server (unknown, refused) is not stale: it is the client's, or a person's to settle."""
    if (today - draft.entry.date).days <= books.settings.stale_after_days:
        return False
    if draft.unknown is not None or draft.refused is not None or draft.entry.channel not in SENT_SUFFIXES:
        return False
    made = sent_document(draft.file, draft.entry.channel)
    return made is None or not (root / made).is_file()


def _held(client: Client | None, invoice: Invoice, today: date) -> bool:
    """Its own hold, its client's (the reviewer may pause the whole client), or a payment plan kept."""
    if client is None:
        return invoice.hold is not None and invoice.hold.active_on(today)
    return is_held(client, invoice, today)


def _read_draft(root: Path, file: str) -> bytes | Problem:
    """The bytes of a draft inside the repository (a link out of it is not followed)."""
    path = root / file
    if not path.resolve().is_relative_to(root.resolve()):
        return Problem(file, None, "leads outside the repository (a link); not sent", code="send.link_outside")
    try:
        return path.read_bytes()
    except OSError as error:  # gone since it was listed (a checkout under way): it waits for the next send
        return Problem(file, None, f"cannot be read ({error.strerror or error}); not sent", code="send.unreadable")


def _deliver_all(
    root: Path,
    today: date,
    mailer: Mailer,
    ready: list[tuple[OpenDraft, Outgoing]],
    report: SendReport,
    made: dict[str, _Made],
    sending: SendingList,
) -> None:
    try:
        for position, (draft, outgoing) in enumerate(ready):
            # Noted before its last byte goes: a send killed before its line below is journaled `unknown` next.
            handing = functools.partial(sending.note, draft.file, outgoing.message_id)
            outcome = mailer.deliver(outgoing.sender, outgoing.recipients, outgoing.data, handing=handing)
            if isinstance(outcome, Broken) and not outcome.attempted:
                # No session opened: this message was never tried, and failing it would count an outage
                # against whichever email came first, night after night.
                report.stopped = outcome.reason
                report.to_send = [d for d, _ in ready[position:]]
                break
            document = made[draft.file]
            sha = document.words_sha256
            notes = ["edited in review"] if sha != draft.entry.sha256 else []
            sent = (document.file, journal_writer.sha256(outgoing.data))
            if isinstance(outcome, Accepted):
                notes += [f"refused by the server: {who}" for who in outcome.refused]
                line = _line(draft, today, sha, "sent", notes, outgoing.message_id, sent)
                report.sent.append(line)
            elif isinstance(outcome, Unknown):
                line = _line(draft, today, sha, "unknown", [*notes, outcome.reason], outgoing.message_id, sent)
                report.unknown.append(line)
            else:
                line = _line(draft, today, sha, "failed", [*notes, outcome.reason], None, sent)
                line = replace(line, permanent=isinstance(outcome, Refused) and outcome.permanent)
                report.failed.append(line)
            # Recorded before the next message is tried: a crash from here on cannot send this one again.
            journal_writer.append(root, [line])
            if isinstance(outcome, Broken):
                report.stopped = outcome.reason
                report.to_send = [d for d, _ in ready[position + 1 :]]
                break
        sending.clear()  # every message it names has its line
    finally:
        mailer.close()


INTERRUPTED = (
    "a send was stopped after handing this message to the server, before recording the answer: it may have "
    "arrived; check, then relance record sent or failed"
)


def _interrupted(root: Path, sending: SendingList, entries: list[JournalEntry], today: date) -> list[JournalEntry]:
    """An `unknown` line for each message an interrupted send handed over without journaling the outcome."""
    handed = sending.unrecorded()
    if not handed:
        return []
    open_drafts = {draft.file: draft for draft in pending(entries)}
    lines: list[JournalEntry] = []
    for message in handed:
        draft = open_drafts.get(message.file)
        if draft is None or draft.entry.channel != "email":
            continue
        words, eml = root / message.file, sent_document(message.file, "email")
        sha = journal_writer.sha256(words.read_bytes()) if words.is_file() else draft.entry.sha256
        made = (eml, journal_writer.sha256((root / eml).read_bytes())) if eml and (root / eml).is_file() else None
        lines.append(_line(draft, today, sha, "unknown", [INTERRUPTED], message.message_id, made))
    return lines


def _line(
    draft: OpenDraft,
    today: date,
    sha: str,
    event: SendEvent,
    notes: list[str],
    message_id: str | None,
    document: tuple[str, str] | None,
) -> JournalEntry:
    """`document`: the email as it went out, (file, sha256), when there is one."""
    note = "; ".join(notes) or None
    file, document_sha = document if document is not None else (None, None)
    return replace(
        draft.entry,
        date=today,
        sha256=sha,
        event=event,
        message_id=message_id,
        note=note,
        document=file,
        document_sha256=document_sha,
    )


def _write_print_batch(root: Path, today: date, report: SendReport) -> str | None:
    """One PDF of every letter not yet posted, rewritten only when its content changes."""
    # Each letter, then the statement of account that goes with it, if it has one.
    finals = [made for d in report.to_post for made in made_by_send(d.file, "letter")]
    read = [(file, _read_draft(root, file)) for file in finals if (root / file).is_file()]
    letters = [(file, content) for file, content in read if isinstance(content, bytes)]
    if not letters:
        return None
    content, problems = print_batch.merge(letters)
    report.problems += [p._replace(severity="warning") for p in problems]
    if content is None:
        return None
    rel = print_batch.batch_path(today)
    outbox_writer.write_if_changed(root, rel, content)
    return rel


@dataclass(frozen=True)
class _Made:
    """An email or letter made on the day of sending from its approved words."""

    file: str
    content: bytes
    words_sha256: str
    """Of the words as approved: what the reviewer merged."""


class _Finalizer:
    """Makes each approved letter and email of a send from its reviewed words, as of the day of sending.

    A letter is made once, on the first send after its approval: `<step>.pdf` beside its words, which the
    print batch and the email's attachment then use until it is posted. A draft that cannot be made is a
    problem (it waits) or a withdrawal (it is drafted again), as finalize.py decides.
    """

    def __init__(
        self,
        root: Path,
        books: Books,
        invoices: Mapping[str, Invoice],
        entries: list[JournalEntry],
        withdrawn: list[JournalEntry],
        today: date,
        *,
        write: bool,
    ) -> None:
        from relance_pipeline.render.renderer import Renderer  # Jinja and WeasyPrint only for sends with drafts

        self.root, self.books, self.entries, self.today, self.write = root, books, entries, today, write
        self.invoices = invoices
        self.renderer = Renderer(root, books)
        self.gone = {(PurePosixPath(e.file).parent, e.step, e.channel) for e in [*entries, *withdrawn]
                     if e.event == "withdrawn"}  # fmt: skip
        self.problems: list[Problem] = []
        self.withdrawn: list[JournalEntry] = []
        self.refused: set[str] = set()
        self.made: dict[str, _Made] = {}
        self.letters: dict[tuple[PurePosixPath, str], bytes | None] = {}
        self.actions: dict[tuple[object, ...], Action] = {}
        self.past: History | None = None

    def channels(self, draft: OpenDraft, action: Action) -> tuple[Channel, ...]:
        folder = PurePosixPath(draft.file).parent
        return tuple(c for c in action.step.channels if (folder, draft.entry.step, c) not in self.gone)

    def letter(self, draft: OpenDraft) -> None:
        key = (PurePosixPath(draft.file).parent, draft.entry.step)
        final = sent_document(draft.file, "letter")
        if final and (self.root / final).is_file():
            self.letters[key] = (self.root / final).read_bytes()
            return
        made = self._make(draft)
        if made is None or not self.write:
            self.letters[key] = None if made is None else b""  # a dry run makes no PDF
            return
        document, action = made
        pdf = self._preview(draft.entry, document, action)
        if pdf is None:
            pdf, refused = self.renderer.print_letter(document)
            self.problems += refused
            if refused:
                self.refused.add(draft.file)
                self.letters[key] = None
                return
        assert final is not None
        self._statement(draft, action)  # before the letter: a letter on disk is one whose set is complete
        outbox_writer.write_if_changed(self.root, final, pdf)
        self.letters[key] = pdf

    def _statement(self, draft: OpenDraft, action: Action) -> None:
        """`<step>.statement.pdf`, every invoice of a letter that lists only the largest, as of today."""
        from relance_pipeline.render import enclosures

        listed = enclosures.beyond_the_cap(action, self.today)
        statement = sent_statement(draft.file, "letter")
        if listed is not None and statement is not None:
            content = enclosures.pdf(self.books, action, self.today, listed)
            outbox_writer.write_if_changed(self.root, statement, content)

    def _preview(self, drafted: JournalEntry, document: Draft, action: Action) -> bytes | None:
        """The drafting night's preview, when the letter of today is printed from the same HTML and files with
        the same code (its key in the drafting line) and the preview is the file that night wrote: the same
        bytes the printer would make again, for none of its time."""
        if drafted.preview_key is None or drafted.preview_key != self.renderer.letter_key(document, action):
            return None
        preview = self.root / letter_preview(drafted.file)
        try:
            content = preview.read_bytes()
        except OSError:
            return None
        return content if journal_writer.sha256(content) == drafted.preview_sha256 else None

    def email(self, draft: OpenDraft) -> _Made | None:
        made = self._make(draft)
        if made is None:
            return None
        document, action = made
        key = (PurePosixPath(draft.file).parent, draft.entry.step)
        letter: bytes | None = None
        if "letter" in self.channels(draft, action):
            letter = self.letters.get(key)
            if letter is None and key in self.letters:  # its letter could not be made: the email waits with it
                self.problems.append(
                    Problem(draft.file, None, "waits for its letter, which cannot go out yet", code="send.letter_waits")
                )
                return None
        email, problems = self.renderer.email_document(document, action, self.today, letter)
        self.problems += problems
        if email is None or problems:
            return None
        final = sent_document(draft.file, "email")
        assert final is not None
        words_sha = journal_writer.sha256((self.root / draft.file).read_bytes())
        return _Made(final, email.content, words_sha)

    def _make(self, draft: OpenDraft) -> tuple[Draft, Action] | None:
        """The document of `draft` as of today, linted; None when it cannot go (a problem or a withdrawal)."""
        raw = _read_draft(self.root, draft.file)
        if isinstance(raw, Problem):
            self.problems.append(raw)
            return None
        try:
            reviewed = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.problems.append(Problem(draft.file, None, "is not UTF-8 text; not sent", code="send.not_text"))
            return None
        now, then = self._action_on(draft.entry, self.today), self._action_on(draft.entry, draft.entry.date)
        if isinstance(now, Problem) or isinstance(then, Problem):
            self.problems.append(now if isinstance(now, Problem) else then)  # type: ignore[arg-type]
            return None
        channels = self.channels(draft, now)
        channel = draft.entry.channel
        try:
            approved = approved_words(self.renderer.drafter, draft.entry, reviewed, then, now, channels, self.today)
            if isinstance(approved, NotSent):
                self._refuse(draft, approved)
                return None
            document = self.renderer.drafter.final(now, channel, self.today, approved, channels)
        except TemplateFailure as failure:
            self.problems.append(failure.problem)
            return None
        errors = [p for p in self.renderer.lint_document(document, now, channel, draft.file) if p.severity == "error"]
        if errors:
            self.problems += [p._replace(message=f"{p.message}; not sent") for p in errors]
            return None
        return document, now

    def _action_on(self, drafted: JournalEntry, day: date) -> Action | Problem:
        """The action of a drafted line on `day`, made once for the email and the letter of one document set
        (the same client, step and invoices) from one history of the journal: for a client of many invoices,
        each is a pass over all of them."""
        key = (drafted.client, drafted.step, drafted.date, drafted.invoices, drafted.invoice_steps, day)
        if key in self.actions:
            return self.actions[key]
        if self.past is None:
            self.past = history(self.entries)
        found = action_on(self.books, self.entries, drafted, day, past=self.past, invoices=self.invoices)
        if isinstance(found, Action):  # a problem names its draft's file: made again for the other one
            self.actions[key] = found
        return found

    def _refuse(self, draft: OpenDraft, refused: NotSent) -> None:
        if refused.withdraw:
            note = f"{refused.message}: withdrawn, to be drafted again"
            self.withdrawn.append(replace(draft.entry, date=self.today, event="withdrawn", note=note))
        else:
            self.problems.append(
                Problem(draft.file, refused.line, f"{refused.message}; not sent", code="send.words_refused")
            )
