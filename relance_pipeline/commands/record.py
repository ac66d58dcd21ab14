"""`relance record`: what the user did by hand, written where the pipeline reads it.

- `posted` (a letter) and `called` (a call sheet) close the draft with a journal line;
- `paid` adds a payment to the invoice's YAML file (as text: the rest of the file is left as it was), and
  takes it back if the books no longer validate with it.
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
from relance_pipeline.core.pending import find
from relance_pipeline.model import Channel, JournalEntry, Payment, Problem
from relance_pipeline.outbox import books_edits
from relance_pipeline.outbox import journal as journal_writer
from relance_pipeline.outbox.invoice_text import add_payment
from relance_pipeline.outbox.lock import COMMAND_WAIT_SECONDS, LockBusy, repository_lock

Done = Literal["posted", "called"]
CHANNEL_OF: dict[Done, Channel] = {"posted": "letter", "called": "phone"}
_WHAT: dict[Done, str] = {"posted": "letter waits to be posted", "called": "call sheet waits for a call"}


def record_done(root: Path, event: Done, client: str, step: str, day: date, note: str | None) -> JournalEntry | Problem:
    """Close the open letter (posted) or call sheet (called) of `client` at `step` with a journal line."""
    try:
        with repository_lock(root, wait_seconds=COMMAND_WAIT_SECONDS):
            journal_writer.repair_tail(root)  # an interrupted run's unfinished line, before a line goes after it
            entries, broken = journal.read_journal(root)
            if broken:
                return broken[0]
            drafts = find(entries, CHANNEL_OF[event], client, step)
            if not drafts:
                return Problem(journal.JOURNAL_FILE, None, f"no {_WHAT[event]} for client '{client}' at step '{step}'")
            draft = drafts[0]
            file = root / draft.file
            sha = journal_writer.sha256(file.read_bytes()) if file.is_file() else draft.entry.sha256
            line = replace(draft.entry, date=day, event=event, sha256=sha, note=note, message_id=None)
            journal_writer.append(root, [line])
            return line
    except LockBusy as busy:
        return Problem(str(root), None, str(busy))


Settled = Literal["sent", "failed"]


def record_settled(
    root: Path, event: Settled, client: str, step: str, day: date, note: str | None
) -> JournalEntry | Problem:
    """Settle the email of `client` at `step` whose outcome `send` could not know: `sent` (it reached the
    client: closed, with the Message-ID it went with) or `failed` (it did not: the next send tries it again)."""
    try:
        with repository_lock(root, wait_seconds=COMMAND_WAIT_SECONDS):
            journal_writer.repair_tail(root)
            entries, broken = journal.read_journal(root)
            if broken:
                return broken[0]
            found = [draft for draft in find(entries, "email", client, step) if draft.unknown is not None]
            if not found:
                message = f"no email for client '{client}' at step '{step}' whose sending is unknown"
                return Problem(journal.JOURNAL_FILE, None, message)
            unknown = found[0].unknown
            assert unknown is not None
            message_id = unknown.message_id if event == "sent" else None
            line = replace(unknown, date=day, event=event, message_id=message_id, note=note or "settled by hand")
            journal_writer.append(root, [line])
            return line
    except LockBusy as busy:
        return Problem(str(root), None, str(busy))


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
        return [Problem(str(root), None, str(busy))]


def _record_payment(
    root: Path, number: str, amount: Decimal, day: date, reference: str | None, today: date
) -> str | list[Problem]:
    loaded = read_books(root)
    if loaded.books is None:
        return loaded.errors
    matches = [i for i in loaded.books.invoices if i.number == number]
    if len(matches) != 1:
        known = "no invoice" if not matches else f"{len(matches)} invoices"
        return [Problem("ledger/invoices", None, f"{known} numbered '{number}'; nothing recorded")]
    invoice = matches[0]
    file = root / invoice.source
    before = file.read_bytes()
    text = add_payment(before.decode("utf-8-sig"), day, amount, reference)
    cannot = Problem(
        invoice.source, None, "its payments list cannot be extended automatically; add the payment by hand"
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
