"""A drafted email → the bytes of an `.eml` file (RFC 5322, built with the standard `email` package).

multipart/mixed: a multipart/alternative (text, then HTML) and the attachments (the letter PDF, the invoice
copies). Everything that would vary between two runs is fixed: the Date is the document's date at 09:00 in
the creditor's timezone, the MIME boundaries and the Message-ID are hashes of the content.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from relance_pipeline import clock
from relance_pipeline.model import Client, Settings
from relance_pipeline.render.drafts import Draft

SEND_TIME = time(9, 0)
POLICY = policy.default.clone(max_line_length=78)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes


@dataclass(frozen=True)
class Email:
    content: bytes
    message_id: str


class AddressError(ValueError):
    """An email address the message cannot carry."""


def build(draft: Draft, client: Client, settings: Settings, as_of: date, attachments: Sequence[Attachment]) -> Email:
    seed = _content_seed(draft, client, settings, as_of, attachments)
    domain = settings.creditor.email.rpartition("@")[2] or "relance.invalid"
    message_id = f"<{seed.hexdigest()[:40]}@{domain}>"
    message = _compose(draft, client, settings, as_of, attachments, message_id, seed.hexdigest()[40:64])
    return Email(message.as_bytes(policy=POLICY), message_id)


def _content_seed(
    draft: Draft, client: Client, settings: Settings, as_of: date, attachments: Sequence[Attachment]
) -> hashlib._Hash:
    """A digest of all the message is made of: its Message-ID and MIME boundaries are drawn from it, so the same
    message has the same bytes, and any change of a header, a word or an attachment gives another id. (The
    message is composed once: composing it to hash its bytes took a third of the making of an email.)"""
    creditor = settings.creditor
    seed = hashlib.sha256()
    parts = (
        creditor.name, creditor.email, client.name, client.email, client.language, settings.timezone,
        as_of.isoformat(), draft.subject or "", draft.text, draft.html or "",
    )  # fmt: skip
    for part in parts:
        data = part.encode("utf-8")
        seed.update(b"%d:" % len(data))
        seed.update(data)
    for attachment in attachments:
        name = attachment.filename.encode("utf-8")
        seed.update(b"%d:" % len(name))
        seed.update(name)
        seed.update(hashlib.sha256(attachment.content).digest())
    return seed


def _compose(
    draft: Draft,
    client: Client,
    settings: Settings,
    as_of: date,
    attachments: Sequence[Attachment],
    message_id: str,
    boundary_token: str,
) -> EmailMessage:
    creditor = settings.creditor
    message = EmailMessage(policy=POLICY)
    message["From"] = _address(creditor.name, creditor.email)
    message["To"] = _address(client.name, client.email)
    message["Reply-To"] = _address(creditor.name, creditor.email)
    message["Subject"] = _one_line(draft.subject or "")
    message["Date"] = format_datetime(datetime.combine(as_of, SEND_TIME, tzinfo=clock.zone(settings.timezone)))
    message["Message-ID"] = message_id
    message.set_content(draft.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(draft.html or "", subtype="html", charset="utf-8", cte="quoted-printable")
    for attachment in attachments:
        kind = mimetypes.guess_type(attachment.filename)[0] or "application/octet-stream"
        maintype, _, subtype = kind.partition("/")
        # A text attachment says its charset (the statement of account's CSV is UTF-8): without it, RFC 2046
        # has it read as US-ASCII, and a mail client's preview shows "RÃ©glÃ©".
        params = {"charset": "utf-8"} if maintype == "text" else None
        message.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename, params=params
        )
    # Last: set_content and add_attachment move or drop the Content-* headers already there.
    message["Content-Language"] = client.language
    _fix_boundaries(message, boundary_token)
    return message


def _address(name: str, email: str) -> Address:
    try:
        return Address(display_name=_one_line(name), addr_spec=email.strip())
    except (ValueError, IndexError) as error:
        raise AddressError(f"'{email}' is not an email address a message can be sent to ({error})") from None


def _one_line(text: str) -> str:
    """A header value from the books or a template: no line break may reach the headers."""
    return " ".join(text.split())


def _fix_boundaries(message: EmailMessage, token: str) -> None:
    """The email package draws random boundaries; these are derived from the content instead."""
    multiparts = [part for part in message.walk() if part.is_multipart()]
    for index, multipart in enumerate(multiparts):
        multipart.set_boundary(f"==relance-{token}-{index}")
