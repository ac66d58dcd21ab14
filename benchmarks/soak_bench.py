"""`python -m benchmarks soak [NIGHTS] [SEED]`: a year of weekly nights of the GitOps loop, with things going wrong.

Each night, in one real git repository (the example of `relance init`): the user writes invoices and an
importer records payments on main; `relance run --as-of D --commit` drafts on relance/nightly, killed at a
random moment now and then (SIGKILL, then run again, as the next job would) and sometimes started twice at
once; the reviewer withdraws a draft at random and merges the branch most nights (the journal merged with
`merge=union` both ways, since main moved meanwhile); `relance send` on main delivers to an SMTP server on
127.0.0.1, killed at random too, then run again; the user records the letters posted and the calls made.

At the end: every approved email arrived exactly once (by Message-ID), no withdrawn one arrived, no journal
line committed on any night was lost or doubled, and the books files are byte-identical to what the user
and the importer wrote. `make soak` runs 52 nights and prints the counts; tests/test_soak.py runs a few.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from relance_pipeline.books import journal
from relance_pipeline.commands.init import init

FIRST_NIGHT = date(2025, 7, 7)
"""52 Mondays from here stay inside the rate table (2025-S2 and 2026-S1)."""
BRANCH = "relance/nightly"
BOOKS = ("relance.yaml", "ledger", "policies")
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "Soak",
    "GIT_AUTHOR_EMAIL": "soak@example.org",
    "GIT_COMMITTER_NAME": "Soak",
    "GIT_COMMITTER_EMAIL": "soak@example.org",
}
_SEND = """
import os, sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo
from relance_pipeline.commands.send import send
day = date.fromisoformat(sys.argv[2])
now = datetime(day.year, day.month, day.day, 9, 30, tzinfo=ZoneInfo("Europe/Paris"))
report = send(Path(sys.argv[1]), os.environ, today=day, now=now)
sys.exit(report.exit_code)
"""
"""`send` with the night's date (its command line takes the clock's)."""


@dataclass
class Inbox:
    """The SMTP server's side: every message it accepted."""

    received: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = bytes(envelope.original_content or b"")
        self.received.append(str(message_from_bytes(content, policy=policy.default)["Message-ID"]))
        return "250 OK"


@dataclass
class Counts:
    nights: int = 0
    runs: int = 0
    sends: int = 0
    kills_of_run: int = 0
    kills_of_send: int = 0
    settled_by_hand: int = 0
    """Emails a killed send left `unknown` (handed over, answer not journaled), settled as the user would."""
    concurrent_runs: int = 0
    busy_answers: int = 0
    merges: int = 0
    withdrawn: int = 0
    payments: int = 0
    invoices_written: int = 0
    approved: int = 0
    messages: int = 0
    duplicates: int = 0
    lost_lines: int = 0
    doubled_lines: int = 0
    approved_not_arrived: int = 0
    unapproved_arrived: int = 0
    books_changed: int = 0
    seconds: float = 0.0

    def lines(self) -> list[str]:
        return [
            f"{name}: {value:.1f}" if isinstance(value, float) else f"{name}: {value}"
            for name, value in vars(self).items()
        ]


