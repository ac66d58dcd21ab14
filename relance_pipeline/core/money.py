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

from relance_pipeline.core.rates import legal_rates_source
from relance_pipeline.model import (
    CENT,
    ZERO,
    Amounts,
    ChargeKind,
    Client,
    Invoice,
    Policy,
    Problem,
    RateBasis,
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
    client: str = ""

    def problem(self) -> Problem:
        """A warning: only the client of the invoice is held back, the others' documents go out."""
        what = "no rates" if self.row_missing else f"no {self.rate} rate"
        return Problem(
            self.rates_file,
            None,
            f"{what} for {self.semester} (needed for invoice {self.invoice}, {self.invoice_source}): client "
            f"{self.client} is held back until it is there; {self._hint()}; a rate is never guessed",
            severity="warning",
            code="rate.missing",
        )

    def _hint(self) -> str:
        arrete = legal_rates_source(self.semester)
        if self.rate == "legal_other" and not self.row_missing:
            # `relance rates update` reads the ECB series only: no API publishes the legal rates.
            return f"fill in legal_other by hand from {arrete}"
        if self.rate == "legal_other":
            return (
                f"add the semester's row ({_ROW_KEYS}): `relance rates update` adds its ECB figures, "
                f"legal_other is copied by hand from {arrete}"
            )
        return f"add the semester's row ({_ROW_KEYS}): `relance rates update` adds its ECB figures"


_ROW_KEYS = "ecb_reference, b2b_default, legal_individual, legal_other"


@dataclass(frozen=True)
class Charge:
    """Penalties or interest over some days: the rounded amount and the periods it adds up."""

    amount: Decimal
    periods: tuple[RatePeriod, ...] = ()


NO_CHARGE = Charge(ZERO)
_RateOf = Callable[[SemesterRates], tuple[Decimal, RateBasis] | None]


def amounts(
    invoice: Invoice, client: Client, policy: Policy, rates: RateTable, as_of: date, notice: date | None
) -> Amounts | MissingRate:
    """What the invoice costs the client on `as_of`. `notice` is the day the consumer received the mise en
    demeure (sent or posted), the day before legal interest starts to run; a business needs no notice."""
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


def penalty_rate(row: SemesterRates, contractual: Decimal | None) -> tuple[Decimal, RateBasis] | None:
    """The rate a semester is charged at, and why: the contract's, the legal floor where the contract's is
    below it (L441-10 II: never under 3 × legal_other), or the B2B default. None when the row cannot say:
    a contractual rate is never applied unchecked, so it needs the semester's legal rate."""
    if contractual is None:
        return row.b2b_default, "default"
    floor = row.contractual_floor
    if floor is None:
        return None
    return (contractual, "contract") if contractual >= floor else (floor, "floor")


def penalties(invoice: Invoice, rates: RateTable, through: date, contractual: Decimal | None) -> Charge | MissingRate:
    """Late penalties of a business invoice from the day after its due date through `through`.

    `contractual` is the rate the invoice or the policy sets, in percent; None means ECB reference + 10 points,
    semester by semester.
    """
    name: RateName = "b2b_default" if contractual is None else "legal_other"
    return interest(invoice, invoice.due + _ONE_DAY, through, lambda row: penalty_rate(row, contractual), rates, name)


def legal_interest(invoice: Invoice, rates: RateTable, start: date, through: date) -> Charge | MissingRate:
    """Legal interest of a consumer invoice from `start` (the day after the mise en demeure) through `through`.

    The creditor is a professional, so the rate is the legal rate "in all other cases" (legal_other).
    """

    def legal(row: SemesterRates) -> tuple[Decimal, RateBasis] | None:
        return None if row.legal_other is None else (row.legal_other, "legal")

    return interest(invoice, max(start, invoice.due + _ONE_DAY), through, legal, rates, "legal_other")


def indemnity(client: Client) -> Decimal:
    """40 € per late invoice for a business client; nothing for a consumer (no collection fee, CPCE L111-8)."""
    return INDEMNITY if client.is_business else ZERO


def interest(
    invoice: Invoice, start: date, through: date, rate_of: _RateOf, rates: RateTable, rate_name: RateName
) -> Charge | MissingRate:
    """Simple interest, actual/365, from `start` through `through` inclusive, on each day's base.

    The base of a day is what was still owed at the end of the day before: a payment lowers it from the day
    after its date. A credit note corrects the invoice itself, so it lowers the base from the due date on,
    whatever its own date: no penalty runs on an amount that was never owed.
    """
    periods: list[RatePeriod] = []
    credited = invoice.credited_on(through)
    for first, last in _stretches(invoice, start, through):
        base = invoice.total - invoice.paid_on(first - _ONE_DAY) - credited
        if base <= 0:
            continue
        semester = Semester.of(first)
        row = rates.get(semester)
        found = rate_of(row) if row is not None else None
        if found is None:
            return MissingRate(
                semester, rate_name, invoice.number, invoice.source, rates.source, row is None, invoice.client
            )
        rate, basis = found
        days = (last - first).days + 1
        _add(periods, RatePeriod(first, last, days, rate, base, base * rate * days / _DAY_COUNT, basis))
    total = sum((p.amount for p in periods), ZERO)
    return Charge(total.quantize(CENT, rounding=ROUND_HALF_UP), tuple(periods))


def _stretches(invoice: Invoice, start: date, through: date) -> Iterator[tuple[date, date]]:
    """Cut [start, through] where the semester changes and where the base changes (the day after a payment)."""
    if through < start:
        return
    cuts = {p.date + _ONE_DAY for p in invoice.payments}
    cuts |= {semester.start for semester in Semester.of(start).next().through(Semester.of(through))}
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
        same = previous.rate == period.rate and previous.base == period.base and previous.basis == period.basis
        if same and previous.end + _ONE_DAY == period.start:
            periods[-1] = RatePeriod(
                previous.start,
                period.end,
                previous.days + period.days,
                period.rate,
                period.base,
                previous.amount + period.amount,
                period.basis,
            )
            return
    periods.append(period)
