"""The checks a schema cannot express: references between files, identities, amounts, the legal floor."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.eu import vat as stdnum_vat
from stdnum.exceptions import ValidationError as NumberError
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret

from .books import RATES_FILE, Loaded, read_books
from .load import Document
from .model import LANGUAGES, Books, Invoice, Policy, Problem, Semester
from .template_files import template_name

LEGAL_FLOOR_FACTOR = Decimal(3)


def validate(root: Path, today: date) -> list[Problem]:
    """Every problem of the repository, errors and warnings, in file order."""
    loaded = read_books(root)
    problems = loaded.problems + (cross_checks(loaded, today, root) if loaded.books else [])
    return sorted(set(problems), key=lambda p: (p.path, p.line or 0, p.message))


def cross_checks(loaded: Loaded, today: date, root: Path | None = None) -> list[Problem]:
    assert loaded.books is not None
    books, docs = loaded.books, loaded.documents
    return [
        *_settings_checks(books, docs),
        *_client_checks(books, docs),
        *_invoice_checks(books, docs, today, root),
        *_policy_checks(books, docs, today),
        *_rate_table_checks(books, today),
    ]


def _locator(docs: dict[str, Document], path: str) -> Callable[[Sequence[str | int]], int | None]:
    document = docs.get(path)
    return (lambda where: document.line_of(where)) if document else (lambda where: None)


def _identity(kind: str, value: str | None, check: Callable[[str], str]) -> str | None:
    if value is None:
        return None
    try:
        check(value)
    except NumberError as error:
        return f"'{value}' is not a valid {kind} ({str(error).rstrip('.').lower()})"
    return None


def _settings_checks(books: Books, docs: dict[str, Document]) -> Iterator[Problem]:
    path = "relance.yaml"
    at = _locator(docs, path)
    creditor = books.settings.creditor
    for key, kind, value, check in (
        ("siret", "SIRET number", creditor.siret, stdnum_siret.validate),
        ("iban", "IBAN", creditor.iban, stdnum_iban.validate),
        ("bic", "BIC", creditor.bic, stdnum_bic.validate),
        ("vat_id", "EU VAT number", creditor.vat_id, stdnum_vat.validate),
    ):
        message = _identity(kind, value, check)
        if message:
            yield Problem(path, at(["creditor", key]), f"creditor.{key}: {message}")
    if books.settings.default_policy not in books.policies:
        yield Problem(path, at(["default_policy"]), _no_policy(books.settings.default_policy, books))


def _no_policy(name: str, books: Books) -> str:
    known = ", ".join(sorted(books.policies)) or "none"
    return f"default_policy: no policy '{name}' in policies/ (known: {known})"


def _client_checks(books: Books, docs: dict[str, Document]) -> Iterator[Problem]:
    for client in books.clients.values():
        at = _locator(docs, client.source)
        if client.policy is not None and client.policy not in books.policies:
            known = ", ".join(sorted(books.policies)) or "none"
            yield Problem(
                client.source, at(["policy"]), f"policy: no policy '{client.policy}' in policies/ (known: {known})"
            )
        for key, kind, value, check in (
            ("siren", "SIREN number", client.siren, stdnum_siren.validate),
            ("vat_id", "EU VAT number", client.vat_id, stdnum_vat.validate),
        ):
            message = _identity(kind, value, check)
            if message:
                yield Problem(client.source, at([key]), f"{key}: {message}")


def _invoice_checks(books: Books, docs: dict[str, Document], today: date, root: Path | None) -> Iterator[Problem]:
    first_seen: dict[str, Invoice] = {}
    for invoice in books.invoices:
        at = _locator(docs, invoice.source)
        if invoice.number in first_seen:
            other = first_seen[invoice.number].source
            yield Problem(invoice.source, at(["number"]), f"number: '{invoice.number}' is already used by {other}")
        else:
            first_seen[invoice.number] = invoice
        client = books.clients.get(invoice.client)
        if client is None:
            yield Problem(invoice.source, at(["client"]), _no_client(invoice.client, books))
        if invoice.due < invoice.issued:
            yield Problem(invoice.source, at(["due"]), f"due: {invoice.due} is before the issue date {invoice.issued}")
        yield from _amount_checks(invoice, at)
        yield from _document_check(invoice, at, root)
        if client is not None and client.is_business and invoice.penalty_rate is not None:
            semesters = _overdue_semesters(invoice, today)
            yield from _floor_check(books, invoice.source, at(["penalty_rate"]), invoice.penalty_rate, semesters)


def _no_client(name: str, books: Books) -> str:
    hint = f" (known: {', '.join(sorted(books.clients)[:8])})" if books.clients else ""
    return f"client: no client '{name}': add ledger/clients/{name}.yaml or fix the name{hint}"


def _amount_checks(invoice: Invoice, at: Callable[[Sequence[str | int]], int | None]) -> Iterator[Problem]:
    amounts: list[tuple[list[str | int], Decimal]] = [(["total"], invoice.total)]
    amounts += [(["payments", i, "amount"], p.amount) for i, p in enumerate(invoice.payments)]
    amounts += [(["credit_notes", i, "amount"], c.amount) for i, c in enumerate(invoice.credit_notes)]
    for where, amount in amounts:
        exponent = amount.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -2:
            yield Problem(invoice.source, at(where), f"{where[0]}: {amount} has more than two decimals")
    if invoice.total <= 0:
        yield Problem(invoice.source, at(["total"]), "total: an invoice's total must be above zero")
    settled = sum((p.amount for p in invoice.payments), Decimal(0)) + sum(
        (c.amount for c in invoice.credit_notes), Decimal(0)
    )
    if settled > invoice.total:
        key = "payments" if invoice.payments else "credit_notes"
        yield Problem(
            invoice.source,
            at([key]),
            f"{key}: payments and credit notes add up to {settled:.2f}, more than the total {invoice.total:.2f}",
        )


def _document_check(
    invoice: Invoice, at: Callable[[Sequence[str | int]], int | None], root: Path | None
) -> Iterator[Problem]:
    if invoice.document is None or root is None:
        return
    target = (root / invoice.document).resolve()
    if not target.is_relative_to(root.resolve()):
        yield Problem(invoice.source, at(["document"]), f"document: '{invoice.document}' is outside the repository")
    elif not target.is_file():
        yield Problem(invoice.source, at(["document"]), f"document: no file '{invoice.document}' in the repository")


def _overdue_semesters(invoice: Invoice, today: date) -> list[Semester]:
    first = Semester.of(invoice.due + timedelta(days=1))
    last = Semester.of(max(today, invoice.due + timedelta(days=1)))
    semesters = [first]
    while semesters[-1] < last:
        semesters.append(semesters[-1].next())
    return semesters


def _floor_check(
    books: Books, path: str, line: int | None, rate: Decimal, semesters: Sequence[Semester]
) -> Iterator[Problem]:
    for semester in semesters:
        row = books.rates.get(semester)
        if row is None or row.legal_other is None:
            continue
        floor = LEGAL_FLOOR_FACTOR * row.legal_other
        if rate < floor:
            yield Problem(
                path,
                line,
                f"penalty_rate: {rate} % is below the legal floor of {floor} % in {semester} "
                f"(3 × the legal interest rate {row.legal_other} %, C. com. L441-10)",
            )
            return


def _policy_checks(books: Books, docs: dict[str, Document], today: date) -> Iterator[Problem]:
    languages = _languages_by_policy(books)
    for policy in books.policies.values():
        at = _locator(docs, policy.source)
        yield from _step_checks(policy, at, languages.get(policy.id, set()), books.templates)
        if policy.penalty_rate is not None:
            semester = Semester.of(today) if books.rates.get(Semester.of(today)) else books.rates.last
            if semester is not None:
                yield from _floor_check(books, policy.source, at(["penalty_rate"]), policy.penalty_rate, [semester])


def _languages_by_policy(books: Books) -> dict[str, set[str]]:
    languages: dict[str, set[str]] = {books.settings.default_policy: {books.settings.locale}}
    for client in books.clients.values():
        languages.setdefault(client.policy or books.settings.default_policy, set()).add(client.language)
    return languages


def _step_checks(
    policy: Policy, at: Callable[[Sequence[str | int]], int | None], languages: set[str], templates: frozenset[str]
) -> Iterator[Problem]:
    seen: set[str] = set()
    previous = -1
    for index, step in enumerate(policy.steps):
        if step.id in seen:
            yield Problem(
                policy.source, at(["steps", index, "id"]), f"steps[{index + 1}].id: '{step.id}' is used twice"
            )
        seen.add(step.id)
        if step.after_days <= previous:
            yield Problem(
                policy.source,
                at(["steps", index, "after_days"]),
                f"steps[{index + 1}].after_days: {step.after_days} should be more than the previous step's {previous}",
            )
        previous = step.after_days
        for channel in step.channels:
            for language in sorted(languages & set(LANGUAGES)):
                name = template_name(step.template, channel, language)  # type: ignore[arg-type]
                if name not in templates:
                    yield Problem(
                        policy.source,
                        at(["steps", index, "template"]),
                        f"steps[{index + 1}].template: no template '{name}' in templates/ or the built-in ones",
                    )
    notices = [step.id for step in policy.steps if step.formal_notice]
    if len(notices) > 1:
        yield Problem(
            policy.source, at(["steps"]), f"steps: only one step can be the mise en demeure ({', '.join(notices)})"
        )


def _rate_table_checks(books: Books, today: date) -> Iterator[Problem]:
    semester = Semester.of(today)
    if books.rates.get(semester) is None:
        last = books.rates.last
        yield Problem(
            RATES_FILE,
            None,
            f"has no row for {semester}, the semester of today ({today}); the table ends at {last}. "
            f"Run `relance rates update` or add the row by hand: penalties after {last} cannot be computed",
            severity="warning",
        )
