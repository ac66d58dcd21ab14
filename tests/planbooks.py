"""Small dunning repositories written as real files, for the plan and report tests.

A `Ledger` starts from the example repository (relance.yaml, the standard policy, the shipped rate table),
empties its ledger and lets a test write the clients and invoices it needs. `night` plays one nightly run:
plan, then record each action in the journal as `relance run` does (one drafted line per channel).
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

from relance_pipeline.books import journal
from relance_pipeline.books.read import read_books
from relance_pipeline.commands.init import init
from relance_pipeline.core.history import DELIVERED_BY
from relance_pipeline.core.pending import pending
from relance_pipeline.core.plan import plan
from relance_pipeline.model import Books, JournalEntry, Plan, Problem
from relance_pipeline.outbox import journal as journal_writer


class Ledger:
    def __init__(self, root: Path) -> None:
        self.root = root
        init(root)
        for folder in ("ledger/clients", "ledger/invoices"):
            shutil.rmtree(root / folder)
            (root / folder).mkdir(parents=True)

    def write(self, rel: str, text: str) -> None:
        file = self.root / rel
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text, encoding="utf-8")

    def client(
        self,
        client_id: str,
        *,
        kind: str = "business",
        language: str = "fr",
        relationship: str = "regular",
        policy: str | None = None,
    ) -> None:
        lines = [
            f"name: {client_id.title()}",
            f"kind: {kind}",
            f"email: compta@{client_id}.example",
            f"address: [{client_id.title()}, 1 rue de la Paix, 75002 Paris]",
            f"language: {language}",
            f"relationship: {relationship}",
        ]
        if policy:
            lines.append(f"policy: {policy}")
        self.write(f"ledger/clients/{client_id}.yaml", "\n".join(lines) + "\n")

    def invoice(
        self,
        number: str,
        client: str,
        due: str,
        total: str,
        *,
        issued: str | None = None,
        extra: str = "",
    ) -> None:
        """`extra` is more YAML (payments, credit_notes, hold, penalty_rate), written as is."""
        text = f'number: {number}\nclient: {client}\nissued: {issued or due}\ndue: {due}\ntotal: "{total}"\n' + extra
        self.write(f"ledger/invoices/{number}.yaml", text)

    def policy(self, name: str, text: str) -> None:
        self.write(f"policies/{name}.yaml", text)

    def books(self) -> Books:
        loaded = read_books(self.root)
        assert not loaded.errors, loaded.errors
        assert loaded.books is not None
        return loaded.books

    def journal(self) -> list[JournalEntry]:
        entries, problems = journal.read_journal(self.root)
        assert not problems, problems
        return entries

    def plan(self, as_of: date) -> Plan:
        return plan(self.books(), self.journal(), as_of)

    def held_back(self, as_of: date) -> list[Problem]:
        """The warnings of the clients the plan leaves out for a missing rate."""
        return list(self.plan(as_of).held_back)

    def record(self, entries: list[JournalEntry]) -> None:
        journal_writer.append(self.root, entries)

    def night(self, as_of: date, *, deliver: bool = True) -> Plan:
        """Plan, then journal what `relance run` would have drafted; with `deliver`, each document is also
        reviewed, merged and delivered that same day (sent, posted, called)."""
        tonight = self.plan(as_of)
        drafted = drafted_entries(tonight)
        self.record(drafted)
        if deliver:
            self.record([delivered(line, as_of) for line in drafted])
        return tonight

    def deliver(self, day: date, clients: tuple[str, ...] | None = None) -> list[JournalEntry]:
        """Deliver every open draft (of `clients`) on `day`: what send and record would journal."""
        lines = [
            delivered(draft.entry, day)
            for draft in pending(self.journal())
            if clients is None or draft.entry.client in clients
        ]
        self.record(lines)
        return lines

    def withdraw(self, day: date, client: str) -> None:
        lines = [
            replace(draft.entry, date=day, event="withdrawn", note="file deleted in review")
            for draft in pending(self.journal())
            if draft.entry.client == client
        ]
        self.record(lines)


def deliver_open(root: Path, day: date) -> list[JournalEntry]:
    """Journal every open draft of a repository as delivered on `day`: the reviewer merged, the emails were
    sent, the letters posted, the calls made."""
    entries, problems = journal.read_journal(root)
    assert not problems, problems
    lines = [delivered(draft.entry, day) for draft in pending(entries)]
    journal_writer.append(root, lines)
    return lines


def delivered(line: JournalEntry, day: date) -> JournalEntry:
    return replace(line, date=day, event=DELIVERED_BY[line.channel])


def drafted_entries(result: Plan) -> list[JournalEntry]:
    """The journal lines `relance run` writes for a plan: one per channel of each action."""
    return [
        JournalEntry(
            date=result.as_of,
            client=action.client.id,
            step=action.step.id,
            channel=channel,
            invoices=tuple(a.invoice.number for a in action.invoices),
            file=f"outbox/{result.as_of.isoformat()}/{action.client.id}/{action.step.id}.{channel}",
            sha256="0" * 64,
            event="drafted",
            invoice_steps=tuple(sorted((number, step.id) for number, step in action.own_steps.items())),
        )
        for action in result.actions
        for channel in action.step.channels
    ]


def entry(
    day: date, client: str, step: str, invoices: tuple[str, ...], event: str | None = None, channel: str = "email"
) -> JournalEntry:
    """A journal line; without `event`, the document delivered that day (sent, posted or called)."""
    if event is None:
        event = DELIVERED_BY[channel]  # type: ignore[index]
    return JournalEntry(
        date=day,
        client=client,
        step=step,
        channel=channel,  # type: ignore[arg-type]
        invoices=invoices,
        file=f"outbox/{day.isoformat()}/{client}/{step}.{channel}",
        sha256="0" * 64,
        event=event,  # type: ignore[arg-type]
    )
