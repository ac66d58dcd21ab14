"""ISO 20022 camt.053 (statement) and camt.054 (debit/credit notification) → `Statement`.

Versions 001.02 to 001.08 are read alike: the elements the pipeline needs kept their names, except the
status (text up to .05, `Sts/Cd` from .06) and the related parties (`Dbtr/Nm`, `Dbtr/Pty/Nm` from .08).
An entry that batches several transactions (`NtryDtls/TxDtls` with their own amounts) gives one line each.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from lxml import etree

from relance_pipeline.imports.imported import BankLine, Statement, line_hash
from relance_pipeline.imports.xml_input import line_of, local_name, namespace, parse_xml
from relance_pipeline.model import CENT, Problem

_NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.05[34]\.001\.(0[2-9]|1[0-3])$")
_RETURNS = frozenset({"RRTN", "RPCR"})
_CONTAINERS = {"BkToCstmrStmt": "Stmt", "BkToCstmrDbtCdtNtfctn": "Ntfctn", "BkToCstmrAcctRpt": "Rpt"}


class _Bad(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem


def is_camt(data: bytes) -> bool:
    return b"urn:iso:std:iso:20022:tech:xsd:camt.05" in data[:4096]


def read_camt(name: str, data: bytes) -> Statement | Problem:
    root = parse_xml(name, data)
    if isinstance(root, Problem):
        return root
    if not _NAMESPACE.match(namespace(root)) or local_name(root) != "Document":
        return Problem(
            name,
            line_of(root),
            f"not a camt.053/054 statement (namespace '{namespace(root)}')",
            code="import.not_statement",
        )
    ns = {"c": namespace(root)}
    lines: list[BankLine] = []
    accounts: list[str] = []
    seen: dict[tuple[object, ...], int] = {}
    try:
        for container, part in _CONTAINERS.items():
            for report in root.findall(f"c:{container}/c:{part}", ns):
                iban = _clean(report.findtext("c:Acct/c:Id/c:IBAN", None, ns))
                if iban:
                    accounts.append(iban)
                for entry in report.findall("c:Ntry", ns):
                    lines += _entry_lines(name, entry, ns, seen)
    except _Bad as bad:
        return bad.problem
    return Statement(name, tuple(lines), tuple(dict.fromkeys(accounts)))


def _entry_lines(
    name: str, entry: etree._Element, ns: dict[str, str], seen: dict[tuple[object, ...], int]
) -> list[BankLine]:
    amount, currency = _amount(name, entry.find("c:Amt", ns))
    credit = _clean(entry.findtext("c:CdtDbtInd", None, ns)) == "CRDT"
    reversal = _clean(entry.findtext("c:RvslInd", None, ns)).lower() in ("true", "1")
    status = _clean(entry.findtext("c:Sts/c:Cd", None, ns) or entry.findtext("c:Sts", None, ns)) or "BOOK"
    # A returned transfer comes back as a credit: ISO 20022 bank transaction codes RRTN (payment return) and
    # RPCR (return after a cancellation request) are counted with the reversals, never as a payment.
    family = _clean(entry.findtext("c:BkTxCd/c:Domn/c:Fmly/c:SubFmlyCd", None, ns))
    reversal = reversal or family in _RETURNS
    booked = _day(name, entry)
    entry_ref = _clean(entry.findtext("c:AcctSvcrRef", None, ns) or entry.findtext("c:NtryRef", None, ns))
    details = entry.findall("c:NtryDtls/c:TxDtls", ns)
    extra = _clean(entry.findtext("c:AddtlNtryInf", None, ns))
    own_amounts = len(details) > 1 and all(_tx_amount(d, ns) is not None for d in details)
    groups = [[d] for d in details] if own_amounts else [details]
    found: list[BankLine] = []
    for index, group in enumerate(groups):
        tx_amount = _tx_amount(group[0], ns) if own_amounts else None
        value, ccy = _amount(name, tx_amount) if tx_amount is not None else (amount, currency)
        debtor = next((t for d in group if (t := _debtor(d, ns))), "")
        remittance = " ".join(part for d in group for part in _remittance(d, ns)) or extra
        reference = _reference(group, ns, entry_ref, index if own_amounts else None)
        tx_credit = _clean(group[0].findtext("c:CdtDbtInd", None, ns)) if own_amounts else ""
        if reference is not None:
            # The payer's end-to-end id may repeat within a file: the n-th use gets a suffix, the same each time.
            seen[("ref", reference)] = seen.get(("ref", reference), 0) + 1
            count = seen[("ref", reference)]
            reference = reference if count == 1 else f"{reference}/{count}"
        else:
            reference = line_hash((booked, value, credit, debtor, remittance), seen)
        is_credit = tx_credit == "CRDT" if tx_credit else credit
        found.append(BankLine(name, line_of(entry), booked, value, ccy, is_credit, reference, debtor, remittance,
                              reversal, status))  # fmt: skip
    return found


def _tx_amount(tx: etree._Element, ns: dict[str, str]) -> etree._Element | None:
    return tx.find("c:AmtDtls/c:TxAmt/c:Amt", ns) if tx.find("c:Amt", ns) is None else tx.find("c:Amt", ns)


def _reference(group: list[etree._Element], ns: dict[str, str], entry_ref: str, index: int | None) -> str | None:
    """The bank's own reference first (unique on its statements), then the payer's end-to-end id."""
    for tx in group:
        for path in ("c:Refs/c:AcctSvcrRef", "c:Refs/c:EndToEndId", "c:Refs/c:TxId"):
            text = _clean(tx.findtext(path, None, ns))
            if text and text.upper() != "NOTPROVIDED":
                return text
    if entry_ref:
        return entry_ref if index is None else f"{entry_ref}/{index + 1}"
    return None


def _debtor(tx: etree._Element, ns: dict[str, str]) -> str:
    for path in ("c:RltdPties/c:Dbtr/c:Nm", "c:RltdPties/c:Dbtr/c:Pty/c:Nm", "c:RltdPties/c:UltmtDbtr/c:Nm"):
        text = _clean(tx.findtext(path, None, ns))
        if text:
            return text
    return ""


def _remittance(tx: etree._Element, ns: dict[str, str]) -> list[str]:
    parts = [_clean(e.text) for e in tx.findall("c:RmtInf/c:Ustrd", ns)]
    parts += [_clean(e.text) for e in tx.findall("c:RmtInf/c:Strd/c:CdtrRefInf/c:Ref", ns)]
    return [p for p in parts if p]


def _day(name: str, entry: etree._Element) -> date:
    ns = {"c": namespace(entry)}
    text = _clean(
        entry.findtext("c:BookgDt/c:Dt", None, ns)
        or entry.findtext("c:BookgDt/c:DtTm", None, ns)
        or entry.findtext("c:ValDt/c:Dt", None, ns)
    )
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise _Bad(
            Problem(name, line_of(entry), f"entry without a booking date ('{text}')", code="import.date")
        ) from None


def _amount(name: str, element: etree._Element | None) -> tuple[Decimal, str]:
    if element is None:
        raise _Bad(Problem(name, None, "an entry has no amount (Amt)", code="import.amount_missing"))
    text = _clean(element.text)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _Bad(Problem(name, line_of(element), f"'{text}' is not an amount", code="import.amount")) from None
    if not value.is_finite() or value < 0 or value >= Decimal("1e12"):
        raise _Bad(Problem(name, line_of(element), f"'{text}' is not an amount", code="import.amount"))
    return value.quantize(CENT) if value == value.quantize(CENT) else value, (element.get("Ccy") or "").upper()


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())
