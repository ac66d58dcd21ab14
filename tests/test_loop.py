"""The GitOps loop end to end, in real git repositories: a bare "remote", the nightly branch, a review, a
merge, and `relance send` on fresh clones of main against a real SMTP server on 127.0.0.1."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from click.testing import CliRunner
from loop_support import Mailbox, add_draft, events, git, smtp_server

from relance_pipeline.books.journal import JOURNAL_FILE
from relance_pipeline.cli.main import main
from relance_pipeline.ship.git import commit_outbox

BRANCH = "relance/nightly"


def origin_with_books(example_repo: Path, tmp_path: Path) -> Path:
    """A bare remote holding the example books on main (the user's fork)."""
    git(example_repo, "add", "--all")
    git(example_repo, "commit", "--quiet", "-m", "books")
    remote = tmp_path / "origin.git"
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(remote))
    git(example_repo, "remote", "add", "origin", str(remote))
    git(example_repo, "push", "--quiet", "origin", "main")
    return remote


def clone(remote: Path, where: Path, branch: str = "main") -> Path:
    git(where.parent, "clone", "--quiet", "--branch", branch, str(remote), str(where))
    return where


def nightly(remote: Path, tmp_path: Path, drafts: dict[str, str]) -> list[str]:
    """What nightly.yml does, with the words relance drafts for each client at its step (nordwind's letter
    step: its email, then its letter), committed on the branch."""
    job = clone(remote, tmp_path / "nightly")
    git(job, "switch", "--quiet", "-c", BRANCH)
    files = [add_draft(job, client, step, commit=False) for client, step in drafts.items()]
    files.append(add_draft(job, "nordwind", "lettre", channel="letter", commit=False))
    sha = commit_outbox(job, [*files, JOURNAL_FILE], "relance 2026-06-15: drafts\n\nRelance-As-Of: 2026-06-15\n")
    assert isinstance(sha, str)
    git(job, "push", "--quiet", "origin", BRANCH)
    return files


def review_and_merge(remote: Path, tmp_path: Path, withdraw: str, edit: str) -> None:
    """A reviewer deletes one draft, rewords another, and merges the pull request into main."""
    reviewer = clone(remote, tmp_path / "review", BRANCH)
    git(reviewer, "rm", "--quiet", withdraw)
    draft = reviewer / edit
    draft.write_bytes(draft.read_bytes().replace(b"Dear Mr Jansen,", b"Un rappel courtois pour Mr Jansen,"))
    git(reviewer, "commit", "--quiet", "-am", "review: withdraw one, soften another")
    git(reviewer, "switch", "--quiet", "main")
    git(reviewer, "merge", "--quiet", "--no-ff", "-m", "Merge the nightly pull request", BRANCH)
    git(reviewer, "push", "--quiet", "origin", "main")


def send_job(remote: Path, where: Path, environ: dict[str, str]) -> tuple[int, str]:
    """What send.yml does on a fresh checkout of main: send, then commit and push the journal."""
    job = clone(remote, where)
    result = CliRunner().invoke(main, ["--repo", str(job), "send", "--as-of", "2026-06-16"], env=environ)
    git(job, "add", "--all", "--", "outbox")
    if git(job, "diff", "--cached", "--name-only").strip():
        git(job, "commit", "--quiet", "-m", "relance send: journal [skip ci]")
        git(job, "push", "--quiet", "origin", "HEAD:main")
    return result.exit_code, result.output


def drafts_for(*clients: str) -> dict[str, str]:
    """Each client's step: a first reminder, nordwind's letter step (one document set per client)."""
    return {client: "lettre" if client == "nordwind" else "relance-1" for client in clients}


