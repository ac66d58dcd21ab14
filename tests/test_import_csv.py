"""CSV exports with a column mapping: the presets, a user's mapping file that extends one, and bad files."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from relance_pipeline.books.read import read_books
from relance_pipeline.cli.main import main
from relance_pipeline.model import Payment

FRENCH_EXPORT = (
    "Numéro;Client;Date;Échéance;Montant TTC;Montant réglé;SIREN;Email\r\n"
    "F-2026-101;Atelier Ferrand SAS;15/11/2026;15/12/2026;1 200,50;0,00;901784520;\r\n"
    "F-2026-102;Menuiserie Duval;16/11/2026;16/12/2026;480,00;;;contact@duval.example\r\n"
    "F-2026-103;Menuiserie Duval;17/11/2026;17/12/2026;300,00;300,00;;\r\n"
)
# Invoice Ninja v5's invoice export (Reports → Invoices → Export CSV) as its header names the columns.
NINJA_EXPORT = (
    "Invoice Number,Client Name,Invoice Date,Invoice Due Date,Invoice Amount,Invoice Balance,Invoice Paid to Date\n"
    "0042,Nordwind GmbH,2026-10-01,2026-10-31,3600.00,3600.00,0.00\n"
)


def relance(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--repo", str(root), *args], env={})
    return result.exit_code, result.output


def snapshot(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((root / "ledger").rglob("*.yaml"))}  # fmt: skip


def test_a_french_export_with_the_generic_preset_reads_dates_amounts_and_known_clients(
    example_repo: Path, tmp_path: Path
) -> None:
    (tmp_path / "export.csv").write_bytes(b"\xef\xbb\xbf" + FRENCH_EXPORT.encode("utf-8"))
    code, output = relance(example_repo, "import", "invoices", "--mapping", "generic-fr", str(tmp_path / "export.csv"))
    assert code == 0, output
    books = read_books(example_repo)
    first = next(i for i in books.invoices if i.number == "F-2026-101")
    assert (first.client, first.total, first.due) == ("atelier-ferrand", Decimal("1200.50"), date(2026, 12, 15))
    duval = (example_repo / "ledger/clients/menuiserie-duval.yaml").read_text("utf-8")
    assert 'email: "contact@duval.example"' in duval
    assert "export.csv:4: warning: F-2026-103 is paid on a date the file does not give: not imported" in output
    assert not any(i.number == "F-2026-103" for i in books.invoices)


def test_invoice_ninjas_export_with_its_preset(example_repo: Path, tmp_path: Path) -> None:
    (tmp_path / "ninja.csv").write_text(NINJA_EXPORT, "utf-8")
    code, output = relance(example_repo, "import", "invoices", "--mapping", "invoiceninja", str(tmp_path / "ninja.csv"))
    assert code == 0, output
    assert next(i for i in read_books(example_repo).invoices if i.number == "0042").client == "nordwind"


def test_a_mapping_file_extends_a_preset_with_its_own_columns_encoding_and_paid_date(
    example_repo: Path, tmp_path: Path
) -> None:
    (example_repo / "imports").mkdir(exist_ok=True)
    (example_repo / "imports/mon-outil.yaml").write_text(
        "kind: invoices\nextends: generic-fr\nencoding: cp1252\n"
        "columns:\n  number: Réf\n  paid_date: Réglé le\n", "utf-8")  # fmt: skip
    export = ("Réf;Client;Date;Échéance;Montant TTC;Montant réglé;Réglé le\n"
              "F-9;Studio Kappa SARL;01/10/2026;31/10/2026;1 000,00;400,00;20/10/2026\n")  # fmt: skip
    (tmp_path / "outil.csv").write_bytes(export.encode("cp1252"))
    code, output = relance(example_repo, "import", "invoices", "--mapping", "mon-outil", str(tmp_path / "outil.csv"))
    assert code == 0, output
    invoice = next(i for i in read_books(example_repo).invoices if i.number == "F-9")
    assert invoice.payments == (Payment(date(2026, 10, 20), Decimal("400.00"), "paid (CSV export)"),)


@pytest.mark.parametrize(
    ("mapping", "content", "message"),
    [("generic-fr", "Facture;Montant\nF-1;10\n", "export.csv:1: the mapping 'generic-fr' does not fit"),
     ("generic-fr", FRENCH_EXPORT.replace("15/11/2026", "2026-11-15"),
      "export.csv:2: issued: '2026-11-15' is not a date written DD/MM/YYYY"),
     ("generic-fr", FRENCH_EXPORT.replace("1 200,50", "mille"), "export.csv:2: total: 'mille' is not an amount"),
     ("invoiceninja", FRENCH_EXPORT, "export.csv:1: the mapping 'invoiceninja' does not fit"),
     ("nope", FRENCH_EXPORT, "imports/nope.yaml: no such mapping file, nor a preset"),
     ("generic-bank", FRENCH_EXPORT, "preset generic-bank: a mapping of kind bank, not invoices")],
)  # fmt: skip
def test_a_mapping_that_does_not_fit_is_one_line_and_nothing_written(
    example_repo: Path, tmp_path: Path, mapping: str, content: str, message: str
) -> None:
    (tmp_path / "export.csv").write_text(content, "utf-8")
    before = snapshot(example_repo)
    code, output = relance(example_repo, "import", "invoices", "--mapping", mapping, str(tmp_path / "export.csv"))
    assert code == 1 and message in output, output
    assert snapshot(example_repo) == before


def test_a_file_in_another_encoding_than_the_mapping_says_names_its_line(example_repo: Path, tmp_path: Path) -> None:
    (tmp_path / "export.csv").write_bytes(FRENCH_EXPORT.encode("cp1252"))
    code, output = relance(example_repo, "import", "invoices", "--mapping", "generic-fr", str(tmp_path / "export.csv"))
    assert code == 1 and "export.csv:1: not utf-8-sig text (set `encoding:` in the mapping)" in output


def test_a_mapping_file_with_an_unknown_key_is_reported_with_its_line(example_repo: Path, tmp_path: Path) -> None:
    (example_repo / "imports").mkdir(exist_ok=True)
    (example_repo / "imports/x.yaml").write_text("kind: invoices\nseparater: ';'\n", "utf-8")
    (tmp_path / "export.csv").write_text(FRENCH_EXPORT, "utf-8")
    code, output = relance(example_repo, "import", "invoices", "--mapping", "x", str(tmp_path / "export.csv"))
    assert code == 1 and output.startswith("imports/x.yaml:2: ")


def test_a_boursobank_export_pays_by_invoice_number_and_a_second_import_adds_nothing(
    example_repo: Path, tmp_path: Path
) -> None:
    export = ("dateOp;dateVal;label;category;categoryParent;supplierFound;amount;comment;accountNum;accountLabel;"
              "accountbalance\n"
              '2026-06-10;2026-06-10;"VIR SEPA ATELIER FERRAND F-2026-007";"Virements reçus";"Virements reçus";;'
              '"1 200,00";;00040211293;BoursoBank;5000,00\n'
              '2026-06-11;2026-06-11;"CARTE 10/06/26 PAPETERIE";"Fournitures";"Pro";papeterie;-23,40;;'
              "00040211293;BoursoBank;4976,60\n")  # fmt: skip
    (tmp_path / "bourso.csv").write_bytes(b"\xef\xbb\xbf" + export.encode("utf-8"))
    code, output = relance(example_repo, "import", "bank", "--mapping", "boursobank", str(tmp_path / "bourso.csv"))
    assert code == 0, output
    invoice = next(i for i in read_books(example_repo).invoices if i.number == "F-2026-007")
    assert [(p.date, p.amount) for p in invoice.payments] == [(date(2026, 6, 10), Decimal("1200.00"))]
    assert "skipped: 1 × a debit" in output
    code, output = relance(example_repo, "import", "bank", "--mapping", "boursobank", str(tmp_path / "bourso.csv"))
    assert code == 0 and "already in the books: 1 line" in output


def test_validate_reports_a_broken_mapping_file_before_a_night_needs_it(example_repo: Path) -> None:
    (example_repo / "imports/x.yaml").write_text("kind: invoices\ndate_format: 15/11/2026\n", "utf-8")
    result = CliRunner().invoke(main, ["--repo", str(example_repo), "validate"], env={})
    assert result.exit_code == 1 and "imports/x.yaml:2: " in result.output
