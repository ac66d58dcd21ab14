from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from loop_support import git

from relance_pipeline.core.history import history
from relance_pipeline.model import Action, Amounts, Client, Invoice, JournalEntry, Plan, Policy, Problem, Step
from relance_pipeline.outbox.write import Drafted, write_action
from relance_pipeline.render.renderer import RenderedDocument
from relance_pipeline.ship.git import FALLBACK_EMAIL, commit_outbox, commit_run
from relance_pipeline.ship.summary import summary

AS_OF = date(2026, 6, 15)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "books"
    root.mkdir()
    git(root, "init", "--quiet", "--initial-branch=main")
    (root / "relance.yaml").write_text("creditor: {}\n")
    git(root, "add", "relance.yaml")
    git(root, "commit", "--quiet", "-m", "books")
    return root


def write(root: Path, rel: str, text: str) -> str:
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(text)
    return rel


def test_commit_outbox_commits_exactly_the_given_paths_and_returns_the_sha(repo: Path) -> None:
    drafted = [write(repo, "outbox/2026-06-15/acme/relance-1.eml", "mail"), write(repo, "outbox/journal.jsonl", "{}\n")]
    write(repo, "notes.txt", "staged by the user")
    git(repo, "add", "notes.txt")
    write(repo, "relance.yaml", "changed, not staged\n")
    sha = commit_outbox(repo, drafted, "relance 2026-06-15: 1 document for 1 client\n\n# heading kept\n")
    assert isinstance(sha, str) and sha == git(repo, "rev-parse", "HEAD").strip()
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == sorted(drafted)
    assert git(repo, "diff", "--cached", "--name-only").split() == ["notes.txt"]
    assert git(repo, "diff", "--name-only").split() == ["relance.yaml"]
    assert git(repo, "log", "-1", "--format=%B").strip().endswith("# heading kept")


def test_commit_outbox_accepts_absolute_paths_inside_the_repository(repo: Path) -> None:
    rel = write(repo, "outbox/journal.jsonl", "{}\n")
    assert isinstance(commit_outbox(repo, [repo / rel], "journal"), str)


