"""relance run: the plan rendered into outbox/ with one journal line per document, idempotent and deterministic."""

from __future__ import annotations

import hashlib
import subprocess
from datetime import date
from pathlib import Path

from click.testing import CliRunner
from planbooks import deliver_open

from relance_pipeline.books import journal
from relance_pipeline.cli.main import main
from relance_pipeline.commands.run import run
from relance_pipeline.outbox.lock import repository_lock

FIRST_NIGHT = date(2026, 2, 23)
SECOND_NIGHT = date(2026, 3, 9)


def outbox_files(root: Path) -> dict[str, bytes]:
    folder = root / "outbox"
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def commit_books(root: Path) -> None:
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "books")


def test_a_run_writes_each_document_of_the_plan_and_journals_it_with_its_hash(example_repo: Path) -> None:
    result = run(example_repo, FIRST_NIGHT)
    assert not result.failed
    assert [(d.action.client.id, d.action.step.id) for d in result.drafted] == [
        ("atelier-ferrand", "relance-1"),
        ("lucie-martin", "relance-1"),
    ]
    entries, problems = journal.read_journal(example_repo)
    assert problems == []
    assert [(e.file, e.event, e.channel) for e in entries] == [
        ("outbox/2026-02-23/atelier-ferrand/relance-1.email.txt", "drafted", "email"),
        ("outbox/2026-02-23/lucie-martin/relance-1.email.txt", "drafted", "email"),
    ]
    for entry in entries:
        content = (example_repo / entry.file).read_bytes()
        assert hashlib.sha256(content).hexdigest() == entry.sha256
        # The words a reviewer reads: UTF-8 text, the subject first, no headers nor transfer encoding.
        subject = content.decode("utf-8").split("\n\n")[0]
        assert entry.invoices[0] in subject and "Message-ID" not in content.decode("utf-8")
        assert entry.message_id is None  # given when the email is made, at send
    assert entries[0].invoices == ("F-2026-003",)


def test_running_twice_for_the_same_date_changes_nothing(example_repo: Path) -> None:
    run(example_repo, FIRST_NIGHT)
    before = outbox_files(example_repo)
    again = run(example_repo, FIRST_NIGHT)
    assert again.drafted == ()
    assert outbox_files(example_repo) == before


def test_a_later_date_only_adds_what_became_due(example_repo: Path) -> None:
    run(example_repo, FIRST_NIGHT)
    deliver_open(example_repo, FIRST_NIGHT)
    before = outbox_files(example_repo)
    later = run(example_repo, SECOND_NIGHT)
    after = outbox_files(example_repo)
    assert {k: v for k, v in after.items() if k in before and k != journal.JOURNAL_FILE} == {
        k: v for k, v in before.items() if k != journal.JOURNAL_FILE
    }
    assert after[journal.JOURNAL_FILE].startswith(before[journal.JOURNAL_FILE])
    assert sorted(set(after) - set(before)) == [
        "outbox/2026-03-09/atelier-ferrand/relance-2.email.txt",
        "outbox/2026-03-09/lucie-martin/relance-2.email.txt",
        "outbox/2026-03-09/nordwind/relance-1.email.txt",
    ]
    assert len(later.drafted) == 3


def test_the_same_books_give_byte_identical_outboxes(tmp_path: Path, example_repo: Path) -> None:
    from relance_pipeline.commands.init import init

    other = tmp_path / "other"
    init(other)
    for night in (FIRST_NIGHT, SECOND_NIGHT, date(2026, 5, 4), date(2026, 5, 11)):
        run(example_repo, night)
        run(other, night)
        deliver_open(example_repo, night)
        deliver_open(other, night)
    files = outbox_files(example_repo)
    assert any(name.endswith(".pdf") for name in files)
    assert files == outbox_files(other)


def test_commit_records_the_run_in_one_commit_and_none_when_nothing_is_due(example_repo: Path) -> None:
    commit_books(example_repo)
    result = run(example_repo, FIRST_NIGHT, commit=True)
    assert result.commit is not None
    assert git(example_repo, "rev-parse", "HEAD").strip() == result.commit
    changed = git(example_repo, "show", "--name-only", "--format=", "HEAD").split()
    assert sorted(changed) == [
        "outbox/2026-02-23/atelier-ferrand/relance-1.email.txt",
        "outbox/2026-02-23/lucie-martin/relance-1.email.txt",
        "outbox/journal.jsonl",
    ]
    assert git(example_repo, "status", "--porcelain") == ""
    nothing = run(example_repo, FIRST_NIGHT, commit=True)
    assert nothing.commit is None
    assert git(example_repo, "rev-parse", "HEAD").strip() == result.commit


def test_a_document_failing_the_legal_lint_is_not_drafted_and_the_run_fails(example_repo: Path, write) -> None:  # type: ignore[no-untyped-def]
    builtin = Path(__file__).parents[1] / "relance_pipeline/templates/relance-1/email.fr.txt"
    text = builtin.read_text(encoding="utf-8").replace(
        "{% block message %}", "{% block message %}\nÀ défaut, nous vous adresserons un commandement de payer.\n"
    )
    write(example_repo, "templates/relance-1/email.fr.txt", text)
    outcome = CliRunner().invoke(main, ["--repo", str(example_repo), "run", "--as-of", "2026-02-23"])
    assert outcome.exit_code == 1
    assert "templates/relance-1/email.fr.txt:" in outcome.output
    assert "commandement de payer" in outcome.output
    assert not (example_repo / "outbox/2026-02-23").exists()
    entries, _ = journal.read_journal(example_repo)
    assert entries == []


