"""A payment plan checked against its invoice: what the client agreed to pay, when, must be possible.

The plan reads instalments in due order and counts payments against them; a plan asking for more than was
owed on the day it was agreed, or an instalment dated before that day or out of order, would make it say a
client is behind (or on time) when they are not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal

from relance_pipeline.model import Invoice, Problem

_Locate = Callable[[Sequence[str | int]], int | None]


def payment_plan_checks(invoice: Invoice, at: _Locate) -> Iterator[Problem]:
    plan = invoice.payment_plan
    if plan is None:
        return
    previous = None
    for index, instalment in enumerate(plan.instalments):
        where = f"payment_plan.instalments[{index + 1}].due"
        line = at(["payment_plan", "instalments", index, "due"])
        if instalment.due < plan.agreed:
            yield Problem(
                invoice.source,
                line,
                f"{where}: {instalment.due} is before the plan was agreed ({plan.agreed}); an instalment falls due "
                "on or after that day",
                code="plan.before_agreed",
            )
        elif previous is not None and instalment.due <= previous:
            yield Problem(
                invoice.source,
                line,
                f"{where}: {instalment.due} is not after the instalment before it ({previous}); list the "
                "instalments in the order they fall due, one date each",
                code="plan.unsorted",
            )
        previous = instalment.due
    planned = sum((i.amount for i in plan.instalments), Decimal(0))
    owed = invoice.outstanding(plan.agreed)
    if planned > owed:
        yield Problem(
            invoice.source,
            at(["payment_plan", "instalments"]),
            f"payment_plan.instalments: they add up to {planned:.2f}, more than the {owed:.2f} outstanding on "
            f"{plan.agreed} when the plan was agreed; check the amounts (payments made before that day are "
            "not part of the plan)",
            code="plan.over_balance",
        )
