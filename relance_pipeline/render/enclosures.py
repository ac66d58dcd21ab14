"""The statement of account a document goes out with when it lists only the largest of its invoices (past
`LISTED_LIMIT`): a CSV attached to the email, a PDF printed after the letter (`<step>.statement.pdf`).

Both are made by `send`, on its day, from that day's amounts, with the lines made one at a time as the writer
reads them (render/lines.py `lines`): a client's 100,000 invoices never sit in memory as lines. The run's
preview of a letter is the letter only: the statement is not previewed, it has no words to review.
"""

from __future__ import annotations

import io
from datetime import date

from relance_pipeline.model import Action, Books
from relance_pipeline.render import mail
from relance_pipeline.render.context import show_charges, statement_attachment
from relance_pipeline.render.lines import Listing, lines, listing
from relance_pipeline.render.statement_of_account import StatementHeading, write_csv, write_pdf


def beyond_the_cap(action: Action, as_of: date) -> Listing | None:
    """The document's listing when it leaves invoices out (it then needs a statement), else None."""
    listed = listing(action, as_of)
    return listed if listed.omitted else None


def csv_attachment(books: Books, action: Action, as_of: date, listed: Listing) -> mail.Attachment:
    text = io.StringIO(newline="")
    write_csv(text, heading(books, action, as_of, listed), lines(action, as_of), listed.totals)
    return mail.Attachment(statement_attachment(action, as_of), text.getvalue().encode("utf-8"))


def pdf(books: Books, action: Action, as_of: date, listed: Listing) -> bytes:
    out = io.BytesIO()
    write_pdf(out, heading(books, action, as_of, listed), lines(action, as_of), listed.count, listed.totals)
    return out.getvalue()


def heading(books: Books, action: Action, as_of: date, listed: Listing) -> StatementHeading:
    """The columns of the document's own table: charges shown when the document claims them (context.py's
    `show_charges`), penalties and the indemnity for a business only."""
    return StatementHeading(
        creditor=books.settings.creditor,
        client=action.client,
        as_of=as_of,
        language=action.client.language,
        business=action.client.is_business,
        show_charges=show_charges(action, listed.totals),
        currency=action.invoices[0].invoice.currency if action.invoices else "EUR",
    )
