"""Synthetic books for benchmarks: a whole dunning repository written as real YAML files.

`generate(root, clients, invoices, seed)` writes relance.yaml, the standard policy and the shipped rate table
(from the package's example), N clients and M invoices issued over the 18 months before `AS_OF` with
realistic settlements (most paid, some late, some in part, a few credit notes, holds and contractual rates),
and a journal of the reminders already sent for the overdue ones. The same seed writes the same bytes.

    python -m benchmarks.books DIR [--clients 500] [--invoices 10000] [--seed 1]
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path

from relance_pipeline.books import journal
from relance_pipeline.model import JournalEntry
from relance_pipeline.outbox import journal as journal_writer

AS_OF = date(2026, 6, 15)
"""Inside the shipped rate table (which ends at 2026-S1)."""
_FIRST_ISSUE = date(2025, 1, 2)
_STEPS = (("relance-1", 7), ("relance-2", 21), ("appel", 30), ("lettre", 40), ("mise-en-demeure", 55))
_CITIES = ("75002 Paris", "69001 Lyon", "13005 Marseille", "44000 Nantes", "31000 Toulouse", "33000 Bordeaux")


@dataclass(frozen=True)
class Generated:
    root: Path
    clients: int
    invoices: int
    journal_lines: int

    @property
    def files(self) -> list[Path]:
        """Every YAML file of the books (what a bare read reads)."""
        return sorted(p for p in self.root.rglob("*.yaml") if ".git" not in p.parts)


def generate(root: Path, clients: int, invoices: int, seed: int = 1) -> Generated:
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    example = Path(str(resources.files("relance_pipeline").joinpath("scaffold")))
    shutil.copyfile(example / "relance.yaml", root / "relance.yaml")
    (root / "policies").mkdir(exist_ok=True)
    for name in ("standard.yaml", "rates.yaml"):
        shutil.copyfile(example / "policies" / name, root / "policies" / name)
    client_ids = [_write_client(root, index, rng) for index in range(clients)]
    kinds = {cid: kind for cid, kind in client_ids}
    entries: list[JournalEntry] = []
    for index in range(invoices):
        client_id = client_ids[rng.randrange(clients)][0]
        entries += _write_invoice(root, index, client_id, kinds[client_id], rng)
    (root / "outbox").mkdir(exist_ok=True)
    (root / journal.JOURNAL_FILE).unlink(missing_ok=True)
    entries.sort(key=lambda e: (e.date, e.client, e.step, e.invoices))
    journal_writer.append(root, entries)
    return Generated(root, clients, invoices, len(entries))


def _write_client(root: Path, index: int, rng: random.Random) -> tuple[str, str]:
    client_id = f"client-{index:05d}"
    kind = "consumer" if rng.random() < 0.15 else "business"
    language = "en" if rng.random() < 0.2 else "fr"
    lines = [
        f"name: Client {index:05d} {'SAS' if kind == 'business' else ''}".rstrip(),
        f"kind: {kind}",
        f"email: compta@{client_id}.example",
        "address:",
        f"  - Client {index:05d}",
        f"  - {rng.randrange(1, 200)} rue de la République",
        f"  - {rng.choice(_CITIES)}",
        f"language: {language}",
        f"relationship: {'new' if rng.random() < 0.3 else 'regular'}",
    ]
    if rng.random() < 0.5:
        lines.append(f'phone: "+33 1 {rng.randrange(10, 99)} {rng.randrange(10, 99)} {rng.randrange(10, 99)} 00"')
    if kind == "business" and rng.random() < 0.6:
        lines.append(f"contact: M. Dupont-{index}")
    _write(root / "ledger" / "clients" / f"{client_id}.yaml", lines)
    return client_id, kind


def _write_invoice(root: Path, index: int, client_id: str, kind: str, rng: random.Random) -> list[JournalEntry]:
    issued = _FIRST_ISSUE + timedelta(days=rng.randrange((AS_OF - _FIRST_ISSUE).days))
    due = issued + timedelta(days=rng.choice((14, 30, 30, 45, 60)))
    total = Decimal(rng.randrange(10_000, 1_200_000)) / 100
    number = f"F-{issued.year}-{index + 1:05d}"
    lines = [
        f"number: {number}",
        f"client: {client_id}",
        f"issued: {issued.isoformat()}",
        f"due: {due.isoformat()}",
        f'total: "{total}"',
    ]
    settled = _settlements(lines, issued, due, total, rng)
    if rng.random() < 0.03:
        until = AS_OF + timedelta(days=rng.randrange(-30, 90))
        lines += ["hold:", f"  reason: {rng.choice(('disputed', 'payment_plan', 'promise'))}", f"  until: {until}"]
        lines.append("  note: Le client demande un délai ; accord par téléphone.")
    if kind == "business" and rng.random() < 0.05:
        lines.append('penalty_rate: "16.00"')
    _write(root / "ledger" / "invoices" / str(issued.year) / f"{number}.yaml", lines)
    return [] if settled else _history(number, client_id, due, rng)


def _settlements(lines: list[str], issued: date, due: date, total: Decimal, rng: random.Random) -> bool:
    """Add payments or a credit note; True when the invoice is settled by `AS_OF`."""
    roll = rng.random()
    if roll < 0.6:
        paid_on = min(AS_OF, due + timedelta(days=rng.randrange(-10, 40)))
        lines += ["payments:", f'  - {{date: {paid_on}, amount: "{total}", reference: VIR {lines[0][8:]}}}']
        return True
    if roll < 0.75:
        part = (total * Decimal(rng.choice(("0.3", "0.5", "0.7")))).quantize(Decimal("0.01"))
        paid_on = min(AS_OF, due + timedelta(days=rng.randrange(0, 60)))
        lines += ["payments:", f'  - {{date: {paid_on}, amount: "{part}"}}']
        return False
    if roll < 0.8:
        credit = (total * Decimal("0.1")).quantize(Decimal("0.01"))
        on = issued + timedelta(days=rng.randrange(1, 20))
        lines += ["credit_notes:", f'  - {{number: AV-{lines[0][8:]}, date: {on}, amount: "{credit}"}}']
    return False


def _history(number: str, client_id: str, due: date, rng: random.Random) -> list[JournalEntry]:
    """Reminders already sent for an unpaid invoice: a random prefix of the steps that are due, each drafted and
    sent the same day (a draft not yet delivered would hold the client's next document back)."""
    overdue = (AS_OF - due).days
    reached = [step for step in _STEPS if step[1] < overdue]
    done = reached[: rng.randrange(len(reached) + 1)] if reached else []
    entries = []
    for step, after in done:
        day = due + timedelta(days=after)
        drafted = JournalEntry(
            date=day,
            client=client_id,
            step=step,
            channel="email",
            invoices=(number,),
            file=f"outbox/{day}/{client_id}/{step}.eml",
            sha256="0" * 64,
            event="drafted",
        )
        sent = dataclasses.replace(drafted, event="sent", message_id=f"<{step}.{number}@bench.example>")
        entries += [drafted, sent]
    return entries


def _write(file: Path, lines: list[str]) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write synthetic dunning books for benchmarks.")
    parser.add_argument("directory", type=Path)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    made = generate(args.directory, args.clients, args.invoices, args.seed)
    print(f"{made.root}: {made.clients} clients, {made.invoices} invoices, {made.journal_lines} journal lines")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
