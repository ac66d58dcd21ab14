"""The verbs of the GitOps loop after the review: `relance send` and `relance record posted|called|paid`.

Registered on the main group by cli.py; kept apart so that the loop's verbs and their output read together.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

import click

from relance_pipeline import figures
from relance_pipeline.cli.terminal import echo
from relance_pipeline.commands.record import (
    NO_DOCUMENT,
    Done,
    Settled,
    parse_amount,
    record_done,
    record_payment,
    record_settled,
)
from relance_pipeline.commands.send import SendReport, send
from relance_pipeline.core.pending import OpenDraft
from relance_pipeline.model import Channel, Problem


class Repository(Protocol):
    """What the main group hands to its verbs (cli.Context)."""

    repo: Path

    def today(self) -> date: ...

    def as_of(self, option: datetime | None) -> date: ...


def _print_problems(problems: Iterable[Problem]) -> None:
    for problem in problems:
        echo(str(problem), err=problem.severity == "warning")


@click.command(name="send")
@click.option("--dry-run", is_flag=True, help="List what would be sent and withdrawn; write and send nothing.")
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    envvar="RELANCE_AS_OF",
    help="The day of sending (replays, tests; also RELANCE_AS_OF); default: today.",
)
@click.pass_obj
def send_command(obj: Repository, dry_run: bool, as_of: datetime | None) -> None:
    """Make each approved email and letter on the day of sending, send the emails once each (SMTP from
    RELANCE_SMTP_*); letters to the print batch; list letters and calls."""
    today = obj.as_of(as_of) if as_of is not None else None
    report = send(obj.repo, os.environ, dry_run=dry_run, today=today)
    for line in send_lines(report):
        echo(line)
    _print_problems(report.problems)
    sys.exit(report.exit_code)


def send_lines(report: SendReport) -> list[str]:
    """What `relance send` prints: one line per email, then what waits for the user."""
    would = "would be " if report.dry_run else ""
    lines = [f"{would}withdrawn {e.file}: {e.note}" for e in report.withdrawn]
    for entry in report.sent:
        lines.append(f"sent {entry.file} {entry.message_id}" + (f" ({entry.note})" if entry.note else ""))
    for entry in report.failed:
        if not entry.permanent:
            lines.append(f"failed {entry.file}: {entry.note} (tried again by the next relance send)")
    refused = [e for e in report.failed if e.permanent] + [d.refused for d in report.waiting if d.refused]
    for entry in refused:
        lines.append(f"REFUSED {entry.file}: {entry.note}; refused for good by the server, it is not sent again.")
        lines.append("  Fix what it refused (the client's address in the books, the words), then ask for another try:")
        lines.append(f"  relance record failed --client {entry.client} --step {entry.step} (or delete the draft)")
    unknown = [(e.file, e.client, e.step, e.message_id, e.note) for e in report.unknown]
    unknown += [
        (d.file, d.entry.client, d.entry.step, d.unknown.message_id, d.unknown.note)
        for d in report.waiting
        if d.unknown
    ]
    for file, client, step, message_id, note in unknown:
        lines.append(f"UNKNOWN {file} {message_id}: {note}; it is not sent again. Ask the client or look in the")
        lines.append(f"  server's sent folder, then: relance record sent --client {client} --step {step}")
        lines.append(f"  (or, if it did not arrive: relance record failed --client {client} --step {step})")
    if report.waiting:
        lines.append(
            f"waiting on a person: {figures.count(len(report.waiting), 'email')}; relance send exits 1 until each is "
            "settled with the relance record command above"
        )
    if report.dry_run:
        lines += [f"would send {d.file}" + (f" (failed {d.failures}×)" if d.failures else "") for d in report.to_send]
    elif report.stopped:
        waiting = (
            f"; {figures.count(len(report.to_send), 'more email')} wait for the next relance send"
            if report.to_send
            else ""
        )
        lines.append(f"stopped: {report.stopped}{waiting}")
    elif report.to_send:
        lines.append(f"not sent: {figures.count(len(report.to_send), 'email')} (SMTP is not configured)")
    if report.to_post:
        where = f"print {report.print_batch}, " if report.print_batch else ""
        lines.append(f"letters to post ({where}post them, then record each):")
        lines += [_todo(d, "posted") for d in report.to_post]
    if report.to_call:
        lines.append("calls to make (then record each, with what was said):")
        lines += [_todo(d, "called") + ' --note "..."' for d in report.to_call]
    if report.to_text:
        lines.append("texts to send from your phone:")
        lines += [f"  {d.file}" for d in report.to_text]
    if not lines:
        lines.append("nothing to send")
    return lines


def _todo(draft: OpenDraft, event: Done) -> str:
    entry = draft.entry
    return f"  {entry.file}  →  relance record {event} --client {entry.client} --step {entry.step}"


@click.group(name="record")
def record_group() -> None:
    """Record what you did by hand: a reminder sent, a letter posted, a call made, a payment received."""


_CLIENT = click.option("--client", required=True, help="The client's id (its file name in ledger/clients/).")
_DATE = click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day it was done; default: today.",
)
_INVOICES = click.option(
    "--invoice",
    "invoices",
    multiple=True,
    help="With no draft to close: an invoice it was about (repeat it); default: the client's overdue ones that day.",
)


@record_group.command(name="sent")
@_CLIENT
@click.option("--step", required=True, help="The step of the reminder, e.g. relance-1.")
@click.option("--channel", type=click.Choice(["email", "sms"]), default="email", show_default=True)
@_DATE
@_INVOICES
@click.option("--note", default=None, help="What it said, or where it is kept.")
@click.pass_obj
def sent_command(
    obj: Repository,
    client: str,
    step: str,
    channel: str,
    day: datetime | None,
    invoices: tuple[str, ...],
    note: str | None,
) -> None:
    """Record a reminder sent by hand (or before relance was used), so that escalation resumes after it."""
    _done(obj, "sent", client, step, day, note, "sms" if channel == "sms" else "email", invoices)


@record_group.command(name="posted")
@_CLIENT
@click.option("--step", required=True, help="The step of the letter, e.g. mise-en-demeure.")
@_DATE
@_INVOICES
@click.option("--note", default=None, help="E.g. the registered-mail number.")
@click.pass_obj
def posted_command(
    obj: Repository, client: str, step: str, day: datetime | None, invoices: tuple[str, ...], note: str | None
) -> None:
    """Record that the letter of CLIENT at STEP was posted."""
    _done(obj, "posted", client, step, day, note, "letter", invoices)


@record_group.command(name="called")
@_CLIENT
@click.option("--step", required=True, help="The step of the call sheet, e.g. appel.")
@_DATE
@_INVOICES
@click.option("--note", default=None, help='What was said, e.g. "promised payment by 30/06".')
@click.pass_obj
def called_command(
    obj: Repository, client: str, step: str, day: datetime | None, invoices: tuple[str, ...], note: str | None
) -> None:
    """Record that the client was called at STEP."""
    _done(obj, "called", client, step, day, note, "phone", invoices)


@record_group.command(name="failed")
@click.option("--client", required=True, help="The client's id (its file name in ledger/clients/).")
@click.option("--step", required=True, help="The step of the email, e.g. relance-1.")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Default: today.")
@click.option("--note", default=None, help='How you know, e.g. "not in the server\'s sent folder".')
@click.pass_obj
def failed_command(obj: Repository, client: str, step: str, day: datetime | None, note: str | None) -> None:
    """Record that the email of CLIENT at STEP, whose sending was unknown, did not go: the next send retries it."""
    _settled(obj, "failed", client, step, day, note)


def _settled(obj: Repository, event: Settled, client: str, step: str, day: datetime | None, note: str | None) -> None:
    outcome = record_settled(obj.repo, event, client, step, obj.as_of(day), note)
    if isinstance(outcome, Problem):
        _print_problems([outcome])
        sys.exit(1)
    echo(f"recorded: {outcome.file} {event} on {outcome.date.isoformat()}")


def _done(
    obj: Repository,
    event: Done,
    client: str,
    step: str,
    day: datetime | None,
    note: str | None,
    channel: Channel,
    invoices: tuple[str, ...],
) -> None:
    today = obj.today()
    outcome = record_done(obj.repo, event, client, step, day.date() if day else today, note, today, channel, invoices)
    if isinstance(outcome, Problem):
        _print_problems([outcome])
        sys.exit(1)
    what = f" (no draft: about {', '.join(outcome.invoices)})" if outcome.sha256 == NO_DOCUMENT else ""
    echo(f"recorded: {outcome.file} {outcome.event} on {outcome.date.isoformat()}{what}")


@record_group.command(name="paid")
@click.argument("number")
@click.option("--amount", required=True, help="The amount received, e.g. 1200.00.")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Default: today.")
@click.option("--reference", default=None, help="The bank transfer's reference.")
@click.pass_obj
def paid_command(obj: Repository, number: str, amount: str, day: datetime | None, reference: str | None) -> None:
    """Record a payment of invoice NUMBER (added to its file in ledger/invoices/)."""
    value = parse_amount(amount)
    if value is None:
        raise click.BadParameter(
            f"'{amount}' is not a positive amount with at most two decimals", param_hint="--amount"
        )
    today = obj.today()
    outcome = record_payment(obj.repo, number, value, day.date() if day else today, reference, today)
    if isinstance(outcome, list):
        _print_problems(outcome)
        sys.exit(1)
    echo(f"recorded: {figures.amount(value)} paid on {(day.date() if day else today).isoformat()} in {outcome}")
