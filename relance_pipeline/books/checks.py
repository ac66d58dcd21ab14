"""The checks a schema cannot express: references between files, identities, amounts, the legal floor."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import available_timezones

from relance_pipeline import clock
from relance_pipeline.books.identities import identity_problem
from relance_pipeline.books.load import YamlFile
from relance_pipeline.books.plan_checks import payment_plan_checks
from relance_pipeline.books.read import (
    CLIENTS_FOLDER,
    CONFIG_FILE,
    INVOICES_FOLDER,
    POLICIES_FOLDER,
    RATES_FILE,
    Loaded,
)
from relance_pipeline.model import (
    LEGAL_FLOOR_FACTOR,
    STATEMENT_STEP,
    Client,
    Invoice,
    Policy,
    Problem,
    RateTable,
    Semester,
    Settings,
)

_Locate = Callable[[Sequence[str | int]], int | None]


def cross_checks(loaded: Loaded, today: date, root: Path | None = None) -> list[Problem]:
    """The checks between files, on whatever parts of the books could be read."""
    problems: list[Problem] = []
    if loaded.settings is not None:
        problems += _settings_checks(loaded, loaded.settings)
    problems += _client_checks(loaded)
    problems += _invoice_checks(loaded, today, root)
    problems += _policy_checks(loaded, today)
    if loaded.rates is not None:
        problems += _rate_table_checks(loaded, loaded.rates, today)
    return problems


def locator(loaded: Loaded, path: str) -> _Locate:
    document = loaded.documents.get(path)
    return (lambda where: document.line_of(where)) if document else (lambda where: None)


def _written(document: YamlFile | None, where: Sequence[str | int], fallback: str) -> str:
    text = document.written(where) if document else None
    return text if text is not None else fallback


def _settings_checks(loaded: Loaded, settings: Settings) -> Iterator[Problem]:
    path = CONFIG_FILE
    at, document = locator(loaded, path), loaded.documents.get(path)
    creditor = settings.creditor
    for key, value in (("siret", creditor.siret), ("iban", creditor.iban), ("bic", creditor.bic)):
        message = identity_problem(key, _written(document, ["creditor", key], value))
        if message:
            yield Problem(path, at(["creditor", key]), f"creditor.{key}: {message}", code="identity.invalid")
    if creditor.vat_id is not None:
        message = identity_problem("vat_id", _written(document, ["creditor", "vat_id"], creditor.vat_id))
        if message:
            yield Problem(path, at(["creditor", "vat_id"]), f"creditor.vat_id: {message}", code="identity.invalid")
    if not clock.is_known_timezone(settings.timezone):
        close = difflib.get_close_matches(settings.timezone, sorted(available_timezones()), n=1)
        hint = f"did you mean '{close[0]}'?" if close else "a time zone such as Europe/Paris is expected"
        yield Problem(
            path,
            at(["timezone"]),
            f"timezone: '{settings.timezone}' is not a known time zone ({hint})",
            code="timezone.unknown",
        )
    if not _exists(loaded, POLICIES_FOLDER, settings.default_policy, loaded.policies):
        yield Problem(
            path,
            at(["default_policy"]),
            f"default_policy: {_no_policy(settings.default_policy, loaded)}",
            code="reference.unknown",
        )


def _exists(loaded: Loaded, folder: str, name: str, known: Mapping[str, object]) -> bool:
    """Known, or its file exists but was left out for errors of its own (already reported there)."""
    return name in known or any(f"{folder}/{name}{suffix}" in loaded.rejected for suffix in (".yaml", ".yml"))


def _no_policy(name: str, loaded: Loaded) -> str:
    known = ", ".join(sorted(loaded.policies)) or "none"
    return f"no policy '{name}': add {POLICIES_FOLDER}/{name}.yaml or use one of the policies there ({known})"


def _client_checks(loaded: Loaded) -> Iterator[Problem]:
    for client in loaded.clients.values():
        at, document = locator(loaded, client.source), loaded.documents.get(client.source)
        if client.policy is not None and not _exists(loaded, POLICIES_FOLDER, client.policy, loaded.policies):
            yield Problem(
                client.source, at(["policy"]), f"policy: {_no_policy(client.policy, loaded)}", code="reference.unknown"
            )
        for key, value in (("siren", client.siren), ("vat_id", client.vat_id)):
            if value is None:
                continue
            message = identity_problem(key, _written(document, [key], value))
            if message:
                yield Problem(client.source, at([key]), f"{key}: {message}", code="identity.invalid")


def _invoice_checks(loaded: Loaded, today: date, root: Path | None) -> Iterator[Problem]:
    yield from _reference_checks(loaded)
    for invoice in loaded.invoices:
        at = locator(loaded, invoice.source)
        client = loaded.clients.get(invoice.client)
        if invoice.due < invoice.issued:
            yield Problem(
                invoice.source,
                at(["due"]),
                f"due: {invoice.due} is before the issue date {invoice.issued}; the due date is on or after it",
                code="date.due_before_issue",
            )
        yield from _amount_checks(invoice, at)
        yield from payment_plan_checks(invoice, at)
        yield from _document_check(invoice, at, root)
        if client is not None and client.is_business and invoice.penalty_rate is not None and loaded.rates:
            semesters = _charged_semesters(invoice, today)
            # The line only when there is a problem: finding it parses the file's text again.
            for problem in _floor_check(loaded.rates, invoice.source, None, invoice.penalty_rate, semesters):
                yield problem._replace(line=at(["penalty_rate"]))


def _reference_checks(loaded: Loaded) -> Iterator[Problem]:
    """Each invoice's number is its own and its client exists, for a file left out for a schema error too: one
    validate shows both mistakes, not the second once the first is fixed."""
    first_seen: dict[str, str] = {}
    for source, number, client in _invoice_keys(loaded):
        at = locator(loaded, source)
        if number is not None and number in first_seen:
            yield Problem(
                source,
                at(["number"]),
                f"number: '{number}' is already the number of {first_seen[number]}; each invoice needs its own number",
                code="number.duplicate",
            )
        elif number is not None:
            first_seen[number] = source
        if client is not None and not _exists(loaded, CLIENTS_FOLDER, client, loaded.clients):
            yield Problem(source, at(["client"]), _no_client(client, loaded.clients), code="reference.unknown")


def _invoice_keys(loaded: Loaded) -> Iterator[tuple[str, str | None, str | None]]:
    """(file, number, client) of each invoice file read, in file order. Of a file its schema rejected, the number
    and client are taken only where they are text that the schema found nothing wrong with."""
    invoices = {invoice.source: invoice for invoice in loaded.invoices}
    for path, document in loaded.documents.items():
        if path in invoices:
            yield path, invoices[path].number, invoices[path].client
        elif path.startswith(f"{INVOICES_FOLDER}/") and path in loaded.rejected and isinstance(document.data, dict):
            flagged = {p.line for p in loaded.problems if p.path == path}
            yield path, _sound_text(document, "number", flagged), _sound_text(document, "client", flagged)


def _sound_text(document: YamlFile, key: str, flagged: set[int | None]) -> str | None:
    value = document.data.get(key)
    return value if isinstance(value, str) and document.line_of([key]) not in flagged else None


def _no_client(name: str, clients: Mapping[str, Client]) -> str:
    close = difflib.get_close_matches(name, sorted(clients), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"client: no client '{name}'{hint}: add {CLIENTS_FOLDER}/{name}.yaml or use the name of a file there"


def _amount_checks(invoice: Invoice, at: _Locate) -> Iterator[Problem]:
    if invoice.total <= 0:
        yield Problem(
            invoice.source, at(["total"]), f"total: {invoice.total} should be more than 0", code="amount.not_positive"
        )
    settled = sum((p.amount for p in invoice.payments), Decimal(0)) + sum(
        (c.amount for c in invoice.credit_notes), Decimal(0)
    )
    if settled > invoice.total:
        key = "payments" if invoice.payments else "credit_notes"
        yield Problem(
            invoice.source,
            at([key]),
            f"{key}: payments and credit notes add up to {settled:.2f}, more than the total {invoice.total:.2f}; "
            "check the amounts, or record the excess as a refund outside the books",
            code="amount.over_settled",
        )


def _document_check(invoice: Invoice, at: _Locate, root: Path | None) -> Iterator[Problem]:
    if invoice.document is None or root is None:
        return
    try:
        target = (root / invoice.document).resolve()
        inside = target.is_relative_to(root.resolve())
        found = inside and target.is_file()
    except (OSError, ValueError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        yield Problem(
            invoice.source,
            at(["document"]),
            f"document: '{invoice.document}' cannot be used as a path ({reason})",
            code="document.path",
        )
        return
    if not inside:
        yield Problem(
            invoice.source,
            at(["document"]),
            f"document: '{invoice.document}' is outside the repository; copy the PDF into documents/ "
            "and give its path from the repository root",
            code="document.outside",
        )
    elif not found:
        yield Problem(
            invoice.source,
            at(["document"]),
            f"document: no file '{invoice.document}' in the repository (the path is from the repository root)",
            code="document.missing",
        )


def _charged_semesters(invoice: Invoice, today: date) -> list[Semester]:
    """The semesters penalties run in: from the day after the due date to today, or to the payment that settled
    it (penalties stay owed after a late payment), and at least the first one, however far the due date is."""
    settled = [p.date for p in invoice.payments] + [c.date for c in invoice.credit_notes]
    end = max(settled) if settled and invoice.settled_on(max(settled)) >= invoice.total else today
    first = Semester.of(invoice.due + timedelta(days=1))
    last = Semester.of(max(min(today, end), invoice.due + timedelta(days=1)))
    return list(first.through(last))


def _floor_check(
    rates: RateTable, path: str, line: int | None, rate: Decimal, semesters: Iterable[Semester]
) -> Iterator[Problem]:
    """A contractual rate below 3 × legal_other is not void: the floor replaces it for that semester (money.py
    charges the floor), so it is a warning the user may act on, one per semester."""
    for semester in sorted(set(semesters)):
        row = rates.get(semester)
        floor = row.contractual_floor if row is not None else None
        if row is None or floor is None:
            continue
        if rate < floor:
            yield Problem(
                path,
                line,
                f"penalty_rate: {rate} % is below the legal floor of {floor} % in {semester} "
                f"({LEGAL_FLOOR_FACTOR} × the legal interest rate {row.legal_other} %, C. com. L441-10 II): "
                f"the floor is charged for that semester; write at least {floor} to charge the contract's rate "
                "throughout",
                severity="warning",
                code="rate.below_floor",
            )


def _policy_checks(loaded: Loaded, today: date) -> Iterator[Problem]:
    for policy in loaded.policies.values():
        at = locator(loaded, policy.source)
        yield from _step_checks(policy, at)
        if policy.penalty_rate is not None and loaded.rates is not None:
            rates = loaded.rates
            current = Semester.of(today) if rates.get(Semester.of(today)) else rates.last
            semesters = {current} if current is not None else set()
            for invoice in _invoices_charged_at_policy_rate(loaded, policy.id):
                semesters.update(_charged_semesters(invoice, today))
            yield from _floor_check(rates, policy.source, at(["penalty_rate"]), policy.penalty_rate, semesters)


def _invoices_charged_at_policy_rate(loaded: Loaded, policy: str) -> Iterator[Invoice]:
    default = loaded.settings.default_policy if loaded.settings else None
    for invoice in loaded.invoices:
        client = loaded.clients.get(invoice.client)
        charged_at_policy_rate = client is not None and client.is_business and invoice.penalty_rate is None
        if charged_at_policy_rate and client is not None and (client.policy or default) == policy:
            yield invoice


def languages_by_policy(loaded: Loaded) -> dict[str, set[str]]:
    """The languages each policy is written in: its clients', and the creditor's for the default policy."""
    default = loaded.settings.default_policy if loaded.settings else None
    languages: dict[str, set[str]] = {}
    if loaded.settings is not None:
        languages[loaded.settings.default_policy] = {loaded.settings.locale}
    for client in loaded.clients.values():
        policy = client.policy or default
        if policy is not None:
            languages.setdefault(policy, set()).add(client.language)
    return languages


def _step_checks(policy: Policy, at: _Locate) -> Iterator[Problem]:
    seen: set[str] = set()
    previous: int | None = None
    for index, step in enumerate(policy.steps):
        field = f"steps[{index + 1}]"
        if step.id in seen:
            yield Problem(
                policy.source,
                at(["steps", index, "id"]),
                f"{field}.id: '{step.id}' is already the id of an earlier step; each step needs its own id",
                code="policy.step_duplicate",
            )
        seen.add(step.id)
        if step.id == STATEMENT_STEP:
            yield Problem(
                policy.source,
                at(["steps", index, "id"]),
                f"{field}.id: '{step.id}' is the statement of penalties owed after a late payment "
                "(paid_late_penalties: claimed); give the step another id",
                code="policy.step_reserved",
            )
        if previous is not None and step.after_days <= previous:
            yield Problem(
                policy.source,
                at(["steps", index, "after_days"]),
                f"{field}.after_days: {step.after_days} should be more than the previous step's {previous} "
                "(steps go in the order they are sent)",
                code="policy.step_order",
            )
        previous = step.after_days
    notices = [step.id for step in policy.steps if step.formal_notice]
    if len(notices) > 1:
        yield Problem(
            policy.source,
            at(["steps"]),
            f"steps: only one step can be the mise en demeure (formal_notice: true), not {', '.join(notices)}",
            code="policy.notice_twice",
        )


def _rate_table_checks(loaded: Loaded, rates: RateTable, today: date) -> Iterator[Problem]:
    semester = Semester.of(today)
    if rates.get(semester) is None:
        last = rates.last
        yield Problem(
            RATES_FILE,
            locator(loaded, RATES_FILE)(["semesters"]),
            f"has no row for {semester}, the semester of today ({today}); the table ends at {last}. "
            f"Run `relance rates update` or add the row by hand: penalties after {last} cannot be computed",
            severity="warning",
            code="rate.current_missing",
        )
