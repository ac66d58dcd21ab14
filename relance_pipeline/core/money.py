"""What French law lets a creditor add to a late invoice: penalties, legal interest, the 40 € indemnity.

Pure and in `Decimal`: simple interest, actual/365, on the amount including VAT still outstanding each day,
split at 1 January and 1 July so that each semester is charged at its own rate, rounded once at the end
(shared reference: legal-fr.md and rates-fr.yaml). A rate is never guessed: a semester missing from the
table comes back as a `MissingRate` value naming the semester, the invoice and the file to edit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from relance_pipeline.model import (
    CENT,
    ZERO,
    Amounts,
    ChargeKind,
    Client,
    Invoice,
    Policy,
    Problem,
    RatePeriod,
    RateTable,
    Semester,
    SemesterRates,
)

INDEMNITY = Decimal("40.00")
"""The fixed recovery indemnity per late invoice, business clients only (C. com. D441-5)."""
_DAY_COUNT = Decimal(36500)  # 365 days × percent
_ONE_DAY = timedelta(days=1)

RateName = Literal["b2b_default", "legal_other"]


@dataclass(frozen=True)
class MissingRate:
    """A computation needed a rate the table does not give: the user adds the semester's row."""

    semester: Semester
    rate: RateName
    invoice: str
    invoice_source: str
    rates_file: str
    row_missing: bool = True
    """False when the semester's row is there but lacks this rate (a legal rate not yet published)."""

    def problem(self) -> Problem:
        what = "no rates" if self.row_missing else f"no {self.rate} rate"
        return Problem(
            self.rates_file,
            None,
            f"{what} for {self.semester} (needed for invoice {self.invoice}, {self.invoice_source}): add the "
            f"semester's row ({_ROW_KEYS}) from the published figures, or run `relance rates update`; "
            "a rate is never guessed",
        )


_ROW_KEYS = "ecb_reference, b2b_default, legal_individual, legal_other"


@dataclass(frozen=True)
class Charge:
    """Penalties or interest over some days: the rounded amount and the periods it adds up."""

    amount: Decimal
    periods: tuple[RatePeriod, ...] = ()


NO_CHARGE = Charge(ZERO)
_RateOf = Callable[[Semester], Decimal | None]


def amounts(
    invoice: Invoice, client: Client, policy: Policy, rates: RateTable, as_of: date, notice: date | None
) -> Amounts | MissingRate:
    """What the invoice costs the client on `as_of`. `notice` is the date of the consumer's mise en demeure,
    the day before legal interest starts to run; penalties of a business client need no notice."""
    if client.is_business:
        charge = penalties(invoice, rates, as_of, contractual_rate(invoice, policy))
    elif notice is not None:
        charge = legal_interest(invoice, rates, notice + _ONE_DAY, as_of)
    else:
        charge = NO_CHARGE
    if isinstance(charge, MissingRate):
        return charge
    kind: ChargeKind = "penalties" if client.is_business else "legal_interest" if notice is not None else "none"
    return Amounts(
        invoice=invoice,
        days_overdue=invoice.days_overdue(as_of),
        outstanding=invoice.outstanding(as_of),
        charges=charge.amount,
        charge_kind=kind,
        indemnity=indemnity(client),
        periods=charge.periods,
    )


def contractual_rate(invoice: Invoice, policy: Policy) -> Decimal | None:
    """The invoice's own rate, else the policy's; None when neither sets one (the B2B default applies)."""
    return invoice.penalty_rate if invoice.penalty_rate is not None else policy.penalty_rate


def penalties(invoice: Invoice, rates: RateTable, through: date, contractual: Decimal | None) -> Charge | MissingRate:
    """Late penalties of a business invoice from the day after its due date through `through`.

    `contractual` is the rate the invoice or the policy sets, in percent; None means ECB reference + 10 points,
    semester by semester.
    """
    if contractual is not None:
        fixed = contractual

        def floored(semester: Semester) -> Decimal | None:
            # A contractual rate is lawful only at or above 3 × the semester's legal rate (L441-10 II), which
            # validate checks; without that legal rate the rate cannot be vouched for, so it is not applied.
            row = rates.get(semester)
            return fixed if row is not None and row.legal_other is not None else None

        return interest(invoice, invoice.due + _ONE_DAY, through, floored, rates, "legal_other")

    def default(semester: Semester) -> Decimal | None:
        row = rates.get(semester)
        return row.b2b_default if row else None

    return interest(invoice, invoice.due + _ONE_DAY, through, default, rates, "b2b_default")


def legal_interest(invoice: Invoice, rates: RateTable, start: date, through: date) -> Charge | MissingRate:
    """Legal interest of a consumer invoice from `start` (the day after the mise en demeure) through `through`.

    The creditor is a professional, so the rate is the legal rate "in all other cases" (legal_other).
    """

    def legal(semester: Semester) -> Decimal | None:
        row: SemesterRates | None = rates.get(semester)
        return row.legal_other if row else None

    return interest(invoice, max(start, invoice.due + _ONE_DAY), through, legal, rates, "legal_other")


def indemnity(client: Client) -> Decimal:
    """40 € per late invoice for a business client; nothing for a consumer (no collection fee, CPCE L111-8)."""
    return INDEMNITY if client.is_business else ZERO


def interest(
    invoice: Invoice, start: date, through: date, rate_of: _RateOf, rates: RateTable, rate_name: RateName
) -> Charge | MissingRate:
    """Simple interest, actual/365, from `start` through `through` inclusive, on each day's base.

    The base of a day is what was still owed at the end of the day before: a payment or credit note lowers
    it from the day after its date.
    """
    periods: list[RatePeriod] = []
    for first, last in _stretches(invoice, start, through):
        base = invoice.outstanding(first - _ONE_DAY)
        if base <= 0:
            continue
        semester = Semester.of(first)
        rate = rate_of(semester)
        if rate is None:
            missing = rates.get(semester) is None
            return MissingRate(semester, rate_name, invoice.number, invoice.source, rates.source, missing)
        days = (last - first).days + 1
        _add(periods, RatePeriod(first, last, days, rate, base, base * rate * days / _DAY_COUNT))
    total = sum((p.amount for p in periods), ZERO)
    return Charge(total.quantize(CENT, rounding=ROUND_HALF_UP), tuple(periods))


def _stretches(invoice: Invoice, start: date, through: date) -> Iterator[tuple[date, date]]:
    """Cut [start, through] where the semester changes and where the base changes (the day after a settlement)."""
    if through < start:
        return
    cuts = {p.date + _ONE_DAY for p in invoice.payments} | {c.date + _ONE_DAY for c in invoice.credit_notes}
    semester = Semester.of(start).next()
    while semester.start <= through:
        cuts.add(semester.start)
        semester = semester.next()
    first = start
    for cut in sorted(c for c in cuts if start < c <= through):
        yield first, cut - _ONE_DAY
        first = cut
    yield first, through


def _add(periods: list[RatePeriod], period: RatePeriod) -> None:
    """Join a stretch to the previous one when nothing changed between them (a contractual rate across a
    semester boundary), so that the breakdown a letter shows has one line per rate and base."""
    if periods:
        previous = periods[-1]
        if previous.rate == period.rate and previous.base == period.base and previous.end + _ONE_DAY == period.start:
            periods[-1] = RatePeriod(
                previous.start,
                period.end,
                previous.days + period.days,
                period.rate,
                period.base,
                previous.amount + period.amount,
            )
            return
    periods.append(period)
