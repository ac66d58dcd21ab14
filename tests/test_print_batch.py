from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from loop_support import add_draft, events, withdraw
from pypdf import PdfReader

from relance_pipeline.commands.send import send
from relance_pipeline.ship.print_batch import batch_path, merge

TODAY = date(2026, 6, 16)
NOW = datetime(2026, 6, 16, 9, 30, tzinfo=ZoneInfo("Europe/Paris"))


def pdf_text(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def letters(root: Path) -> list[str]:
    return [add_draft(root, client, "lettre", channel="letter") for client in ("atelier-ferrand", "nordwind")]


def test_send_lists_the_letters_and_merges_them_into_one_print_batch(example_repo: Path) -> None:
    files = letters(example_repo)
    report = send(example_repo, {}, today=TODAY, now=NOW)
    assert [d.file for d in report.to_post] == files
    assert report.print_batch == "outbox/2026-06-16/print-batch.pdf"
    pages = pdf_text((example_repo / report.print_batch).read_bytes())
    assert len(pages) == 2
    assert "F-2026-007" in pages[0] and "F-2026-004" in pages[1]
    assert report.exit_code == 0
    assert [event for event, _ in events(example_repo)] == ["drafted", "drafted"]


def test_the_print_batch_is_byte_identical_for_the_same_letters(example_repo: Path) -> None:
    documents = [(p, (example_repo / p).read_bytes()) for p in ("documents/F-2026-007.pdf", "documents/F-2026-004.pdf")]
    first, _ = merge(documents)
    second, _ = merge(list(documents))
    assert first is not None and first == second


def test_an_unreadable_letter_is_left_out_of_the_batch_with_a_warning() -> None:
    good = Path(__file__).parent.parent / "documents/F-2026-007.pdf"
    content, problems = merge([("outbox/x/broken.pdf", b"%PDF-1.7 nothing here"), ("good.pdf", good.read_bytes())])
    assert content is not None and len(pdf_text(content)) == 1
    assert [p.path for p in problems] == ["outbox/x/broken.pdf"]


def test_a_letter_deleted_in_review_is_withdrawn_and_not_printed(example_repo: Path) -> None:
    kept, removed = letters(example_repo)
    withdraw(example_repo, removed)
    report = send(example_repo, {}, today=TODAY, now=NOW)
    assert [d.file for d in report.to_post] == [kept]
    assert [e.file for e in report.withdrawn] == [removed]
    assert report.print_batch is not None
    assert len(pdf_text((example_repo / report.print_batch).read_bytes())) == 1


def test_no_letter_waiting_means_no_print_batch(example_repo: Path) -> None:
    report = send(example_repo, {}, today=TODAY, now=NOW)
    assert report.print_batch is None
    assert not (example_repo / batch_path(TODAY)).exists()
