"""The checks between files, each told as `file:line: message` on a real copy of the example repository."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from relance_pipeline.commands.validate import validate
from relance_pipeline.model import Problem

TODAY = date(2026, 6, 15)
CONFIG = "relance.yaml"
POLICY = "policies/standard.yaml"
RATES = "policies/rates.yaml"
F3 = "ledger/invoices/2026/F-2026-003.yaml"
F7 = "ledger/invoices/2026/F-2026-007.yaml"
FERRAND = "ledger/clients/atelier-ferrand.yaml"
KAPPA = "ledger/clients/studio-kappa.yaml"
MARTIN = "ledger/clients/lucie-martin.yaml"


def problems(root: Path, today: date = TODAY) -> list[str]:
    """Every problem validate reports, but those about the built-in templates (tested on their own below)."""
    return [str(p) for p in validate(root, today) if p.code != "template.missing"]


def edit(root: Path, rel: str, old: str, new: str) -> None:
    file = root / rel
    text = file.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} should occur once in {rel}"
    file.write_text(text.replace(old, new), encoding="utf-8")


def write(root: Path, rel: str, text: str) -> None:
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(text, encoding="utf-8")


def test_the_example_has_no_problem(example_repo: Path) -> None:
    assert validate(example_repo, TODAY) == []


def test_an_invoice_for_an_unknown_client_suggests_the_closest_name(example_repo: Path) -> None:
    edit(example_repo, F7, "client: atelier-ferrand", "client: atelier-ferand")
    assert problems(example_repo) == [
        f"{F7}:2: client: no client 'atelier-ferand' (did you mean 'atelier-ferrand'?): "
        "add ledger/clients/atelier-ferand.yaml or use the name of a file there"
    ]


def test_an_invoice_for_a_client_whose_file_has_errors_is_not_a_second_error(example_repo: Path) -> None:
    edit(example_repo, FERRAND, "kind: business", "kind: company")
    assert problems(example_repo) == [f"{FERRAND}:2: kind: 'company' is not one of: business, consumer"]


def test_a_client_civility_is_madame_or_monsieur(example_repo: Path) -> None:
    edit(example_repo, MARTIN, "relationship: new", "relationship: new\ncivility: madame")
    assert problems(example_repo) == []
    edit(example_repo, MARTIN, "civility: madame", "civility: Mme")
    (found,) = problems(example_repo)
    assert found.startswith(f"{MARTIN}:") and "civility: 'Mme' is not one of: madame, monsieur" in found


def test_a_client_file_whose_name_is_not_an_identifier_is_reported(example_repo: Path) -> None:
    (example_repo / KAPPA).rename(example_repo / "ledger/clients/Studio Kappa.yaml")
    found = problems(example_repo)
    assert found == [
        "ledger/clients/Studio Kappa.yaml:1: the file name 'Studio Kappa' cannot be used as an identifier: "
        "use lower case letters, digits, - and _ (for example studio-kappa.yaml)",
        "ledger/invoices/2026/F-2026-006.yaml:2: client: no client 'studio-kappa': "
        "add ledger/clients/studio-kappa.yaml or use the name of a file there",
    ]


def test_a_client_with_an_unknown_policy_is_reported(example_repo: Path) -> None:
    edit(example_repo, KAPPA, "relationship: regular", "relationship: regular\npolicy: gentle")
    assert problems(example_repo) == [
        f"{KAPPA}:10: policy: no policy 'gentle': add policies/gentle.yaml or use one of the policies there (standard)"
    ]


def test_an_unknown_default_policy_is_reported(example_repo: Path) -> None:
    edit(example_repo, CONFIG, "default_policy: standard", "default_policy: standart")
    assert problems(example_repo) == [
        f"{CONFIG}:19: default_policy: no policy 'standart': add policies/standart.yaml "
        "or use one of the policies there (standard)"
    ]


def test_a_policy_whose_file_has_errors_is_not_a_second_error_where_it_is_named(example_repo: Path) -> None:
    edit(example_repo, POLICY, "min_interval_days: 7", "min_interval_days: soon")
    assert problems(example_repo) == [f"{POLICY}:4: min_interval_days: 'soon' should be a whole number"]


def test_an_invoice_number_used_twice_names_both_files(example_repo: Path) -> None:
    edit(example_repo, F7, "number: F-2026-007", "number: F-2026-003")
    assert problems(example_repo) == [
        f"{F7}:1: number: 'F-2026-003' is already the number of {F3}; each invoice needs its own number"
    ]


def test_a_due_date_before_the_issue_date_is_reported(example_repo: Path) -> None:
    edit(example_repo, F7, "due: 2026-03-22", "due: 2026-02-19")
    assert problems(example_repo) == [
        f"{F7}:4: due: 2026-02-19 is before the issue date 2026-02-20; the due date is on or after it"
    ]


def test_a_due_date_on_the_issue_date_is_fine(example_repo: Path) -> None:
    edit(example_repo, F7, "due: 2026-03-22", "due: 2026-02-20")
    assert problems(example_repo) == []


def test_payments_and_credit_notes_above_the_total_are_reported(example_repo: Path) -> None:
    edit(
        example_repo,
        F3,
        'amount: "1800.00"',
        'amount: "1800.00"}\n  - {date: 2026-03-20, amount: "2000.00"',
    )
    edit(
        example_repo,
        F3,
        "document:",
        'credit_notes:\n  - {number: AV-1, date: 2026-03-01, amount: "1000.01"}\ndocument:',
    )
    assert problems(example_repo) == [
        f"{F3}:9: payments: payments and credit notes add up to 4800.01, more than the total 4800.00; "
        "check the amounts, or record the excess as a refund outside the books"
    ]


def test_payments_that_settle_the_total_exactly_are_fine(example_repo: Path) -> None:
    edit(example_repo, F3, 'amount: "1800.00"', 'amount: "1800.00"}\n  - {date: 2026-03-20, amount: "3000.00"')
    assert problems(example_repo) == []


def test_a_credit_note_above_the_total_is_reported_on_the_credit_notes(example_repo: Path) -> None:
    edit(
        example_repo, F7, "document:", 'credit_notes:\n  - {number: AV-2, date: 2026-03-01, amount: "1300"}\ndocument:'
    )
    assert problems(example_repo) == [
        f"{F7}:6: credit_notes: payments and credit notes add up to 1300.00, more than the total 1200.00; "
        "check the amounts, or record the excess as a refund outside the books"
    ]


def test_a_total_of_zero_is_reported(example_repo: Path) -> None:
    edit(example_repo, F7, 'total: "1200.00"', "total: 0")
    assert problems(example_repo) == [f"{F7}:5: total: 0 should be more than 0"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            '"812 345 676 00017"',
            '"812 345 676 00018"',
            "9: creditor.siret: '812 345 676 00018' is not a valid SIRET number: its check digits do not match, "
            "so a character is mistyped or two are swapped",
            id="siret-checksum",
        ),
        pytest.param(
            '"812 345 676 00017"',
            '"812 345 676 0001"',
            "9: creditor.siret: '812 345 676 0001' is not a valid SIRET number: it has 13 characters; "
            "a SIRET has 14 digits, such as 812 345 676 00017",
            id="siret-length",
        ),
        pytest.param(
            "7890 189",
            "7890 188",
            "14: creditor.iban: 'FR76 3000 6000 0112 3456 7890 188' is not a valid IBAN: its check digits do not "
            "match, so a character is mistyped or two are swapped",
            id="iban-checksum",
        ),
        pytest.param(
            "bic: AGRIFRPP",
            "bic: AGRIFRPPX",
            "15: creditor.bic: 'AGRIFRPPX' is not a valid BIC: it has 9 characters; "
            "a BIC has 8 or 11 letters and digits, such as AGRIFRPP",
            id="bic-length",
        ),
        pytest.param(
            "bic: AGRIFRPP",
            "bic: AGRIXXPP",
            "15: creditor.bic: 'AGRIXXPP' is not a valid BIC: a part of it (such as the country code) is unknown; "
            "a BIC has 8 or 11 letters and digits, such as AGRIFRPP",
            id="bic-country",
        ),
        pytest.param(
            "vat_id: FR19812345676",
            "vat_id: FR19812345677",
            "10: creditor.vat_id: 'FR19812345677' is not a valid EU VAT number: its check digits do not match, "
            "so a character is mistyped or two are swapped",
            id="vat-checksum",
        ),
        pytest.param(
            "timezone: Europe/Paris",
            "timezone: Europe/Pariss",
            "18: timezone: 'Europe/Pariss' is not a known time zone (did you mean 'Europe/Paris'?)",
            id="timezone",
        ),
    ],
)
def test_a_wrong_creditor_identity_is_reported(example_repo: Path, old: str, new: str, expected: str) -> None:
    edit(example_repo, CONFIG, old, new)
    assert problems(example_repo) == [f"{CONFIG}:{expected}"]


def test_a_wrong_client_siren_and_vat_number_are_reported(example_repo: Path) -> None:
    edit(example_repo, FERRAND, 'siren: "901784520"', 'siren: "901 784 521"')
    edit(example_repo, FERRAND, "vat_id: FR01901784520", "vat_id: XX01901784520")
    assert problems(example_repo) == [
        f"{FERRAND}:12: siren: '901 784 521' is not a valid SIREN number: its check digits do not match, "
        "so a character is mistyped or two are swapped",
        f"{FERRAND}:13: vat_id: 'XX01901784520' is not a valid EU VAT number: a part of it (such as the country "
        "code) is unknown; an EU VAT number is a country code followed by the number, such as FR40123456824",
    ]


def test_a_missing_invoice_document_is_reported(example_repo: Path) -> None:
    (example_repo / "documents/F-2026-007.pdf").unlink()
    assert problems(example_repo) == [
        f"{F7}:6: document: no file 'documents/F-2026-007.pdf' in the repository (the path is from the repository root)"
    ]


@pytest.mark.parametrize("path", ["../F-2026-007.pdf", "/etc/F-2026-007.pdf", "documents/../../F-2026-007.pdf"])
def test_an_invoice_document_outside_the_repository_is_reported(example_repo: Path, path: str) -> None:
    (example_repo.parent / "F-2026-007.pdf").write_bytes(b"%PDF-1.4\n")
    edit(example_repo, F7, "documents/F-2026-007.pdf", path)
    assert problems(example_repo) == [
        f"{F7}:6: document: '{path}' is outside the repository; copy the PDF into documents/ "
        "and give its path from the repository root"
    ]


def test_an_invoice_document_linked_from_outside_the_repository_is_reported(example_repo: Path) -> None:
    outside = example_repo.parent / "secret.pdf"
    outside.write_bytes(b"%PDF-1.4\n")
    link = example_repo / "documents/F-2026-007.pdf"
    link.unlink()
    link.symlink_to(outside)
    assert problems(example_repo) == [
        f"{F7}:6: document: 'documents/F-2026-007.pdf' is outside the repository; copy the PDF into documents/ "
        "and give its path from the repository root"
    ]


def test_an_invoice_document_path_the_system_cannot_use_is_reported(example_repo: Path) -> None:
    name = "documents/" + "é" * 200 + ".pdf"  # 205 characters, but 400 bytes for one file name
    edit(example_repo, F7, "documents/F-2026-007.pdf", name)
    assert problems(example_repo) == [f"{F7}:6: document: '{name}' cannot be used as a path (File name too long)"]


def floor_warning(path: str, line: int, rate: str, floor: str, semester: str, legal: str) -> str:
    return (
        f"{path}:{line}: warning: penalty_rate: {rate} % is below the legal floor of {floor} % in {semester} "
        f"(3 × the legal interest rate {legal} %, C. com. L441-10 II): the floor is charged for that semester; "
        f"write at least {floor} to charge the contract's rate throughout"
    )


def test_a_contractual_rate_below_three_times_the_legal_rate_is_a_warning_the_floor_applies(example_repo: Path) -> None:
    edit(example_repo, F7, "document:", 'penalty_rate: "7.85"\ndocument:')
    assert problems(example_repo) == [floor_warning(F7, 6, "7.85", "7.86", "2026-S1", "2.62")]
    assert all(p.severity == "warning" for p in validate(example_repo, TODAY) if "floor" in p.message)


def test_a_contractual_rate_at_three_times_the_legal_rate_is_fine(example_repo: Path) -> None:
    edit(example_repo, F7, "document:", 'penalty_rate: "7.86"\ndocument:')
    assert problems(example_repo) == []


def test_a_contractual_rate_is_checked_in_every_semester_the_invoice_is_overdue(example_repo: Path) -> None:
    # 10 % against the floors: 2025-S1 3 × 3.71 = 11.13 (below), 2025-S2 3 × 2.76 = 8.28, 2026-S1 7.86 (above).
    edit(example_repo, F7, "issued: 2026-02-20\ndue: 2026-03-22", "issued: 2025-02-20\ndue: 2025-03-22")
    edit(example_repo, F7, "document:", 'penalty_rate: "10"\ndocument:')
    assert problems(example_repo) == [floor_warning(F7, 6, "10", "11.13", "2025-S1", "3.71")]


def test_an_invoice_paid_late_is_checked_only_in_the_semesters_it_was_charged(example_repo: Path) -> None:
    # Due 2024-05-31 at 15 %, paid in full on 2024-07-20: charged in 2024-S1 (floor 3 × 5.07 = 15.21, below) and
    # 2024-S2 (14.76, above), never after; the floors of 2025-S1 (11.13) are not its business either way.
    edit(example_repo, F7, "issued: 2026-02-20\ndue: 2026-03-22", "issued: 2024-05-01\ndue: 2024-05-31")
    edit(
        example_repo,
        F7,
        "document:",
        'penalty_rate: "15.00"\npayments: [{date: 2024-07-20, amount: "1200.00"}]\ndocument:',
    )
    assert problems(example_repo) == [floor_warning(F7, 6, "15.00", "15.21", "2024-S1", "5.07")]


def test_the_legal_floor_does_not_apply_to_a_consumer_invoice(example_repo: Path) -> None:
    edit(example_repo, "ledger/invoices/2026/F-2026-005.yaml", "document:", 'penalty_rate: "1.00"\ndocument:')
    assert problems(example_repo) == []


def test_a_policy_rate_below_the_legal_floor_is_a_warning(example_repo: Path) -> None:
    edit(example_repo, POLICY, "penalty_rate: b2b_default", 'penalty_rate: "5"')
    assert problems(example_repo) == [floor_warning(POLICY, 5, "5", "7.86", "2026-S1", "2.62")]


def test_a_policy_rate_is_checked_in_every_semester_its_invoices_are_charged(example_repo: Path) -> None:
    # The issue's case: 15 % in the policy, a business invoice due 2024-05-31 still unpaid on 2026-06-15:
    # 2024-S1's floor is 15.21 % (charged there instead); 2024-S2 14.76, 2025-S1 11.13 and later are below 15.
    edit(example_repo, POLICY, "penalty_rate: b2b_default", 'penalty_rate: "15.00"')
    edit(example_repo, F7, "issued: 2026-02-20\ndue: 2026-03-22", "issued: 2024-05-01\ndue: 2024-05-31")
    assert problems(example_repo) == [floor_warning(POLICY, 5, "15.00", "15.21", "2024-S1", "5.07")]


def test_steps_whose_after_days_do_not_increase_are_reported(example_repo: Path) -> None:
    edit(example_repo, POLICY, "after_days: 30", "after_days: 21")
    edit(example_repo, POLICY, "after_days: 40", "after_days: 10")
    assert problems(example_repo) == [
        f"{POLICY}:17: steps[3].after_days: 21 should be more than the previous step's 21 "
        "(steps go in the order they are sent)",
        f"{POLICY}:21: steps[4].after_days: 10 should be more than the previous step's 21 "
        "(steps go in the order they are sent)",
    ]


def test_two_steps_with_the_same_id_are_reported(example_repo: Path) -> None:
    edit(example_repo, POLICY, "id: appel", "id: relance-2")
    assert problems(example_repo) == [
        f"{POLICY}:16: steps[3].id: 'relance-2' is already the id of an earlier step; each step needs its own id"
    ]


def test_two_formal_notices_in_one_policy_are_reported(example_repo: Path) -> None:
    edit(example_repo, POLICY, "    template: lettre\n", "    template: lettre\n    formal_notice: true\n")
    assert problems(example_repo) == [
        f"{POLICY}:6: steps: only one step can be the mise en demeure (formal_notice: true), "
        "not lettre, mise-en-demeure"
    ]


def test_a_step_without_its_template_names_each_missing_file(example_repo: Path) -> None:
    edit(example_repo, POLICY, "template: appel", "template: appel-client")
    missing = [str(p) for p in validate(example_repo, TODAY) if p.code == "template.missing"]
    # The default policy speaks the creditor's French, and English to Nordwind.
    assert missing == [
        f"{POLICY}:19: steps[3].template: no template 'appel-client/phone.en.md' in templates/ or the built-in ones",
        f"{POLICY}:19: steps[3].template: no template 'appel-client/phone.fr.md' in templates/ or the built-in ones",
    ]


def test_a_step_may_not_be_called_statement_and_the_statement_goes_by_email_or_letter(example_repo: Path) -> None:
    edit(example_repo, POLICY, "  - id: appel\n", "  - id: statement\n")
    assert problems(example_repo) == [
        f"{POLICY}:16: steps[3].id: 'statement' is the statement of penalties owed after a late payment "
        "(paid_late_penalties: claimed); give the step another id"
    ]
    edit(example_repo, POLICY, "  - id: statement\n", "  - id: appel\n")
    edit(example_repo, POLICY, "penalty_rate: b2b_default", "penalty_rate: b2b_default\npaid_late_penalties: claimed")
    assert validate(example_repo, TODAY) == []
    edit(example_repo, POLICY, "claimed", "claimed\npaid_late_channels: [sms]")
    (found,) = problems(example_repo)
    assert found.startswith(f"{POLICY}:") and "'sms' is not one of: email, letter" in found
    edit(example_repo, POLICY, "[sms]", "[letter]")
    assert validate(example_repo, TODAY) == []


def test_a_template_in_the_repository_satisfies_a_step(example_repo: Path) -> None:
    edit(example_repo, POLICY, "template: appel", "template: appel-client")
    write(example_repo, "templates/appel-client/phone.fr.md", "Appeler {{ client.name }}.\n")
    write(example_repo, "templates/appel-client/phone.en.md", "Call {{ client.name }}.\n")
    assert validate(example_repo, TODAY) == []


def test_only_the_languages_of_a_policys_clients_need_templates(example_repo: Path) -> None:
    write(
        example_repo,
        "policies/gentle.yaml",
        "min_interval_days: 14\nsteps:\n  - {id: rappel, after_days: 10, channels: [sms], template: rappel}\n",
    )
    edit(example_repo, MARTIN, "relationship: new", "relationship: new\npolicy: gentle")
    missing = [str(p) for p in validate(example_repo, TODAY) if p.code == "template.missing"]
    assert missing == [
        "policies/gentle.yaml:3: steps[1].template: no template 'rappel/sms.fr.txt' in templates/ or the built-in ones"
    ]


def test_the_semester_of_today_missing_from_the_rate_table_is_a_warning(example_repo: Path) -> None:
    found = validate(example_repo, date(2026, 11, 23))
    warnings = [p for p in found if p.severity == "warning"]
    assert [str(p) for p in warnings] == [
        f"{RATES}:35: warning: has no row for 2026-S2, the semester of today (2026-11-23); the table ends at 2026-S1. "
        "Run `relance rates update` or add the row by hand: penalties after 2026-S1 cannot be computed"
    ]
    assert problems(example_repo, date(2026, 11, 23)) == [str(warnings[0])]


def test_a_missing_relance_yaml_and_rate_table_are_reported(example_repo: Path) -> None:
    (example_repo / CONFIG).unlink()
    (example_repo / RATES).unlink()
    assert problems(example_repo) == [
        f"{RATES}: is missing: the late-payment rates per semester live there",
        f"{CONFIG}: is missing: every dunning repository starts with it",
    ]


def test_a_broken_relance_yaml_does_not_hide_the_errors_of_the_other_files(example_repo: Path) -> None:
    edit(example_repo, CONFIG, "locale: fr", "locale: de")
    edit(example_repo, F7, "client: atelier-ferrand", "client: nobody")
    edit(example_repo, F3, "due: 2026-02-14", "due: 2026-01-14")
    assert problems(example_repo) == [
        f"{F3}:4: due: 2026-01-14 is before the issue date 2026-01-15; the due date is on or after it",
        f"{F7}:2: client: no client 'nobody': add ledger/clients/nobody.yaml or use the name of a file there",
        f"{CONFIG}:17: locale: 'de' is not one of: fr, en",
    ]


def test_problems_come_sorted_by_file_then_line(example_repo: Path) -> None:
    edit(example_repo, F7, "due: 2026-03-22", "due: 2026-13-01")
    edit(example_repo, F3, "client: atelier-ferrand", "client: Ferrand")
    edit(example_repo, CONFIG, "locale: fr", "locale: de")
    found = validate(example_repo, TODAY)
    assert found == sorted(found, key=lambda p: (p.path, p.line or 0, p.message))
    assert all(isinstance(p, Problem) for p in found)


def test_a_payment_plan_asks_no_more_than_was_owed_when_agreed_and_lists_its_instalments_in_order(
    example_repo: Path,
) -> None:
    plan = (
        "payment_plan:\n  agreed: 2026-04-01\n  instalments:\n"
        "    - {due: 2026-03-31, amount: '500.00'}\n"
        "    - {due: 2026-05-31, amount: '500.00'}\n"
        "    - {due: 2026-04-30, amount: '300.00'}\n"
    )
    (example_repo / F7).write_text((example_repo / F7).read_text() + plan, encoding="utf-8")
    found = problems(example_repo)
    assert found == [
        f"{F7}:9: payment_plan.instalments: they add up to 1300.00, more than the 1200.00 outstanding on 2026-04-01 "
        "when the plan was agreed; check the amounts (payments made before that day are not part of the plan)",
        f"{F7}:10: payment_plan.instalments[1].due: 2026-03-31 is before the plan was agreed (2026-04-01); an "
        "instalment falls due on or after that day",
        f"{F7}:12: payment_plan.instalments[3].due: 2026-04-30 is not after the instalment before it (2026-05-31); "
        "list the instalments in the order they fall due, one date each",
    ]


def test_a_payment_plan_for_what_was_left_after_a_payment_is_fine(example_repo: Path) -> None:
    plan = (
        "payments: [{date: 2026-03-20, amount: '600.00'}]\n"
        "payment_plan:\n  agreed: 2026-04-01\n  instalments:\n"
        "    - {due: 2026-04-30, amount: '300.00'}\n    - {due: 2026-05-31, amount: '300.00'}\n"
    )
    (example_repo / F7).write_text((example_repo / F7).read_text() + plan, encoding="utf-8")
    assert problems(example_repo) == []
