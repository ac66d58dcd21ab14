"""Drafts are words a reviewer reads and edits; `send` makes the email and the letter from them on its own day.

Real repositories (relance init), real drafts (the words relance drafts), a real SMTP server on 127.0.0.1;
what counts is what the client received.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

from click.testing import CliRunner
from loop_support import (
    EMAILS,
    Mailbox,
    add_draft,
    approve,
    drafted_action,
    drafted_words,
    events,
    smtp_server,
    withdraw,
)

from relance_pipeline.books import journal
from relance_pipeline.cli.main import main
from relance_pipeline.commands.send import SendReport, send
from relance_pipeline.render import letter_words, words
from relance_pipeline.render.formatting import money

DRAFTED = date(2026, 6, 15)
ALSO_POSTED = "Please find attached the reminder letter, which is also sent to you by post."


def run_send(root: Path, day: date) -> tuple[SendReport, Mailbox]:
    mailbox = Mailbox()
    with smtp_server(mailbox) as environ:
        report = send(
            root, environ, today=day, now=datetime.combine(day, datetime.min.time(), ZoneInfo("Europe/Paris"))
        )
    return report, mailbox


def message(data: bytes) -> EmailMessage:
    parsed = message_from_bytes(data, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def text_of(data: bytes) -> str:
    body = message(data).get_body(preferencelist=("plain",))
    assert body is not None
    return " ".join(str(body.get_content()).split())


def attachment_names(data: bytes) -> list[str]:
    return sorted(str(part.get_filename()) for part in message(data).iter_attachments())


def edit(root: Path, rel: str, old: str, new: str) -> str:
    """A reviewer's edit of a words file, merged; returns the words as edited."""
    text = (root / rel).read_text(encoding="utf-8")
    assert old in text
    edited = text.replace(old, new)
    (root / rel).write_text(edited, encoding="utf-8")
    approve(root, "review: edited")
    return edited


