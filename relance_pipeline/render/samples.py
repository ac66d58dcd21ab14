"""`validate`'s template check: every template a policy uses, rendered with sample data and linted.

Each template is drafted for a business and a consumer client, a new and a regular one, with one invoice,
with two and with one more than a document lists (its words then count the invoices and send the reader to
the statement of account), so that the branches of a template that depend on them are all read. No PDF is
made.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Literal

from relance_pipeline.books.checks import languages_by_policy, locator
from relance_pipeline.books.read import Loaded
from relance_pipeline.core import statement
from relance_pipeline.model import (
    LANGUAGES,
    STATEMENT_STEP,
    ZERO,
    Action,
    Amounts,
    Books,
    Client,
    ClientKind,
    Invoice,
    Language,
    Payment,
    Policy,
    Problem,
    Step,
    in_file_order,
)
from relance_pipeline.render import template_files
from relance_pipeline.render.drafts import Drafter
from relance_pipeline.render.environment import TemplateFailure
from relance_pipeline.render.letter_files import LetterFiles, refusal, refused
from relance_pipeline.render.lint import Facts, Locator, lint, locator_for

SAMPLE_SOURCE = "(sample)"
LINT_LISTED_LIMIT = 2
"""The cap of the lint's samples: past it a template takes the branches it takes past LISTED_LIMIT (the counted
words, the table's row of the others, the statement of account), drafted with 3 invoices instead of 21: the
two samples past the cap were a third of validate's lint."""
CASES: tuple[tuple[ClientKind, Literal["new", "regular"], int], ...] = (
    ("business", "new", 1),
    ("business", "regular", 2),
    ("consumer", "new", 2),
    ("consumer", "regular", 1),
    ("business", "new", LINT_LISTED_LIMIT + 1),
    ("consumer", "regular", LINT_LISTED_LIMIT + 1),
)


def missing_templates(root: Path, loaded: Loaded) -> list[Problem]:
    """A step's template missing in a language its policy is written in (its clients', the creditor's)."""
    available = template_files.available(root)
    languages = languages_by_policy(loaded)
    problems: list[Problem] = []
    for policy in loaded.policies.values():
        at = locator(loaded, policy.source)
        for index, step in enumerate(documents(policy)):
            claims = step.id == STATEMENT_STEP and index == len(policy.steps)
            field = "paid_late_penalties" if claims else f"steps[{index + 1}].template"
            for channel in step.channels:
                for language in sorted(languages.get(policy.id, set()) & set(LANGUAGES)):
                    name = template_files.template_name(step.template, channel, language)  # type: ignore[arg-type]
                    if name not in available:
                        problems.append(
                            Problem(
                                policy.source,
                                at(["paid_late_penalties"] if claims else ["steps", index, "template"]),
                                f"{field}: no template '{name}' in templates/ or the built-in ones",
                                code="template.missing",
                            )
                        )
    return problems


def lint_templates(root: Path, books: Books, today: date) -> list[Problem]:
    """Problems of the templates the policies use, each reported once, naming the template file."""
    available = template_files.available(root)
    drafter = Drafter(root, books, lint_only=True, listed_limit=LINT_LISTED_LIMIT)
    folders = drafter.environments.folders
    files = LetterFiles(folders, [root / invoice.document for invoice in books.invoices if invoice.document])
    problems: set[Problem] = set()
    for policy in sorted(books.policies.values(), key=lambda p: p.id):
        for step in documents(policy):
            for channel in step.channels:
                for language in LANGUAGES:
                    name = template_files.template_name(step.template, channel, language)
                    if name not in available:
                        continue  # missing_templates already says so
                    path = drafter.environments.display(name)
                    locate = locator_for(folders, root, name)
                    for kind, relationship, count in CASES:
                        action = sample_action(policy, step, language, kind, relationship, count, today)
                        try:
                            draft = drafter.draft(action, channel, today)
                            if channel == "letter":  # the letter send makes from the words: its layout must take them
                                drafter.final(action, channel, today, drafter.reviewable(action, channel, today))
                        except TemplateFailure as failure:
                            problems.add(failure.problem)
                            break
                        findings = lint(draft, Facts.of(action, channel), path, locate)
                        if draft.html is not None and channel == "letter":
                            findings += _refused_urls(draft.html, draft.template, files, locate)
                        # Warnings depend on the data (an SMS's length): only the real run's count.
                        problems.update(p for p in findings if p.severity == "error")
    return in_file_order(problems)


