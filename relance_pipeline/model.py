"""The records the pipeline works on: frozen, typed, with money as Decimal and dates as dates."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal, NamedTuple, get_args

ClientKind = Literal["business", "consumer"]
Language = Literal["fr", "en"]
Channel = Literal["email", "letter", "sms", "phone"]
HoldReason = Literal["disputed", "payment_plan", "promise", "other"]
JournalEvent = Literal["drafted", "sent", "withdrawn", "failed", "unknown", "posted", "called"]

CHANNELS: tuple[Channel, ...] = get_args(Channel)
JOURNAL_EVENTS: tuple[JournalEvent, ...] = get_args(JournalEvent)
DOCUMENT_ORDER: tuple[Channel, ...] = ("letter", "email", "sms", "phone")
"""An action's documents are rendered, written and journaled in this order: the email attaches the letter."""
SUFFIXES: Mapping[Channel, str] = {
    "letter": ".letter.txt",
    "email": ".email.txt",
    "sms": ".sms.txt",
    "phone": ".call.md",
}
"""Each channel's draft is `<step><suffix>` in outbox/<date>/<client>/: the words a reviewer reads."""
SENT_SUFFIXES: Mapping[Channel, str] = {"letter": ".pdf", "email": ".eml"}
"""The letter and the email as `send` made them on its day, beside their words: `<step>.pdf`, `<step>.eml`."""


PREVIEW_SUFFIX = ".preview.pdf"
PREVIEW_IMAGE_SUFFIX = ".preview.png"
"""What `run` writes beside a letter's words to look at: `<step>.preview.pdf`, and with `previews: true` its
first page as `<step>.preview.png`."""


def letter_preview(file: str) -> str:
    """The preview PDF `run` wrote beside the letter words file `file`."""
    return file.removesuffix(SUFFIXES["letter"]) + PREVIEW_SUFFIX


STATEMENT_SUFFIX = ".statement.pdf"
"""The statement of account `send` makes beside a letter that lists only the largest of its invoices (past
render/lines.py's LISTED_LIMIT): `<step>.statement.pdf`, printed right after `<step>.pdf`."""


def sent_statement(file: str, channel: Channel) -> str | None:
    """Where `send` puts the statement of account that goes with the letter of the words file `file`."""
    if channel != "letter" or not file.endswith(SUFFIXES["letter"]):
        return None
    return file.removesuffix(SUFFIXES["letter"]) + STATEMENT_SUFFIX


def made_by_send(file: str, channel: Channel) -> tuple[str, ...]:
    """The files `send` makes from the words file `file`: the email or the letter, and a letter's statement."""
    return tuple(name for name in (sent_document(file, channel), sent_statement(file, channel)) if name)


def sent_document(file: str, channel: Channel) -> str | None:
    """Where `send` puts the document made from the words file `file` (None: the channel has none)."""
    suffix = SENT_SUFFIXES.get(channel)
    if suffix is None or not file.endswith(SUFFIXES[channel]):
        return None
    return file.removesuffix(SUFFIXES[channel]) + suffix


LANGUAGES: tuple[Language, ...] = get_args(Language)
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
STALE_AFTER_DAYS = 14
"""relance.yaml's default stale_after_days: two weeks lets a review wait over a holiday, not over a month's
payments (the amounts are refreshed at send anyway; the words' own facts, such as a step's timing, are not)."""
LEGAL_FLOOR_FACTOR = Decimal(3)
"""A contractual B2B rate may not be below 3 × the legal interest rate (C. com. L441-10 II)."""


class Problem(NamedTuple):
    """Something the user can fix, located in a file of the repository."""

    path: str
    line: int | None
    message: str
    severity: Literal["error", "warning"] = "error"
    code: str = ""
    """The kind of problem, dotted (`template.missing`, `schema.type`, `reference.unknown`): stable when the
    wording changes, so that code and tests recognise a problem by it, never by its message."""

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}: {prefix}{self.message}"


def in_file_order(problems: Iterable[Problem]) -> list[Problem]:
    """Each problem once, by file, line and message: the order they are shown in. Two rules of a schema may
    say the same thing of one value: the first one's code is kept."""
    unique: dict[tuple[str, int | None, str, str], Problem] = {}
    for problem in problems:
        unique.setdefault((problem.path, problem.line, problem.message, problem.severity), problem)
    return sorted(unique.values(), key=lambda p: (p.path, p.line or 0, p.message))


@dataclass(frozen=True)
class Creditor:
    name: str
    address: tuple[str, ...]
    city: str
    siret: str
    email: str
    iban: str
    bic: str
    vat_id: str | None = None
    phone: str | None = None
    website: str | None = None
    signatory: str | None = None
    legal_form: str | None = None
    vat_regime: Literal["standard", "franchise"] = "standard"
    """`franchise`: the franchise en base (art. 293 B du CGI), no VAT charged on the invoices."""


@dataclass(frozen=True)
class Settings:
    """relance.yaml: who is owed, and how the pipeline runs for them."""

    creditor: Creditor
    locale: Language
    timezone: str
    default_policy: str
    previews: bool = False
    rates_source: str | None = None
    stale_after_days: int = STALE_AFTER_DAYS
    """A draft not sent this many days after it was drafted is withdrawn as stale, and drafted again."""


@dataclass(frozen=True)
class Client:
    id: str
    name: str
    kind: ClientKind
    email: str
    address: tuple[str, ...]
    language: Language
    source: str
    phone: str | None = None
    policy: str | None = None
    relationship: Literal["new", "regular"] = "regular"
    siren: str | None = None
    vat_id: str | None = None
    contact: str | None = None
    hold: Hold | None = None
    """Pauses every invoice of the client, new ones included."""
    civility: Literal["madame", "monsieur"] | None = None
    """How the documents address the client when neither `contact` nor the name says it ("Madame,")."""

    @property
    def is_business(self) -> bool:
        return self.kind == "business"


@dataclass(frozen=True)
class Payment:
    date: date
    amount: Decimal
    reference: str | None = None


@dataclass(frozen=True)
class CreditNote:
    number: str
    date: date
    amount: Decimal


@dataclass(frozen=True)
class Hold:
    reason: HoldReason
    until: date | None = None
    note: str | None = None

    def active_on(self, day: date) -> bool:
        """A hold without an end date holds until it is removed from the file."""
        return self.until is None or day <= self.until


@dataclass(frozen=True)
class Instalment:
    due: date
    amount: Decimal


@dataclass(frozen=True)
class InstalmentStanding:
    """One instalment of a payment plan on a date: what was due, and how much of it the payments covered."""

    due: date
    amount: Decimal
    paid: Decimal

    @property
    def unpaid(self) -> Decimal:
        return self.amount - self.paid


@dataclass(frozen=True)
class PlanStanding:
    """A payment plan as of `on`: each instalment with what was paid of it, oldest first."""

    agreed: date
    on: date
    instalments: tuple[InstalmentStanding, ...]
    arrears: Decimal
    """Due under the plan and unpaid: the outstanding balance beyond the instalments still to come."""

    @property
    def missed(self) -> tuple[InstalmentStanding, ...]:
        """The instalments due before `on` and not wholly paid."""
        return tuple(i for i in self.instalments if i.due < self.on and i.unpaid > 0)

    @property
    def met(self) -> tuple[InstalmentStanding, ...]:
        return tuple(i for i in self.instalments if i.due < self.on and i.unpaid <= 0)

    @property
    def coming(self) -> tuple[InstalmentStanding, ...]:
        """The instalments not yet due (due on or after `on`)."""
        return tuple(i for i in self.instalments if i.due >= self.on)


@dataclass(frozen=True)
class PaymentPlan:
    """Instalments agreed with the client for what was outstanding on `agreed`."""

    agreed: date
    instalments: tuple[Instalment, ...]

    def still_to_come(self, on: date) -> Decimal:
        """The instalments not yet due on `on` (due on or after it): what the client may still owe and be on time."""
        return sum((i.amount for i in self.instalments if i.due >= on), ZERO)

    def standing(self, invoice: Invoice, on: date) -> PlanStanding:
        """Each instalment with what the payments covered of it on `on`.

        Payments are counted against instalments in due order, whatever their dates: what matters is whether
        the client has paid, by now, what was due by now. What is owed beyond the instalments to come is
        unpaid from the latest instalment due backwards; what is owed below them was paid ahead, on the next
        instalments first.
        """
        ordered = sorted(self.instalments, key=lambda i: i.due)
        behind = invoice.outstanding(on) - self.still_to_come(on)
        ahead = -behind
        unpaid: dict[int, Decimal] = {}
        for index in reversed(range(len(ordered))):
            if ordered[index].due < on:
                unpaid[index] = min(ordered[index].amount, max(behind, ZERO))
                behind -= unpaid[index]
        standing = []
        for index, instalment in enumerate(ordered):
            if instalment.due < on:
                paid = instalment.amount - unpaid[index]
            else:
                paid = min(instalment.amount, max(ahead, ZERO))
                ahead -= paid
            standing.append(InstalmentStanding(instalment.due, instalment.amount, paid))
        arrears = max(invoice.outstanding(on) - self.still_to_come(on), ZERO)
        return PlanStanding(self.agreed, on, tuple(standing), arrears)


@dataclass(frozen=True)
class Invoice:
    number: str
    client: str
    issued: date
    due: date
    total: Decimal
    source: str
    currency: str = "EUR"
    payments: tuple[Payment, ...] = ()
    credit_notes: tuple[CreditNote, ...] = ()
    hold: Hold | None = None
    penalty_rate: Decimal | None = None
    document: str | None = None
    payment_plan: PaymentPlan | None = None
    payment_reference: str | None = None
    """BT-83, what the invoice asks the payer to write on the transfer when it is not the number."""

    def settled_on(self, day: date) -> Decimal:
        """What payments and credit notes dated on or before `day` have taken off the total."""
        return self.paid_on(day) + self.credited_on(day)

    def outstanding(self, on: date) -> Decimal:
        return self.total - self.settled_on(on)

    def paid_on(self, day: date) -> Decimal:
        return sum((p.amount for p in self.payments if p.date <= day), ZERO)

    def credited_on(self, day: date) -> Decimal:
        return sum((c.amount for c in self.credit_notes if c.date <= day), ZERO)

    def days_overdue(self, on: date) -> int:
        return (on - self.due).days


@dataclass(frozen=True)
class Step:
    id: str
    after_days: int
    channels: tuple[Channel, ...]
    template: str
    deadline_days: int | None = None
    formal_notice: bool = False
    """The mise en demeure: the last amicable step, from which legal interest runs for consumers."""


PaidLate = Literal["waived", "claimed"]
"""What a policy does with the penalties and indemnities still owed on an invoice paid late."""
STATEMENT_STEP = "statement"
"""The id and template of the statement claiming what invoices paid late still owe: not a step of any policy
(a policy may not name a step so), never a level of escalation."""


@dataclass(frozen=True)
class Policy:
    id: str
    steps: tuple[Step, ...]
    min_interval_days: int
    source: str
    penalty_rate: Decimal | None = None
    """A contractual rate in percent; None means the B2B default (ECB reference + 10 points)."""
    paid_late_penalties: PaidLate = "waived"
    paid_late_channels: tuple[Channel, ...] = ("email",)
    """How the statement of a `claimed` policy goes out: by email, letter, or both."""
    manual_wait_days: int | None = None
    """A letter or call sheet not recorded as posted or made this many days after its draft stops holding the
    client back (the step counts as skipped, never as received); None waits for the record."""

    def step_index(self, step_id: str) -> int | None:
        for index, step in enumerate(self.steps):
            if step.id == step_id:
                return index
        return None


