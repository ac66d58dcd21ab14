"""A journal line once committed is never taken away: a revert, a hand edit or a merge that took one side's file is
an error in `relance validate` and stops `relance send`, naming the commit and how to put the lines back."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from click.testing import CliRunner, Result
from loop_support import Mailbox, add_draft, approve, events, git, smtp_server

from relance_pipeline.books import journal
from relance_pipeline.cli.main import main
from relance_pipeline.commands.send import send
from relance_pipeline.commands.validate import validate
from relance_pipeline.model import Problem
from relance_pipeline.ship.journal_history import CODE, removed_lines

TODAY = date(2026, 6, 16)
NOW = datetime(2026, 6, 16, 9, 30, tzinfo=ZoneInfo("Europe/Paris"))


def relance(root: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["--repo", str(root), *args], env=env, catch_exceptions=False)


def short(root: Path, revision: str = "HEAD") -> str:
    return git(root, "rev-parse", "--short=10", revision).strip()


def branch(root: Path) -> str:
    """The branch checked out, with the example's first commit on it."""
    approve(root, "the example books")
    return git(root, "branch", "--show-current").strip()


def journal_problems(root: Path) -> list[Problem]:
    return [problem for problem in validate(root, TODAY) if problem.code == CODE]


def sent_and_recorded(root: Path, mailbox: Mailbox) -> str:
    """A draft sent through a real server, and the send's journal committed as the send workflow does."""
    file = add_draft(root, "nordwind", "relance-1")
    with smtp_server(mailbox) as environ:
        assert send(root, environ, today=TODAY, now=NOW).exit_code == 0
    approve(root, "relance send: journal of 2026-06-16")
    return file


def test_reverting_the_send_commit_is_an_error_and_the_next_send_sends_nothing(example_repo: Path) -> None:
    mailbox = Mailbox()
    file = sent_and_recorded(example_repo, mailbox)
    git(example_repo, "revert", "--no-edit", "HEAD")
    assert ("sent", file) not in events(example_repo), "the revert took the sent line away"
    revert = short(example_repo)
    shown = relance(example_repo, "validate")
    with smtp_server(mailbox) as environ:
        refused = relance(example_repo, "send", env=environ)
    assert shown.exit_code == 1 and refused.exit_code == 1
    for output in (shown.output, refused.output):
        assert (
            f"{journal.JOURNAL_FILE}: line 2 (sent nordwind relance-1 of 2026-06-16) removed by commit {revert} "
            in output
        )
        assert '"Revert "relance send: journal of 2026-06-16""' in output and f"git revert {revert}" in output
    assert len(mailbox.received) == 1, "nothing was sent again on a journal that lost its sent line"
    git(example_repo, "revert", "--no-edit", revert)  # the fix the message gives
    assert journal_problems(example_repo) == []
    with smtp_server(mailbox) as environ:
        again = relance(example_repo, "send", env=environ)
    assert again.exit_code == 0 and len(mailbox.received) == 1


def test_a_revert_the_union_merge_made_a_no_op_takes_nothing_and_passes(example_repo: Path) -> None:
    mailbox = Mailbox()
    sent_and_recorded(example_repo, mailbox)
    send_commit = short(example_repo)
    add_draft(example_repo, "lucie-martin", "relance-1")  # a later line, right after the send's
    git(example_repo, "revert", "--no-edit", send_commit)
    assert git(example_repo, "diff", f"{send_commit}", "HEAD", "--stat", "--", journal.JOURNAL_FILE).count("-") == 0
    assert journal_problems(example_repo) == []


def test_a_union_merge_of_two_branches_removes_no_line(example_repo: Path) -> None:
    main = branch(example_repo)
    git(example_repo, "switch", "--quiet", "-c", "relance/nightly")
    add_draft(example_repo, "nordwind", "relance-1")
    git(example_repo, "switch", "--quiet", main)
    add_draft(example_repo, "lucie-martin", "relance-1")
    git(example_repo, "merge", "--quiet", "--no-edit", "relance/nightly")
    assert len(git(example_repo, "log", "--merges", "--format=%H").split()) == 1
    assert len(events(example_repo)) == 2, "the union merge kept both sides' lines"
    assert journal_problems(example_repo) == []


def test_a_merge_that_took_one_side_of_the_journal_names_the_merge_and_the_parent_with_the_lines(
    example_repo: Path,
) -> None:
    main = branch(example_repo)
    git(example_repo, "switch", "--quiet", "-c", "relance/nightly")
    add_draft(example_repo, "nordwind", "relance-1")
    side = short(example_repo)
    git(example_repo, "switch", "--quiet", main)
    add_draft(example_repo, "lucie-martin", "relance-1")
    git(example_repo, "merge", "--quiet", "--no-edit", "-s", "ours", "relance/nightly")  # a bad resolution
    (problem,) = journal_problems(example_repo)
    assert (
        f"line 1 (drafted nordwind relance-1 of 2026-06-15) removed by commit {short(example_repo)} " in problem.message
    )
    assert f"git show {side}:{journal.JOURNAL_FILE}" in problem.message


def test_a_hand_edit_removing_a_line_is_named_by_its_number_and_putting_it_back_clears_it(example_repo: Path) -> None:
    for client in ("atelier-ferrand", "nordwind", "lucie-martin"):
        add_draft(example_repo, client, "relance-1")
    file = example_repo / journal.JOURNAL_FILE
    lines = file.read_text("utf-8").splitlines(keepends=True)
    file.write_text(lines[0] + lines[2], "utf-8")
    approve(example_repo, "tidy the journal")
    (problem,) = journal_problems(example_repo)
    assert problem.severity == "error" and problem.path == journal.JOURNAL_FILE
    assert f'line 2 (drafted nordwind relance-1 of 2026-06-15) removed by commit {short(example_repo)} "tidy the' in (
        problem.message
    )
    file.write_text("".join(lines), "utf-8")  # put back in the work tree: what send would read
    assert journal_problems(example_repo) == []


def test_a_garbled_line_mended_by_hand_is_no_loss(example_repo: Path) -> None:
    add_draft(example_repo, "nordwind", "relance-1")
    file = example_repo / journal.JOURNAL_FILE
    good = file.read_text("utf-8")
    file.write_text(good + '{"date": "2026-06-1\n', "utf-8")
    approve(example_repo, "a line cut short")
    file.write_text(good, "utf-8")
    approve(example_repo, "mend the journal")
    assert removed_lines(example_repo) == []


def test_the_check_remembers_where_it_stopped_and_follows_the_branch_checked_out(example_repo: Path) -> None:
    add_draft(example_repo, "nordwind", "relance-1")
    main = branch(example_repo)
    git(example_repo, "switch", "--quiet", "-c", "oops")
    (example_repo / journal.JOURNAL_FILE).write_text("", "utf-8")
    approve(example_repo, "empty the journal")
    assert len(removed_lines(example_repo)) == 1
    store = example_repo / ".git/relance/journal-history.json"
    assert json.loads(store.read_bytes())["tip"] == git(example_repo, "rev-parse", "HEAD").strip()
    git(example_repo, "switch", "--quiet", main)
    assert removed_lines(example_repo) == [], "the commit that emptied it is not on main"
    git(example_repo, "switch", "--quiet", "oops")
    assert len(removed_lines(example_repo)) == 1
    store.write_text('{"format": 1, "tip": "0123456789012345678901234567890123456789", "removals": []}')
    assert len(removed_lines(example_repo)) == 1, "a tip that is gone: the whole history is read again"
