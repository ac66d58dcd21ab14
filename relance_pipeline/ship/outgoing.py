"""An email draft of the outbox, checked before it goes out: who it is from, who it is to, its Message-ID.

The bytes sent are the bytes the reviewer approved (line ends made CRLF for SMTP), except the Date: it is
the real time of sending, in the creditor's timezone (the draft's own Date, the drafting day at 09:00, is
stale by the time a merge is sent, or even in the future when the send runs early in the morning). A missing
Message-ID is derived from the draft. A header block that mail readers may read differently (a line that is
neither `Name: value` nor a continuation, such as `X-Note : reviewed`, after which Python's parser stops
while others read on) or that repeats Message-ID, Date or Subject is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import Message
from email.parser import BytesHeaderParser
from email.utils import format_datetime

from relance_pipeline.model import Client, Problem
from relance_pipeline.outbox import journal as journal_writer

MAX_EMAIL_BYTES = 25 * 1024 * 1024
_FORBIDDEN = ("Cc", "Bcc", "Resent-To", "Resent-Cc", "Resent-Bcc")
_LINE_END = re.compile(rb"\r?\n")
_HEADER_LINE = re.compile(rb"^[!-9;-~]+:")
_SINGLE = ("Message-ID", "Date", "Subject")


@dataclass(frozen=True)
class Outgoing:
    """A message ready for SMTP."""

    sender: str
    recipients: tuple[str, ...]
    message_id: str
    data: bytes
    draft_sha256: str
    """Of the draft as read: what the journal records, whatever happens to the file afterwards."""


def prepare(path: str, raw: bytes, client: Client | None, sender: str, now: datetime) -> Outgoing | Problem:
    """Check the draft at `path` and make it ready; a Problem says why it may not be sent as it is.

    It must come from `sender` (relance.yaml's creditor email), and go only to the address of its
    client in the books (`To` only: Cc and Bcc would reach people the books do not know).
    """
    if len(raw) > MAX_EMAIL_BYTES:
        return Problem(
            path, None, f"is larger than {MAX_EMAIL_BYTES // (1024 * 1024)} MiB; not sent", code="email.too_large"
        )
    unreadable = _unreadable_header_line(raw)
    if unreadable is not None:
        return Problem(
            path,
            unreadable,
            "this header line is not `Name: value`; mail readers would differ on it",
            code="email.header_line",
        )
    headers = BytesHeaderParser(policy=policy.default).parsebytes(raw)
    for name in ("From", "To", *_SINGLE):
        if len(headers.get_all(name) or []) > 1:
            return Problem(
                path, None, f"has more than one {name} header; a draft has one of each", code="email.header_twice"
            )
    found = _addresses(headers, "From")
    if isinstance(found, Problem | None) or len(found) != 1 or not _same(found[0], sender):
        shown = ", ".join(found) if isinstance(found, list) else "nothing readable"
        return Problem(
            path, None, f"From should be {sender} (relance.yaml creditor email), not {shown}", code="email.from"
        )
    for name in _FORBIDDEN:
        if headers.get(name) is not None:
            return Problem(
                path,
                None,
                f"has a {name} header; relance sends only to the client's address in To",
                code="email.header",
            )
    if client is None:
        return Problem(path, None, "is for a client that is not in the books (ledger/clients/)", code="email.client")
    recipients = _addresses(headers, "To")
    if not isinstance(recipients, list) or not recipients:
        return Problem(path, None, f"To should name {client.email}, the email of {client.source}", code="email.to")
    strangers = [a for a in recipients if not _same(a, client.email)]
    if strangers:
        return Problem(
            path,
            None,
            f"To names {', '.join(strangers)}, which is not the email of {client.source} ({client.email})",
            code="email.to",
        )
    data = _LINE_END.sub(b"\r\n", raw)
    message_id = str(headers.get("Message-ID") or "").strip()
    draft_sha = journal_writer.sha256(raw)
    extra = b""
    if not message_id:
        message_id = f"<{draft_sha[:32]}@{sender.rpartition('@')[2]}>"
        extra += f"Message-ID: {message_id}\r\n".encode("ascii")
    extra += f"Date: {format_datetime(now)}\r\n".encode("ascii")
    data = _without_header(data, b"date")
    # The envelope, which decides who receives the message, names the books' address and nothing read from the file.
    return Outgoing(sender, (client.email.strip(),), message_id, extra + data, draft_sha)


def _unreadable_header_line(raw: bytes) -> int | None:
    """The number of the first line of the header block that is neither a header nor a continuation."""
    for number, line in enumerate(_LINE_END.split(raw), start=1):
        if not line:
            return None
        if line[:1] not in (b" ", b"\t") and not _HEADER_LINE.match(line):
            return number
    return None


def _without_header(data: bytes, name: bytes) -> bytes:
    """The CRLF message without the header `name` (and its continuation lines)."""
    head, separator, body = data.partition(b"\r\n\r\n")
    kept: list[bytes] = []
    dropping = False
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t"):
            if not dropping:
                kept.append(line)
            continue
        dropping = line.split(b":", 1)[0].strip().lower() == name
        if not dropping:
            kept.append(line)
    return b"\r\n".join(kept) + separator + body


def _addresses(headers: Message, name: str) -> list[str] | Problem | None:
    """The addr-specs of a header; None when absent, a Problem when unreadable."""
    value = headers.get(name)
    if value is None:
        return None
    found: tuple[Address, ...] = getattr(value, "addresses", ())
    if getattr(value, "defects", ()) or any(not a.domain for a in found):
        return Problem("", None, f"{name} cannot be read", code="email.unreadable")
    return [a.addr_spec for a in found]


def _same(address: str, expected: str) -> bool:
    return address.strip().casefold() == expected.strip().casefold()
