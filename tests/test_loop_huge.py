"""The GitOps loop for a client with more invoices than a document lists: `relance run --commit` on the nightly
branch of a bare remote, a merge, `relance send` against a real SMTP server on 127.0.0.1, `record posted`."""

from __future__ import annotations

import csv
import io
import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner
from loop_support import Mailbox, git, smtp_server
from pypdf import PdfReader
from render_support import plain
from test_loop import BRANCH, clone, origin_with_books

from relance_pipeline.books import journal
from relance_pipeline.cli.main import main
from relance_pipeline.render.lines import LISTED_LIMIT

COUNT = LISTED_LIMIT + 25
NIGHT, SEND_DAY = "2026-06-15", "2026-06-16"
POLICY = """description: One reminder, by email and by letter.
min_interval_days: 7
penalty_rate: b2b_default
steps:
  - id: relance-1
    after_days: 7
    channels: [letter, email]
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


def with_a_huge_client(root: Path, count: int = COUNT) -> None:
    (root / "policies" / "courrier.yaml").write_text(POLICY, encoding="utf-8")
    (root / "ledger" / "clients" / "megacorp.yaml").write_text(CLIENT, encoding="utf-8")
    folder = root / "ledger" / "invoices" / "mega"
    folder.mkdir(parents=True)
    for index in range(1, count + 1):
        invoice = (
            f"number: M-{index:04d}\nclient: megacorp\nissued: 2026-04-{index % 28 + 1:02d}\n"
            f'due: 2026-05-{index % 28 + 1:02d}\ntotal: "{100 + index}.00"\n'
        )
        (folder / f"M-{index:04d}.yaml").write_text(invoice, encoding="utf-8")


def relance(root: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--repo", str(root), *args], env=env)
    return result.exit_code, result.output


def nightly_run(remote: Path, tmp_path: Path) -> tuple[Path, str]:
    """nightly.yml: `relance run --commit` on the nightly branch, pushed; returns the clone and run's output."""
    night = clone(remote, tmp_path / "nightly")
    git(night, "switch", "--quiet", "-c", BRANCH)
    code, output = relance(night, "run", "--as-of", NIGHT, "--commit")
    assert code == 0, output
    git(night, "push", "--quiet", "origin", BRANCH)
    return night, output


def merge(remote: Path, where: Path) -> Path:
    merger = clone(remote, where)
    git(merger, "merge", "--quiet", f"origin/{BRANCH}")
    git(merger, "push", "--quiet", "origin", "main")
    return merger


