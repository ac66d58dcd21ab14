"""What a run drafted, in words: the commit message, the pull request body and the job summary share one text."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import PurePosixPath

from relance_pipeline.core.history import Task
from relance_pipeline.figures import amount, count
from relance_pipeline.model import ZERO, Action, Amounts, JournalEntry, Problem
from relance_pipeline.render.lines import LISTED_LIMIT, largest_first


@dataclass(frozen=True)
class Summary:
    """What one run drafted, in three forms that share one text."""

    title: str
    body: str
    """Markdown: one section per client with a table of its invoices and links to its files."""
    trailers: tuple[tuple[str, str], ...]

    @property
    def commit_message(self) -> str:
        """Title, body, and the trailers as the last paragraph (read back with `git interpret-trailers`)."""
        trailers = "\n".join(f"{key}: {value}" for key, value in self.trailers)
        return f"{self.title}\n\n{self.body}\n\n{trailers}\n"

    @property
    def markdown(self) -> str:
        """For a pull request body or $GITHUB_STEP_SUMMARY."""
        return f"## {self.title}\n\n{self.body}\n"


def summary(
    as_of: date,
    actions: Sequence[Action],
    drafted: Sequence[JournalEntry],
    *,
    previews: Iterable[str] = (),
    held_back: Iterable[Problem] = (),
    tasks: Iterable[Task] = (),
) -> Summary:
    """The summary of one run: `actions` give the amounts, `drafted` (its journal lines) the files.

    `previews` are the repository-relative paths of the previews the run wrote: a letter's `.preview.pdf` is
    linked with the words files, its `.preview.png` (previews: true) shown as an image under its client.
    Links are relative to the repository root (the nightly workflow turns them into links to the pushed
    commit). Amounts have two decimals; clients, steps and invoices are sorted.
    `held_back` are the warnings of clients left out for a rate the table lacks: the reviewer sees who got
    nothing tonight and which row to add. `tasks`, what waits on the user (letters to post, calls to make,
    sends to settle), come first: until they are recorded, those clients get nothing more.
    """
    files = sorted({e.file for e in drafted if e.event == "drafted"})
    images = sorted({p for p in previews if p.endswith(".png")})
    # A letter's preview PDF is linked beside its words: the letter as it would go out, to open from the diff.
    linked = sorted({*files, *(p for p in previews if not p.endswith(".png"))})
    files_of, images_of = _by_client_folder(linked), _by_client_folder(images)
    sections = [
        _client_section(client_actions, files_of.get(client_actions[0].client.id, []),
                        images_of.get(client_actions[0].client.id, []))
        for client_actions in _by_client(sorted(actions, key=lambda a: (a.client.id, a.step_number)))
    ]  # fmt: skip
    total = sum((a.amount_asked for a in actions), ZERO)
    clients = len({a.client.id for a in actions})
    title = f"relance {as_of.isoformat()}: {count(len(files), 'document')} for {count(clients, 'client')}"
    body = "\n\n".join(sections) if sections else "Nothing was due."
    to_do = [f"- [ ] {task.words()}" for task in tasks]
    if to_do:
        lines = "\n".join(to_do)
        body = f"### Waiting on you\n\nThese clients get nothing more until it is recorded:\n\n{lines}\n\n{body}"
    body += f"\n\nTotal asked: {amount(total)} €"
    missing = sorted({str(problem) for problem in held_back})
    if missing:
        # A fenced block: the messages name files and commands, which Markdown would otherwise reinterpret.
        listed = "\n".join(missing).replace("`" * 3, "'" * 3)
        body += f"\n\n### Held back: a rate is missing\n\n```text\n{listed}\n```"
    trailers = (
        ("Relance-As-Of", as_of.isoformat()),
        ("Relance-Drafted", str(len(files))),
        ("Relance-Clients", str(clients)),
        ("Relance-Total-Due", amount(total)),
    )
    return Summary(title=title, body=body, trailers=trailers)


def _by_client(actions: Sequence[Action]) -> list[list[Action]]:
    groups: dict[str, list[Action]] = {}
    for action in actions:
        groups.setdefault(action.client.id, []).append(action)
    return list(groups.values())


def _by_client_folder(paths: Sequence[str]) -> dict[str | None, list[str]]:
    """The files of each client's folder, in the order given (one pass: a night may draft for 400 clients)."""
    grouped: dict[str | None, list[str]] = {}
    for path in paths:
        grouped.setdefault(_client_of(path), []).append(path)
    return grouped


def _client_section(actions: Sequence[Action], files: Sequence[str], images: Sequence[str]) -> str:
    """`files` and `images`: the client's own."""
    client = actions[0].client
    rows = [
        "| Step | Channels | Invoice | Due | Days late | Outstanding | Charges | Indemnity | Asked |",
        "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for action in actions:
        position = "" if action.is_statement else f" ({action.step_number}/{len(action.policy.steps)})"
        step = f"{action.step.id}{position}"
        channels = ", ".join(action.step.channels)
        listed = _listed(action)
        for amounts in listed:
            rows.append(
                f"| {step} | {channels} | {amounts.invoice.number} | {amounts.invoice.due.isoformat()} "
                f"| {amounts.days_overdue} | {amount(amounts.outstanding)} "
                f"| {_claimed(action, amounts.charges)} | {_claimed(action, amounts.indemnity)} "
                f"| {amount(action.asked(amounts))} |"
            )
        if len(listed) < len(action.invoices):
            # The rows the document lists, then the others in one row, as in its table: a bounded message.
            shown = {a.invoice.number for a in listed}
            others = [a for a in action.invoices if a.invoice.number not in shown]
            rows.append(
                f"| {step} | | … {count(len(others), 'other invoice')} | | "
                f"| {amount(sum((a.outstanding for a in others), ZERO))} "
                f"| {_claimed(action, sum((a.charges for a in others), ZERO))} "
                f"| {_claimed(action, sum((a.indemnity for a in others), ZERO))} "
                f"| {amount(sum((action.asked(a) for a in others), ZERO))} |"
            )
        if len(action.invoices) > 1:
            rows.append(
                f"| {step} | | **total** | | | {amount(action.outstanding)} | {_claimed(action, action.charges)} "
                f"| {_claimed(action, action.indemnity)} | **{amount(action.amount_asked)}** |"
            )
    lines = [f"### {_escape(client.name)} (`{client.id}`)", "", *rows]
    if files:
        lines += ["", "Files: " + " · ".join(f"[{PurePosixPath(f).name}]({f})" for f in files)]
    lines += [f"\n![first page of {PurePosixPath(i).stem}]({i})" for i in images]
    return "\n".join(lines)


def _listed(action: Action) -> list[Amounts]:
    """The invoices the document lists (all of them up to LISTED_LIMIT, else the largest), by number."""
    rank = lambda a: largest_first(a.total_due, a.invoice.due, a.invoice.number)  # noqa: E731
    return sorted(heapq.nsmallest(LISTED_LIMIT, action.invoices, key=rank), key=lambda a: a.invoice.number)


def _claimed(action: Action, value: Decimal) -> str:
    """A charge the document does not claim (a first reminder asks for the balance) is not in its sum."""
    return amount(value) if action.claims_charges else "–"


def _client_of(path: str) -> str | None:
    """`outbox/<as-of>/<client>/<step>.<ext>` → client."""
    parts = PurePosixPath(path).parts
    return parts[2] if len(parts) == 4 and parts[0] == "outbox" else None


def _escape(text: str) -> str:
    """A name from the books must not break the Markdown it is placed in."""
    return "".join(f"\\{c}" if c in "\\`*_[]<>|#" else c for c in text)
