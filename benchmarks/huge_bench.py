"""One client with many invoices: what `run` and `send` cost for it, beside what its books alone cost.

    python -m benchmarks huge [--email-only] [COUNT ...]        (default: 1000 10000 100000)

For each count, a repository whose only overdue client owes COUNT invoices (policy: one step, email and letter;
the email only with --email-only, which spares the letter a count of rows WeasyPrint holds in memory at once),
then, each in its own process: `relance validate` (reading and checking the books: their own memory), `relance
run --as-of 2026-06-15` (the drafts), and, the drafts committed on the default branch, `relance send --as-of
2026-06-16` to an SMTP server on 127.0.0.1 (the email with its statement CSV, the letter, its statement PDF,
the print batch). Printed per command: wall and CPU seconds, peak RSS, and the sizes of what was made.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from importlib import resources
from pathlib import Path

from benchmarks.commands import Timed, commit_all, installed_environment, relance, relance_command, smtp_sink, timed

NIGHT, SEND_DAY = "2026-06-15", "2026-06-16"
POLICY = """description: One reminder, by email and by letter.
min_interval_days: 7
penalty_rate: b2b_default
steps:
  - id: relance-1
    after_days: 7
    channels: [{channels}]
    template: relance-1
    deadline_days: 10
"""
CLIENT = """name: Megacorp SA
kind: business
email: ap@megacorp.example
address: [Megacorp SA, 1 avenue de la Grande Armée, 75017 Paris]
language: fr
relationship: new
policy: courrier
"""


def books(root: Path, count: int, channels: str = "letter, email") -> None:
    example = Path(str(resources.files("relance_pipeline").joinpath("scaffold")))
    root.mkdir(parents=True)
    shutil.copyfile(example / "relance.yaml", root / "relance.yaml")
    (root / "policies").mkdir()
    for name in ("rates.yaml", "standard.yaml"):
        shutil.copyfile(example / "policies" / name, root / "policies" / name)
    (root / "policies" / "courrier.yaml").write_text(POLICY.format(channels=channels), encoding="utf-8")
    (root / "ledger" / "clients").mkdir(parents=True)
    (root / "ledger" / "clients" / "megacorp.yaml").write_text(CLIENT, encoding="utf-8")
    folder = root / "ledger" / "invoices"
    folder.mkdir()
    for index in range(1, count + 1):
        day = index % 28 + 1
        (folder / f"M-{index:06d}.yaml").write_text(
            f"number: M-{index:06d}\nclient: megacorp\nissued: 2026-03-{day:02d}\ndue: 2026-04-{day:02d}\n"
            f'total: "{100 + index % 9000}.00"\n',
            encoding="utf-8",
        )
    (root / "outbox").mkdir()


def _size(files: list[Path]) -> str:
    return ", ".join(f"{f.name} {f.stat().st_size / 1_048_576:.2f} MiB" for f in files if f.is_file())


def _row(name: str, timed: Timed, made: str = "") -> str:
    return f"  {name:<9} {timed.wall:7.1f} s wall {timed.cpu:7.1f} s CPU {timed.peak_mib:7.0f} MiB  {made}"


def measure(count: int, scratch: Path, channels: str) -> list[str]:
    root = scratch / f"books-{count}"
    books(root, count, channels)
    commit_all(root, "books")
    validate = relance(root, "validate")
    run = relance(root, "run", "--as-of", NIGHT)
    longest = max((len(line) for line in run.output.splitlines()), default=0)
    commit_all(root, "drafts, as merged")
    with smtp_sink() as environ:
        # Exit 1 is a refused email (larger than the server takes): measured too, and said.
        environment = installed_environment(root.parent / "pycache", environ)
        command = [*relance_command(), "--repo", str(root), "send", "--as-of", SEND_DAY]
        send = timed(command, root, environment, accept=(0, 1))
    refused = [line for line in send.output.splitlines() if "larger than" in line or line.startswith("failed")]
    folder = root / "outbox" / NIGHT / "megacorp"
    return [
        f"{count} invoices of one client ({channels}):",
        _row("validate", validate),
        _row("run", run, f"longest line printed: {longest} chars; {_size(sorted(folder.glob('*.preview.pdf')))}"),
        _row("send", send, _size([folder / f"relance-1{suffix}" for suffix in (".eml", ".pdf", ".statement.pdf")])),
        *(f"            {line[:200]}" for line in refused),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks huge", description=__doc__)
    parser.add_argument("--email-only", action="store_true", help="the policy's step sends an email only")
    parser.add_argument("counts", nargs="*", type=int, default=[1000, 10000, 100000])
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="relance-huge-") as scratch:
        for count in options.counts:
            channels = "email" if options.email_only else "letter, email"
            print("\n".join(measure(count, Path(scratch), channels)), flush=True)
    return 0
