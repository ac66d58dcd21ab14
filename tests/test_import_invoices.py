"""`relance import invoices` on public sample invoices (tests/import_samples) and on hostile files."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from facturx import generate_from_binary

from relance_pipeline.books.read import read_books
from relance_pipeline.cli.main import main
from relance_pipeline.commands.validate import validate
from relance_pipeline.model import CreditNote

SAMPLES = Path(__file__).parent / "import_samples"
TODAY = date(2026, 6, 15)


def relance(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--repo", str(root), *args], env={})
    return result.exit_code, result.output


def snapshot(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts and ".relance" not in p.parts
    }


def test_a_german_zugferd_invoice_becomes_an_invoice_file_a_client_to_complete_and_its_document(
    example_repo: Path,
) -> None:
    code, output = relance(example_repo, "import", "invoices", str(SAMPLES / "EN16931_Einfach.pdf"))
    assert code == 0, output
    invoice = (example_repo / "ledger/invoices/2024/471102.yaml").read_text("utf-8")
    assert 'number: "471102"\nclient: kunden-ag-mitte\nissued: 2024-11-15\ndue: 2024-12-15\ntotal: "529.87"' in invoice
    assert (example_repo / "documents/471102.pdf").read_bytes() == (SAMPLES / "EN16931_Einfach.pdf").read_bytes()
    client = (example_repo / "ledger/clients/kunden-ag-mitte.yaml").read_text("utf-8")
    assert 'name: "Kunden AG Mitte"' in client and "language: en" in client and '  - "DE"' in client
    assert "warning: 471102 has no due date (BT-9)" in output
    to_complete = [str(p) for p in validate(example_repo, TODAY) if p.path == "ledger/clients/kunden-ag-mitte.yaml"]
    assert any("email" in p for p in to_complete) and any("kind" in p for p in to_complete)
    assert not [p for p in validate(example_repo, TODAY) if p.path == "ledger/invoices/2024/471102.yaml"]


def test_importing_the_same_invoice_twice_adds_nothing(example_repo: Path) -> None:
    sample = str(SAMPLES / "Facture_F20180027.pdf")
    assert relance(example_repo, "import", "invoices", sample)[0] == 0
    before = snapshot(example_repo)
    code, output = relance(example_repo, "import", "invoices", sample)
    assert code == 0 and "unchanged ledger/invoices/2018/F20180027.yaml: F20180027 is already in the books" in output
    assert snapshot(example_repo) == before


def test_a_french_invoice_gives_the_buyer_siren_vat_id_email_and_the_prepaid_part_as_a_payment(
    example_repo: Path,
) -> None:
    assert relance(example_repo, "import", "invoices", str(SAMPLES / "Facture_F20180027.pdf"))[0] == 0
    client = (example_repo / "ledger/clients/le-client.yaml").read_text("utf-8")
    assert 'siren: "987654321"' in client and 'vat_id: "FR05987654321"' in client
    assert 'email: "me@buyer.com"' in client and "kind: business" in client
    invoice = next(i for i in read_books(example_repo).invoices if i.number == "F20180027")
    assert (invoice.total, invoice.outstanding(TODAY), invoice.due) == (
        invoice.total.__class__("110.00"),
        invoice.total.__class__("100.00"),
        date(2019, 1, 30),
    )


def test_an_invoice_already_in_the_books_is_compared_and_kept(example_repo: Path, tmp_path: Path) -> None:
    book = example_repo / "ledger/invoices/2018/F20180027.yaml"
    book.parent.mkdir(parents=True)
    book.write_text('# typed by hand\nnumber: F20180027\nclient: studio-kappa\nissued: 2018-12-31\ndue: 2019-01-30\n'
                    'total: "100.00"\n', "utf-8")  # fmt: skip
    before = snapshot(example_repo)
    code, output = relance(example_repo, "import", "invoices", str(SAMPLES / "Facture_F20180027.pdf"))
    assert code == 0
    assert "ledger/invoices/2018/F20180027.yaml: warning: total: 100.00 in the books, 110.00 in" in output
    assert "client: studio-kappa in the books, le-client" in output
    assert {k: v for k, v in snapshot(example_repo).items() if "clients" not in k} == {
        k: v for k, v in before.items() if "clients" not in k
    }


def test_a_credit_note_is_added_to_the_invoice_it_corrects_keeping_the_file_as_written(example_repo: Path) -> None:
    book = example_repo / "ledger/invoices/2017/FA-2017-0010.yaml"
    book.parent.mkdir(parents=True)
    text = ("number: FA-2017-0010   # the olive oil order\nclient: studio-kappa\nissued: 2017-11-13\n"
            "due: 2017-12-13\ntotal: '800.00'\n")  # fmt: skip
    book.write_text(text, "utf-8")
    code, output = relance(example_repo, "import", "invoices", str(SAMPLES / "validAvoir_FR_type380_BASICWL.pdf"))
    assert code == 0, output
    assert book.read_text("utf-8").startswith(text)
    invoice = next(i for i in read_books(example_repo).invoices if i.number == "FA-2017-0010")
    assert invoice.credit_notes == (CreditNote("AV-2017-0005", date(2017, 11, 16), invoice.total.__class__("233.47")),)
    again = relance(example_repo, "import", "invoices", str(SAMPLES / "validAvoir_FR_type380_BASICWL.pdf"))
    assert "credit note AV-2017-0005 is already there" in again[1]
    assert book.read_text("utf-8").count("AV-2017-0005") == 1


def test_a_credit_note_and_its_invoice_in_one_import_make_one_file(example_repo: Path, tmp_path: Path) -> None:
    invoice = (SAMPLES / "CII_example1.xml").read_bytes()
    note = (
        invoice.replace(b"<ram:TypeCode>380</ram:TypeCode>", b"<ram:TypeCode>381</ram:TypeCode>", 1)
        .replace(b"<ram:ID>12115118</ram:ID>", b"<ram:ID>AV-12115118</ram:ID>", 1)
        .replace(
            b"</ram:ApplicableHeaderTradeSettlement>",
            b"<ram:InvoiceReferencedDocument><ram:IssuerAssignedID>"
            b"12115118</ram:IssuerAssignedID></ram:InvoiceReferencedDocument></ram:ApplicableHeaderTradeSettlement>",
        )
    )
    (tmp_path / "note.xml").write_bytes(note)
    code, output = relance(
        example_repo, "import", "invoices", str(SAMPLES / "CII_example1.xml"), str(tmp_path / "note.xml")
    )
    assert code == 0, output
    imported = next(i for i in read_books(example_repo).invoices if i.number == "12115118")
    assert [c.number for c in imported.credit_notes] == ["AV-12115118"]


def test_a_factur_x_pdf_made_by_the_factur_x_library_from_a_real_cii_invoice_imports(
    example_repo: Path, tmp_path: Path
) -> None:
    pdf = generate_from_binary(
        (example_repo / "documents/F-2026-003.pdf").read_bytes(),
        (SAMPLES / "CII_example1.xml").read_bytes(),
        flavor="factur-x", level="en16931", check_xsd=False,
    )  # fmt: skip
    (tmp_path / "odin.pdf").write_bytes(pdf)
    code, output = relance(example_repo, "import", "invoices", str(tmp_path / "odin.pdf"))
    assert code == 0, output
    invoice = next(i for i in read_books(example_repo).invoices if i.number == "12115118")
    assert (str(invoice.total), invoice.issued, invoice.document) == (
        "250.33",
        date(2015, 1, 9),
        "documents/12115118.pdf",
    )
    assert (example_repo / "documents/12115118.pdf").read_bytes() == pdf


def test_an_invoice_the_books_would_reject_is_not_written(example_repo: Path) -> None:
    before = snapshot(example_repo)
    code, output = relance(example_repo, "import", "invoices", str(SAMPLES / "XRechnung-O.xml"))
    assert code == 1 and "due: 2021-01-01 is before the issue date 2021-01-14" in output
    assert snapshot(example_repo) == before


def test_dry_run_prints_what_would_be_written_and_writes_nothing(example_repo: Path) -> None:
    before = snapshot(example_repo)
    code, output = relance(example_repo, "import", "invoices", "--dry-run", str(SAMPLES / "EN16931_Einfach.pdf"))
    assert code == 0 and "would be created ledger/invoices/2024/471102.yaml" in output
    assert snapshot(example_repo) == before


HOSTILE = {
    "xxe.xml": (b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<r>&x;</r>',
                "xxe.xml:2: a DTD or entity declaration is not allowed"),
    "laughs.xml": (b'<?xml version="1.0"?>\n<!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>\n<l>&b;</l>',
                   "laughs.xml:2: a DTD or entity declaration is not allowed"),
    "broken.xml": (b'<?xml version="1.0"?>\n<rsm:CrossIndustryInvoice xmlns:rsm="x">\n<a></b>\n',
                   "broken.xml:3: not well-formed XML"),
    "latin1.xml": (b'<?xml version="1.0" encoding="UTF-8"?>\n<r>caf\xe9</r>', "latin1.xml:2: not well-formed XML"),
    "statement.xml": ((SAMPLES / "camt053.v4.xml").read_bytes(), "statement.xml:2: not an invoice"),
    "plain.pdf": (b"%PDF-1.4\n%\xe2\xe3\n", "plain.pdf: not a readable PDF"),
    "notes.txt": (b"hello", "notes.txt: not a Factur-X PDF, a CII or UBL XML file"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_bad_or_hostile_file_is_one_line_exit_1_and_nothing_written(
    example_repo: Path, tmp_path: Path, name: str
) -> None:
    data, message = HOSTILE[name]
    (tmp_path / name).write_bytes(data)
    before = snapshot(example_repo)
    code, output = relance(
        example_repo, "import", "invoices", str(SAMPLES / "EN16931_Einfach.pdf"), str(tmp_path / name)
    )
    assert code == 1
    assert any(line.endswith(message) or message in line for line in output.splitlines()), output
    assert "nothing written" in output and snapshot(example_repo) == before


def test_a_pdf_without_embedded_invoice_data_says_so(example_repo: Path) -> None:
    code, output = relance(example_repo, "import", "invoices", str(example_repo / "documents/F-2026-003.pdf"))
    assert code == 1 and "documents/F-2026-003.pdf: the PDF has no Factur-X/ZUGFeRD XML attached" in output


def test_an_invoice_in_another_currency_and_a_credit_note_naming_no_invoice_are_refused(example_repo: Path) -> None:
    before = snapshot(example_repo)
    code, output = relance(example_repo, "import", "invoices", str(SAMPLES / "ubl-tc434-example2.xml"),
                           str(SAMPLES / "ubl-tc434-creditnote1.xml"))  # fmt: skip
    assert code == 1
    assert "TOSL108 is in NOK: relance handles EUR only" in output
    assert "credit note 018304 / 28865 names no invoice it corrects (BT-25)" in output
    assert snapshot(example_repo) == before


def test_a_zugferd_1_invoice_reads_like_a_factur_x_one(example_repo: Path) -> None:
    code, output = relance(example_repo, "import", "invoices", str(SAMPLES / "zugferd_invoice.pdf"))
    assert code == 0, output
    invoice = next(i for i in read_books(example_repo).invoices if i.number == "2014-03")
    expected = ("1005.55", date(2014, 7, 11), "papierflieger-vertriebs-gmbh")
    assert (str(invoice.total), invoice.issued, invoice.client) == expected


def test_the_payment_reference_bt_83_is_kept_when_it_is_not_the_number(example_repo: Path) -> None:
    code, output = relance(example_repo, "import", "invoices", str(SAMPLES / "CII_example1.xml"))
    assert code == 0, output
    invoice = next(i for i in read_books(example_repo).invoices if i.number == "12115118")
    assert invoice.payment_reference == "Deb. 10202 / Fact. 12115118"
    assert 'payment_reference: "Deb. 10202 / Fact. 12115118"' in (example_repo / invoice.source).read_text("utf-8")
    assert not [p for p in validate(example_repo, TODAY) if p.path == invoice.source and p.severity == "error"]


def test_a_payment_reference_that_is_the_number_is_not_written_twice(example_repo: Path, tmp_path: Path) -> None:
    xml = (SAMPLES / "CII_example1.xml").read_bytes().replace(b"Deb. 10202 / Fact. 12115118", b"12115118")
    (tmp_path / "same.xml").write_bytes(xml)
    code, output = relance(example_repo, "import", "invoices", str(tmp_path / "same.xml"))
    assert code == 0, output
    invoice = next(i for i in read_books(example_repo).invoices if i.number == "12115118")
    assert invoice.payment_reference is None
    assert "payment_reference" not in (example_repo / invoice.source).read_text("utf-8")
