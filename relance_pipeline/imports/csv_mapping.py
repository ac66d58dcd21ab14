"""Column mappings for CSV exports: which column is what, and how dates and amounts are written.

A mapping is a user's `imports/<name>.yaml` (schema `mapping.json`), a preset below, or a user's file that
`extends` a preset and changes what differs. Presets:
- `generic-fr`: the French spreadsheet habit (`;`, `15/11/2026`, `1 200,50`, UTF-8 with or without BOM);
- `invoiceninja`: Invoice Ninja's invoice export (`,`, ISO dates, `1200.50`; v5 headers such as
  "Invoice Number" and the shorter v4 ones such as "Number", tried in turn);
- `generic-bank`: a bank export with date, label and one signed amount (`;`, French formats);
- `boursobank`: BoursoBank (Boursorama) account export (`dateOp;dateVal;label;…;amount;…`, ISO dates,
  decimal comma).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

MappingKind = Literal["invoices", "bank"]
DATE_FORMATS = {"YYYY-MM-DD": "%Y-%m-%d", "DD/MM/YYYY": "%d/%m/%Y", "MM/DD/YYYY": "%m/%d/%Y",
                "DD.MM.YYYY": "%d.%m.%Y", "DD-MM-YYYY": "%d-%m-%Y"}  # fmt: skip
REQUIRED: dict[MappingKind, tuple[str, ...]] = {
    "invoices": ("number", "issued", "total"),
    "bank": ("date", "label"),
}


@dataclass(frozen=True)
class ColumnMapping:
    name: str
    kind: MappingKind
    columns: Mapping[str, tuple[str, ...]]
    separator: str = ";"
    encoding: str = "utf-8-sig"
    skip_lines: int = 0
    date_format: str = "DD/MM/YYYY"
    decimal: str = ","


def _columns(**fields: str | tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    return {key: (value,) if isinstance(value, str) else value for key, value in fields.items()}


PRESETS: dict[str, ColumnMapping] = {
    "generic-fr": ColumnMapping("generic-fr", "invoices", _columns(
        number=("Numéro", "N° facture", "Facture"), buyer=("Client", "Nom du client"),
        issued=("Date", "Date de facture"),
        due=("Échéance", "Date d'échéance"), total=("Montant TTC", "Total TTC"), paid=("Montant réglé", "Réglé"),
        email=("Email", "E-mail"), siren="SIREN", vat_id=("N° TVA", "TVA intracommunautaire"))),
    "invoiceninja": ColumnMapping("invoiceninja", "invoices", _columns(
        number=("Invoice Number", "Number"), buyer=("Client Name", "Client"), issued=("Invoice Date", "Date"),
        due=("Invoice Due Date", "Due Date"), total=("Invoice Amount", "Amount"),
        paid=("Invoice Paid to Date", "Paid to Date"), email=("Client Email", "Contact Email", "Email"),
        vat_id=("Client VAT Number", "VAT Number"), currency=("Client Currency", "Currency")),
        separator=",", date_format="YYYY-MM-DD", decimal="."),
    "generic-bank": ColumnMapping("generic-bank", "bank", _columns(
        date=("Date", "Date opération", "Date d'opération"), label=("Libellé", "Label"), amount=("Montant", "Amount"),
        credit=("Crédit", "Credit"), debit=("Débit", "Debit"), debtor=("Tiers", "Contrepartie"),
        reference=("Référence", "Reference"))),
    "boursobank": ColumnMapping("boursobank", "bank", _columns(
        date="dateOp", label="label", amount="amount", debtor="supplierFound"), date_format="YYYY-MM-DD"),
}  # fmt: skip


def mapping_from(name: str, data: Mapping[str, Any]) -> ColumnMapping:
    """A user's mapping (already checked against mapping.json) over the preset it extends."""
    base = PRESETS.get(str(data.get("extends", "")))
    kind: MappingKind = "bank" if data["kind"] == "bank" else "invoices"
    columns = dict(base.columns) if base is not None and base.kind == kind else {}
    for key, value in (data.get("columns") or {}).items():
        columns[str(key)] = (str(value),) if isinstance(value, str) else tuple(str(v) for v in value)
    start = base if base is not None and base.kind == kind else ColumnMapping(name, kind, {})
    settings = ("separator", "encoding", "skip_lines", "date_format", "decimal")
    changes = {key: data[key] for key in settings if key in data}
    return replace(start, name=name, kind=kind, columns=columns, **changes)
