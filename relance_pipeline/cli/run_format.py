"""What `relance run` prints at the end: what was drafted, for whom, and what was cleaned up."""

from __future__ import annotations

from relance_pipeline.commands.run import RunResult
from relance_pipeline.figures import amount, count, some


def run_summary(result: RunResult) -> list[str]:
    lines = [f"cleaned up after an interrupted run: {item}" for item in result.cleaned]
    lines += [f"left as it is (relance did not write it): {item}" for item in result.kept]
    if result.plan is None:
        return lines
    for drafted in result.drafted:
        action = drafted.action
        files = ", ".join(entry.file for entry in drafted.entries)
        numbers = some([a.invoice.number for a in action.invoices])
        # What the document asks for: a first reminder asks for the balance, without the charges it does not claim.
        asked = amount(action.amount_asked)
        lines.append(f"drafted {action.client.id} {action.step.id} ({numbers}; asks {asked}): {files}")
    if not result.drafted:
        lines.append(f"nothing to draft as of {result.plan.as_of}")
    else:
        lines.append(f"{count(len(result.drafted), 'document set')} drafted as of {result.plan.as_of}")
    if result.commit:
        lines.append(f"committed {result.commit[:12]}")
    return lines
