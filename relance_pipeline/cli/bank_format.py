"""What `relance import bank` prints: one line per bank line (matched, unmatched), then what was passed over."""

from __future__ import annotations

from collections import Counter

from relance_pipeline import figures
from relance_pipeline.commands.import_bank import BankReport
from relance_pipeline.imports.imported import BankLine
from relance_pipeline.imports.matching import ByHand


def _label(line: BankLine) -> str:
    return " ".join(f"{line.debtor} {line.remittance}".split())[:70]


def bank_lines(report: BankReport) -> list[str]:
    would = "would be " if report.dry_run else ""
    lines = [
        f"{would}paid      {a.line.booked}  {a.amount:>10.2f}  {a.number:<14} {a.how}: {_label(a.line)}"
        for a in report.matching.applied
    ]
    lines += [
        f"by hand   {h.line.booked}  {h.line.amount:>10.2f}  {h.number:<14} {_by_hand(h)}: {_label(h.line)}"
        for h in report.matching.by_hand
    ]
    lines += [
        f"unmatched {u.line.booked}  {u.line.amount:>10.2f}  {'-':<14} {u.reason}: {_label(u.line)}"
        for u in report.matching.unmatched
    ]
    lines += _passed_over(report)
    lines += [f"{would}written {path}" for path in report.written]
    return lines


def bank_markdown(report: BankReport) -> list[str]:
    """A table for the pull request: what was matched and how, and what was not."""
    rows = ["| date | amount | invoice | how | bank line |", "| --- | ---: | --- | --- | --- |"]
    rows += [f"| {a.line.booked} | {figures.amount(a.amount)} | {a.number} | {a.how} | {_cell(_label(a.line))} |"
             for a in report.matching.applied]  # fmt: skip
    rows += [f"| {h.line.booked} | {figures.amount(h.line.amount)} | {h.number} | {_by_hand(h)} "
             f"| {_cell(_label(h.line))} |" for h in report.matching.by_hand]  # fmt: skip
    rows += [f"| {u.line.booked} | {figures.amount(u.line.amount)} | **unmatched** | {_cell(u.reason)} "
             f"| {_cell(_label(u.line))} |" for u in report.matching.unmatched]  # fmt: skip
    return [*rows, "", *_passed_over(report)]


def _passed_over(report: BankReport) -> list[str]:
    said: list[str] = []
    counts = Counter(s.reason for s in report.matching.skipped)
    if counts:
        said.append("skipped: " + ", ".join(f"{n} × {reason}" for reason, n in sorted(counts.items())))
    if report.matching.already:
        said.append(f"already in the books: {figures.count(len(report.matching.already), 'line')}")
    return said


def _by_hand(item: ByHand) -> str:
    return f"already recorded by hand ({item.payment.date}, no reference): nothing written"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
