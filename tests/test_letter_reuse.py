"""A letter sent on the day it was drafted, from its words as drafted, is its preview: `send` takes the bytes the
night printed instead of printing them again, and prints anew whenever anything it is made from changed (the
day, the words, the stylesheet, a file it uses) or the preview is not the one the night wrote."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from loop_support import Mailbox, approve, smtp_server
from pypdf import PdfReader

from relance_pipeline.books import journal
from relance_pipeline.commands.run import run
from relance_pipeline.commands.send import SendReport, send
from relance_pipeline.render.letter import LetterPrinter

DRAFTED = date(2026, 6, 15)
LETTER = f"outbox/{DRAFTED.isoformat()}/nordwind/relance-1"


@pytest.fixture
def drafted_letter(example_repo: Path) -> Path:
    """The example books with a letter at every step, and the night of DRAFTED drafted and merged: nordwind's
    first reminder goes by letter and email."""
    policy = example_repo / "policies" / "standard.yaml"
    policy.write_text(
        re.sub(r"channels: \[[^\]]*\]", "channels: [letter, email]", policy.read_text(encoding="utf-8")),
        encoding="utf-8",
    )
    approve(example_repo, "a letter at every step")
    result = run(example_repo, DRAFTED, jobs=1)
    assert not result.failed, [str(p) for p in result.problems]
    assert (example_repo / f"{LETTER}.preview.pdf").is_file()
    approve(example_repo, "reviewed and merged")
    return example_repo


@pytest.fixture
def printed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The letters the printer made in this process (the real printer, counted)."""
    made: list[str] = []
    real = LetterPrinter.pdf

    def counted(self: LetterPrinter, page: str, template: str) -> bytes:
        made.append(template)
        return real(self, page, template)

    monkeypatch.setattr(LetterPrinter, "pdf", counted)
    return made


def send_on(root: Path, day: date) -> SendReport:
    with smtp_server(Mailbox()) as environ:
        report = send(
            root, environ, today=day, now=datetime.combine(day, datetime.min.time(), ZoneInfo("Europe/Paris"))
        )
    assert report.problems == [], [str(p) for p in report.problems]
    return report


def preview_of(root: Path) -> bytes:
    return (root / f"{LETTER}.preview.pdf").read_bytes()


def letter_of(root: Path) -> bytes:
    return (root / f"{LETTER}.pdf").read_bytes()


def test_the_drafting_line_names_the_preview_and_what_it_was_printed_from(drafted_letter: Path) -> None:
    entries, _ = journal.read_journal(drafted_letter)
    (letter,) = [e for e in entries if e.channel == "letter" and e.client == "nordwind"]
    assert letter.preview_sha256 == hashlib.sha256(preview_of(drafted_letter)).hexdigest()
    assert letter.preview_key is not None and len(letter.preview_key) == 64
    (email,) = [e for e in entries if e.channel == "email" and e.client == "nordwind"]
    assert (email.preview_sha256, email.preview_key) == (None, None)


def test_a_letter_sent_on_its_drafting_day_from_its_words_as_drafted_is_its_preview_not_printed_again(
    drafted_letter: Path, printed: list[str]
) -> None:
    report = send_on(drafted_letter, DRAFTED)
    assert f"{LETTER}.letter.txt" in [d.file for d in report.to_post]
    assert letter_of(drafted_letter) == preview_of(drafted_letter)
    assert printed == []


@pytest.fixture
def encoded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The QR codes encoded in this process (the real encoder, counted)."""
    import segno.helpers

    from relance_pipeline.render import qr

    qr._png.cache_clear()
    made: list[str] = []
    real = segno.helpers.make_epc_qr

    def counted(**fields: Any) -> Any:
        made.append(str(fields["name"]))
        return real(**fields)

    monkeypatch.setattr(segno.helpers, "make_epc_qr", counted)
    return made


def test_a_letter_taken_from_its_preview_does_not_encode_its_qr_code_again(
    drafted_letter: Path, encoded: list[str]
) -> None:
    send_on(drafted_letter, DRAFTED)
    assert letter_of(drafted_letter) == preview_of(drafted_letter)
    assert encoded == []


def test_a_letter_printed_anew_encodes_its_qr_code_once(drafted_letter: Path, encoded: list[str]) -> None:
    report = send_on(drafted_letter, date(2026, 6, 16))
    letters = [d for d in report.to_post if d.file.endswith(".letter.txt")]
    assert len(encoded) == len(letters) > 0


def test_a_letter_sent_a_day_later_is_printed_anew_with_that_days_date(
    drafted_letter: Path, printed: list[str]
) -> None:
    report = send_on(drafted_letter, date(2026, 6, 16))
    assert len(printed) == len(report.to_post) > 0
    text = PdfReader(drafted_letter / f"{LETTER}.pdf").pages[0].extract_text()
    assert "16 June 2026" in text and letter_of(drafted_letter) != preview_of(drafted_letter)


def test_a_preview_changed_after_the_night_is_not_taken_for_the_letter(
    drafted_letter: Path, printed: list[str]
) -> None:
    genuine = preview_of(drafted_letter)
    (drafted_letter / f"{LETTER}.preview.pdf").write_bytes(genuine + b"%% changed after the night\n")
    approve(drafted_letter, "someone edits the preview")
    send_on(drafted_letter, DRAFTED)
    assert len(printed) == 1 and letter_of(drafted_letter) == genuine


def test_a_stylesheet_changed_between_the_night_and_the_send_prints_the_letter_anew(
    drafted_letter: Path, printed: list[str]
) -> None:
    css = drafted_letter / "templates" / "_base" / "letter.css"
    css.parent.mkdir(parents=True, exist_ok=True)
    packaged = Path(__file__).parent.parent / "relance_pipeline" / "templates" / "_base" / "letter.css"
    css.write_text(packaged.read_text(encoding="utf-8") + "\nbody { color: #202020; }\n", encoding="utf-8")
    approve(drafted_letter, "a darker text")
    report = send_on(drafted_letter, DRAFTED)
    assert len(printed) == len(report.to_post) > 0 and letter_of(drafted_letter) != preview_of(drafted_letter)


def test_edited_words_print_the_letter_anew(drafted_letter: Path, printed: list[str]) -> None:
    words = drafted_letter / f"{LETTER}.letter.txt"
    text = words.read_text(encoding="utf-8")
    first = next(line for line in text.splitlines()[2:] if line.strip() and "\u27e6" not in line)
    words.write_text(text.replace(first, first + " Thank you."), encoding="utf-8")
    approve(drafted_letter, "review: a word added")
    send_on(drafted_letter, DRAFTED)
    assert len(printed) == 1
    assert "Thank you." in PdfReader(drafted_letter / f"{LETTER}.pdf").pages[0].extract_text()
