"""`relance record`: what the user did by hand, written where the pipeline reads it.

- `sent` (an email or text sent by hand), `posted` (a letter) and `called` (a call) close the open draft with
  a journal line; with no draft, they record a reminder made before relance or outside it, so that escalation
  resumes at the right level (core.history reads a delivery with no draft as such);
- `paid` adds a payment to the invoice's YAML file (as text: the rest of the file is left as it was, its link
  and permissions too), and takes it back if the books no longer validate with it. A payment dated after
  today (in the creditor's timezone) is refused: it would stop reminders until then.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal

from relance_pipeline.books import journal
from relance_pipeline.books.builders import invoice as invoice_record
from relance_pipeline.books.load import parse_document
from relance_pipeline.books.read import read_books
from relance_pipeline.books.schema import schema_problems
from relance_pipeline.commands.validate import validate
from relance_pipeline.core.history import DELIVERED_BY
from relance_pipeline.core.pending import OpenDraft, find
from relance_pipeline.model import (
    STATEMENT_STEP,
    SUFFIXES,
    Channel,
    JournalEntry,
    JournalEvent,
    Payment,
    Problem,
    sent_document,
    sent_statement,
)
from relance_pipeline.outbox import books_edits
from relance_pipeline.outbox import journal as journal_writer
from relance_pipeline.outbox.invoice_text import add_payment
from relance_pipeline.outbox.lock import COMMAND_WAIT_SECONDS, LockBusy, repository_lock

Done = Literal["sent", "posted", "called"]
CHANNEL_OF: dict[Done, Channel] = {"sent": "email", "posted": "letter", "called": "phone"}
NO_DOCUMENT = journal_writer.sha256(b"")
BY_HAND = "recorded by hand: no document in outbox/"


def record_done(
    root: Path,
    event: Done,
    client: str,
    step: str,
    day: date,
    note: str | None,
    today: date,
    channel: Channel | None = None,
    invoices: tuple[str, ...] = (),
) -> JournalEntry | Problem:
    """Record that the client received `step` on `day`: the open draft of that channel is closed (the letter
    posted, the call made, the email or text sent by hand); with no draft, a reminder made before relance or
    outside it is recorded, about `invoices` (default: those of the client overdue on that day)."""
    channel = channel or CHANNEL_OF[event]
    if day > today:
        return Problem(
            journal.JOURNAL_FILE,
            None,
            f"--date {day.isoformat()} is in the future: record it once done",
            code="record.date_future",
        )
    try:
        with repository_lock(root, wait_seconds=COMMAND_WAIT_SECONDS):
            journal_writer.repair_tail(root)  # an interrupted run's unfinished line, before a line goes after it
            entries, broken = journal.read_journal(root)
            if broken:
                return broken[0]
            drafts = find(entries, channel, client, step)
            done = [e for e in entries if (e.client, e.step, e.channel) == (client, step, channel)]
            done = [e for e in done if e.event == DELIVERED_BY[channel]]
            if drafts:
                line = _closing(root, drafts, event, day, note)
            elif done:
                # Twice the same command is a slip, not a second reminder: recording it would claim one.
                line = Problem(
                    journal.JOURNAL_FILE,
                    None,
                    f"{step} of '{client}' is already recorded {done[-1].event} on {done[-1].date.isoformat()} "
                    f"({done[-1].file}); nothing waits to be {done[-1].event}",
                    code="record.already",
                )
            else:
                line = _by_hand(root, event, channel, client, step, day, note, invoices)
            if isinstance(line, JournalEntry):
                journal_writer.append(root, [line])
            return line
    except LockBusy as busy:
        return Problem(str(root), None, str(busy), code="lock.busy")


Settled = Literal["sent", "failed"]


def record_settled(
    root: Path, event: Settled, client: str, step: str, day: date, note: str | None
) -> JournalEntry | Problem:
    """Settle the email of `client` at `step` whose outcome `send` could not know: `sent` (it reached the
    client: closed, with the Message-ID it went with) or `failed` (it did not: the next send tries it again).
    `failed` also asks for another try of an email the server refused for good, once its cause is fixed."""
    try:
        with repository_lock(root, wait_seconds=COMMAND_WAIT_SECONDS):
            journal_writer.repair_tail(root)
            entries, broken = journal.read_journal(root)
            if broken:
                return broken[0]
            drafts = find(entries, "email", client, step)
            found = [d.unknown or d.refused for d in drafts if d.unknown or (event == "failed" and d.refused)]
            if not found:
                which = "is unknown" if event == "sent" else "is unknown or was refused for good"
                message = f"no email for client '{client}' at step '{step}' whose sending {which}"
                return Problem(journal.JOURNAL_FILE, None, message, code="record.no_draft")
            settled = found[0]
            assert settled is not None
            message_id = settled.message_id if event == "sent" else None
            line = replace(
                settled, date=day, event=event, message_id=message_id, permanent=False, note=note or "settled by hand"
            )
            journal_writer.append(root, [line])
            return line
    except LockBusy as busy:
        return Problem(str(root), None, str(busy), code="lock.busy")


def _closing(root: Path, drafts: list[OpenDraft], event: Done, day: date, note: str | None) -> JournalEntry | Problem:
    earlier = [d for d in drafts if d.entry.date <= day]
    if not earlier:
        drafted = drafts[-1].entry
        return Problem(
            drafted.file,
            None,
            f"drafted on {drafted.date.isoformat()}: it cannot have reached the client on {day.isoformat()}, "
            f"before it was written (give --date {drafted.date.isoformat()} or later)",
            code="record.before_draft",
        )
    draft = earlier[0]
    if draft.unknown is not None and event == "sent":
        # `send` handed it over and heard nothing back; the user says it arrived: sent, with the Message-ID it had.
        unknown = draft.unknown
        return replace(unknown, date=day, event="sent", message_id=unknown.message_id, note=note or "settled by hand")
    file = root / draft.file
    sha = journal_writer.sha256(file.read_bytes()) if file.is_file() else draft.entry.sha256
    # A letter posted is the PDF send made from its words: the line names it, as a sent email names its .eml.
    made = sent_document(draft.file, draft.entry.channel)
    document = made if made is not None and (root / made).is_file() else None
    document_sha = journal_writer.sha256((root / document).read_bytes()) if document else None
    enclosed = sent_statement(draft.file, draft.entry.channel) if document else None
    statement = enclosed if enclosed is not None and (root / enclosed).is_file() else None
    statement_sha = journal_writer.sha256((root / statement).read_bytes()) if statement else None
    return replace(draft.entry, date=day, event=_event(event, draft.entry.channel), sha256=sha, note=note,
                   message_id=None, document=document, document_sha256=document_sha,
                   statement=statement, statement_sha256=statement_sha)  # fmt: skip


def _event(event: Done, channel: Channel) -> JournalEvent:
    return DELIVERED_BY[channel] if event == "sent" else event


def _by_hand(
    root: Path,
    event: Done,
    channel: Channel,
    client: str,
    step: str,
    day: date,
    note: str | None,
    invoices: tuple[str, ...],
) -> JournalEntry | Problem:
    """A reminder with no draft in the journal: checked against the books, since nothing else vouches for it."""
    loaded = read_books(root)
    if loaded.books is None:
        return loaded.errors[0]
    books = loaded.books
    if client not in books.clients:
        return Problem(
            "ledger/clients",
            None,
            f"no client '{client}' (its file would be ledger/clients/{client}.yaml)",
            code="reference.unknown",
        )
    policy = books.policy_for(books.clients[client])
    # A statement sent by hand (paid_late_penalties: claimed) is recorded about the invoices it claimed.
    statement = step == STATEMENT_STEP and policy.paid_late_penalties == "claimed"
    if policy.step_index(step) is None and not statement:
        known = ", ".join(s.id for s in policy.steps)
        return Problem(
            policy.source,
            None,
            f"the policy '{policy.id}' has no step '{step}' (its steps: {known})",
            code="reference.unknown",
        )
    own = [i for i in books.invoices if i.client == client]
    if invoices:
        unknown = sorted(set(invoices) - {i.number for i in own})
        if unknown:
            return Problem(
                "ledger/invoices",
                None,
                f"client '{client}' has no invoice {', '.join(unknown)}",
                code="reference.unknown",
            )
        listed = tuple(sorted(invoices))
    else:
        listed = tuple(sorted(i.number for i in own if i.due < day and i.outstanding(day) > 0))
        if not listed:
            return Problem(
                "ledger/invoices",
                None,
                f"no invoice of '{client}' was overdue on {day.isoformat()}: name it with --invoice",
                code="record.no_invoice",
            )
    return JournalEntry(
        date=day,
        client=client,
        step=step,
        channel=channel,
        invoices=listed,
        file=f"outbox/{day.isoformat()}/{client}/{step}{SUFFIXES[channel]}",
        sha256=NO_DOCUMENT,
        event=_event(event, channel),
        note=note or BY_HAND,
    )


def parse_amount(text: str) -> Decimal | None:
    """A positive amount with at most two decimals (`1200`, `1200.5`, `1200.50`), else None."""
    try:
        amount = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        return None
    exponent = amount.as_tuple().exponent
    if not amount.is_finite() or amount <= 0 or not isinstance(exponent, int) or exponent < -2:
        return None
    return amount


def record_payment(
    root: Path, number: str, amount: Decimal, day: date, reference: str | None, today: date
) -> str | list[Problem]:
    """Add the payment to invoice `number`'s file; returns that file's path, or the problems that kept it out."""
    try:
        with repository_lock(root, wait_seconds=COMMAND_WAIT_SECONDS):
            return _record_payment(root, number, amount, day, reference, today)
    except LockBusy as busy:
        return [Problem(str(root), None, str(busy), code="lock.busy")]


def _record_payment(
    root: Path, number: str, amount: Decimal, day: date, reference: str | None, today: date
) -> str | list[Problem]:
    if day > today:
        message = f"{day} is after today ({today}): a payment is recorded once received"
        return [Problem("--date", None, message, code="record.future_payment")]
    loaded = read_books(root)
    if loaded.books is None:
        return loaded.errors
    matches = [i for i in loaded.books.invoices if i.number == number]
    if len(matches) != 1:
        known = "no invoice" if not matches else f"{len(matches)} invoices"
        return [
            Problem("ledger/invoices", None, f"{known} numbered '{number}'; nothing recorded", code="record.no_invoice")
        ]
    invoice = matches[0]
    file = root / invoice.source
    before = file.read_bytes()
    text = add_payment(before.decode("utf-8-sig"), day, amount, reference)
    cannot = Problem(
        invoice.source,
        None,
        "its payments list cannot be extended automatically; add the payment by hand",
        code="edit.unsafe",
    )
    if text is None:
        return [cannot]
    document = parse_document(invoice.source, text.encode("utf-8"))
    if isinstance(document, Problem):
        return [document]
    if schema_problems(document, "invoice"):
        return schema_problems(document, "invoice")
    expected = (*invoice.payments, Payment(day, amount, reference))
    if invoice_record(document).payments != expected:
        return [cannot]
    books_edits.write_invoice(root, invoice.source, text, before)
    errors = [p for p in validate(root, today) if p.path == invoice.source and p.severity == "error"]
    if errors:
        books_edits.restore(root, invoice.source, before)
        return errors
    return invoice.source
