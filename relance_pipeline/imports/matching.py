"""Bank lines → payments of open invoices, each with how it was matched; what is unsure is never guessed.

In this order, for each booked credit (DESIGN.md and issue 17):
(a) invoice numbers (or their RF creditor references, ISO 11649) in the remittance information;
(b) the exact balance of one open invoice of the one client whose name matches the debtor's;
(c) the exact sum of several open invoices of that client, applied in due-date order;
(d) otherwise unmatched: listed, nothing written.
A line already recorded (its reference is a payment's reference in the books) adds nothing, and so does a
line that is a payment typed by hand (`relance record paid`, no reference) on the invoice it would pay: the same
amount within SAME_PAYMENT_DAYS of the typed date. A typed payment that has a reference of its own is not taken
for the bank line: the line is listed for the user rather than added or dropped.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from itertools import combinations

from relance_pipeline import figures
from relance_pipeline.core.references import rf_reference
from relance_pipeline.imports.imported import BankLine
from relance_pipeline.model import ZERO, Client, Invoice, Payment

MAX_SUBSET_INVOICES = 12
"""(c) tries every subset of a client's open invoices: 2^12 sums at most, and more than that is no match a
person would trust without looking."""
NAME_SIMILARITY = 0.85
MIN_PAYMENT_REFERENCE = 4
"""A payment reference (BT-83) of fewer letters and digits (`12`, `A1`) would be found in many labels by chance."""
SAME_PAYMENT_DAYS = 5
"""A transfer is booked a day or two after the day the client says he paid (or the user typed), weekends and
bank holidays add a few more; a second payment of the very same amount on the same invoice within the week
is rare, and it is listed, never dropped, when the typed one is already taken."""


@dataclass(frozen=True)
class Applied:
    line: BankLine
    number: str
    amount: Decimal
    how: str


@dataclass(frozen=True)
class Unmatched:
    line: BankLine
    reason: str


@dataclass(frozen=True)
class ByHand:
    """A bank line that is a payment already typed by hand: nothing written, the user's line kept as it is."""

    line: BankLine
    number: str
    payment: Payment


@dataclass
class Matching:
    applied: list[Applied] = field(default_factory=list)
    unmatched: list[Unmatched] = field(default_factory=list)
    skipped: list[Unmatched] = field(default_factory=list)
    already: list[BankLine] = field(default_factory=list)
    by_hand: list[ByHand] = field(default_factory=list)


def match_lines(lines: Iterable[BankLine], invoices: Iterable[Invoice], clients: Mapping[str, Client]) -> Matching:
    result = Matching()
    invoices = tuple(invoices)
    recorded = {p.reference for i in invoices for p in i.payments if p.reference}
    balances = {i.number: _balance(i) for i in invoices}
    by_number = {i.number: i for i in invoices}
    finder = _NumberFinder(invoices)
    done: set[str] = set()
    typed = _TypedPayments(by_number, clients, finder)
    for line in sorted(lines, key=lambda ln: (ln.booked, ln.source, ln.line or 0, ln.reference)):
        reason = _skip_reason(line)
        if reason is not None:
            result.skipped.append(Unmatched(line, reason))
        elif line.reference in recorded or line.reference in done:
            result.already.append(line)
        else:
            done.add(line.reference)
            same = typed.same_payment(line)
            if isinstance(same, ByHand):
                result.by_hand.append(same)
                continue
            if isinstance(same, Unmatched):
                result.unmatched.append(same)
                continue
            found = _match(line, by_number, balances, clients, finder)
            if isinstance(found, Unmatched):
                result.unmatched.append(found)
            else:
                for applied in found:
                    balances[applied.number] -= applied.amount
                result.applied += found
    return result


