"""An action of the plan → the variables a template sees.

The names are part of the templates' interface (README, "Templates and documents"): `creditor` and `client`
are the records read from relance.yaml and the client's file (their keys are the YAML keys), `invoices` the
lines of the invoice table, `totals` their sums, and a few facts the wording depends on (step, deadline,
business or consumer client, tone, rates, payment reference).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from relance_pipeline.core import money
from relance_pipeline.core.references import rf_reference
from relance_pipeline.model import (
    Action,
    Amounts,
    Books,
    Client,
    Creditor,
    RateBasis,
    RatePeriod,
    Semester,
)
from relance_pipeline.render.lines import LISTED_LIMIT, listing
from relance_pipeline.render.lines import Line as Line
from relance_pipeline.render.lines import Totals as Totals
from relance_pipeline.render.lines import line as line
from relance_pipeline.render.lines import totals as totals

REFERENCE_LIMIT = 35
"""Many banks keep only 35 characters of a transfer's reference: past that, a short form is used."""


def listed_numbers(lines: tuple[Line, ...], count: int | None = None, shown: int = 3) -> str:
    """The invoice numbers for a subject or a sentence; past a few, the table lists them and a count suffices.
    `count`: all the invoices of the document, when `lines` are only those it lists (the numbers named are
    always listed ones)."""
    numbers = [item.number for item in lines]
    count = len(numbers) if count is None else count
    if count <= shown + 1 and count == len(numbers):
        return ", ".join(numbers)
    return f"{', '.join(numbers[:shown])} +{count - min(shown, len(numbers))}"


STATEMENT_NAMES = {"fr": "releve-de-compte", "en": "statement-of-account"}
"""The file name of the statement of account an email attaches: `releve-de-compte-<client>-<date>.csv`."""


def statement_attachment(action: Action, as_of: date) -> str:
    return f"{STATEMENT_NAMES[action.client.language]}-{action.client.id}-{as_of.isoformat()}.csv"


def payment_reference(action: Action, listed: tuple[Line, ...] = ()) -> str:
    """What the client writes on the transfer: the invoice numbers, so the payment is matched at once; for one
    invoice, its RF creditor reference beside its number (`relance import bank` matches either). `listed`:
    the invoices the document lists, when not all of them; the short form names one of those."""
    numbers = [amounts.invoice.number for amounts in action.invoices]
    if listed and len(listed) < len(numbers):
        numbers = [listed[0].number, *(n for n in numbers if n != listed[0].number)]
    rf = payment_rf(action)
    if rf is not None and len(f"{numbers[0]} {rf}") <= REFERENCE_LIMIT:
        return f"{numbers[0]} {rf}"
    joined = " ".join(numbers)
    if len(joined) <= REFERENCE_LIMIT:
        return joined
    return f"{numbers[0]} +{len(numbers) - 1}"[:REFERENCE_LIMIT]


def payment_rf(action: Action) -> str | None:
    """The RF reference a document's QR code carries: one invoice's only (a transfer has one reference)."""
    return rf_reference(action.invoices[0].invoice.number) if len(action.invoices) == 1 else None


def penalty_rate(action: Action, books: Books, as_of: date) -> tuple[Decimal | None, bool]:
    """The late-payment rate in force on the document's date, and whether it is the contract's rate."""
    rates = (money.contractual_rate(a.invoice, action.policy) for a in action.invoices)
    contractual = next((rate for rate in rates if rate is not None), None)
    if contractual is not None:
        return contractual, True
    periods = sorted((p for a in action.invoices for p in a.periods), key=lambda p: p.end)
    if periods:
        return periods[-1].rate, False
    row = books.rates.get(Semester.of(as_of))
    return (row.b2b_default if row else None), False


@dataclass(frozen=True)
class RateSpan:
    """A rate as the words state it: the rate, where it comes from, and its last day (None: still running)."""

    rate: Decimal
    basis: RateBasis
    until: date | None


@dataclass(frozen=True)
class RateGroup:
    """The invoices charged on the same schedule of rates: one phrase states it for all of them."""

    numbers: tuple[str, ...]
    spans: tuple[RateSpan, ...]


def rate_groups(action: Action, books: Books, as_of: date) -> tuple[RateGroup, ...]:
    """Each rate charged with its period ("13,15 % jusqu'au 30 juin 2025, puis 12,15 %"), per invoice when the
    invoices differ (a contractual rate, the legal floor under it, the default rate): the words state the
    rates the amounts were computed with, never one rate for all."""
    schedules: dict[tuple[RateSpan, ...], list[str]] = {}
    for amounts in action.invoices:
        spans = _spans(amounts.periods) or _rate_on(amounts, action, books, as_of)
        schedules.setdefault(spans, []).append(amounts.invoice.number)
    return tuple(RateGroup(tuple(numbers), spans) for spans, numbers in schedules.items())


def _spans(periods: tuple[RatePeriod, ...]) -> tuple[RateSpan, ...]:
    spans: list[RateSpan] = []
    for period in periods:
        if spans and (spans[-1].rate, spans[-1].basis) == (period.rate, period.basis):
            spans[-1] = RateSpan(period.rate, period.basis, period.end)
        else:
            spans.append(RateSpan(period.rate, period.basis, period.end))
    if spans:
        spans[-1] = RateSpan(spans[-1].rate, spans[-1].basis, None)
    return tuple(spans)


