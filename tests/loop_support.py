"""Helpers for the tests of the GitOps loop: real SMTP servers on 127.0.0.1, drafts, git repositories."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from relance_pipeline.books import journal
from relance_pipeline.books.read import read_books
from relance_pipeline.core.refresh import action_on
from relance_pipeline.model import SUFFIXES, Action, Channel, JournalEntry
from relance_pipeline.outbox import journal as journal_writer
from relance_pipeline.render.renderer import Renderer

CREDITOR = "camille@durand-dev.fr"
EMAILS = {
    "atelier-ferrand": "compta@atelier-ferrand.fr",
    "nordwind": "accounts@nordwind.example",
    "lucie-martin": "lucie.martin@example.org",
    "bureau-levant": "factures@bureau-levant.fr",
}
INVOICES = {
    "atelier-ferrand": ("F-2026-003", "F-2026-007"),
    "nordwind": ("F-2026-004",),
    "lucie-martin": ("F-2026-005",),
    "bureau-levant": ("F-2026-002",),
}
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.org",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.org",
}


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message_id(self) -> str:
        return str(message_from_bytes(self.data, policy=policy.default)["Message-ID"])


@dataclass
class Mailbox:
    """An SMTP handler that keeps every message it accepts; `fail_on` and `drop_on` choose which
    delivery attempts (1 for the first DATA, ...) get a 451 answer or a closed connection instead."""

    fail_on: set[int] = field(default_factory=set)
    drop_on: set[int] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)
    attempts: int = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.attempts += 1
        if self.attempts in self.drop_on:
            assert server.transport is not None
            server.transport.close()
            return "421 closing"
        if self.attempts in self.fail_on:
            return "451 4.3.0 mailbox temporarily unavailable"
        content = envelope.original_content or b""
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), bytes(content)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server(mailbox: Mailbox, **options: Any) -> Iterator[dict[str, str]]:
    """Run an SMTP server on 127.0.0.1 for the block; yields the RELANCE_SMTP_* settings to reach it."""
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield {"RELANCE_SMTP_HOST": "127.0.0.1", "RELANCE_SMTP_PORT": str(port), "RELANCE_SMTP_TIMEOUT": "5"}
    finally:
        controller.stop()


def email_bytes(client: str, step: str, *, to: str | None = None, sender: str = CREDITOR, **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = f"Camille Durand <{sender}>"
    message["To"] = to or EMAILS[client]
    message["Subject"] = f"Relance {step}"
    message["Message-ID"] = f"<{step}.{client}@durand-dev.fr>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(f"Bonjour,\n\nRelance {step} pour {client}.\n")
    return message.as_bytes(policy=policy.SMTP)


DRAFT_DAY = date(2026, 6, 15)


def drafted_action(root: Path, client: str, step: str, day: date = DRAFT_DAY, channel: Channel = "email") -> Action:
    """The action of `client` at `step` on `day`, for the invoices of INVOICES, as the books give it."""
    books = read_books(root).books
    assert books is not None
    entries, _ = journal.read_journal(root)
    entry = JournalEntry(day, client, step, channel, INVOICES[client], "", "", "drafted")
    action = action_on(books, entries, entry, day)
    assert isinstance(action, Action), action
    return action


def drafted_words(root: Path, client: str, step: str, *, channel: Channel = "email", day: date = DRAFT_DAY) -> bytes:
    """The words `relance run` drafts for `client` at `step` on `day` (`<step>.email.txt` or `.letter.txt`)."""
    books = read_books(root).books
    assert books is not None
    action = drafted_action(root, client, step, day, channel)
    return Renderer(root, books).drafter.reviewable(action, channel, day).text().encode("utf-8")


def add_draft(
    root: Path,
    client: str,
    step: str,
    content: bytes | None = None,
    *,
    channel: Channel = "email",
    day: date = DRAFT_DAY,
    commit: bool = True,
) -> str:
    """Write a draft into the outbox and its `drafted` journal line, as `relance run` does; committed (as if
    reviewed and merged) unless `commit` is False. Without `content`: the words relance drafts on `day`."""
    if content is None:
        content = drafted_words(root, client, step, channel=channel, day=day)
    rel = f"outbox/{day.isoformat()}/{client}/{step}{SUFFIXES[channel]}"
    file = root / rel
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(content)
    entry = JournalEntry(
        date=day,
        client=client,
        step=step,
        channel=channel,
        invoices=INVOICES[client],
        file=rel,
        sha256=hashlib.sha256(content).hexdigest(),
        event="drafted",
    )
    journal_writer.append(root, [entry])
    if commit:
        approve(root)
    return rel


def withdraw(root: Path, file: str) -> None:
    """A reviewer deletes a draft, and the deletion is merged."""
    git(root, "rm", "--quiet", "--", file)
    approve(root, "review: withdraw a draft")


def approve(root: Path, message: str = "reviewed and merged") -> None:
    """Commit everything in the work tree, standing for a review merged into the current branch."""
    git(root, "add", "--all")
    if git(root, "status", "--porcelain").strip():
        git(root, "commit", "--quiet", "-m", message)


def events(root: Path) -> list[tuple[str, str]]:
    """(event, file) for every journal line, in order."""
    entries, problems = journal.read_journal(root)
    assert problems == []
    return [(e.event, e.file) for e in entries]


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **GIT_IDENTITY},
    )
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout
