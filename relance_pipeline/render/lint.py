"""The legal lint: what a dunning document must say at its level, and what no dunning document may say.

Sources: shared reference legal-fr.md (Code de commerce L441-10 and D441-5, Code civil 1231-6 and 1344-1,
CPCE L111-8, C. conso L121-6 and L121-7, C. pén. 433-13). `run` lints every document it renders, `validate`
lints every template a policy uses, rendered with sample data (see samples.py). A finding names the template
file, and the line when the wording comes from a template rather than from the books.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from relance_pipeline.model import Action, Channel, Language, Problem
from relance_pipeline.render import formatting, sms
from relance_pipeline.render.drafts import Draft
from relance_pipeline.render.environment import display_path

WRITTEN: frozenset[Channel] = frozenset({"email", "letter"})
"""The channels that carry the mandatory mentions; an SMS points to them, a call sheet is for the creditor."""


@dataclass(frozen=True)
class Facts:
    """What the wording of a document depends on."""

    channel: Channel
    language: Language
    business: bool
    step_number: int
    formal_notice: bool
    deadline: date | None
    deadline_days: int | None = None
    statement: bool = False
    """The statement of what invoices paid late still owe: penalties and the 40 € (or legal interest) claimed."""

    @classmethod
    def of(cls, action: Action, channel: Channel) -> Facts:
        return cls(
            channel=channel,
            language=action.client.language,
            business=action.client.is_business,
            step_number=action.step_number,
            formal_notice=action.step.formal_notice,
            deadline=action.deadline,
            deadline_days=action.step.deadline_days,
            statement=action.is_statement,
        )


@dataclass(frozen=True)
class Forbidden:
    pattern: re.Pattern[str]
    reason: str
    consumer_only: bool = False


def _rule(pattern: str, reason: str, *, consumer_only: bool = False) -> Forbidden:
    return Forbidden(re.compile(pattern, re.IGNORECASE), reason, consumer_only)


_COURT_ACT = "imitates a court or bailiff's act (C. pén. 433-13)"
_NO_TITLE = "threatens an enforcement that needs a court's title (C. conso L121-6)"
FORBIDDEN: tuple[Forbidden, ...] = (
    _rule(r"commandement de payer", _COURT_ACT),
    _rule(r"\bsignifications?\b|\bsignifiée?s?\b", _COURT_ACT),
    _rule(r"\bhuissiers?\b|acte d['’]huissier", _COURT_ACT),
    _rule(r"\bcommissaires? de justice\b", _COURT_ACT),
    _rule(r"\bjugements?\b|\bjudge?ments?\b", _COURT_ACT),
    _rule(r"\bbailiffs?\b|\bwrits?\b|enforcement officer|court order", _COURT_ACT),
    _rule(r"au nom de la loi|r[ée]publique fran[çc]aise|in the name of the law", _COURT_ACT),
    _rule(r"\bsaisies?\b|\bsaisie-\w+", _NO_TITLE),
    _rule(r"\bventes? forc[ée]es?\b|ex[ée]cution forc[ée]e", _NO_TITLE),
    _rule(r"\bseiz(e|ed|es|ing|ure|ures)\b|\bgarnish\w*|\brepossess\w*|\bdistraint\b|forced sale", _NO_TITLE),
    _rule(
        r"fichiers? (des )?mauvais payeurs|liste noire|\bFICP\b|black ?list\w*|bad payers?",
        "threatens to list the client in a file (blackmail)",
    ),
    _rule(
        r"\bpubli(er|erons|erai|era|ons|cation)\b|rendre public|rendrons public|\bpublish\w*|make (it )?public|"
        r"name and shame",
        "threatens to publish the debt",
    ),
    _rule(
        r"votre employeur|vos voisins|your employer|your neighbou?rs",
        "reveals the debt to third parties",
    ),
    _rule(
        r"frais de recouvrement|indemnit[ée] forfaitaire|recovery costs?|collection (fees?|costs?|charges?)|"
        r"fixed compensation",
        "collection fees may not be charged to a consumer (CPCE L111-8)",
        consumer_only=True,
    ),
    _rule(
        r"(?<![\d,.])(?<!\d[ \u00a0\u202f])40(?:,00)? ?€|€ ?40(?:\.00)?(?![\d,])|(?<![\d,.])40 euros",
        "the 40 € indemnity is for business clients only (C. com. D441-5)",
        consumer_only=True,
    ),
    _rule(
        r"p[ée]nalit[ée]s?|\bpenalt(y|ies)\b|L\.? ?441-10|D\.? ?441-5",
        "late-payment penalties are for business clients only; a consumer owes legal interest (C. civ. 1231-6)",
        consumer_only=True,
    ),
)

DISREGARD = {
    "fr": re.compile(r"déjà[^.!?]{0,80}(tenir compte|ignor)", re.IGNORECASE),
    "en": re.compile(r"already[^.!?]{0,80}(disregard|ignore)", re.IGNORECASE),
}
FORMAL_NOTICE = re.compile(r"mise en demeure", re.IGNORECASE)
COURT = {
    "fr": re.compile(r"injonction de payer|juridiction|tribunal", re.IGNORECASE),
    "en": re.compile(r"\bcourt\b|order for payment|injonction de payer", re.IGNORECASE),
}
LEGAL_INTEREST = {
    "fr": re.compile(r"int[ée]r[êe]ts? au taux l[ée]gal", re.IGNORECASE),
    "en": re.compile(r"legal interest", re.IGNORECASE),
}
FROM_RECEIPT = {
    "fr": re.compile(r"\d+ jours à compter de (la )?(sa )?réception", re.IGNORECASE),
    "en": re.compile(r"\d+ days of (receiving|receipt)", re.IGNORECASE),
}
PENALTY_BASIS = re.compile(r"L\.? ?441-10")
INDEMNITY = re.compile(r"(?<!\d)(?<!\d )40(?:,00)? ?€|€ ?40(?:\.00)?(?![\d,])|(?<!\d)40 euros", re.IGNORECASE)

Locator = Callable[[str], tuple[str, int | None]]
"""Where a phrase comes from: the template file and line that contain it."""


def normalized(text: str) -> str:
    """One line, plain spaces: rules match whatever the typography and the line breaks."""
    for space in ("\u00a0", "\u202f", "\u2009"):
        text = text.replace(space, " ")
    return " ".join(text.split())


def lint(draft: Draft, facts: Facts, path: str, locate: Locator) -> list[Problem]:
    """Every finding on one document; `path` names its template, `locate` finds a phrase's template line."""
    text = normalized(f"{draft.subject or ''}\n{draft.text}")
    problems = [_forbidden(rule, found, draft, path, locate) for rule, found in _matches(text, facts)]
    problems += [Problem(path, None, message, code="lint.missing_mention") for message in _missing(draft, facts, text)]
    if facts.channel == "sms" and sms.segments(draft.text) > 1:
        problems.append(
            Problem(
                path,
                None,
                f"the text message takes {sms.segments(draft.text)} SMS ({sms.length(draft.text)} characters); "
                f"one holds {sms.SEGMENT}",
                severity="warning",
                code="lint.sms_length",
            )
        )
    return problems


def _matches(text: str, facts: Facts) -> Iterator[tuple[Forbidden, str]]:
    for rule in FORBIDDEN:
        if rule.consumer_only and facts.business:
            continue
        found = rule.pattern.search(text)
        if found:
            yield rule, found.group(0)


def _forbidden(rule: Forbidden, found: str, draft: Draft, path: str, locate: Locator) -> Problem:
    where, line = locate(found)
    origin = "" if line is not None else " (not written as such in a template: from a variable or the books)"
    whose = "a consumer's" if rule.consumer_only else "any"
    return Problem(
        where if line is not None else path,
        line,
        f"forbidden wording '{found}' in {whose} {draft.channel}{origin}: {rule.reason}",
        code="lint.forbidden",
    )


def _missing(draft: Draft, facts: Facts, text: str) -> Iterator[str]:
    language = facts.language
    if facts.formal_notice:
        yield from _formal_notice(draft, facts, text)
    elif (facts.channel in WRITTEN or facts.channel == "sms") and not DISREGARD[language].search(text):
        yield (
            "missing the line for clients who already paid "
            "('si vous avez déjà réglé…, merci de ne pas tenir compte…' / 'if you have already paid…, "
            "please disregard…'): every reminder before the mise en demeure needs it"
        )
    claims = "in a statement of what invoices paid late owe" if facts.statement else "due from the 2nd step"
    if facts.channel in WRITTEN and facts.business and (facts.step_number >= 2 or facts.statement):
        if not PENALTY_BASIS.search(text):
            yield f"missing the late-payment penalty rate and its legal basis (C. com. L441-10), {claims}"
        if not INDEMNITY.search(text):
            yield f"missing the fixed recovery indemnity of 40 € (C. com. D441-5), {claims}"
    if (
        facts.channel in WRITTEN
        and not facts.business
        and facts.statement
        and not LEGAL_INTEREST[language].search(text)
    ):
        yield "a consumer's statement must say that what it claims is legal interest (C. civ. 1231-6)"


def _formal_notice(draft: Draft, facts: Facts, text: str) -> Iterator[str]:
    if facts.channel == "phone":
        return
    if facts.channel in WRITTEN and not FORMAL_NOTICE.search(draft.subject or ""):
        yield "the subject of a mise en demeure must say 'mise en demeure'"
    elif not FORMAL_NOTICE.search(text):
        yield "a mise en demeure must say 'mise en demeure'"
    if facts.deadline is None:
        yield "a mise en demeure needs a deadline: set deadline_days on its step in the policy"
    elif facts.channel == "letter":
        # A date printed on a letter is wrong by the time it arrives: the delay runs from receipt.
        if not FROM_RECEIPT[facts.language].search(text):
            yield (
                f"a mise en demeure letter must state its deadline from receipt ('dans un délai de "
                f"{facts.deadline_days} jours à compter de la réception de la présente' / 'within "
                f"{facts.deadline_days} days of receiving this letter')"
            )
    elif not any(normalized(date_text) in text for date_text in _date_forms(facts.deadline, facts.language)):
        shown = formatting.long_date(facts.deadline, facts.language)
        yield f"a mise en demeure must state its deadline ({shown}); the date is not in the text"
    if facts.channel in WRITTEN:
        if not COURT[facts.language].search(text):
            yield "a mise en demeure must state the consequence of non-payment (court action, injonction de payer)"
        if not facts.business and not LEGAL_INTEREST[facts.language].search(text):
            yield "a consumer's mise en demeure must say that legal interest runs from it (C. civ. 1231-6, 1344-1)"


def _date_forms(day: date, language: Language) -> list[str]:
    return [formatting.long_date(day, language, style) for style in ("short", "medium", "long")]


def template_locator(files: list[Path], display: Callable[[Path], str], fallback: str) -> Locator:
    """Finds a phrase in the template files given (the step's own template first)."""
    sources = [(file, file.read_text(encoding="utf-8").splitlines()) for file in files if file.is_file()]

    def locate(phrase: str) -> tuple[str, int | None]:
        needle = phrase.casefold()
        for file, lines in sources:
            for number, line in enumerate(lines, start=1):
                if needle in normalized(line).casefold():
                    return display(file), number
        return fallback, None

    return locate


def locator_for(folders: tuple[Path, ...], root: Path, template: str) -> Locator:
    """Looks for a phrase in the step's template, then in the shared pieces under _base/."""
    files: list[Path] = []
    for folder in folders:
        files.append(folder / template)
    for folder in folders:
        base = folder / "_base"
        if base.is_dir():
            files.extend(sorted(p for p in base.iterdir() if p.is_file() and p.suffix in (".txt", ".html", ".md")))
    fallback = display_path(next((f for f in files[: len(folders)] if f.is_file()), files[0]), root)
    return template_locator(files, lambda path: display_path(path, root), fallback)