def _rate_on(amounts: Amounts, action: Action, books: Books, as_of: date) -> tuple[RateSpan, ...]:
    """No day charged yet (or a consumer): the rate that applies from the document's date."""
    row = books.rates.get(Semester.of(as_of))
    found = money.penalty_rate(row, money.contractual_rate(amounts.invoice, action.policy)) if row else None
    return (RateSpan(found[0], found[1], None),) if found else ()


def legal_interest_rate(books: Books, as_of: date) -> Decimal | None:
    """The legal interest rate for a professional creditor (legal_other) in the document's semester."""
    row = books.rates.get(Semester.of(as_of))
    return row.legal_other if row else None


EU_VAT_PREFIXES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "EL",
        "ES",
        "FI",
        "FR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
        "XI",
    ]
)
"""The VAT-number prefixes of the EU member states (EL is Greece; XI, Northern Ireland, for goods)."""
VatWords = Literal["included", "franchise", "reverse_charge", "outside_eu"]


def vat_words(creditor: Creditor, client: Client) -> VatWords:
    """What the documents say about VAT, from the facts: a creditor under the franchise en base charged none;
    a business client with a VAT number of another EU state was invoiced under reverse charge, one outside the
    EU without French VAT; only otherwise were the amounts "TTC" / "incl. VAT"."""
    if creditor.vat_regime == "franchise":
        return "franchise"
    prefix = (client.vat_id or "FR")[:2].upper()
    if not client.is_business or prefix == "FR":
        return "included"
    return "reverse_charge" if prefix in EU_VAT_PREFIXES else "outside_eu"


def client_area(client: Client) -> Literal["fr", "eu", "outside_eu"]:
    """Where a business client is, from its VAT number (the one fact the books hold): it names the court
    procedure open to the creditor, the European order for payment for another EU state (Reg. 1896/2006)."""
    prefix = (client.vat_id or "FR")[:2].upper()
    return "fr" if prefix == "FR" else "eu" if prefix in EU_VAT_PREFIXES else "outside_eu"


def postal_address(client: Client) -> tuple[str, ...]:
    """The address lines, headed by the client's name unless the first line already carries it."""
    if client.address and client.name.casefold() in client.address[0].casefold():
        return client.address
    return (client.name, *client.address)


def show_charges(action: Action, sums: Totals) -> bool:
    """The table shows the charges when the document claims them and there are some."""
    return action.claims_charges and (sums.charges > 0 or sums.indemnity > 0)


def template_variables(action: Action, books: Books, as_of: date, listed_limit: int = LISTED_LIMIT) -> dict[str, Any]:
    """`listed_limit`: the invoices a document lists at most (the lint's samples cross a smaller cap)."""
    listed = listing(action, as_of, listed_limit)
    lines = listed.lines
    sums = listed.totals
    rate, contractual = penalty_rate(action, books, as_of)
    client = action.client
    return {
        "creditor": books.settings.creditor,
        "client": client,
        "language": client.language,
        "business": client.is_business,
        "consumer": not client.is_business,
        "tone": action.tone,
        "postal_address": postal_address(client),
        "invoices": lines,
        "invoice_count": listed.count,
        # Past LISTED_LIMIT: what the table leaves out, summed on its last row, and the statement of account
        # that lists everything; the words then speak of the invoices by their count, never by a listed few.
        "omitted": listed.omitted,
        "omitted_totals": listed.omitted_totals,
        "statement_attachment": statement_attachment(action, as_of) if listed.omitted else None,
        "numbers": listed_numbers(lines, listed.count),
        "plural": listed.count > 1,
        "totals": sums,
        "amount_due": action.amount_asked,
        "show_charges": show_charges(action, sums),
        "step": action.step,
        "step_number": action.step_number,
        "step_count": len(action.policy.steps),
        "last_step": action.step_number == len(action.policy.steps),
        "formal_notice": action.step.formal_notice,
        "statement": action.is_statement,
        "channels": action.step.channels,
        "as_of": as_of,
        "deadline": action.deadline,
        "payment_reference": payment_reference(action, lines),
        "payment_rf": payment_rf(action),
        "penalty_rate": rate,
        "penalty_rate_contractual": contractual,
        "penalty_rates": rate_groups(action, books, as_of),
        "legal_interest_rate": legal_interest_rate(books, as_of),
        "invoice_copies": any(item.document for item in lines),
        "vat": vat_words(books.settings.creditor, client),
        "client_area": client_area(client),
        "currency": action.invoices[0].invoice.currency if action.invoices else "EUR",
        "previously": listed.previously,
        "escalated": tuple(item for item in lines if item.step == action.step.id),
        "escalated_count": listed.escalated_count,
        "joining": tuple(item for item in lines if item.step != action.step.id),
        "joining_count": listed.count - listed.escalated_count,
        "most_days_overdue": listed.most_days_overdue,
        "called": listed.called,
        "disputed": listed.disputed,
        "promised": listed.promised,
        "on_payment_plan": listed.on_payment_plan,
    }