class _TypedPayments:
    """The payments typed on the invoices a line would pay, each taken by one bank line at most."""

    def __init__(self, invoices: Mapping[str, Invoice], clients: Mapping[str, Client], finder: _NumberFinder) -> None:
        self.invoices = invoices
        self.clients = clients
        self.finder = finder
        self.taken: dict[tuple[str, int], BankLine] = {}

    def same_payment(self, line: BankLine) -> ByHand | Unmatched | None:
        window = timedelta(days=SAME_PAYMENT_DAYS)
        candidates = [
            (invoice, index, payment)
            for invoice in self._invoices_of(line)
            for index, payment in enumerate(invoice.payments)
            if payment.amount == line.amount and abs(payment.date - line.booked) <= window
        ]
        if not candidates:
            return None
        free = [(i, n, p) for i, n, p in candidates if p.reference is None and (i.number, n) not in self.taken]
        if len(free) == 1 and len(candidates) == 1:
            invoice, index, payment = free[0]
            self.taken[(invoice.number, index)] = line
            return ByHand(line, invoice.number, payment)
        said = "; ".join(self._said(i, n, p) for i, n, p in candidates)
        return Unmatched(line, f"may be a payment already in the books ({said}): add it by hand if it is another")

    def _said(self, invoice: Invoice, index: int, payment: Payment) -> str:
        what = f"{figures.amount(payment.amount)} on {payment.date} on {invoice.number}"
        if payment.reference is not None:
            return f"{what}, reference {payment.reference}"
        taken = self.taken.get((invoice.number, index))
        return f"{what}, typed by hand" + (f", taken for bank line {taken.reference}" if taken else "")

    def _invoices_of(self, line: BankLine) -> list[Invoice]:
        """The invoices the label names, else those of the one client of the debtor's name."""
        named = self.finder.named(line.remittance)
        if named:
            return [self.invoices[n] for n in named]
        found = _clients_named(line.debtor, self.clients) if line.debtor else []
        if len(found) != 1:
            return []
        return [i for i in self.invoices.values() if i.client == found[0]]


def _skip_reason(line: BankLine) -> str | None:
    if not line.credit:
        return "a debit"
    if line.reversal:
        return "a reversal or return (RvslInd, RRTN, RPCR)"
    if line.status != "BOOK":
        return f"not booked ({line.status})"
    return None


def _balance(invoice: Invoice) -> Decimal:
    paid = sum((p.amount for p in invoice.payments), ZERO) + sum((c.amount for c in invoice.credit_notes), ZERO)
    return invoice.total - paid


def _match(
    line: BankLine,
    invoices: Mapping[str, Invoice],
    balances: dict[str, Decimal],
    clients: Mapping[str, Client],
    finder: _NumberFinder,
) -> list[Applied] | Unmatched:
    named, what = finder.named_by(line.remittance)
    if named:
        return _by_reference(line, [invoices[n] for n in named], balances, what)
    matching_clients = _clients_named(line.debtor, clients) if line.debtor else []
    if not matching_clients:
        return Unmatched(line, "no invoice number or RF reference in the label, and no client of that name")
    if len(matching_clients) > 1:
        return Unmatched(line, f"the name '{line.debtor}' matches {len(matching_clients)} clients: "
                         + ", ".join(sorted(matching_clients)))  # fmt: skip
    client = matching_clients[0]
    open_invoices = sorted(
        (i for i in invoices.values() if i.client == client and balances[i.number] > 0), key=lambda i: (i.due, i.number)
    )
    exact = [i for i in open_invoices if balances[i.number] == line.amount]
    if len(exact) == 1:
        return [Applied(line, exact[0].number, line.amount, f"the balance of the one open invoice of {client}")]
    if len(exact) > 1:
        return Unmatched(line, f"{len(exact)} open invoices of {client} have that balance: "
                         + ", ".join(i.number for i in exact))  # fmt: skip
    return _by_sum(line, client, open_invoices, balances)


def _by_reference(
    line: BankLine, named: list[Invoice], balances: dict[str, Decimal], what: str
) -> list[Applied] | Unmatched:
    open_ones = sorted((i for i in named if balances[i.number] > 0), key=lambda i: (i.due, i.number))
    if not open_ones:
        return Unmatched(line, f"names {', '.join(i.number for i in named)}, already settled in the books")
    owed = sum((balances[i.number] for i in open_ones), ZERO)
    if line.amount > owed:
        return Unmatched(line, f"{figures.amount(line.amount)} is more than the {figures.amount(owed)} still owed on "
                         + ", ".join(i.number for i in open_ones))  # fmt: skip
    how = f"{what} in the label" if len(open_ones) == 1 else f"{what}s in the label, by due date"
    applied: list[Applied] = []
    left = line.amount
    for invoice in open_ones:
        part = min(left, balances[invoice.number])
        if part > 0:
            partial = " (partial)" if part < balances[invoice.number] else ""
            applied.append(Applied(line, invoice.number, part, how + partial))
        left -= part
    return applied