def test_a_huge_client_gets_a_bounded_email_with_its_csv_and_a_letter_followed_by_its_statement(
    example_repo: Path, tmp_path: Path
) -> None:
    with_a_huge_client(example_repo)
    remote = origin_with_books(example_repo, tmp_path)
    _, output = nightly_run(remote, tmp_path)
    (summary,) = [line for line in output.splitlines() if line.startswith("drafted megacorp")]
    assert "M-0001, M-0002, M-0003, M-0004, M-0005 +40;" in summary and len(summary) < 300
    merge(remote, tmp_path / "merge")

    mailbox = Mailbox()
    sender = clone(remote, tmp_path / "send")
    with smtp_server(mailbox) as environ:
        code, output = relance(sender, "send", "--as-of", SEND_DAY, env=environ)
    assert code == 0, output
    (received,) = [m for m in mailbox.received if m.recipients == ["ap@megacorp.example"]]
    message = message_from_bytes(received.data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    text = message.get_body(preferencelist=("plain",))
    assert isinstance(text, EmailMessage)
    words = plain(str(text.get_content()))
    assert f"les {COUNT} factures détaillées dans le relevé de compte joint n’ont pas encore été réglées" in words
    assert "… et 25 autres factures (voir le relevé de compte joint)" in words
    attached = {part.get_filename(): part for part in message.iter_attachments()}
    statement = attached[f"releve-de-compte-megacorp-{SEND_DAY}.csv"]
    rows = list(csv.reader(io.StringIO(statement.get_content().lstrip("\ufeff")), delimiter=";"))
    assert sorted(row[0] for row in rows[1:-1]) == [f"M-{i:04d}" for i in range(1, COUNT + 1)]
    assert "relance-1-2026-06-16.pdf" in attached  # the letter, as posted

    folder = sender / "outbox" / NIGHT / "megacorp"
    letter, enclosed = (PdfReader(folder / name) for name in ("relance-1.pdf", "relance-1.statement.pdf"))
    batch = PdfReader(sender / "outbox" / SEND_DAY / "print-batch.pdf")
    texts = [page.extract_text() for page in batch.pages]
    first = next(i for i, t in enumerate(texts) if "Megacorp" in t and "Objet" in t)
    assert len(batch.pages) >= len(letter.pages) + len(enclosed.pages)
    assert "Relevé de compte" in texts[first + len(letter.pages)]  # the statement right after its letter
    listed = set(re.findall(r"M-\d{4}", " ".join(texts[first + len(letter.pages) :])))
    assert len(listed) == COUNT

    code, output = relance(sender, "record", "posted", "--client", "megacorp", "--step", "relance-1")
    assert code == 0, output
    posted = [e for e in journal.read_journal(sender)[0] if e.event == "posted"]
    assert [(e.document, e.statement) for e in posted] == [
        (f"outbox/{NIGHT}/megacorp/relance-1.pdf", f"outbox/{NIGHT}/megacorp/relance-1.statement.pdf")
    ]


def test_an_edited_draft_that_falls_under_the_cap_before_sending_is_withdrawn_not_sent_with_false_words(
    example_repo: Path, tmp_path: Path
) -> None:
    with_a_huge_client(example_repo, LISTED_LIMIT + 1)
    remote = origin_with_books(example_repo, tmp_path)
    nightly_run(remote, tmp_path)
    reviewer = clone(remote, tmp_path / "review", BRANCH)
    words = reviewer / "outbox" / NIGHT / "megacorp" / "relance-1.email.txt"
    edited = words.read_text(encoding="utf-8").replace("Madame, Monsieur,", "Bonjour,")
    assert edited != words.read_text(encoding="utf-8")
    words.write_text(edited, encoding="utf-8")
    git(reviewer, "commit", "--quiet", "-am", "review: a warmer greeting")
    git(reviewer, "push", "--quiet", "origin", BRANCH)
    main_branch = merge(remote, tmp_path / "merge")
    # Paid the day after drafting: 20 invoices left, which the document lists without a statement.
    code, output = relance(main_branch, "record", "paid", "M-0001", "--amount", "101.00", "--date", SEND_DAY)
    assert code == 0, output
    git(main_branch, "commit", "--quiet", "-am", "books: M-0001 paid")
    git(main_branch, "push", "--quiet", "origin", "main")

    mailbox = Mailbox()
    sender = clone(remote, tmp_path / "send")
    with smtp_server(mailbox) as environ:
        code, output = relance(sender, "send", "--as-of", SEND_DAY, env=environ)
    assert not [m for m in mailbox.received if m.recipients == ["ap@megacorp.example"]]
    withdrawn = [e for e in journal.read_journal(sender)[0] if e.event == "withdrawn" and e.client == "megacorp"]
    assert [(e.channel, "edited in review" in (e.note or "")) for e in withdrawn] == [("email", True)], output
    letter = PdfReader(sender / "outbox" / NIGHT / "megacorp" / "relance-1.pdf")
    text = plain(" ".join(page.extract_text() for page in letter.pages))
    assert "relevé de compte" not in text and "M-0001" not in text  # the words of the day: 20 invoices, listed
    assert not (sender / "outbox" / NIGHT / "megacorp" / "relance-1.statement.pdf").exists()


def test_a_posted_line_naming_a_statement_outside_the_outbox_is_refused() -> None:
    record = {
        "date": "2026-06-20",
        "client": "megacorp",
        "step": "relance-1",
        "channel": "letter",
        "invoices": ["M-0001"],
        "file": f"outbox/{NIGHT}/megacorp/relance-1.letter.txt",
        "sha256": "0" * 64,
        "event": "posted",
        "document": f"outbox/{NIGHT}/megacorp/relance-1.pdf",
        "document_sha256": "1" * 64,
    }
    entry = journal.from_record({**record, "statement": f"outbox/{NIGHT}/megacorp/relance-1.statement.pdf"})
    assert entry.statement == f"outbox/{NIGHT}/megacorp/relance-1.statement.pdf"
    with pytest.raises(ValueError, match="not a path inside outbox/"):
        journal.from_record({**record, "statement": "../relance.yaml"})