def _refused_urls(page: str, template: str, files: LetterFiles, locate: Locator) -> list[Problem]:
    """The URLs the letter printer would refuse, found where the template writes them."""
    problems: list[Problem] = []
    for url in refused(page, template, files):
        path, line = locate(url)
        problems.append(Problem(path, line, refusal(url), code="template.url"))
    return problems


def documents(policy: Policy) -> tuple[Step, ...]:
    """The documents a policy sends: its steps, and the statement when it claims what late payments owe."""
    claims = policy.paid_late_penalties == "claimed"
    return (*policy.steps, statement.step(policy)) if claims else policy.steps


def sample_action(
    policy: Policy,
    step: Step,
    language: Language,
    kind: ClientKind,
    relationship: Literal["new", "regular"],
    count: int,
    as_of: date,
) -> Action:
    business = kind == "business"
    name = ("Exemple SAS" if language == "fr" else "Example Ltd") if business else "Camille Exemple"
    client = Client(
        id=f"sample-{kind}",
        name=name,
        kind=kind,
        email="client@example.org",
        address=(name, "1 rue de l’Exemple", "75001 Paris"),
        language=language,
        source=SAMPLE_SOURCE,
        phone="+33 1 00 00 00 00",
        relationship=relationship,
        contact=("Mme Exemple" if language == "fr" else "Ms Example") if relationship == "regular" else None,
    )
    due = as_of - timedelta(days=step.after_days + 3)
    if step.id == STATEMENT_STEP:
        invoices = tuple(_paid_late(index, client, as_of, business) for index in range(count))
        return statement.action(client, policy, invoices, as_of)
    invoices = tuple(_amounts(index, client, due, as_of, business, step) for index in range(count))
    deadline = as_of + timedelta(days=step.deadline_days) if step.deadline_days else None
    return Action(client=client, policy=policy, step=step, invoices=invoices, deadline=deadline)


def _amounts(index: int, client: Client, due: date, as_of: date, business: bool, step: Step) -> Amounts:
    invoice = Invoice(
        number=f"F-EXEMPLE-{index + 1:03d}",
        client=client.id,
        issued=due - timedelta(days=30),
        due=due - timedelta(days=7 * index),
        total=Decimal("1200.00"),
        source=SAMPLE_SOURCE,
    )
    charge_kind: Literal["penalties", "legal_interest", "none"] = (
        "penalties" if business else ("legal_interest" if step.formal_notice else "none")
    )
    return Amounts(
        invoice=invoice,
        days_overdue=(as_of - invoice.due).days,
        outstanding=invoice.total,
        charges=Decimal("12.34") if business else ZERO,
        charge_kind=charge_kind,
        indemnity=Decimal("40.00") if business else ZERO,
    )


def _paid_late(index: int, client: Client, as_of: date, business: bool) -> Amounts:
    """An invoice of the statement: paid in full 20 days after its due date (a consumer's after the notice)."""
    due = as_of - timedelta(days=40 + 7 * index)
    invoice = Invoice(
        number=f"F-EXEMPLE-{index + 1:03d}",
        client=client.id,
        issued=due - timedelta(days=30),
        due=due,
        total=Decimal("1200.00"),
        source=SAMPLE_SOURCE,
        payments=(Payment(due + timedelta(days=20), Decimal("1200.00")),),
    )
    return Amounts(
        invoice=invoice,
        days_overdue=20,
        outstanding=ZERO,
        charges=Decimal("12.34") if business else Decimal("1.23"),
        charge_kind="penalties" if business else "legal_interest",
        indemnity=Decimal("40.00") if business else ZERO,
    )