def validate(root: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--repo", str(root), "validate"])
    return result.exit_code, result.output


def test_a_words_file_reads_back_to_the_same_bytes_and_a_web_editors_line_ends_are_forgiven(
    example_repo: Path,
) -> None:
    raw = drafted_words(example_repo, "nordwind", "lettre", channel="email").decode("utf-8")
    parsed = words.parse(raw)
    assert parsed.text() == raw
    assert words.parse(raw.replace("\n", "  \r\n")).text() == raw
    assert parsed.subject == "Reminder: invoice F-2026-004 unpaid"
    assert words.marker("table", "en") in parsed.paragraphs()
    # The computed values are slots; what the client reads is the words without their brackets.
    assert "⟦€3,767.03⟧" in raw and "€3,767.03" in words.plain(raw)
    assert words.OPEN not in words.plain(raw) and words.CLOSE not in words.plain(raw)


def test_a_letter_paragraph_keeps_its_bold_and_line_breaks_and_a_reviewers_markup_stays_text() -> None:
    paragraph = "Please pay **⟦€10.00⟧** now,\nby transfer <script>x</script>"
    html = letter_words.to_html(paragraph)
    assert "<script>" not in html and "<strong>⟦€10.00⟧</strong>" in html
    assert letter_words.from_page(f"<main>{html}</main>") == [paragraph]


def test_an_edit_is_kept_and_its_amounts_and_deadline_are_those_of_a_late_sending_day(example_repo: Path) -> None:
    add_draft(example_repo, "nordwind", "lettre", channel="letter")
    rel = add_draft(example_repo, "nordwind", "lettre")
    edit(example_repo, rel, "Dear Mr Jansen,", "Dear Mr Jansen, a friendly word first.")
    late = date(2026, 6, 22)
    report, mailbox = run_send(example_repo, late)
    assert [e.file for e in report.sent] == [rel], report.problems
    (received,) = mailbox.received
    text = text_of(received.data)
    assert "a friendly word first." in text
    due_then = drafted_action(example_repo, "nordwind", "lettre", DRAFTED).total_due
    due_late = drafted_action(example_repo, "nordwind", "lettre", late).total_due
    assert due_late > due_then  # the interest ran a week longer
    assert money(due_late, "en") in text and money(due_then, "en") not in text
    assert "by 2 July 2026" in text and "25 June 2026" not in text  # 10 days from the day it went out
    assert message(received.data)["Date"].datetime.date() == late
    assert report.sent[0].note == "edited in review"
    assert report.sent[0].document == rel.replace(".email.txt", ".eml")
    assert (example_repo / str(report.sent[0].document)).is_file()


def test_an_amount_typed_by_hand_between_the_brackets_is_refused_at_its_line(example_repo: Path) -> None:
    rel = add_draft(example_repo, "nordwind", "lettre")
    edited = edit(example_repo, rel, "⟦€3,767.03⟧", "⟦€3,000.00⟧")
    line = next(n for n, text in enumerate(edited.splitlines(), start=1) if "⟦€3,000.00⟧" in text)
    code, output = validate(example_repo)
    assert code == 1 and f"{rel}:{line}: ⟦€3,000.00⟧ is not a value relance drafted here" in output, output
    report, mailbox = run_send(example_repo, date(2026, 6, 16))
    assert mailbox.received == [] and report.exit_code == 1 and report.withdrawn == []
    assert [(p.path, p.line) for p in report.problems] == [(rel, line)]
    assert report.problems[0].message.endswith("; not sent")
    assert events(example_repo) == [("drafted", rel)]  # it waits for the fix


def test_a_letter_withdrawn_in_review_is_neither_attached_nor_mentioned(example_repo: Path) -> None:
    letter = add_draft(example_repo, "nordwind", "lettre", channel="letter")
    email = add_draft(example_repo, "nordwind", "lettre")
    assert ALSO_POSTED in (example_repo / email).read_text(encoding="utf-8")  # as drafted, with its letter
    withdraw(example_repo, letter)
    report, mailbox = run_send(example_repo, date(2026, 6, 16))
    assert [e.file for e in report.sent] == [email] and [e.file for e in report.withdrawn] == [letter]
    (received,) = mailbox.received
    assert "by post" not in text_of(received.data) and "letter" not in text_of(received.data)
    assert attachment_names(received.data) == ["F-2026-004.pdf"]  # the invoice copy, no letter
    assert report.to_post == [] and report.print_batch is None


def test_an_edited_email_that_still_speaks_of_its_withdrawn_letter_is_withdrawn(example_repo: Path) -> None:
    letter = add_draft(example_repo, "nordwind", "lettre", channel="letter")
    email = add_draft(example_repo, "nordwind", "lettre")
    edit(example_repo, email, "Dear Mr Jansen,", "Hello Mr Jansen,")
    withdraw(example_repo, letter)
    code, output = validate(example_repo)
    assert code == 1 and f"{email}: still speaks of the letter withdrawn in review" in output, output
    report, mailbox = run_send(example_repo, date(2026, 6, 16))
    assert mailbox.received == []
    notes = {e.file: e.note for e in report.withdrawn}
    assert notes[letter] == "removed in review"
    assert f"'{ALSO_POSTED}'" in str(notes[email]) and "to be drafted again" in str(notes[email])


def pay(root: Path, number: str, day: date, amount: str) -> None:
    invoice = root / f"ledger/invoices/2026/{number}.yaml"
    invoice.write_text(invoice.read_text() + f'payments:\n  - {{date: {day.isoformat()}, amount: "{amount}"}}\n')
    approve(root, "books: a payment came in")


def test_an_unedited_draft_goes_with_the_invoices_still_owed_on_the_day_of_sending(example_repo: Path) -> None:
    rel = add_draft(example_repo, "atelier-ferrand", "relance-1")
    pay(example_repo, "F-2026-007", date(2026, 6, 16), "1200.00")
    report, mailbox = run_send(example_repo, date(2026, 6, 17))
    assert [e.file for e in report.sent] == [rel], report.problems
    (received,) = mailbox.received
    assert "F-2026-003" in str(message(received.data)["Subject"]) and "F-2026-007" not in text_of(received.data)
    assert attachment_names(received.data) == ["F-2026-003.pdf"]
    assert received.recipients == [EMAILS["atelier-ferrand"]]


def test_an_edited_draft_whose_invoices_were_paid_since_is_withdrawn_to_be_drafted_again(example_repo: Path) -> None:
    rel = add_draft(example_repo, "atelier-ferrand", "relance-1")
    edit(example_repo, rel, "Bonjour Mme Ferrand,", "Chère Madame Ferrand,")
    pay(example_repo, "F-2026-007", date(2026, 6, 16), "1200.00")
    report, mailbox = run_send(example_repo, date(2026, 6, 17))
    assert mailbox.received == [] and report.sent == []
    (withdrawn,) = report.withdrawn
    assert withdrawn.file == rel and "changed shape since it was drafted" in str(withdrawn.note)
    assert events(example_repo) == [("drafted", rel), ("withdrawn", rel)]


def test_validate_reports_a_reviewed_draft_that_lost_a_mandatory_mention_and_send_refuses_it(
    example_repo: Path,
) -> None:
    rel = add_draft(example_repo, "nordwind", "relance-1")
    edit(example_repo, rel, "If you have already paid this invoice, please disregard this message.\n\n", "")
    code, output = validate(example_repo)
    assert code == 1
    assert f"{rel}: missing the line for clients who already paid" in output, output
    report, mailbox = run_send(example_repo, date(2026, 6, 16))
    assert mailbox.received == [] and report.exit_code == 1
    assert [p.path for p in report.problems] == [rel] and "not sent" in report.problems[0].message


def test_validate_finds_forbidden_wording_a_reviewer_added_at_its_line(example_repo: Path) -> None:
    rel = add_draft(example_repo, "lucie-martin", "relance-1")
    edited = edit(example_repo, rel, "Madame,\n", "Madame,\n\nSans réponse, je saisirai un huissier.\n")
    code, output = validate(example_repo)
    line = next(n for n, text in enumerate(edited.splitlines(), start=1) if "huissier" in text)
    assert code == 1 and f"{rel}:{line}: forbidden wording 'huissier'" in output, output


def test_validate_says_nothing_of_words_left_as_drafted(example_repo: Path) -> None:
    add_draft(example_repo, "nordwind", "lettre", channel="letter")
    add_draft(example_repo, "nordwind", "lettre")
    code, output = validate(example_repo)
    assert code == 0, output


def test_a_draft_merged_after_stale_after_days_is_withdrawn_and_the_next_night_drafts_it_again(
    example_repo: Path,
) -> None:
    config = example_repo / "relance.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "stale_after_days: 7\n", encoding="utf-8")
    rel = add_draft(example_repo, "nordwind", "relance-1")
    on_time, mailbox = run_send(example_repo, date(2026, 6, 22))  # 7 days: still fresh
    assert [e.file for e in on_time.sent] == [rel] and len(mailbox.received) == 1
    late = add_draft(example_repo, "lucie-martin", "relance-1")
    report, mailbox = run_send(example_repo, date(2026, 6, 23))  # 8 days
    assert mailbox.received == [] and report.sent == []
    assert [(e.file, e.note) for e in report.withdrawn] == [
        (late, "stale: drafted 8 days ago, more than stale_after_days (7); to be drafted again")
    ]
    # The plan drafts a withdrawn draft again, fresh, once the policy's interval has passed.
    again = CliRunner().invoke(main, ["--repo", str(example_repo), "run", "--as-of", "2026-06-30"])
    assert again.exit_code == 0, again.output
    assert "drafted lucie-martin relance-1" in again.output and "outbox/2026-06-30/lucie-martin/" in again.output


def test_a_letter_already_made_is_not_stale_while_it_waits_to_be_posted(example_repo: Path) -> None:
    letter = add_draft(example_repo, "nordwind", "lettre", channel="letter")
    first, _ = run_send(example_repo, date(2026, 6, 16))
    assert [d.file for d in first.to_post] == [letter]
    later, _ = run_send(example_repo, date(2026, 7, 20))
    assert later.withdrawn == [] and [d.file for d in later.to_post] == [letter]


OLD_LAYOUT = """{% import "_base/words." ~ language ~ ".txt" as words with context %}
<!DOCTYPE html>
<html lang="{{ language }}"><head><meta charset="utf-8"><title>{% block subject %}{% endblock %}</title></head>
<body><main>
<p class="greeting">{% block greeting %}{{ words.letter_greeting() }}{% endblock %}</p>
{% block message %}{% endblock %}
{{ invoice_table }}
{% block after_table %}{% endblock %}
{% block disregard %}<p>{% include "_base/disregard." ~ language ~ ".txt" %}</p>{% endblock %}
{% block close %}{% endblock %}
<p class="closing">{% block closing %}{{ words.letter_closing() }}{% endblock %}</p>
</main></body></html>
"""
"""A user's copy of _base/letter.html as it was before drafts were words: its blocks, no `letter_words`."""


def test_a_copy_of_the_letter_layout_older_than_words_is_named_by_validate_and_run_not_silently_used(
    example_repo: Path,
) -> None:
    layout = example_repo / "templates/_base/letter.html"
    layout.parent.mkdir(parents=True)
    layout.write_text(OLD_LAYOUT, encoding="utf-8")
    expected = "templates/_base/letter.html: has no place for the reviewed words (no `letter_words` branch"
    code, output = validate(example_repo)
    assert code == 1 and expected in output, output
    letter = add_draft(example_repo, "nordwind", "lettre", channel="letter")
    report, _ = run_send(example_repo, date(2026, 6, 16))
    assert report.exit_code == 1 and expected in [str(p)[: len(expected)] for p in report.problems]
    assert not (example_repo / letter.replace(".letter.txt", ".pdf")).exists() and report.print_batch is None


def test_a_client_gets_one_document_set_per_send_and_the_next_waits_for_the_next_send(example_repo: Path) -> None:
    first = add_draft(example_repo, "nordwind", "relance-1")
    second = add_draft(example_repo, "nordwind", "relance-2", day=date(2026, 6, 16))
    report, mailbox = run_send(example_repo, date(2026, 6, 17))
    assert [e.file for e in report.sent] == [first] and len(mailbox.received) == 1
    assert [(p.path, p.severity) for p in report.problems] == [(second, "warning")]
    assert "waits for the next send: nordwind already gets outbox/2026-06-15/nordwind/relance-1" in str(
        report.problems[0]
    )
    following, mailbox = run_send(example_repo, date(2026, 6, 18))
    assert [e.file for e in following.sent] == [second] and following.problems == []


def test_a_letter_recorded_posted_names_the_pdf_send_made(example_repo: Path) -> None:
    letter = add_draft(example_repo, "nordwind", "lettre", channel="letter")
    run_send(example_repo, date(2026, 6, 16))
    pdf = example_repo / letter.replace(".letter.txt", ".pdf")
    assert pdf.is_file()
    recorded = CliRunner().invoke(
        main,
        [
            "--repo",
            str(example_repo),
            "record",
            "posted",
            "--client",
            "nordwind",
            "--step",
            "lettre",
            "--date",
            "2026-06-17",
        ],
    )
    assert recorded.exit_code == 0, recorded.output
    posted = journal.read_journal(example_repo)[0][-1]
    assert (posted.event, posted.document) == ("posted", letter.replace(".letter.txt", ".pdf"))
    assert posted.document_sha256 == hashlib.sha256(pdf.read_bytes()).hexdigest()