class Soak:
    def __init__(self, root: Path, seed: int) -> None:
        self.root = root
        self.random = random.Random(seed)
        self.counts = Counts()
        self.books: dict[str, bytes] = {}
        """What the user and the importer wrote, file by file: the books must end exactly so."""
        self.committed_lines: Counter[str] = Counter()
        self.next_invoice = 1
        self.inbox = Inbox()
        self.environ: dict[str, str] = {}

    # --- the parts of a night ---------------------------------------------------------------------------------

    def night(self, day: date) -> None:
        self.counts.nights += 1
        self.git("switch", "--quiet", "main")
        self.user_writes(day)
        self.git("switch", "--quiet", BRANCH)
        self.git("merge", "--quiet", "--no-edit", "main")  # the branch takes in main's journal (union)
        self.run(day)
        self.note_journal()
        merged = self.random.random() < 0.8
        if merged:
            self.review()
            self.git("switch", "--quiet", "main")
            self.git("merge", "--quiet", "--no-ff", "--no-edit", "-m", f"merge the drafts of {day}", BRANCH)
            self.counts.merges += 1
        else:
            self.git("switch", "--quiet", "main")
        self.send(day)
        self.user_records(day)
        self.note_journal()

    def user_writes(self, day: date) -> None:
        """On main: a new invoice or two, and now and then a payment the importer records."""
        clients = sorted(p.stem for p in (self.root / "ledger/clients").glob("*.yaml"))
        for _ in range(self.random.randint(1, 2)):
            number = f"S-{self.next_invoice:04d}"
            self.next_invoice += 1
            client = self.random.choice(clients)
            issued = day - timedelta(days=self.random.randint(20, 45))
            text = (
                f"number: {number}\nclient: {client}\nissued: {issued}\ndue: {issued + timedelta(days=30)}\n"
                f'total: "{self.random.randint(3, 90) * 40}.00"\n'
            )
            self.write(f"ledger/invoices/soak/{number}.yaml", text.encode())
            self.counts.invoices_written += 1
        self.pay(day)
        self.git("add", "--all", "--", "ledger")
        self.git("commit", "--quiet", "-m", f"books of {day}")

    def pay(self, day: date) -> None:
        unpaid = [
            p for p in sorted((self.root / "ledger/invoices/soak").glob("*.yaml")) if b"payments" not in p.read_bytes()
        ]
        if not unpaid or self.random.random() < 0.5:
            return
        invoice = self.random.choice(unpaid)
        total = next(line for line in invoice.read_text().splitlines() if line.startswith("total:")).split('"')[1]
        done = self.relance("record", "paid", invoice.stem, "--amount", total, "--date", day.isoformat())
        assert done.returncode == 0, done.stdout + done.stderr
        self.books[invoice.relative_to(self.root).as_posix()] = invoice.read_bytes()
        self.counts.payments += 1

    def run(self, day: date) -> None:
        args = ["run", "--as-of", day.isoformat(), "--commit"]
        if self.random.random() < 0.15:
            first, second = self.start(*args), self.start(*args)
            outputs = [process.communicate(timeout=120)[0] for process in (first, second)]
            self.counts.concurrent_runs += 1
            busy = [b"another relance process" in output for output in outputs]
            self.counts.busy_answers += sum(busy)
            # At most one of them drafts; the other, if it overlapped, says so and does nothing.
            assert not all(busy) and all(b"Traceback" not in output for output in outputs), outputs
        elif self.random.random() < 0.5:
            self.counts.kills_of_run += self.kill_after(self.start(*args), self.random.uniform(0.05, 2.0))
        self.finish(args)
        self.counts.runs += 1

    def review(self) -> None:
        """The reviewer deletes one of the night's new drafts now and then (withdrawn at the next send)."""
        fresh = self.git("diff", "--name-only", "--diff-filter=A", "main", BRANCH, "--", "outbox").split()
        drafts = [f for f in fresh if f != journal.JOURNAL_FILE and not f.endswith(".png") and "/print-" not in f]
        if drafts and self.random.random() < 0.3:
            self.git("rm", "--quiet", self.random.choice(drafts))
            self.git("commit", "--quiet", "-m", "review: withdrawn")
            self.counts.withdrawn += 1

    def send(self, day: date) -> None:
        command = [sys.executable, "-c", _SEND, str(self.root), day.isoformat()]
        if self.random.random() < 0.5:
            self.counts.kills_of_send += self.kill_after(self.popen(command), self.random.uniform(0.05, 1.2))
        self.send_clean(day)

    def send_clean(self, day: date) -> None:
        command = [sys.executable, "-c", _SEND, str(self.root), day.isoformat()]
        done = subprocess.run(command, capture_output=True, env=self.env(), timeout=120, check=False)
        assert b"Traceback" not in done.stderr, done.stderr.decode()
        self.counts.sends += 1
        self.commit_outbox(f"relance send {day}")

    def user_records(self, day: date) -> None:
        """The user posts every letter and makes every call waiting, and says so; and settles each email a killed
        send left `unknown`: sent if it is in the server's mailbox (the user's sent folder), else failed."""
        from relance_pipeline.core.pending import pending

        for draft in pending(journal.read_journal(self.root)[0]):
            if draft.unknown is None:
                continue
            verb = "sent" if draft.unknown.message_id in self.inbox.received else "failed"
            e = draft.entry
            done = self.relance("record", verb, "--client", e.client, "--step", e.step, "--date", day.isoformat())
            assert done.returncode == 0, done.stdout + done.stderr
            self.counts.settled_by_hand += 1
        open_drafts = self.open_drafts()
        for channel, verb in (("letter", "posted"), ("phone", "called")):
            for client, step in sorted({(e.client, e.step) for e in open_drafts if e.channel == channel}):
                done = self.relance("record", verb, "--client", client, "--step", step, "--date", day.isoformat())
                assert done.returncode == 0, done.stdout + done.stderr
        self.commit_outbox(f"recorded by hand {day}")

    # --- what must hold -------------------------------------------------------------------------------------

    def note_journal(self) -> None:
        """Every line the journal holds tonight must still be there at the end, once."""
        lines = Counter(self.journal_lines())
        for line, times in lines.items():
            self.committed_lines[line] = max(self.committed_lines[line], times)

    def check(self) -> None:
        final = Counter(self.journal_lines())
        self.counts.lost_lines = sum((self.committed_lines - final).values())
        self.counts.doubled_lines = sum(times - 1 for times in final.values() if times > 1)
        entries, problems = journal.read_journal(self.root)
        assert problems == [], problems
        sent = {e.message_id for e in entries if e.event == "sent" and e.channel == "email"}
        withdrawn = {e.file for e in entries if e.event == "withdrawn"}
        approved = {e.file for e in entries if e.event == "drafted" and e.channel == "email"} - withdrawn
        delivered = Counter(self.inbox.received)
        self.counts.messages = len(self.inbox.received)
        self.counts.duplicates = sum(times - 1 for times in delivered.values())
        self.counts.unapproved_arrived = len(set(delivered) - sent)
        closed = {e.file for e in entries if e.event == "sent"}
        self.counts.approved = len(approved)
        self.counts.approved_not_arrived = len(approved - closed)
        for rel, content in self.books.items():
            if (self.root / rel).read_bytes() != content:
                self.counts.books_changed += 1

    # --- helpers --------------------------------------------------------------------------------------------

    def open_drafts(self) -> list[Any]:
        from relance_pipeline.core.pending import pending

        return [d.entry for d in pending(journal.read_journal(self.root)[0])]

    def journal_lines(self) -> list[str]:
        file = self.root / journal.JOURNAL_FILE
        return file.read_text(encoding="utf-8").splitlines() if file.is_file() else []

    def write(self, rel: str, content: bytes) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        self.books[rel] = content

    def commit_outbox(self, message: str) -> None:
        self.git("add", "--all", "--", "outbox")
        if self.git("diff", "--cached", "--name-only").strip():
            self.git("commit", "--quiet", "-m", message)

    def finish(self, args: list[str]) -> None:
        done = self.relance(*args)
        assert done.returncode in (0, 1) and "Traceback" not in done.stderr, done.stdout + done.stderr

    def kill_after(self, process: subprocess.Popen[bytes], seconds: float) -> int:
        """SIGKILL the process if it still runs after `seconds`; 1 if it was killed, 0 if it had finished."""
        try:
            process.communicate(timeout=seconds)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.communicate()
            return 1
        return 0

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        return self.popen([self.command(), "--repo", str(self.root), *args])

    def popen(self, command: list[str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=self.env())

    def relance(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [self.command(), "--repo", str(self.root), *args]
        return subprocess.run(command, capture_output=True, text=True, env=self.env(), timeout=120, check=False)

    def command(self) -> str:
        return str(Path(sys.executable).with_name("relance"))

    def env(self) -> dict[str, str]:
        return {**os.environ, **_GIT_ENV, **self.environ}

    def git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=self.root, capture_output=True, text=True, env=self.env(), check=False
        )
        assert done.returncode == 0, f"git {' '.join(args)}: {done.stdout}{done.stderr}"
        return done.stdout


def soak(nights: int, seed: int, where: Path) -> Counts:
    """Run the loop `nights` weeks in a new repository under `where`; the counts say what happened."""
    started = time.monotonic()
    root = where / "books"
    init(root)
    soak = Soak(root, seed)
    for rel in (p for name in BOOKS for p in [root / name, *sorted((root / name).rglob("*"))] if p.is_file()):
        soak.books[rel.relative_to(root).as_posix()] = rel.read_bytes()
    soak.git("add", "--all")
    soak.git("commit", "--quiet", "-m", "books")
    soak.git("branch", BRANCH)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(soak.inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        soak.environ = {"RELANCE_SMTP_HOST": "127.0.0.1", "RELANCE_SMTP_PORT": str(port), "RELANCE_SMTP_TIMEOUT": "5"}
        for week in range(nights):
            soak.night(FIRST_NIGHT + timedelta(weeks=week))
        # A last send with nothing killed: whatever was approved and is still open goes now.
        soak.git("switch", "--quiet", "main")
        soak.send_clean(FIRST_NIGHT + timedelta(weeks=nights - 1))
    finally:
        controller.stop()
    soak.check()
    soak.counts.seconds = time.monotonic() - started
    return soak.counts


def main(argv: list[str]) -> int:
    nights = int(argv[0]) if argv else 52
    seed = int(argv[1]) if len(argv) > 1 else 18
    with tempfile.TemporaryDirectory(prefix="relance-soak-") as folder:
        counts = soak(nights, seed, Path(folder))
    print("\n".join(counts.lines()))
    failures = counts.duplicates + counts.lost_lines + counts.doubled_lines + counts.books_changed
    return 1 if failures or counts.approved_not_arrived or counts.unapproved_arrived else 0
