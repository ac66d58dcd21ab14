"""A client with more invoices than a document lists: actions built by hand from the example's books.

Invoice `H-00001` … `H-<n>` of the chosen client, each a copy of one of its real invoices with its own number,
due date and total: the totals grow with the number, so the largest are the last ones (the last three share
the largest total), and the due dates go back with it, so the smallest, never listed past the cap, is the most
overdue: a figure of the listed invoices only would show in the words.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

from render_support import AS_OF, INDEMNITY, PENALTIES

from relance_pipeline.model import Action, Amounts, Books, Client, Invoice


def many_invoices(books: Books, client: Client, count: int, *, as_of: date = AS_OF) -> list[Invoice]:
    template = next(i for i in sorted(books.invoices, key=lambda i: i.number) if i.client == client.id)
    template = dataclasses.replace(template, payments=(), credit_notes=(), hold=None, document=None)
    made = []
    for index in range(1, count + 1):
        due = as_of - timedelta(days=30 + count - index)
        total = Decimal(100 + min(index, count - 2)).quantize(Decimal("0.01"))
        made.append(
            dataclasses.replace(
                template, number=f"H-{index:05d}", issued=due - timedelta(days=30), due=due, total=total
            )
        )
    return made


def huge_action(books: Books, action: Action, count: int, *, as_of: date = AS_OF) -> Action:
    """`action` (from render_support.action_for) with `count` invoices of its client instead of its own."""
    business = action.client.is_business
    invoices = tuple(
        Amounts(
            invoice=invoice,
            days_overdue=(as_of - invoice.due).days,
            outstanding=invoice.total,
            charges=PENALTIES if business else Decimal("0.00"),
            charge_kind="penalties" if business else "none",
            indemnity=INDEMNITY if business else Decimal("0.00"),
        )
        for invoice in many_invoices(books, action.client, count, as_of=as_of)
    )
    return dataclasses.replace(action, invoices=invoices)