class Semester(NamedTuple):
    year: int
    half: Literal[1, 2]

    @classmethod
    def of(cls, day: date) -> Semester:
        return cls(day.year, 1 if day.month <= 6 else 2)

    @classmethod
    def parse(cls, text: str) -> Semester:
        year, half = text.split("-S")
        if half not in ("1", "2"):
            raise ValueError(text)
        return cls(int(year), 1 if half == "1" else 2)

    @property
    def start(self) -> date:
        return date(self.year, 1 if self.half == 1 else 7, 1)

    @property
    def end(self) -> date:
        return date(self.year, 6, 30) if self.half == 1 else date(self.year, 12, 31)

    def next(self) -> Semester:
        return Semester(self.year, 2) if self.half == 1 else Semester(self.year + 1, 1)

    def through(self, last: Semester) -> Iterator[Semester]:
        """This semester and each one after it, up to `last` (none when `last` is earlier)."""
        semester = self
        while semester <= last:
            yield semester
            semester = semester.next()

    def __str__(self) -> str:
        return f"{self.year}-S{self.half}"


@dataclass(frozen=True)
class SemesterRates:
    """The rates of one half-year, in percent. Legal rates may be absent while unpublished."""

    ecb_reference: Decimal
    b2b_default: Decimal
    legal_individual: Decimal | None = None
    legal_other: Decimal | None = None

    @property
    def contractual_floor(self) -> Decimal | None:
        """The lowest contractual B2B penalty rate the semester allows (None while its legal rate is unknown)."""
        return None if self.legal_other is None else LEGAL_FLOOR_FACTOR * self.legal_other


@dataclass(frozen=True)
class EcbRate:
    since: date
    rate: Decimal


@dataclass(frozen=True)
class RateTable:
    source: str
    semesters: Mapping[Semester, SemesterRates]
    ecb_mro: tuple[EcbRate, ...] = ()

    def get(self, semester: Semester) -> SemesterRates | None:
        return self.semesters.get(semester)

    @property
    def last(self) -> Semester | None:
        return max(self.semesters) if self.semesters else None


@dataclass(frozen=True)
class JournalEntry:
    """One line of outbox/journal.jsonl."""

    date: date
    client: str
    step: str
    channel: Channel
    invoices: tuple[str, ...]
    file: str
    sha256: str
    event: JournalEvent
    message_id: str | None = None
    note: str | None = None
    invoice_steps: tuple[tuple[str, str], ...] = ()
    """(invoice, step) for each invoice a document lists at a step other than the document's own."""
    permanent: bool = False
    """On a `failed` line: the server refused the message for good (5xx); no send tries it again by itself."""

    document: str | None = None
    """The email or letter made from `file`'s words on the day of sending (sent, unknown, failed, posted)."""
    document_sha256: str | None = None
    """The sha256 of `document`: what went out, where `sha256` is that of the words as approved."""
    statement: str | None = None
    """On a letter's `posted` line: the statement of account posted with it (`<step>.statement.pdf`), if any."""
    statement_sha256: str | None = None
    preview_sha256: str | None = None
    """On a letter's `drafted` line: the sha256 of its `<step>.preview.pdf`."""
    preview_key: str | None = None
    """On a letter's `drafted` line: what its preview was printed from (render.renderer.letter_key); a `send`
    whose letter has the same key takes the preview's bytes instead of printing them again."""

    def step_of(self, invoice: str) -> str:
        return dict(self.invoice_steps).get(invoice, self.step)


@dataclass(frozen=True)
class Contact:
    """A reminder the client received: the day it was delivered, its step, by which channels."""

    date: date
    step: str
    channels: tuple[Channel, ...]
    note: str | None = None
    """What the user recorded (a call's answer, a registered-mail number)."""


@dataclass(frozen=True)
class Books:
    """Everything the plan reads: the ledger, the policies, the rate table and the settings."""

    settings: Settings
    clients: Mapping[str, Client]
    invoices: tuple[Invoice, ...]
    policies: Mapping[str, Policy]
    rates: RateTable

    def policy_for(self, client: Client) -> Policy:
        return self.policies[client.policy or self.settings.default_policy]


RateBasis = Literal["contract", "floor", "default", "legal"]
"""Where a period's rate comes from: the contract's rate, the legal floor under it (3 × legal_other, which
replaces a lower contractual rate for that semester), the B2B default (ECB + 10 points), the legal rate."""


