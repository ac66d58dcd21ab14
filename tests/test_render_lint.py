"""The legal lint: forbidden wording, mandatory mentions per level, and template errors as file:line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from render_support import AS_OF, action_for, books_of, client_for

from relance_pipeline.commands.init import init
from relance_pipeline.render.drafts import Draft
from relance_pipeline.render.lint import Facts, lint
from relance_pipeline.render.renderer import Renderer
from relance_pipeline.render.samples import lint_templates


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "books"
    init(root)
    return root


def override(root: Path, name: str, text: str) -> None:
    file = root / "templates" / name
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text, encoding="utf-8")


def findings(text: str, *, business: bool, step: int = 2, formal: bool = False, subject: str = "Relance") -> list[str]:
    facts = Facts("email", "fr", business, step, formal, date(2026, 6, 23) if formal else None)
    draft = Draft("email", "x/email.fr.txt", subject, text)
    return [p.message for p in lint(draft, facts, "templates/x/email.fr.txt", lambda phrase: ("t", None))]


ALREADY_PAID = "Si vous avez déjà réglé cette facture, merci de ne pas tenir compte de ce message."
B2B_MENTIONS = "Pénalités de retard (article L441-10 du Code de commerce) et indemnité de 40,00 € par facture."


def test_the_built_in_templates_pass_the_lint_for_every_kind_of_client(repo: Path) -> None:
    assert lint_templates(repo, books_of(repo), AS_OF) == []


@pytest.mark.parametrize(
    "wording",
    [
        "un commandement de payer vous sera délivré",
        "l’huissier passera",
        "par commissaire de justice",
        "la saisie de vos biens",
        "une vente forcée",
        "le jugement est rendu",
        "votre nom sera inscrit au fichier des mauvais payeurs",
        "nous publierons la liste",
        "nous préviendrons votre employeur",
        "a bailiff will call",
        "we will seize your assets",
    ],
)
def test_wording_that_imitates_a_court_act_or_threatens_is_an_error_for_any_client(wording: str) -> None:
    for business in (True, False):
        messages = findings(f"Bonjour, {wording}. {ALREADY_PAID} {B2B_MENTIONS if business else ''}", business=business)
        assert len(messages) == 1 and messages[0].startswith("forbidden wording"), messages


def test_referring_to_the_competent_court_and_to_recovering_the_debt_is_allowed() -> None:
    text = f"Je me réserve le droit de saisir le tribunal afin d’obtenir le recouvrement de ma créance. {ALREADY_PAID}"
    assert findings(text, business=False) == []


@pytest.mark.parametrize(
    "wording",
    ["une indemnité forfaitaire de 40,00 €", "des frais de recouvrement", "des pénalités de retard", "40 €"],
)
def test_collection_fees_and_penalties_are_errors_for_a_consumer_only(wording: str) -> None:
    text = f"Le solde est de 1 240,00 €, {wording}. {ALREADY_PAID}"
    assert findings(text, business=False) != []
    assert findings(f"{text} {B2B_MENTIONS}", business=True) == []


def test_a_consumer_amount_ending_in_forty_is_not_mistaken_for_the_indemnity() -> None:
    assert findings(f"Reste dû : 1 240,00 € et 340,00 €. {ALREADY_PAID}", business=False) == []
    assert findings(f"Reste dû : 12,40 € et 1 012,40 € (€12.40). {ALREADY_PAID}", business=False) == []


def test_every_reminder_but_the_mise_en_demeure_needs_the_already_paid_line() -> None:
    assert any("already paid" in m for m in findings("Merci de régler.", business=False))
    formal = "Mise en demeure de payer au plus tard le 23 juin 2026, faute de quoi le tribunal sera saisi. Les "
    formal += "intérêts au taux légal courent."
    assert findings(formal, business=False, formal=True, subject="Mise en demeure de payer") == []


def test_a_business_document_from_the_second_step_states_the_rate_basis_and_the_40_euros() -> None:
    messages = findings(f"Merci de régler. {ALREADY_PAID}", business=True, step=2)
    assert len(messages) == 2 and "L441-10" in messages[0] and "40 €" in messages[1]
    assert findings(f"Merci de régler. {ALREADY_PAID}", business=True, step=1) == []


def test_a_mise_en_demeure_says_so_in_its_subject_and_states_its_deadline() -> None:
    messages = findings("Veuillez payer. Le tribunal sera saisi.", business=True, formal=True, subject="Relance")
    assert "the subject of a mise en demeure must say 'mise en demeure'" in messages
    assert "a mise en demeure must state its deadline (23 juin 2026); the date is not in the text" in messages


def test_a_mise_en_demeure_step_without_deadline_days_is_reported(repo: Path) -> None:
    policy = repo / "policies/standard.yaml"
    policy.write_text(policy.read_text().replace("    deadline_days: 8\n", ""), encoding="utf-8")
    problems = lint_templates(repo, books_of(repo), AS_OF)
    expected = "a mise en demeure needs a deadline: set deadline_days on its step in the policy"
    assert {Path(p.path).parent.name for p in problems} == {"mise-en-demeure"}
    assert {Path(p.path).name for p in problems if p.message == expected} == {
        "email.fr.txt",
        "email.en.txt",
        "letter.fr.html",
        "letter.en.html",
    }


def test_forbidden_wording_in_a_user_template_is_reported_at_its_file_and_line(repo: Path) -> None:
    override(
        repo,
        "relance-1/email.fr.txt",
        '{% extends "_base/email.txt" %}\n{% block subject %}Rappel{% endblock %}\n'
        "{% block message %}\nMerci de régler.\nÀ défaut, un huissier passera.\n{% endblock %}\n",
    )
    problems = lint_templates(repo, books_of(repo), AS_OF)
    assert [str(p) for p in problems] == [
        "templates/relance-1/email.fr.txt:5: forbidden wording 'huissier' in any email: "
        "imitates a court or bailiff's act (C. pén. 433-13)"
    ]


def test_the_indemnity_written_in_a_user_template_is_an_error_for_consumers_only(repo: Path) -> None:
    override(
        repo,
        "relance-2/email.fr.txt",
        '{% extends "_base/email.txt" %}\n{% block subject %}Rappel{% endblock %}\n{% block message %}\n'
        "Conformément à l’article L441-10, une indemnité forfaitaire de 40 € par facture est due.\n"
        "{% endblock %}\n",
    )
    problems = lint_templates(repo, books_of(repo), AS_OF)
    assert {(p.path, p.line) for p in problems} == {("templates/relance-2/email.fr.txt", 4)}
    assert problems and all("in a consumer's email" in p.message for p in problems)


def test_a_template_typo_is_a_problem_with_file_and_line_not_a_traceback(repo: Path) -> None:
    override(
        repo,
        "relance-1/email.fr.txt",
        '{% extends "_base/email.txt" %}\n{% block subject %}Rappel{% endblock %}\n'
        "{% block message %}\nBonjour {{ clent.name }}.\n{% endblock %}\n",
    )
    books = books_of(repo)
    rendering = Renderer(repo, books).render(action_for(books, client_for(books, "business", "fr"), "relance-1"), AS_OF)
    assert rendering.documents == ()
    assert [str(p) for p in rendering.problems] == [
        "templates/relance-1/email.fr.txt:4: template: 'clent' is undefined"
    ]
    assert [str(p) for p in lint_templates(repo, books, AS_OF)] == [
        "templates/relance-1/email.fr.txt:4: template: 'clent' is undefined"
    ]


def test_a_template_syntax_error_names_the_file_and_line(repo: Path) -> None:
    override(
        repo, "appel/phone.en.md", '{% extends "_base/phone.en.md" %}\n{% block script %}\n{% if %}\n{% endblock %}\n'
    )
    problems = lint_templates(repo, books_of(repo), AS_OF)
    assert len(problems) == 1
    assert (problems[0].path, problems[0].line) == ("templates/appel/phone.en.md", 3)
    assert problems[0].message.startswith("template syntax: ")


def test_relance_validate_reports_a_template_lint_error_and_fails(repo: Path) -> None:
    from click.testing import CliRunner

    from relance_pipeline.cli.main import main

    assert CliRunner().invoke(main, ["--repo", str(repo), "validate"]).exit_code == 0
    override(
        repo,
        "mise-en-demeure/letter.en.html",
        '{% extends "_base/letter.html" %}{% block subject %}Final reminder{% endblock %}\n'
        "{% block message %}<p>Please pay {{ words.deadline_words() }}, or a court will hear of it.</p>{% endblock %}\n"
        "{% block disregard %}{% endblock %}\n",
    )
    result = CliRunner().invoke(main, ["--repo", str(repo), "validate"])
    assert result.exit_code == 1
    assert (
        "templates/mise-en-demeure/letter.en.html: the subject of a mise en demeure must say 'mise en demeure'"
        in result.output.splitlines()
    )
    assert "Traceback" not in result.output


def test_a_claimed_policy_has_its_statement_templates_linted_too(repo: Path) -> None:
    policy = repo / "policies/standard.yaml"
    policy.write_text(policy.read_text() + "paid_late_penalties: claimed\npaid_late_channels: [letter, email]\n")
    assert lint_templates(repo, books_of(repo), AS_OF) == []
    override(
        repo,
        "statement/email.fr.txt",
        '{% extends "_base/email.txt" %}\n{% block subject %}Pénalités{% endblock %}\n'
        "{% block message %}\nMerci de régler les pénalités.\n{% endblock %}\n",
    )
    problems = {p.message for p in lint_templates(repo, books_of(repo), AS_OF)}
    # The invoice table states the 40 € and the consumer's legal interest; the words must state the rest.
    assert problems == {
        "missing the late-payment penalty rate and its legal basis (C. com. L441-10), in a statement of what "
        "invoices paid late owe",
        "forbidden wording 'Pénalités' in a consumer's email: late-payment penalties are for business clients "
        "only; a consumer owes legal interest (C. civ. 1231-6)",
    }


def test_the_lint_drafts_every_template_past_the_cap_too(repo: Path) -> None:
    """A document listing only some invoices takes other branches (the counted words, the row of the others, the
    statement of account): a template broken there alone is found before a client with many invoices meets it."""
    override(
        repo,
        "relance-1/email.fr.txt",
        '{% extends "_base/email.txt" %}\n{% block subject %}Relance{% endblock %}\n{% block message %}\n'
        "{% if omitted %}Voir {{ statement_attachement.name }}.{% endif %}\nMerci.\n{% endblock %}\n",
    )
    assert [str(p) for p in lint_templates(repo, books_of(repo), AS_OF)] == [
        "templates/relance-1/email.fr.txt:4: template: 'statement_attachement' is undefined"
    ]