def test_merged_drafts_reach_the_server_once_and_the_removed_one_never(example_repo: Path, tmp_path: Path) -> None:
    remote = origin_with_books(example_repo, tmp_path)
    kept, withdrawn, edited, letter = nightly(
        remote, tmp_path, drafts_for("atelier-ferrand", "lucie-martin", "nordwind")
    )
    review_and_merge(remote, tmp_path, withdraw=withdrawn, edit=edited)
    mailbox = Mailbox()
    with smtp_server(mailbox) as environ:
        first = send_job(remote, tmp_path / "send-1", environ)
        second = send_job(remote, tmp_path / "send-2", environ)
    assert first[0] == 0, first[1]
    assert f"withdrawn {withdrawn}: removed in review" in first[1]
    # The second job finds nothing to send; only the letter still waits to be posted.
    assert second[0] == 0
    assert second[1].splitlines()[1:] == [f"  {letter}  →  relance record posted --client nordwind --step lettre"]
    assert second[1].startswith("letters to post (print outbox/")
    assert sorted(m.recipients[0] for m in mailbox.received) == [
        "accounts@nordwind.example",
        "compta@atelier-ferrand.fr",
    ]
    to_nordwind = next(m.data for m in mailbox.received if "nordwind" in m.recipients[0])
    message = message_from_bytes(to_nordwind, policy=policy.default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and "Un rappel courtois pour" in str(body.get_content())
    on_main = clone(remote, tmp_path / "main-after")
    assert sorted(e for e in events(on_main) if e[0] != "drafted") == sorted(
        [("sent", kept), ("sent", edited), ("withdrawn", withdrawn)]
    )
    assert git(on_main, "log", "-1", "--format=%s").strip() == "relance send: journal [skip ci]"


def test_a_server_failing_halfway_loses_nothing_and_duplicates_nothing_across_runs(
    example_repo: Path, tmp_path: Path
) -> None:
    remote = origin_with_books(example_repo, tmp_path)
    files = nightly(remote, tmp_path, drafts_for("atelier-ferrand", "lucie-martin", "nordwind"))
    git(clone(remote, tmp_path / "merge"), "merge", "--quiet", f"origin/{BRANCH}")
    git(tmp_path / "merge", "push", "--quiet", "origin", "main")
    mailbox = Mailbox(fail_on={2})
    with smtp_server(mailbox) as environ:
        failing = send_job(remote, tmp_path / "send-1", environ)
        retry = send_job(remote, tmp_path / "send-2", environ)
        idle = send_job(remote, tmp_path / "send-3", environ)
    assert failing[0] == 1 and f"failed {files[1]}: 451" in failing[1]
    assert retry[0] == 0 and f"sent {files[1]}" in retry[1]
    assert "sent " not in idle[1]
    identifiers = [m.message_id for m in mailbox.received]
    assert len(identifiers) == 3 == len(set(identifiers))
    journal = events(clone(remote, tmp_path / "main-after"))
    assert [e for e in journal if e[0] == "sent"] == [("sent", files[0]), ("sent", files[2]), ("sent", files[1])]


def test_the_nightly_branch_takes_in_the_journal_of_main_without_conflict(example_repo: Path, tmp_path: Path) -> None:
    remote = origin_with_books(example_repo, tmp_path)
    first = nightly(remote, tmp_path, drafts_for("nordwind"))
    git(clone(remote, tmp_path / "merge"), "merge", "--quiet", f"origin/{BRANCH}")
    git(tmp_path / "merge", "push", "--quiet", "origin", "main")
    # The next night's drafts wait on the branch while main records the first send.
    branch = clone(remote, tmp_path / "branch", BRANCH)
    second = add_draft(branch, "lucie-martin", "relance-1", commit=False)
    assert isinstance(commit_outbox(branch, [second, JOURNAL_FILE], "relance 2026-06-22: drafts"), str)
    with smtp_server(Mailbox()) as environ:
        assert send_job(remote, tmp_path / "send", environ)[0] == 0
    git(branch, "pull", "--quiet", "--no-rebase", "--no-edit", "origin", "main")
    assert ("sent", first[0]) in events(branch) and ("drafted", second) in events(branch)
    assert "<<<<<<<" not in (branch / JOURNAL_FILE).read_text()
