"""`relance import bank`: camt.053/054 and OFX statements matched to the example repository's open invoices.

Open balances of the example books: F-2026-003 3000.00 and F-2026-007 1200.00 (atelier-ferrand), F-2026-004
3600.00 (nordwind), F-2026-005 800.00 (lucie-martin), F-2026-006 2400.00 (studio-kappa).
"""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from stdnum import iso11649

from relance_pipeline.books.read import read_books
from relance_pipeline.cli.main import main
from relance_pipeline.core.references import rf_reference
from relance_pipeline.imports.camt import read_camt
from relance_pipeline.imports.imported import Statement
from relance_pipeline.imports.ofx import read_ofx
from relance_pipeline.model import Invoice, Payment

SAMPLES = Path(__file__).parent / "import_samples"
IBAN = "FR7630006000011234567890189"


def relance(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--repo", str(root), *args], env={})
    return result.exit_code, result.output


def snapshot(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((root / "ledger").rglob("*.yaml"))}  # fmt: skip


def entry(amount: str, day: str, *, label: str = "", debtor: str = "", ref: str | None = None,
          credit: bool = True, reversal: bool = False, currency: str = "EUR") -> str:  # fmt: skip
    """One camt.053.001.02 entry, shaped as the genkgo/camt sample entries are."""
    refs = f"<Refs><AcctSvcrRef>{ref}</AcctSvcrRef></Refs>" if ref else ""
    return (f"<Ntry><Amt Ccy=\"{currency}\">{amount}</Amt><CdtDbtInd>{'CRDT' if credit else 'DBIT'}</CdtDbtInd>"
            f"<RvslInd>{'true' if reversal else 'false'}</RvslInd><Sts>BOOK</Sts><BookgDt><Dt>{day}</Dt></BookgDt>"
            f"<NtryDtls><TxDtls>{refs}<RltdPties><Dbtr><Nm>{debtor}</Nm></Dbtr></RltdPties>"
            f"<RmtInf><Ustrd>{label}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>\n")  # fmt: skip


def statement(folder: Path, name: str, *entries: str, iban: str = IBAN) -> Path:
    file = folder / name
    file.write_text('<?xml version="1.0" encoding="UTF-8"?>\n'
                    '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt>'
                    f"<Id>{name}</Id><Acct><Id><IBAN>{iban}</IBAN></Id></Acct>\n{''.join(entries)}"
                    "</Stmt></BkToCstmrStmt></Document>\n", "utf-8")  # fmt: skip
    return file


def invoice(root: Path, number: str) -> Invoice:
    return next(i for i in read_books(root).invoices if i.number == number)


def test_a_label_with_the_invoice_number_among_other_words_pays_that_invoice_keeping_the_file(
    example_repo: Path, tmp_path: Path
) -> None:
    file = example_repo / "ledger/invoices/2026/F-2026-007.yaml"
    file.write_text("# kept by hand\n" + file.read_text("utf-8"), "utf-8")
    before = file.read_text("utf-8")
    stmt = statement(tmp_path, "s.xml", entry("1200.00", "2026-06-10", label="VIR SEPA FACT.F-2026-007 MERCI",
                                              debtor="ATELIER FERRAND", ref="A1"))  # fmt: skip
    code, output = relance(example_repo, "import", "bank", str(stmt))
    assert code == 0, output
    assert "paid      2026-06-10     1200.00  F-2026-007     invoice number in the label" in output
    assert invoice(example_repo, "F-2026-007").payments == (Payment(date(2026, 6, 10), Decimal("1200.00"), "A1"),)
    text = file.read_text("utf-8")
    assert text.startswith(before) and "# relance import bank: invoice number in the label; ATELIER FERRAND" in text


def test_the_same_statement_twice_and_an_overlapping_one_add_nothing_twice(example_repo: Path, tmp_path: Path) -> None:
    day1 = entry("500.00", "2026-06-10", label="F-2026-003", ref="B1")
    day2 = entry("300.00", "2026-06-11", label="F-2026-005")  # no bank reference: the line's hash
    day3 = entry("3600.00", "2026-06-12", debtor="NORDWIND GMBH", ref="B3")
    assert relance(example_repo, "import", "bank", str(statement(tmp_path, "a.xml", day1, day2)))[0] == 0
    once = snapshot(example_repo)
    code, output = relance(example_repo, "import", "bank", str(statement(tmp_path, "a.xml", day1, day2)))
    assert code == 0 and "already in the books: 2 lines" in output and snapshot(example_repo) == once
    code, output = relance(example_repo, "import", "bank", str(statement(tmp_path, "b.xml", day2, day3)))
    assert code == 0 and "already in the books: 1 line" in output
    assert len(invoice(example_repo, "F-2026-005").payments) == 1
    assert invoice(example_repo, "F-2026-004").outstanding(date(2026, 6, 30)) == 0


def test_a_partial_payment_is_applied_as_such(example_repo: Path, tmp_path: Path) -> None:
    stmt = statement(tmp_path, "s.xml", entry("1000.00", "2026-06-10", label="acompte F-2026-003", ref="P1"))
    code, output = relance(example_repo, "import", "bank", str(stmt))
    assert code == 0 and "invoice number in the label (partial)" in output
    assert invoice(example_repo, "F-2026-003").outstanding(date(2026, 6, 30)) == Decimal("2000.00")


def test_one_transfer_for_two_invoices_pays_both_in_due_date_order(example_repo: Path, tmp_path: Path) -> None:
    stmt = statement(tmp_path, "s.xml", entry("4200.00", "2026-06-10", debtor="Atelier Ferrand", ref="T1"))
    code, output = relance(example_repo, "import", "bank", str(stmt))
    assert code == 0, output
    assert "the sum of 2 open invoices of atelier-ferrand, by due date" in output
    assert invoice(example_repo, "F-2026-003").payments[-1] == Payment(date(2026, 6, 10), Decimal("3000.00"), "T1")
    assert invoice(example_repo, "F-2026-007").payments == (Payment(date(2026, 6, 10), Decimal("1200.00"), "T1"),)


def test_the_exact_balance_of_one_open_invoice_of_the_client_named(example_repo: Path, tmp_path: Path) -> None:
    stmt = statement(tmp_path, "s.xml", entry("800.00", "2026-06-10", debtor="MME LUCIE MARTIN", ref="N1"))
    code, output = relance(example_repo, "import", "bank", str(stmt))
    assert code == 0 and "F-2026-005     the balance of the one open invoice of lucie-martin" in output


def test_a_name_that_matches_two_clients_writes_nothing_and_says_so(example_repo: Path, tmp_path: Path) -> None:
    (example_repo / "ledger/clients/ferrand-design.yaml").write_text(
        "name: Ferrand Design\nkind: business\nemail: a@ferrand.example\naddress: [Ferrand Design, 44000 Nantes]\n"
        "language: fr\n", "utf-8")  # fmt: skip
    before = snapshot(example_repo)
    stmt = statement(tmp_path, "s.xml", entry("1200.00", "2026-06-10", debtor="FERRAND", ref="D1"))
    code, output = relance(example_repo, "import", "bank", str(stmt))
    assert code == 0
    assert "unmatched 2026-06-10     1200.00  -              the name 'FERRAND' matches 2 clients" in output
    assert snapshot(example_repo) == before


def test_the_rf_creditor_reference_matches_exactly(example_repo: Path, tmp_path: Path) -> None:
    rf = rf_reference("F-2026-004")
    assert rf == "RF45F2026004" and iso11649.is_valid(rf)
    spaced = " ".join(rf[i : i + 4] for i in range(0, len(rf), 4))
    code, output = relance(
        example_repo,
        "import",
        "bank",
        str(statement(tmp_path, "s.xml", entry("3600.00", "2026-06-10", label=spaced, ref="R1"))),
    )
    assert code == 0 and "F-2026-004     invoice number in the label" in output  # fmt: skip


def test_debits_reversals_and_what_matches_nothing_are_said_and_not_written(example_repo: Path, tmp_path: Path) -> None:
    before = snapshot(example_repo)
    stmt = statement(tmp_path, "s.xml",
                     entry("59.49", "2026-06-10", label="F-2026-007", credit=False),
                     entry("1200.00", "2026-06-10", label="F-2026-007", reversal=True),
                     entry("42.00", "2026-06-10", debtor="SOMEONE ELSE", label="cadeau"),
                     entry("2000.00", "2026-06-10", label="F-2026-007"))  # fmt: skip
    code, output = relance(example_repo, "import", "bank", str(stmt))
    assert code == 0
    assert "skipped: 1 × a debit, 1 × a reversal or return (RvslInd, RRTN, RPCR)" in output
    assert "unmatched 2026-06-10       42.00" in output and "no invoice number or RF reference" in output
    assert "2000.00 is more than the 1200.00 still owed on F-2026-007" in output
    assert snapshot(example_repo) == before


def test_a_statement_of_another_account_or_a_credit_in_another_currency_stops_the_import(
    example_repo: Path, tmp_path: Path
) -> None:
    before = snapshot(example_repo)
    good = statement(tmp_path, "good.xml", entry("1200.00", "2026-06-10", label="F-2026-007", ref="G1"))
    other = statement(tmp_path, "other.xml", entry("1.00", "2026-06-10"), iban="DE89370400440532013000")
    usd = statement(tmp_path, "usd.xml", entry("1.00", "2026-06-10", label="F-2026-003", currency="USD"))
    code, output = relance(example_repo, "import", "bank", str(good), str(other), str(usd))
    assert code == 1
    assert f"{other}: statement of account DE89370400440532013000, not relance.yaml's IBAN" in output
    assert f"{usd}:3: a credit of 1.00 USD: EUR only" in output
    assert "nothing written" in output and snapshot(example_repo) == before


def test_an_ofx_statement_with_french_decimal_commas_pays_by_fitid(example_repo: Path, tmp_path: Path) -> None:
    header = (SAMPLES / "checking.ofx").read_text("ascii").split("<OFX>")[0]
    body = ("<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>EUR<BANKACCTFROM><BANKID>30006<ACCTID>00011234567"
            "</BANKACCTFROM><BANKTRANLIST>\n<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20260610<TRNAMT>1200,00"
            "<FITID>26061000042<NAME>VIR ATELIER FERRAND<MEMO>F-2026-007\n</STMTTRN>\n"
            "<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20260610<TRNAMT>-12,50<FITID>26061000043<NAME>FRAIS\n</STMTTRN>\n"
            "</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n")  # fmt: skip
    (tmp_path / "releve.ofx").write_bytes((header + body).encode("cp1252"))
    code, output = relance(example_repo, "import", "bank", str(tmp_path / "releve.ofx"))
    assert code == 0, output
    assert invoice(example_repo, "F-2026-007").payments == (
        Payment(date(2026, 6, 10), Decimal("1200.00"), "FITID:26061000042"),
    )
    assert "skipped: 1 × a debit" in output


@pytest.mark.parametrize(
    ("name", "credits", "debits"),
    [("camt053.v2.minimal.xml", 1, 0), ("camt053.v2.multi.statement.xml", 1, 1), ("camt053.v3.xml", 1, 0),
     ("camt053.v4.xml", 1, 0), ("camt053.v8.xml", 1, 0), ("camt054.v2.xml", 0, 1), ("camt054.v4.xml", 3, 0),
     ("camt054.v8.xml", 3, 0), ("checking.ofx", 1, 2), ("bank_medium.ofx", 0, 3), ("suncorp.ofx", 0, 1),
     ("multiple_accounts.ofx", 0, 0)],
)  # fmt: skip
def test_public_sample_statements_read_into_lines_each_with_its_own_reference(
    name: str, credits: int, debits: int
) -> None:
    data = (SAMPLES / name).read_bytes()
    found = read_ofx(name, data) if name.endswith(".ofx") else read_camt(name, data)
    assert isinstance(found, Statement), found
    assert (sum(ln.credit for ln in found.lines), sum(not ln.credit for ln in found.lines)) == (credits, debits)
    assert len({ln.reference for ln in found.lines}) == len(found.lines)
    again = read_ofx(name, data) if name.endswith(".ofx") else read_camt(name, data)
    assert again == found


HOSTILE = {
    "xxe.xml": b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
               b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">&x;</Document>',
    "broken.xml": b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">\n<BkToCstmrStmt>\n</Document>',
    "mt940.txt": b":20:STARTUMSE\n:25:10020030/1234567\n",
    "bad-amount.ofx": b"OFXHEADER:100\nDATA:OFXSGML\n\n<OFX><STMTTRN><TRNAMT>douze<DTPOSTED>20260610</STMTTRN></OFX>",
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_bad_statement_is_one_line_exit_1_and_nothing_written(example_repo: Path, tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(HOSTILE[name])
    good = statement(tmp_path, "good.xml", entry("1200.00", "2026-06-10", label="F-2026-007", ref="G1"))
    before = snapshot(example_repo)
    code, output = relance(example_repo, "import", "bank", str(good), str(tmp_path / name))
    assert code == 1 and output.splitlines()[0].startswith(str(tmp_path / name)), output
    assert snapshot(example_repo) == before


def test_a_returned_transfer_is_skipped_like_a_reversal(example_repo: Path, tmp_path: Path) -> None:
    returned = entry("1200.00", "2026-06-10", label="RETOUR VIR F-2026-007", ref="RT1").replace(
        "<Sts>BOOK</Sts>", "<Sts>BOOK</Sts><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>RRTN</SubFmlyCd>"
        "</Fmly></Domn></BkTxCd>")  # fmt: skip
    before = snapshot(example_repo)
    code, output = relance(example_repo, "import", "bank", str(statement(tmp_path, "s.xml", returned)))
    assert code == 0 and "skipped: 1 × a reversal or return (RvslInd, RRTN, RPCR)" in output
    assert snapshot(example_repo) == before


def test_a_payment_typed_by_hand_then_in_the_statement_is_not_added_twice(example_repo: Path, tmp_path: Path) -> None:
    code, output = relance(example_repo, "record", "paid", "F-2026-003", "--amount", "500", "--date", "2026-06-10")
    assert code == 0, output
    typed = snapshot(example_repo)
    stmt = statement(tmp_path, "s.xml", entry("500.00", "2026-06-13", label="VIR F-2026-003", ref="H1"))
    code, output = relance(example_repo, "import", "bank", str(stmt))
    assert code == 0, output
    assert "by hand   2026-06-13      500.00  F-2026-003     already recorded by hand (2026-06-10" in output
    assert snapshot(example_repo) == typed
    assert invoice(example_repo, "F-2026-003").outstanding(date(2026, 6, 30)) == Decimal("2500.00")
    code, output = relance(example_repo, "import", "bank", "--format", "markdown", str(stmt))
    assert "| 2026-06-13 | 500.00 | F-2026-003 | already recorded by hand (2026-06-10" in output


def test_a_payment_typed_by_hand_stands_for_one_bank_line_only_and_a_second_is_listed(
    example_repo: Path, tmp_path: Path
) -> None:
    code, output = relance(example_repo, "record", "paid", "F-2026-005", "--amount", "300", "--date", "2026-06-10")
    assert code == 0, output
    stmt = statement(tmp_path, "s.xml", entry("300.00", "2026-06-11", debtor="Lucie Martin", ref="L1"),
                     entry("300.00", "2026-06-12", debtor="Lucie Martin", ref="L2"))  # fmt: skip
    code, output = relance(example_repo, "import", "bank", str(stmt))
    assert code == 0, output
    assert "by hand   2026-06-11      300.00  F-2026-005" in output
    assert "unmatched 2026-06-12      300.00  -              may be a payment already in the books" in output
    assert "taken for bank line L1" in output
    assert [p.reference for p in invoice(example_repo, "F-2026-005").payments] == [None]


def test_the_same_amount_outside_the_window_or_another_amount_is_a_new_payment(
    example_repo: Path, tmp_path: Path
) -> None:
    code, output = relance(example_repo, "record", "paid", "F-2026-003", "--amount", "500", "--date", "2026-06-10")
    assert code == 0, output
    stmt = statement(tmp_path, "s.xml", entry("500.00", "2026-06-16", label="F-2026-003", ref="W1"),
                     entry("400.00", "2026-06-11", label="F-2026-003", ref="W2"))  # fmt: skip
    code, output = relance(example_repo, "import", "bank", str(stmt))
    assert code == 0, output
    assert [p.reference for p in invoice(example_repo, "F-2026-003").payments][-3:] == [None, "W2", "W1"]


def test_a_payment_typed_with_a_reference_of_its_own_lists_the_bank_line_for_the_user(
    example_repo: Path, tmp_path: Path
) -> None:
    code, output = relance(example_repo, "record", "paid", "F-2026-003", "--amount", "500", "--date", "2026-06-10",
                           "--reference", "chèque 123")  # fmt: skip
    assert code == 0, output
    typed = snapshot(example_repo)
    stmt = statement(tmp_path, "s.xml", entry("500.00", "2026-06-12", label="F-2026-003", ref="C1"))
    code, output = relance(example_repo, "import", "bank", str(stmt))
    assert code == 0, output
    assert "unmatched 2026-06-12      500.00" in output and "reference chèque 123" in output
    assert snapshot(example_repo) == typed


def test_the_payment_reference_of_an_invoice_in_the_label_pays_it(example_repo: Path, tmp_path: Path) -> None:
    file = example_repo / "ledger/invoices/2026/F-2026-006.yaml"
    file.write_text(file.read_text("utf-8") + 'payment_reference: "KAPPA 4471 / 2026"\n', "utf-8")
    stmt = statement(tmp_path, "s.xml", entry("2400.00", "2026-06-10", label="VIR SEPA kappa  4471 /2026", ref="R1"),
                     entry("100.00", "2026-06-10", label="KAPPA 4471 / 20261", ref="R2"))  # fmt: skip
    code, output = relance(example_repo, "import", "bank", str(stmt))
    assert code == 0, output
    assert "paid      2026-06-10     2400.00  F-2026-006     payment reference in the label" in output
    assert invoice(example_repo, "F-2026-006").payments == (Payment(date(2026, 6, 10), Decimal("2400.00"), "R1"),)
    assert "unmatched 2026-06-10      100.00" in output