def _by_sum(
    line: BankLine, client: str, open_invoices: list[Invoice], balances: dict[str, Decimal]
) -> list[Applied] | Unmatched:
    if len(open_invoices) > MAX_SUBSET_INVOICES:
        return Unmatched(line, f"{client} has {len(open_invoices)} open invoices: too many to find a sum")
    sums = [
        subset
        for size in range(2, len(open_invoices) + 1)
        for subset in combinations(open_invoices, size)
        if sum((balances[i.number] for i in subset), ZERO) == line.amount
    ]
    if len(sums) == 1:
        how = f"the sum of {len(sums[0])} open invoices of {client}, by due date"
        return [Applied(line, i.number, balances[i.number], how) for i in sums[0]]
    if len(sums) > 1:
        return Unmatched(line, f"{len(sums)} sets of open invoices of {client} add up to {figures.amount(line.amount)}")
    return Unmatched(line, f"no open invoice of {client}, nor a sum of them, is {figures.amount(line.amount)}")


class _NumberFinder:
    """Every invoice number in one pattern, compiled once per import: a year of statements against a few
    hundred invoices would otherwise compile a pattern per number for each line. The invoices' own payment
    references (BT-83) are a second pattern, their spaces matching any spacing, since banks cut and join the
    words of a label."""

    def __init__(self, invoices: Iterable[Invoice]) -> None:
        invoices = tuple(invoices)
        numbers = [i.number for i in invoices]
        ordered = sorted({n.upper() for n in numbers}, key=lambda n: (-len(n), n))
        self.by_upper = {n.upper(): n for n in numbers}
        alternatives = "|".join(re.escape(n) for n in ordered) or "(?!)"
        self.pattern = re.compile(rf"(?<![A-Z0-9])(?:{alternatives})(?![A-Z0-9])")
        self.by_rf = {rf: n for n in numbers if (rf := rf_reference(n)) is not None}
        self.by_payment_reference: dict[str, set[str]] = {}
        for invoice in invoices:
            if invoice.payment_reference is not None:
                key = _compact(invoice.payment_reference)
                if len(key) >= MIN_PAYMENT_REFERENCE:
                    self.by_payment_reference.setdefault(key, set()).add(invoice.number)
        spaced = sorted({r.upper() for i in invoices if (r := i.payment_reference) and _compact(r) in
                         self.by_payment_reference}, key=lambda r: (-len(_compact(r)), r))  # fmt: skip
        references = "|".join(r"\s*".join(re.escape(w) for w in r.split()) for r in spaced) or "(?!)"
        self.reference_pattern = re.compile(rf"(?<![A-Z0-9])(?:{references})(?![A-Z0-9])")

    def named(self, remittance: str) -> list[str]:
        return self.named_by(remittance)[0]

    def named_by(self, remittance: str) -> tuple[list[str], str]:
        """Invoice numbers written as whole words (`VIR F-2026-003 MERCI`, not `F-2026-0031`), the longest
        first where one contains another, and RF references written with or without their spaces; else the
        invoices' payment references. With what found them."""
        text = remittance.upper()
        found = {self.by_upper[m.group(0)] for m in self.pattern.finditer(text)}
        for candidate in re.findall(r"RF[0-9]{2}[A-Z0-9]{1,21}", re.sub(r"\s+", "", text)):
            number = self.by_rf.get(candidate)
            if number is not None:
                found.add(number)
        if found:
            return sorted(found), "invoice number"
        for match in self.reference_pattern.finditer(text):
            found |= self.by_payment_reference.get(_compact(match.group(0)), set())
        return sorted(found), "payment reference"


def _compact(reference: str) -> str:
    return "".join(reference.split()).upper()


def _clients_named(debtor: str, clients: Mapping[str, Client]) -> list[str]:
    wanted = _comparable(debtor)
    found = []
    for client_id, client in clients.items():
        names = {_comparable(client.name), _comparable(client.contact or ""), _comparable(client_id.replace("-", " "))}
        names.discard("")
        if any(_similar(wanted, name) for name in names):
            found.append(client_id)
    return sorted(found)


def _similar(a: str, b: str) -> bool:
    if a == b:
        return True
    shorter, longer = sorted((a, b), key=len)
    if len(shorter) >= 4 and f" {shorter} " in f" {longer} ":
        return True
    return difflib.SequenceMatcher(None, a, b).ratio() >= NAME_SIMILARITY


_LEGAL_FORMS = {
    "sas",
    "sasu",
    "sarl",
    "eurl",
    "sa",
    "sci",
    "scop",
    "snc",
    "gmbh",
    "ag",
    "ltd",
    "inc",
    "bv",
    "mme",
    "m",
    "mr",
}


def _comparable(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    words = [w for w in re.sub(r"[^a-z0-9]+", " ", ascii_name).split() if w not in _LEGAL_FORMS]
    return " ".join(words)
