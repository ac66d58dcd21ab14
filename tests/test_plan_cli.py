"""`relance plan` and `relance report` on the example repository, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from relance_pipeline.cli.main import main


def relance(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--repo", str(root), *args], catch_exceptions=False)


def test_the_json_plan_of_the_example_has_the_design_shape_and_hand_checked_amounts(example_repo: Path) -> None:
    result = relance(example_repo, "plan", "--as-of", "2026-06-15", "--format", "json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["as_of"] == "2026-06-15"
    assert [(a["client"], a["step"], [i["number"] for i in a["invoices"]]) for a in plan["actions"]] == [
        ("atelier-ferrand", "relance-1", ["F-2026-003", "F-2026-007"]),
        ("lucie-martin", "relance-1", ["F-2026-005"]),
        ("nordwind", "relance-1", ["F-2026-004"]),
    ]
    ferrand = plan["actions"][0]
    assert ferrand["channels"] == ["email"]
    # F-2026-003: 4800 due 02-14, 1800 paid 03-10. 02-15..03-10: 24 days on 4800 at 12.15 % = 38.3474;
    # 03-11..06-15: 97 days on 3000 = 96.8671; 135.2145 → 135.21.
    # F-2026-007: 1200 due 03-22. 03-23..06-15: 85 days at 12.15 % = 33.9534 → 33.95.
    assert ferrand["invoices"][0] == {
        "number": "F-2026-003",
        "step": "relance-1",
        "issued": "2026-01-15",
        "due": "2026-02-14",
        "days_overdue": 121,
        "total": "4800.00",
        "outstanding": "3000.00",
        "penalties": "135.21",
        "charge_kind": "penalties",
        "indemnity": "40.00",
        "total_due": "3175.21",
        "periods": [
            {
                "start": "2026-02-15",
                "end": "2026-03-10",
                "days": 24,
                "rate": "12.15",
                "base": "4800.00",
                "amount": "38.3474",
            },
            {
                "start": "2026-03-11",
                "end": "2026-06-15",
                "days": 97,
                "rate": "12.15",
                "base": "3000.00",
                "amount": "96.8671",
            },
        ],
    }
    assert (ferrand["invoices"][1]["penalties"], ferrand["total_due"]) == ("33.95", "4449.16")
    # The consumer: no penalties, no indemnity before the mise en demeure.
    lucie = plan["actions"][1]["invoices"][0]
    assert (lucie["outstanding"], lucie["penalties"], lucie["indemnity"]) == ("800.00", "0.00", "0.00")
    assert [(w["invoice"], w["reason"]) for w in plan["waiting"]] == [("F-2026-006", "held")]
    assert plan["waiting"][0]["detail"].startswith("disputed until 2026-07-31: ")


def test_the_table_shows_documents_and_waiting_invoices(example_repo: Path) -> None:
    result = relance(example_repo, "plan", "--as-of", "2026-04-15")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Plan as of 2026-04-15: 3 documents, 4 invoices")
    assert any(line.startswith("atelier-ferrand  relance-1") for line in lines)
    assert any(line.startswith("studio-kappa") and "held" in line for line in lines)


def test_the_same_inputs_print_the_same_bytes(example_repo: Path) -> None:
    first = relance(example_repo, "plan", "--as-of", "2026-06-15", "--format", "json").stdout_bytes
    assert relance(example_repo, "plan", "--as-of", "2026-06-15", "--format", "json").stdout_bytes == first


def test_a_semester_missing_from_the_table_holds_back_only_the_clients_needing_it(example_repo: Path) -> None:
    result = relance(example_repo, "plan", "--as-of", "2026-07-15")
    assert result.exit_code == 0, result.output
    assert (
        "policies/rates.yaml: warning: no rates for 2026-S2 (needed for invoice F-2026-007, "
        "ledger/invoices/2026/F-2026-007.yaml): client atelier-ferrand is held back until it is there" in result.stderr
    )
    # The consumer owes no interest before a delivered mise en demeure: her reminder needs no rate.
    assert any(line.startswith("lucie-martin  relance-1") for line in result.stdout.splitlines())
    assert "atelier-ferrand" not in result.stdout
    assert "Traceback" not in result.output


def test_a_bad_journal_line_is_reported_with_its_line_and_stops_the_plan(example_repo: Path) -> None:
    (example_repo / "outbox").mkdir(exist_ok=True)
    (example_repo / "outbox" / "journal.jsonl").write_text('{"date": "2026-04-01"}\nnot json\n', encoding="utf-8")
    result = relance(example_repo, "plan", "--as-of", "2026-06-15")
    assert result.exit_code == 1
    assert "outbox/journal.jsonl:1: this line has no 'client'" in result.output
    assert "outbox/journal.jsonl:2: this line is not valid JSON" in result.output


def test_invalid_books_are_not_planned(example_repo: Path) -> None:
    invoice = example_repo / "ledger" / "invoices" / "2026" / "F-2026-007.yaml"
    invoice.write_text(invoice.read_text(encoding="utf-8").replace("client: atelier-ferrand", "client: nobody"))
    result = relance(example_repo, "plan", "--as-of", "2026-06-15", "--format", "json")
    assert result.exit_code == 1
    assert "ledger/invoices/2026/F-2026-007.yaml:2: client: no client 'nobody'" in result.output


def test_a_missing_template_does_not_stop_the_plan_but_fails_validate(example_repo: Path) -> None:
    policy = example_repo / "policies" / "standard.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace("template: appel", "template: no-such-template"))
    assert relance(example_repo, "plan", "--as-of", "2026-06-15").exit_code == 0
    validated = relance(example_repo, "validate")
    assert validated.exit_code == 1
    assert "no template 'no-such-template/phone.fr.md'" in validated.output


def test_the_report_prints_buckets_totals_and_dso_in_every_format(example_repo: Path) -> None:
    table = relance(example_repo, "report", "--as-of", "2026-06-15")
    assert table.exit_code == 0, table.output
    assert table.stdout.splitlines()[0] == "Aged balance as of 2026-06-15: 4 clients, 11000.00 EUR outstanding"
    # Receivables 11000 (4800-1800 + 3600 + 850-50 + 2400 + 1200); sales since 2025-06-15: 960 + 4800 + 3600
    # + (850 - 50) + 2400 + 1200 = 13760; 11000 / 13760 × 365 = 291.79 → 292 days.
    assert "DSO: 292 days" in table.stdout
    data = json.loads(relance(example_repo, "report", "--as-of", "2026-06-15", "--format", "json").stdout)
    assert (data["totals"]["outstanding"], data["dso_days"]) == ("11000.00", 292)
    rows = relance(example_repo, "report", "--as-of", "2026-06-15", "--format", "csv").stdout.splitlines()
    assert rows[0].startswith("client,name,not due,0-30,31-60,61-90,>90,outstanding")
    assert rows[-1].startswith("total,,0.00,0.00,0.00,1200.00,9800.00,11000.00")


def test_the_report_leaves_out_only_the_clients_a_missing_semester_holds_back(example_repo: Path) -> None:
    result = relance(example_repo, "report", "--as-of", "2026-07-15")
    assert result.exit_code == 0, result.output
    assert "no rates for 2026-S2 (needed for invoice F-2026-004" in result.stderr
    clients = [line.split()[0] for line in result.stdout.splitlines()[3:] if line and not line.startswith("DSO")]
    assert clients == ["lucie-martin", "total"]  # studio-kappa is held, but its penalties still need 2026-S2


def test_the_plan_table_shows_what_a_first_reminder_asks_not_its_charges(example_repo: Path) -> None:
    result = relance(example_repo, "plan", "--as-of", "2026-02-23")
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.stdout.splitlines() if " relance-1 " in f" {line} "]
    assert rows and all(row[-3:-1] == ["–", "–"] and row[-1] == row[-4] for row in rows)  # asked = outstanding