@dataclass(frozen=True)
class RatePeriod:
    """A stretch of days charged at one rate, for the breakdown a letter shows."""

    start: date
    end: date
    days: int
    rate: Decimal
    base: Decimal
    amount: Decimal
    """Unrounded: the total is rounded once, at the end."""
    basis: RateBasis = "default"


ChargeKind = Literal["penalties", "legal_interest", "none"]


@dataclass(frozen=True)
class Amounts:
    """What one overdue invoice costs the client as of the plan's date."""

    invoice: Invoice
    days_overdue: int
    outstanding: Decimal
    charges: Decimal
    """Late penalties (business client) or legal interest (consumer, from the mise en demeure)."""
    charge_kind: ChargeKind
    indemnity: Decimal
    periods: tuple[RatePeriod, ...] = ()

    @property
    def total_due(self) -> Decimal:
        return self.outstanding + self.charges + self.indemnity


@dataclass(frozen=True)
class Action:
    """One document to draft for one client: a step of its policy, listing all its overdue invoices."""

    client: Client
    policy: Policy
    step: Step
    invoices: tuple[Amounts, ...]
    deadline: date | None
    """The new payment date the document asks for (as-of + the step's deadline_days)."""
    own_steps: Mapping[str, Step] = field(default_factory=dict)
    """Invoice number → the step it is recorded at, when not the document's (it has not been through the
    earlier steps, so it is mentioned at its own level)."""
    contacts: Mapping[str, tuple[Contact, ...]] = field(default_factory=dict)
    """Invoice number → the reminders about it the client received before, oldest first."""
    plans: Mapping[str, PlanStanding] = field(default_factory=dict)
    """Invoice number → its payment plan's standing, when it is listed for instalments missed: its line of
    `invoices` is then what is due under the plan (from the first missed instalment), not the whole balance."""

    def step_of(self, number: str) -> Step:
        return self.own_steps.get(number, self.step)

    @property
    def outstanding(self) -> Decimal:
        return sum((a.outstanding for a in self.invoices), ZERO)

    @property
    def charges(self) -> Decimal:
        return sum((a.charges for a in self.invoices), ZERO)

    @property
    def indemnity(self) -> Decimal:
        return sum((a.indemnity for a in self.invoices), ZERO)

    @property
    def total_due(self) -> Decimal:
        return sum((a.total_due for a in self.invoices), ZERO)

    @property
    def is_statement(self) -> bool:
        """The statement of what invoices paid late still owe, not a step of the policy."""
        return self.step.id == STATEMENT_STEP

    @property
    def claims_charges(self) -> bool:
        """A first reminder asks for the invoices' balance; from the second step on the document claims the
        penalties or interest and the indemnity too, and a statement claims nothing else."""
        return self.is_statement or self.step_number > 1

    def asked(self, amounts: Amounts) -> Decimal:
        """What the document asks the client to pay for one of its invoices."""
        return amounts.total_due if self.claims_charges else amounts.outstanding

    @property
    def amount_asked(self) -> Decimal:
        return sum((self.asked(a) for a in self.invoices), ZERO)

    @property
    def step_number(self) -> int:
        """1 for the first step of the policy; a statement comes after the last."""
        if self.is_statement:
            return len(self.policy.steps) + 1
        return self.policy.steps.index(self.step) + 1

    @property
    def tone(self) -> Literal["formal", "personal"]:
        """A new client is addressed formally, a regular one personally (legal-fr.md, "Escalation")."""
        return "formal" if self.client.relationship == "new" else "personal"


WaitReason = Literal["held", "interval", "not_yet", "awaiting_decision", "pending", "payment_plan"]


@dataclass(frozen=True)
class Waiting:
    """An overdue invoice that gets no document tonight, and why (shown in the plan)."""

    invoice: Invoice
    reason: WaitReason
    detail: str
    outstanding: Decimal
    next_step: str | None = None
    next_date: date | None = None


@dataclass(frozen=True)
class Plan:
    as_of: date
    actions: tuple[Action, ...]
    waiting: tuple[Waiting, ...] = ()
    held_back: tuple[Problem, ...] = ()
    """Clients left out because their amounts need a rate the table lacks: one warning per invoice."""
