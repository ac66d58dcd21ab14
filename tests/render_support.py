"""Actions built by hand for the rendering tests, from the example repository's books.

The amounts are chosen, not computed (the plan has its own tests): a business client owes 12.34 of penalties
and the 40 € indemnity per invoice, a consumer nothing but the balance.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from relance_pipeline.books.read import read_books
from relance_pipeline.model import Action, Amounts, Books, Channel, Client, Language

AS_OF = date(2026, 6, 15)
PENALTIES = Decimal("12.34")
INDEMNITY = Decimal("40.00")


def books_of(root: Path) -> Books:
    loaded = read_books(root)
    assert loaded.books is not None, loaded.problems
    return loaded.books


def client_for(books: Books, kind: str, language: Language, **changes: object) -> Client:
    """The example's French business or consumer client, in the language asked for."""
    base = books.clients["atelier-ferrand" if kind == "business" else "lucie-martin"]
    return dataclasses.replace(base, language=language, **changes)  # type: ignore[arg-type]


def action_for(
    books: Books,
    client: Client,
    step_id: str,
    *,
    channels: tuple[Channel, ...] | None = None,
    as_of: date = AS_OF,
) -> Action:
    policy = books.policy_for(client)
    step = next(step for step in policy.steps if step.id == step_id)
    if channels is not None:
        step = dataclasses.replace(step, channels=channels)
        policy = dataclasses.replace(policy, steps=tuple(step if s.id == step_id else s for s in policy.steps))
    business = client.is_business
    invoices = tuple(
        Amounts(
            invoice=invoice,
            days_overdue=(as_of - invoice.due).days,
            outstanding=invoice.outstanding(as_of),
            charges=PENALTIES if business else Decimal("0.00"),
            charge_kind="penalties" if business else ("legal_interest" if step.formal_notice else "none"),
            indemnity=INDEMNITY if business else Decimal("0.00"),
        )
        for invoice in sorted(books.invoices, key=lambda i: i.number)
        if invoice.client == client.id and invoice.outstanding(as_of) > 0
    )
    deadline = as_of + timedelta(days=step.deadline_days) if step.deadline_days else None
    return Action(client=client, policy=policy, step=step, invoices=invoices, deadline=deadline)


def plain(text: str) -> str:
    """Text with the typographic spaces (narrow no-break, no-break) made plain, and runs of spaces collapsed."""
    for space in ("\u202f", "\u00a0", "\u2009"):
        text = text.replace(space, " ")
    return " ".join(text.split())
