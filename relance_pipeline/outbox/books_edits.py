"""The books files a command edits for the user: a payment added to an invoice, the rate table's new rows.

The edits are text in, text out (`invoice_text`, `rates_file`), checked by the caller; writing them is here,
all or nothing, so that outbox/ stays the one writer.
"""

from __future__ import annotations

from pathlib import Path

from relance_pipeline import atomic
from relance_pipeline.books.read import RATES_FILE

_BOM = b"\xef\xbb\xbf"


def write_invoice(root: Path, rel: str, text: str, before: bytes) -> None:
    """The edited text replaces the invoice file's content, keeping the byte-order mark the file had (`before`),
    its link and its permissions."""
    atomic.rewrite_bytes(root / rel, (_BOM if before.startswith(_BOM) else b"") + text.encode("utf-8"))


def restore(root: Path, rel: str, before: bytes) -> None:
    """Put back the bytes a file had before an edit that turned out wrong."""
    atomic.rewrite_bytes(root / rel, before)


def write_rates(root: Path, text: str) -> None:
    """The table's new text, written into the file the user keeps (through its link, with its permissions)."""
    target = root / RATES_FILE
    if target.exists():
        atomic.rewrite_bytes(target, text.encode("utf-8"))
    else:
        atomic.write_text(target, text)