def test_files_a_person_put_in_the_outbox_are_reported_and_kept_never_removed(example_repo: Path) -> None:
    run(example_repo, FIRST_NIGHT)
    commit_books(example_repo)
    committed_extra = example_repo / "outbox/2026-02-23/atelier-ferrand/relance-2.email.txt"
    committed_extra.write_bytes(b"kept: git tracks it")
    commit_books(example_repo)
    note = example_repo / "outbox/2026-02-23/nordwind/my-custom-note.eml"
    note.parent.mkdir(parents=True, exist_ok=True)
    note.write_bytes(b"my own words")
    sheet = example_repo / "outbox/2026-03-02/nordwind/relance-perso.call.md"
    sheet.parent.mkdir(parents=True)
    sheet.write_bytes(b"call them myself")
    with (example_repo / journal.JOURNAL_FILE).open("a") as handle:
        handle.write('{"date": "2026-03-0')
    result = run(example_repo, date(2026, 3, 2))
    assert not result.failed, result.problems
    assert note.read_bytes() == b"my own words" and sheet.read_bytes() == b"call them myself"
    assert committed_extra.exists()
    assert result.cleaned == ("outbox/journal.jsonl: partial last line",)
    assert result.kept == (
        "outbox/2026-02-23/nordwind/my-custom-note.eml",
        "outbox/2026-03-02/nordwind/relance-perso.call.md",
    )
    outcome = CliRunner().invoke(main, ["--repo", str(example_repo), "run", "--as-of", "2026-03-02"])
    assert "left as it is (relance did not write it): outbox/2026-03-02/nordwind/relance-perso.call.md" in (
        outcome.output
    )


def test_a_file_a_person_put_where_a_draft_goes_is_never_written_over(example_repo: Path) -> None:
    mine = example_repo / "outbox/2026-02-23/lucie-martin/relance-1.email.txt"
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"my own words")
    result = run(example_repo, FIRST_NIGHT)
    assert mine.read_bytes() == b"my own words"
    assert result.failed
    assert [str(p) for p in result.problems if p.path == "outbox/2026-02-23/lucie-martin/relance-1.email.txt"] == [
        "outbox/2026-02-23/lucie-martin/relance-1.email.txt: is already there and relance did not write it: "
        "move it away, then run again"
    ]
    assert "lucie-martin" not in {entry.client for entry in journal.read_journal(example_repo)[0]}
    assert {d.action.client.id for d in result.drafted} == {"atelier-ferrand"}


def test_a_run_while_another_holds_the_repository_stops_with_a_clear_message(example_repo: Path) -> None:
    with repository_lock(example_repo):
        outcome = CliRunner().invoke(main, ["--repo", str(example_repo), "run", "--as-of", "2026-02-23"])
    assert outcome.exit_code == 1
    assert "another relance process" in outcome.output
    assert not (example_repo / "outbox/2026-02-23").exists()


def test_letters_get_a_png_preview_when_the_settings_ask_for_it(example_repo: Path) -> None:
    config = example_repo / "relance.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "previews: true\n", encoding="utf-8")
    for night in (FIRST_NIGHT, SECOND_NIGHT, date(2026, 3, 16), date(2026, 3, 23), date(2026, 4, 6)):
        result = run(example_repo, night)
        assert not result.failed, result.problems
        deliver_open(example_repo, night)
    letters = sorted(p for p in (example_repo / "outbox").rglob("*.pdf"))
    assert letters
    for letter in letters:
        assert letter.with_suffix(".png").read_bytes().startswith(b"\x89PNG")


def test_books_with_errors_draft_nothing(example_repo: Path, write) -> None:  # type: ignore[no-untyped-def]
    write(example_repo, "ledger/invoices/2026/F-2026-099.yaml", "number: F-2026-099\nclient: nobody\n")
    outcome = CliRunner().invoke(main, ["--repo", str(example_repo), "run", "--as-of", "2026-02-23"])
    assert outcome.exit_code == 1
    assert "ledger/invoices/2026/F-2026-099.yaml:1:" in outcome.output
    assert not (example_repo / "outbox/2026-02-23").exists()


def test_the_commit_summary_lists_the_clients_held_back_for_a_missing_rate(example_repo: Path) -> None:
    # 2026-07-15 is past the table's end (2026-S1): the business clients' penalties need 2026-S2, the
    # consumer's first reminder does not, so hers is drafted and the others are named in the summary.
    commit_books(example_repo)
    result = run(example_repo, date(2026, 7, 15), commit=True)
    assert result.plan is not None and result.commit is not None, result.problems
    assert [a.client.id for a in result.plan.actions] == ["lucie-martin"]
    message = git(example_repo, "log", "-1", "--format=%B")
    held = message.split("### Held back: a rate is missing\n\n```text\n", 1)[1].split("\n```", 1)[0].splitlines()
    assert held == sorted(str(p) for p in result.plan.held_back)
    assert all(line.startswith("policies/rates.yaml: warning: no rates for 2026-S2") for line in held)
    assert any("F-2026-004" in line and "client nordwind is held back" in line for line in held)


def test_the_summary_line_gives_what_the_document_asks_a_first_reminder_the_balance_without_charges(
    example_repo: Path,
) -> None:
    result = CliRunner().invoke(main, ["--repo", str(example_repo), "run", "--as-of", "2026-04-13"])
    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.output.splitlines() if line.startswith("drafted nordwind relance-1 ")]
    assert "(F-2026-004; asks 3600.00)" in line  # its total due with penalties and the 40 € would be 3691.53
    words = (example_repo / "outbox/2026-04-13/nordwind/relance-1.email.txt").read_text(encoding="utf-8")
    assert "\u27e6€3,600.00\u27e7" in words
