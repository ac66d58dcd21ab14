"""What `relance run` prints at the end: what was drafted, for whom, and what was cleaned up."""

from __future__ import annotations

from relance_pipeline.commands.run import RunResult


def run_summary(result: RunResult) -> list[str]:
    lines = [f"cleaned up after an interrupted run: {item}" for item in result.cleaned]
    if result.plan is None:
        return lines
    for drafted in result.drafted:
        action = drafted.action
        files = ", ".join(entry.file for entry in drafted.entries)
        numbers = ", ".join(a.invoice.number for a in action.invoices)
        lines.append(f"drafted {action.client.id} {action.step.id} ({numbers}; {action.total_due:.2f}): {files}")
    count = len(result.drafted)
    if count == 0:
        lines.append(f"nothing to draft as of {result.plan.as_of}")
    else:
        noun = "document set" if count == 1 else "document sets"
        lines.append(f"{count} {noun} drafted as of {result.plan.as_of}")
    if result.commit:
        lines.append(f"committed {result.commit[:12]}")
    return lines