def test_nothing_changed_means_no_commit(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    assert commit_outbox(repo, ["relance.yaml"], "nothing") is None
    assert commit_outbox(repo, [], "nothing") is None
    assert git(repo, "rev-parse", "HEAD") == head


def test_the_first_commit_of_a_new_repository_works(tmp_path: Path) -> None:
    git(tmp_path, "init", "--quiet")
    rel = write(tmp_path, "outbox/journal.jsonl", "{}\n")
    assert isinstance(commit_outbox(tmp_path, [rel], "first"), str)
    assert git(tmp_path, "log", "--format=%s").strip() == "first"


def test_a_folder_that_is_not_a_git_repository_is_a_problem(tmp_path: Path) -> None:
    outcome = commit_outbox(tmp_path, ["outbox/journal.jsonl"], "x")
    assert isinstance(outcome, Problem)
    assert outcome.message == "is not a git repository; run `git init` there first"


def test_a_failing_git_is_a_problem_with_its_words(repo: Path) -> None:
    hook = repo / ".git/hooks/pre-commit"
    hook.write_text("#!/bin/sh\necho 'the hook says no' >&2\nexit 1\n")
    hook.chmod(0o755)
    outcome = commit_outbox(repo, [write(repo, "outbox/journal.jsonl", "{}\n")], "x")
    assert isinstance(outcome, Problem)
    assert "`git commit` failed" in outcome.message and "the hook says no" in outcome.message


def test_a_repository_without_identity_commits_as_relance(repo: Path, tmp_path: Path) -> None:
    rel = write(repo, "outbox/journal.jsonl", "{}\n")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    clean.update(HOME=str(tmp_path), GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    script = (
        "import sys; from pathlib import Path; from relance_pipeline.ship.git import commit_outbox;"
        "print(commit_outbox(Path(sys.argv[1]), [sys.argv[2]], 'x'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(repo), rel],
        capture_output=True,
        text=True,
        env={**clean, "PATH": os.environ["PATH"]},
        check=True,
    )
    assert len(done.stdout.strip()) == 40, done.stdout + done.stderr
    assert git(repo, "log", "-1", "--format=%ae").strip() == FALLBACK_EMAIL


STANDARD = Policy(
    id="standard",
    steps=(
        Step("relance-1", 7, ("email",), "relance-1"),
        Step("lettre", 40, ("letter", "email"), "lettre", deadline_days=10),
    ),
    min_interval_days=7,
    source="policies/standard.yaml",
)


def client(client_id: str, name: str) -> Client:
    return Client(
        client_id, name, "business", f"compta@{client_id}.fr", ("1 rue",), "fr", f"ledger/clients/{client_id}.yaml"
    )


def amounts(number: str, client_id: str, outstanding: str, charges: str) -> Amounts:
    invoice = Invoice(number, client_id, date(2026, 3, 1), date(2026, 4, 1), Decimal(outstanding), f"{number}.yaml")
    return Amounts(invoice, 75, Decimal(outstanding), Decimal(charges), "penalties", Decimal("40.00"))


def drafted(client_id: str, step: str, *extensions: str) -> list[JournalEntry]:
    return [
        JournalEntry(
            AS_OF, client_id, step, "email", (), f"outbox/2026-06-15/{client_id}/{step}.{ext}", "0" * 64, "drafted"
        )
        for ext in extensions
    ]


ACTIONS = [
    Action(client("zeta", "Zeta | SARL"), STANDARD, STANDARD.steps[0], (amounts("F-9", "zeta", "100", "0.5"),), None),
    Action(
        client("acme", "ACME *SAS*"),
        STANDARD,
        STANDARD.steps[1],
        (amounts("F-2", "acme", "1200.00", "12.345"), amounts("F-1", "acme", "300", "1.2")),
        date(2026, 6, 25),
    ),
]
ENTRIES = drafted("acme", "lettre", "letter.txt", "email.txt") + drafted("zeta", "relance-1", "email.txt")


def test_the_summary_has_a_table_per_client_with_amounts_in_two_decimals() -> None:
    text = summary(AS_OF, ACTIONS, ENTRIES).body
    acme = text.index("### ACME \\*SAS\\* (`acme`)")
    zeta = text.index("### Zeta \\| SARL (`zeta`)")
    assert acme < zeta
    assert "| lettre (2/2) | letter, email | F-1 | 2026-04-01 | 75 | 300.00 | 1.20 | 40.00 | 341.20 |" in text
    assert "| lettre (2/2) | letter, email | F-2 | 2026-04-01 | 75 | 1200.00 | 12.35 | 40.00 | 1252.35 |" in text
    assert "| lettre (2/2) | | **total** | | | 1500.00 | 13.55 | 80.00 | **1593.55** |" in text
    assert text.index("| F-1 |") < text.index("| F-2 |")
    assert "Total asked: 1693.55 €" in text


def test_a_first_reminder_row_shows_the_balance_it_asks_for_not_the_charges_it_does_not_claim() -> None:
    # zeta's relance-1 asks for the 100.00 balance: its 0.50 of penalties and the 40.00 are not in its words.
    text = summary(AS_OF, ACTIONS, ENTRIES).body
    assert "| relance-1 (1/2) | email | F-9 | 2026-04-01 | 75 | 100.00 | – | – | 100.00 |" in text
    assert "140.50" not in text


def test_the_summary_links_each_file_and_the_letters_preview_under_its_client_relative_to_the_repository() -> None:
    previews = ["outbox/2026-06-15/acme/lettre.preview.pdf", "outbox/2026-06-15/acme/lettre.preview.png"]
    text = summary(AS_OF, ACTIONS, ENTRIES, previews=previews).body
    acme, zeta = text.split("### Zeta")
    assert (
        "Files: [lettre.email.txt](outbox/2026-06-15/acme/lettre.email.txt)"
        " · [lettre.letter.txt](outbox/2026-06-15/acme/lettre.letter.txt)"
        " · [lettre.preview.pdf](outbox/2026-06-15/acme/lettre.preview.pdf)"
    ) in acme
    assert "![first page of lettre.preview](outbox/2026-06-15/acme/lettre.preview.png)" in acme
    assert "](outbox/2026-06-15/acme/lettre.preview.pdf)" not in acme.replace("[lettre.preview.pdf]", "")  # no image
    assert "[relance-1.email.txt](outbox/2026-06-15/zeta/relance-1.email.txt)" in zeta
    assert text.startswith("### ACME") and summary(AS_OF, ACTIONS, ENTRIES).title.startswith("relance 2026-06-15: 3 ")


def test_the_commit_message_ends_with_trailers_git_can_read(repo: Path) -> None:
    result = summary(AS_OF, ACTIONS, ENTRIES)
    assert result.title == "relance 2026-06-15: 3 documents for 2 clients"
    rel = write(repo, "outbox/journal.jsonl", "{}\n")
    assert isinstance(commit_outbox(repo, [rel], result.commit_message), str)
    trailers = git(repo, "log", "-1", "--format=%(trailers:only,unfold)").strip().splitlines()
    assert trailers == [
        "Relance-As-Of: 2026-06-15",
        "Relance-Drafted: 3",
        "Relance-Clients: 2",
        "Relance-Total-Due: 1693.55",
    ]
    assert git(repo, "log", "-1", "--format=%s").strip() == result.title
    assert "| F-1 |" in git(repo, "log", "-1", "--format=%b")


def test_the_markdown_form_starts_with_the_title_as_a_heading() -> None:
    result = summary(AS_OF, ACTIONS, ENTRIES)
    assert result.markdown.startswith("## relance 2026-06-15: 3 documents for 2 clients\n\n### ACME")


def test_a_run_with_nothing_due_says_so() -> None:
    result = summary(AS_OF, [], [])
    assert result.title == "relance 2026-06-15: 0 documents for 0 clients"
    assert result.body == "Nothing was due.\n\nTotal asked: 0.00 €"


def test_commit_run_commits_the_documents_previews_and_journal_of_a_run_in_one_commit(repo: Path) -> None:
    plan = Plan(AS_OF, tuple(ACTIONS))
    written = [
        write_action(
            repo,
            plan,
            ACTIONS[1],
            [RenderedDocument("letter", "lettre.letter.txt", b"words")],
            [("lettre.preview.pdf", b"%PDF"), ("lettre.preview.png", b"png")],
        ),
        write_action(repo, plan, ACTIONS[0], [RenderedDocument("email", "relance-1.email.txt", b"mail")]),
    ]
    drafted = [each for each in written if isinstance(each, Drafted)]
    assert len(drafted) == 2, written
    sha = commit_run(repo, AS_OF, drafted)
    assert isinstance(sha, str)
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == [
        "outbox/2026-06-15/acme/lettre.letter.txt",
        "outbox/2026-06-15/acme/lettre.preview.pdf",
        "outbox/2026-06-15/acme/lettre.preview.png",
        "outbox/2026-06-15/zeta/relance-1.email.txt",
        "outbox/journal.jsonl",
    ]
    message = git(repo, "log", "-1", "--format=%B")
    assert message.startswith("relance 2026-06-15: 2 documents for 2 clients\n")
    assert "![first page of lettre.preview](outbox/2026-06-15/acme/lettre.preview.png)" in message
    assert "[lettre.preview.pdf](outbox/2026-06-15/acme/lettre.preview.pdf)" in message
    assert commit_run(repo, AS_OF, []) is None


def test_the_summary_lists_first_what_waits_on_the_user_letters_calls_and_unknown_sends() -> None:
    def line(
        day: date, client_id: str, step: str, channel: str, suffix: str, event: str, drafted: date | None = None
    ) -> JournalEntry:
        file = f"outbox/{(drafted or day).isoformat()}/{client_id}/{step}.{suffix}"
        return JournalEntry(day, client_id, step, channel, ("F-1",), file, "0" * 64, event)  # type: ignore[arg-type]

    journal = [
        line(date(2026, 6, 1), "acme", "lettre", "letter", "pdf", "drafted"),
        line(date(2026, 6, 1), "acme", "lettre", "email", "eml", "drafted"),
        line(date(2026, 6, 2), "acme", "lettre", "email", "eml", "sent", date(2026, 6, 1)),
        line(date(2026, 6, 5), "nordwind", "appel", "phone", "call.md", "drafted"),
        line(date(2026, 6, 8), "zeta", "relance-1", "email", "eml", "drafted"),
        line(date(2026, 6, 9), "zeta", "relance-1", "email", "eml", "unknown", date(2026, 6, 8)),
        line(date(2026, 6, 10), "kappa", "relance-2", "email", "eml", "drafted"),  # waits for review only
        line(AS_OF, "zeta", "lettre", "letter", "pdf", "drafted"),  # tonight's: in this pull request
    ]
    body = summary(AS_OF, ACTIONS, ENTRIES, tasks=history(journal).tasks(AS_OF)).body
    assert body.startswith("### Waiting on you\n\nThese clients get nothing more until it is recorded:\n\n")
    todo = body[: body.index("### ACME")]
    assert todo.splitlines()[4:7] == [
        "- [ ] post the lettre letter to `acme`, drafted 2026-06-01, then "
        "`relance record posted --client acme --step lettre`",
        "- [ ] call `nordwind` (appel call sheet, drafted 2026-06-05), then "
        "`relance record called --client nordwind --step appel --note …`",
        "- [ ] find out whether the email relance-1 to `zeta`, drafted 2026-06-08 went out (the server may have "
        "accepted it), then `relance record sent --client zeta --step relance-1` or "
        "`relance record failed --client zeta --step relance-1`",
    ]
    assert "kappa" not in todo and "zeta` lettre" not in todo
    assert not summary(AS_OF, ACTIONS, ENTRIES).body.startswith("### Waiting on you")
