"""Properties that hold for any books hypothesis can make up: the money rules, the plan over many nights, the
loaders on any file, and the one address each email may go to.

Money: charges are never negative, a consumer pays no interest before the mise en demeure (and never the
indemnity), total_due = outstanding + charges + indemnity (also as printed), charges only grow with time and
only shrink with payments. Plan: the same inputs give the same plan (whatever the order of the files), a step
is never planned twice for an invoice, steps are taken one a run, one document per client per run, no
contact within the policy's interval, and a paid or held invoice is never listed.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from loop_support import CREDITOR, EMAILS, Mailbox, add_draft, git, smtp_server
from planbooks import drafted_entries

from relance_pipeline.books.read import read_books
from relance_pipeline.cli.plan_format import to_json
from relance_pipeline.commands.init import init, scaffold_folder
from relance_pipeline.commands.send import send
from relance_pipeline.commands.validate import check_books
from relance_pipeline.core import money
from relance_pipeline.core.plan import plan
from relance_pipeline.model import (
    CENT,
    ZERO,
    Amounts,
    Books,
    Client,
    CreditNote,
    Hold,
    Invoice,
    JournalEntry,
    Payment,
    Plan,
    Policy,
)
from relance_pipeline.ship.outgoing import Outgoing, prepare

_loaded = read_books(scaffold_folder())
assert _loaded.books is not None
BOOKS: Books = _loaded.books
RATES = BOOKS.rates
POLICY: Policy = BOOKS.policies["standard"]
FIRST_DAY, LAST_DAY = date(2022, 1, 1), date(2026, 6, 30)
"""The shipped rate table runs from 2022-S1 to 2026-S1: every date drawn falls inside it."""
EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

money_amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("250000.00"), places=2)


@st.composite
def invoices(draw: st.DrawFn, number: str = "F-1", client: str = "c") -> Invoice:
    total = draw(money_amounts)
    due = draw(st.dates(FIRST_DAY + timedelta(days=30), date(2026, 3, 31)))
    issued = due - timedelta(days=draw(st.integers(0, 60)))
    shares = draw(st.lists(st.integers(1, 100), max_size=3))
    payments = tuple(
        Payment(due + timedelta(days=draw(st.integers(-20, 300))), (total * share / 100 / 4).quantize(CENT))
        for share in shares
    )
    credits = tuple(
        CreditNote(f"AV-{i}", due + timedelta(days=draw(st.integers(-20, 300))), (total * share / 400).quantize(CENT))
        for i, share in enumerate(draw(st.lists(st.integers(1, 100), max_size=1)))
    )
    rate = draw(st.none() | st.decimals(min_value=Decimal("0"), max_value=Decimal("30"), places=2))
    hold = draw(st.none() | st.builds(Hold, st.just("disputed"), st.none() | st.dates(due, LAST_DAY)))
    return Invoice(
        number=number,
        client=client,
        issued=issued,
        due=due,
        total=total,
        source=f"ledger/invoices/{number}.yaml",
        payments=tuple(p for p in payments if p.amount > 0),
        credit_notes=tuple(c for c in credits if c.amount > 0),
        hold=hold,
        penalty_rate=rate,
    )


def client_of(kind: str, client_id: str = "c") -> Client:
    return Client(
        id=client_id,
        name=client_id.title(),
        kind=kind,  # type: ignore[arg-type]
        email=f"compta@{client_id}.example",
        address=("1 rue X", "75001 Paris"),
        language="fr",
        source=f"ledger/clients/{client_id}.yaml",
    )


kinds = st.sampled_from(["business", "consumer"])


def after(day: date) -> st.SearchStrategy[date]:
    return st.dates(day + timedelta(days=1), max(day + timedelta(days=1), LAST_DAY))


def amounts_of(invoice: Invoice, kind: str, as_of: date, notice: date | None) -> Amounts:
    found = money.amounts(invoice, client_of(kind), POLICY, RATES, as_of, notice)
    assert not isinstance(found, money.MissingRate), found
    return found


# --- money -----------------------------------------------------------------------------------------------------


@EXAMPLES
@given(invoice=invoices(), kind=kinds, data=st.data())
def test_charges_are_never_negative_and_the_total_due_adds_up(invoice: Invoice, kind: str, data: st.DataObject) -> None:
    as_of = data.draw(after(invoice.due))
    notice = data.draw(st.none() | st.dates(invoice.due, as_of))
    found = amounts_of(invoice, kind, as_of, notice)
    assert found.charges >= 0 and found.charges == found.charges.quantize(CENT)
    assert found.total_due == found.outstanding + found.charges + found.indemnity
    assert found.indemnity == (Decimal("40.00") if kind == "business" else ZERO)
    # A contractual rate below the legal floor is charged at the floor (L441-10 II): the floor bounds it too.
    floors = [row.contractual_floor for row in RATES.semesters.values() if row.contractual_floor]
    longest = max([*(row.b2b_default for row in RATES.semesters.values()), *floors, invoice.penalty_rate or ZERO])
    days = (as_of - invoice.due).days
    assert found.charges <= (invoice.total * longest * days / Decimal(36500)).quantize(CENT) + CENT


@EXAMPLES
@given(invoice=invoices(), data=st.data())
def test_a_consumer_owes_no_interest_before_the_day_after_the_mise_en_demeure(
    invoice: Invoice, data: st.DataObject
) -> None:
    as_of = data.draw(after(invoice.due))
    without = amounts_of(invoice, "consumer", as_of, None)
    assert without.charges == ZERO and without.charge_kind == "none" and without.indemnity == ZERO
    notice = data.draw(st.dates(invoice.due, as_of))
    with_notice = amounts_of(invoice, "consumer", as_of, notice)
    assert with_notice.charge_kind == "legal_interest"
    assert all(period.start > notice for period in with_notice.periods)
    assert amounts_of(invoice, "consumer", notice, notice).charges == ZERO


@EXAMPLES
@given(invoice=invoices(), kind=kinds, data=st.data())
def test_charges_grow_with_time_and_shrink_with_a_payment(invoice: Invoice, kind: str, data: st.DataObject) -> None:
    first = data.draw(after(invoice.due))
    later = data.draw(st.dates(first, LAST_DAY))
    notice = data.draw(st.none() | st.dates(invoice.due, first))
    # A credit note corrects the invoice from its due date (legal-fr.md): one dated between the two days lowers
    # the base of every day before it too (hypothesis: 2.85 € on 56.61 €, then 2.84 € on 56.19 €), so time alone
    # is compared without one. One dated on or before the first day, or after the later one, counts the same on
    # both days (or on neither): growth holds with it.
    assume(not any(first < note.date <= later for note in invoice.credit_notes))
    earlier_amounts = amounts_of(invoice, kind, first, notice)
    assert amounts_of(invoice, kind, later, notice).charges >= earlier_amounts.charges
    outstanding = invoice.outstanding(LAST_DAY)
    assume(outstanding > CENT)
    paid_on = data.draw(st.dates(invoice.due, later))
    part = data.draw(st.decimals(min_value=CENT, max_value=outstanding, places=2))
    paying = dataclasses.replace(invoice, payments=(*invoice.payments, Payment(paid_on, part)))
    assert amounts_of(paying, kind, later, notice).charges <= amounts_of(invoice, kind, later, notice).charges


# --- the plan over many nights ------------------------------------------------------------------------------------


@st.composite
def ledgers(draw: st.DrawFn) -> Books:
    clients = {f"c{i}": client_of(draw(kinds), f"c{i}") for i in range(draw(st.integers(1, 3)))}
    bills = [
        draw(invoices(number=f"F-{n:03d}", client=draw(st.sampled_from(sorted(clients)))))
        for n in range(draw(st.integers(1, 6)))
    ]
    return dataclasses.replace(BOOKS, clients=clients, invoices=tuple(bills))


@EXAMPLES
@given(
    books=ledgers(),
    gaps=st.lists(st.integers(1, 40), min_size=1, max_size=12),
    start=st.dates(date(2022, 3, 1), date(2025, 12, 31)),
)
def test_night_after_night_the_plan_keeps_every_promise(books: Books, gaps: list[int], start: date) -> None:
    journal: list[JournalEntry] = []
    contacts: dict[str, list[date]] = {}
    as_of = start
    for gap in gaps:
        as_of += timedelta(days=gap)
        if as_of > LAST_DAY:
            break
        result = plan(books, journal, as_of)
        assert isinstance(result, Plan), result
        shuffled = dataclasses.replace(books, invoices=tuple(reversed(books.invoices)))
        assert plan(books, journal, as_of) == result == plan(shuffled, journal, as_of)
        again_listed = plan(books, list(journal), as_of)
        assert isinstance(again_listed, Plan) and to_json(again_listed) == to_json(result)
        assert len({a.client.id for a in result.actions}) == len(result.actions)
        for action in result.actions:
            step_index = POLICY.step_index(action.step.id)
            assert step_index is not None
            for listed in action.invoices:
                invoice = listed.invoice
                assert invoice.outstanding(as_of) > 0 and invoice.due < as_of
                assert invoice.hold is None or not invoice.hold.active_on(as_of)
                issued = [e for e in journal if invoice.number in e.invoices]
                assert action.step.id not in {e.step for e in issued}, "a step is never planned twice"
                previous = max((POLICY.step_index(e.step) or 0 for e in issued), default=-1)
                assert step_index > previous
                assert all(e.date < as_of for e in issued)
                if action.client.kind == "consumer":
                    assert listed.indemnity == ZERO
                    notices = [e for e in issued if e.step == "mise-en-demeure"]
                    assert listed.charges == ZERO or notices, "no interest before the mise en demeure"
                assert listed.charges >= 0
            printed = json.loads(to_json(result))
            for shown in printed["actions"]:
                for row in shown["invoices"]:
                    parts = (Decimal(row[key]) for key in ("outstanding", "penalties", "indemnity"))
                    assert sum(parts) == Decimal(row["total_due"])
            contacts.setdefault(action.client.id, []).append(as_of)
        journal += drafted_entries(result)
        again = plan(books, journal, as_of)
        assert isinstance(again, Plan) and again.actions == (), "a second run of the same night drafts nothing"
    for days in contacts.values():
        assert all((b - a).days >= POLICY.min_interval_days for a, b in itertools.pairwise(days))


# --- the loaders on any file -----------------------------------------------------------------------------------

YAMLISH = st.text(
    st.sampled_from([*"abn:-[]{}&*!|>'\"#\n \t0123456789.,?%@`\\", "\u00e9", "\u2028", "\x00", "\ufeff"]),
    max_size=200,
)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hypothesis") / "books"
    init(root)
    return root


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=YAMLISH.map(str.encode) | st.binary(max_size=200))
def test_any_content_in_a_books_file_gives_located_problems_never_a_crash(scratch: Path, content: bytes) -> None:
    rel = "ledger/invoices/2026/F-2026-004.yaml"
    original = (scratch / rel).read_bytes()
    (scratch / rel).write_bytes(content)
    try:
        problems, _ = check_books(scratch, date(2026, 6, 15))
    finally:
        (scratch / rel).write_bytes(original)
    assert all(p.path for p in problems)
    about = [p for p in problems if p.path == rel]
    assert all(p.line is not None and p.line >= 1 for p in about), about


# --- no email to an address the books do not give -------------------------------------------------------------

CLIENT = Client(
    id="nordwind",
    name="Nordwind GmbH",
    kind="business",
    email=EMAILS["nordwind"],
    address=("x",),
    language="en",
    source="ledger/clients/nordwind.yaml",
)
STRANGERS = ["evil@attacker.example", EMAILS["atelier-ferrand"], "accounts@nordwind.example.evil", "x@y"]
ADDRESSES = st.sampled_from([EMAILS["nordwind"], EMAILS["nordwind"].upper(), *STRANGERS])
TO_VALUES = st.one_of(
    ADDRESSES,
    st.builds(lambda name, a: f'"{name}" <{a}>', ADDRESSES, ADDRESSES),
    st.builds(lambda a, b: f"{a}, {b}", ADDRESSES, ADDRESSES),
    st.builds(lambda a, b: f"group: {a}, {b};", ADDRESSES, ADDRESSES),
    st.builds(lambda a, b: f"{a} ({b})", ADDRESSES, ADDRESSES),
    st.builds(lambda a: f"=?utf-8?q?{a.replace('@', '=40')}?= <{a}>", ADDRESSES),
)
EXTRA_HEADERS = st.lists(
    st.sampled_from(["Cc", "Bcc", "bcc", "Resent-To", "Resent-Cc", "Resent-Bcc", "To", "X-Original-To"]), max_size=2
)


@settings(max_examples=300, deadline=None)
@given(to=TO_VALUES, extra=EXTRA_HEADERS, stranger=st.sampled_from(STRANGERS))
def test_a_draft_goes_to_its_clients_address_in_the_books_or_nowhere(to: str, extra: list[str], stranger: str) -> None:
    head = "".join(f"{name}: {stranger}\r\n" for name in extra)
    raw = (
        f"From: Camille Durand <{CREDITOR}>\r\nTo: {to}\r\n{head}Subject: Relance\r\nMessage-ID: <1@durand-dev.fr>\r\n"
        "\r\nBonjour,\r\n"
    ).encode()
    outgoing = prepare("outbox/x.eml", raw, CLIENT, CREDITOR, datetime(2026, 6, 16, tzinfo=UTC))
    if isinstance(outgoing, Outgoing):
        assert outgoing.recipients == (EMAILS["nordwind"],)  # the envelope: who receives the message
        assert not {name.lower() for name in extra} & {"cc", "bcc", "to", "resent-to", "resent-cc", "resent-bcc"}


def test_addresses_typed_into_the_words_in_review_never_reach_the_server(example_repo: Path) -> None:
    typed = {
        "atelier-ferrand": f"To: {EMAILS['nordwind']}",  # another client's
        "lucie-martin": f'To: "{EMAILS["lucie-martin"]}" <evil@x.example>',
        "nordwind": "Bcc: evil@x.example\nCc: evil@x.example",
    }
    files = {client: add_draft(example_repo, client, "relance-1") for client in typed}
    for client, lines in typed.items():
        words = example_repo / files[client]
        subject, _, body = words.read_text(encoding="utf-8").partition("\n\n")
        words.write_text(f"{lines}\n{subject}\n\n{lines}\n\n{body}", encoding="utf-8")
    git(example_repo, "commit", "--quiet", "-am", "review: addresses typed into the words")
    mailbox = Mailbox()
    with smtp_server(mailbox) as environ:
        report = send(example_repo, environ, today=date(2026, 6, 16))
    assert report.exit_code == 0, report.problems
    assert sorted(r for m in mailbox.received for r in m.recipients) == sorted(EMAILS[c] for c in typed)
    for received in mailbox.received:
        message = message_from_bytes(received.data, policy=policy.default)
        assert [a.addr_spec for a in message["To"].addresses] == received.recipients
        assert message["Cc"] is None and message["Bcc"] is None and message["From"].addresses[0].addr_spec == CREDITOR
        assert "evil@x.example" not in str(message["To"]) + str(message["From"])
    assert sorted(entry.file for entry in report.sent) == sorted(files.values())
