"""`relance rates update` against a real HTTP server on 127.0.0.1 serving recorded ECB Data Portal answers
(and broken ones): what is added to policies/rates.yaml, what is kept byte for byte, and what is refused."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from relance_pipeline.books.read import read_books
from relance_pipeline.cli.main import main
from relance_pipeline.commands import rates as rates_command
from relance_pipeline.core import money
from relance_pipeline.imports.ecb import SourceError, fetch_series, parse_series, series_url
from relance_pipeline.model import EcbRate, Invoice, Semester

RESPONSES = Path(__file__).parent / "ecb_responses"
SERIES_PATH = "/service/data/FM/B.U2.EUR.4F.KR.MRR_FR.LEV"
CSV = "text/csv; charset=utf-8"
ROW = (
    "FM.B.U2.EUR.4F.KR.MRR_FR.LEV,B,U2,EUR,4F,KR,MRR_FR,LEV,{day},{rate},A,F,,,P1D,,E,4F0,,,,,,,,,4,,4F0,,"
    "Main refinancing operations - fixed rate tenders (fixed rate) (date of changes) - Level,"
    '"Euro area (changing composition) - Key interest rate - Main refinancing operations - fixed rate tenders '
    '(fixed rate) (date of changes) - Level - Euro, provided by ECB",PCPA,0\r\n'
)


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes
    stall_before: bool = False
    """Wait before answering at all (a server that does not answer)."""
    stall_after_headers: bool = False
    """Send the headers, then stop (a connection that dies mid-answer)."""


def recorded(name: str) -> bytes:
    return (RESPONSES / name).read_bytes()


def with_change(day: str, rate: str) -> bytes:
    """The recorded series with one more change, as the ECB would publish a new decision."""
    return recorded("mrr_fr.csv") + ROW.format(day=day, rate=rate).encode()


class EcbServer:
    """Answers under /<scenario>/service/data/...; anything but the series in CSV gets the ECB's 404."""

    def __init__(self) -> None:
        self.answers: dict[str, Answer] = {}
        self.requests: list[str] = []
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                scenario, _, rest = self.path.lstrip("/").partition("/")
                url = urlsplit("/" + rest)
                answer = server.answers.get(scenario)
                if answer is None or url.path != SERIES_PATH or url.query != "format=csvdata":
                    answer = Answer(404, "text/plain", b"No results found.")
                if answer.stall_before:
                    server.release.wait(10)
                    return
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body) + (100 if answer.stall_after_headers else 0)))
                self.end_headers()
                if answer.stall_after_headers:
                    self.wfile.write(answer.body[:100])
                    self.wfile.flush()
                    server.release.wait(10)
                    return
                self.wfile.write(answer.body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    def base(self, scenario: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{scenario}/service/data/"


@pytest.fixture
def ecb(monkeypatch: pytest.MonkeyPatch) -> Iterator[EcbServer]:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    server = EcbServer()
    server.answers.update(
        good=Answer(200, CSV, recorded("mrr_fr.csv")),
        html=Answer(200, "text/html; charset=utf-8", recorded("maintenance.html")),
        down=Answer(500, "text/plain", b"Internal Server Error"),
        slow=Answer(200, CSV, recorded("mrr_fr.csv"), stall_before=True),
        cut=Answer(200, CSV, recorded("mrr_fr.csv"), stall_after_headers=True),
        malformed=Answer(200, CSV, recorded("malformed.csv")),
        empty=Answer(200, CSV, recorded("empty.csv")),
    )
    thread = threading.Thread(target=server.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.httpd.shutdown()
    server.httpd.server_close()
    thread.join(5)


def update(repo: Path, source: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        main, ["--repo", str(repo), "rates", "update", "--source", source, "--timeout", "0.5", *args]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_the_recorded_series_reads_as_the_rate_changes_oldest_first(ecb: EcbServer) -> None:
    series = fetch_series(ecb.base("good"), timeout=2)

    assert series[0] == EcbRate(date(2014, 9, 10), Decimal("0.05"))
    assert series[-1] == EcbRate(date(2025, 6, 11), Decimal("2.15"))
    assert len(series) == 20
    assert ecb.requests == ["/good/service/data/FM/B.U2.EUR.4F.KR.MRR_FR.LEV?format=csvdata"]


def test_the_base_url_may_end_with_or_without_a_slash() -> None:
    assert series_url("https://data-api.ecb.europa.eu/service/data") == series_url(
        "https://data-api.ecb.europa.eu/service/data/"
    )
    assert series_url("https://data-api.ecb.europa.eu/service/data/") == (
        "https://data-api.ecb.europa.eu/service/data/FM/B.U2.EUR.4F.KR.MRR_FR.LEV?format=csvdata"
    )


def test_update_adds_the_started_semester_after_the_existing_bytes(ecb: EcbServer, example_repo: Path) -> None:
    rates = example_repo / "policies/rates.yaml"
    before = rates.read_text(encoding="utf-8")

    code, out, err = update(example_repo, ecb.base("good"), "--as-of", "2026-11-15")

    assert (code, err) == (0, "")
    after = rates.read_text(encoding="utf-8")
    last_row = (
        '  2026-S1: {ecb_reference: "2.15", b2b_default: "12.15", legal_individual: "6.67", legal_other: "2.62"}\n'
    )
    head, tail = before.split(last_row)
    assert after == head + last_row + '  2026-S2: {ecb_reference: "2.15", b2b_default: "12.15"}\n' + tail
    assert out.splitlines()[0] == (
        "policies/rates.yaml: added 2026-S2: ecb_reference 2.15, b2b_default 12.15 "
        "(the ECB rate in force on 2026-07-01, since 2025-06-11)"
    )
    assert "2026-S2 has no legal rates yet; add them from the arrêté" in out
    assert (
        '  2026-S2: {ecb_reference: "2.15", b2b_default: "12.15", legal_individual: "x.xx", legal_other: "x.xx"}'
        in (out.splitlines())
    )


def test_the_table_with_an_added_row_validates_and_lists_it(ecb: EcbServer, example_repo: Path) -> None:
    update(example_repo, ecb.base("good"), "--as-of", "2026-11-15")

    listing = CliRunner().invoke(main, ["--repo", str(example_repo), "rates", "--as-of", "2026-11-15"])

    assert listing.exit_code == 0
    assert "policies/rates.yaml: 2022-S1 to 2026-S2 (10 semesters)" in listing.stdout
    assert "Rates in force on 2026-11-15 (2026-S2):" in listing.stdout


def test_a_second_update_changes_nothing(ecb: EcbServer, example_repo: Path) -> None:
    update(example_repo, ecb.base("good"), "--as-of", "2026-11-15")
    once = (example_repo / "policies/rates.yaml").read_bytes()

    code, out, _ = update(example_repo, ecb.base("good"), "--as-of", "2026-11-15")

    assert code == 0
    assert (example_repo / "policies/rates.yaml").read_bytes() == once
    assert "the ECB figures are up to date (the table ends at 2026-S2)" in out


def test_nothing_is_added_before_the_semester_starts(ecb: EcbServer, example_repo: Path) -> None:
    before = (example_repo / "policies/rates.yaml").read_bytes()

    code, out, _ = update(example_repo, ecb.base("good"), "--as-of", "2026-06-30")

    assert code == 0
    assert (example_repo / "policies/rates.yaml").read_bytes() == before
    assert "up to date (the table ends at 2026-S1)" in out


def test_a_new_rate_change_is_appended_to_the_history_and_used_for_the_next_semester(
    ecb: EcbServer, example_repo: Path
) -> None:
    # A hypothetical decision, to see a change arrive: the recorded series ends at 2025-06-11.
    ecb.answers["changed"] = Answer(200, CSV, with_change("2026-09-16", "2.4"))
    rates = example_repo / "policies/rates.yaml"
    before = rates.read_text(encoding="utf-8")

    code, out, _ = update(example_repo, ecb.base("changed"), "--as-of", "2026-11-15")

    assert code == 0
    after = rates.read_text(encoding="utf-8")
    history_end = '  - {from: 2025-06-11, rate: "2.15"}\n'
    assert (
        after.replace('  - {from: 2026-09-16, rate: "2.40"}\n', "").replace(
            '  2026-S2: {ecb_reference: "2.15", b2b_default: "12.15"}\n', ""
        )
        == before
    )
    assert history_end + '  - {from: 2026-09-16, rate: "2.40"}\nsemesters:\n' in after
    assert "policies/rates.yaml: ecb_mro: added 2026-09-16: 2.40" in out.splitlines()


def test_a_figure_that_disagrees_with_the_source_is_reported_and_left_alone(ecb: EcbServer, example_repo: Path) -> None:
    rates = example_repo / "policies/rates.yaml"
    wrong = rates.read_text(encoding="utf-8").replace(
        '2024-S2: {ecb_reference: "4.25", b2b_default: "14.25"', '2024-S2: {ecb_reference: "4.00", b2b_default: "14.25"'
    )
    rates.write_text(wrong, encoding="utf-8")

    code, out, _ = update(example_repo, ecb.base("good"), "--as-of", "2026-11-15")

    assert code == 1
    assert (
        "policies/rates.yaml:41: 2024-S2 ecb_reference is 4.00 but the ECB series gives 4.25 in force on 2024-07-01; "
        "check the figure and correct it by hand (left unchanged)"
    ) in out.splitlines()
    after = rates.read_text(encoding="utf-8")
    assert '2024-S2: {ecb_reference: "4.00", b2b_default: "14.25"' in after
    assert "2026-S2: {ecb_reference" in after, "the missing semester is still added"


def test_the_source_is_read_from_relance_yaml_when_no_option_is_given(ecb: EcbServer, example_repo: Path) -> None:
    config = example_repo / "relance.yaml"
    config.write_text(config.read_text(encoding="utf-8") + f"rates_source: {ecb.base('good')}\n", encoding="utf-8")

    result = CliRunner().invoke(main, ["--repo", str(example_repo), "rates", "update", "--as-of", "2026-11-15"])

    assert result.exit_code == 0, result.output
    assert ecb.requests == ["/good/service/data/FM/B.U2.EUR.4F.KR.MRR_FR.LEV?format=csvdata"]


@pytest.mark.parametrize(
    ("scenario", "reason"),
    [
        ("html", "the answer is a web page, not CSV data (is the address right?)"),
        ("down", "the server answered 500 Internal Server Error"),
        ("missing", "the server answered 404 Not Found"),
        ("slow", "no answer within 0.5 seconds"),
        ("cut", "no answer within 0.5 seconds"),
        ("malformed", "the CSV answer is malformed (unexpected end of data, after line 4)"),
        ("empty", "the series is empty (the answer holds no observation)"),
    ],
)
def test_a_broken_answer_is_one_line_exit_1_and_the_table_untouched(
    ecb: EcbServer, example_repo: Path, scenario: str, reason: str
) -> None:
    before = (example_repo / "policies/rates.yaml").read_bytes()

    code, out, err = update(example_repo, ecb.base(scenario), "--as-of", "2026-11-15")

    assert code == 1
    assert out == ""
    assert err == (
        f"relance rates update: cannot read {ecb.base(scenario)}FM/B.U2.EUR.4F.KR.MRR_FR.LEV?format=csvdata: "
        f"{reason}; policies/rates.yaml unchanged\n"
    )
    assert (example_repo / "policies/rates.yaml").read_bytes() == before
    assert sorted(p.name for p in (example_repo / "policies").iterdir()) == ["rates.yaml", "standard.yaml"]


def test_a_closed_port_is_one_line_and_exit_1(example_repo: Path) -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as closed:
        port = closed.server_address[1]

    code, _, err = update(example_repo, f"http://127.0.0.1:{port}/", "--as-of", "2026-11-15")

    assert code == 1
    assert err.startswith(f"relance rates update: cannot read http://127.0.0.1:{port}/FM/") and "cannot connect" in err
    assert err.count("\n") == 1


def test_a_source_that_is_not_a_web_address_is_a_usage_error(example_repo: Path) -> None:
    code, _, err = update(example_repo, "file:///etc/passwd")

    assert code == 2
    assert "is not a web address" in err


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "the series is empty (the answer holds no data)"),
        ("DATE,VALUE\r\n2025-06-11,2.15\r\n", "the CSV answer has no TIME_PERIOD or OBS_VALUE column"),
        ("KEY,TIME_PERIOD,OBS_VALUE\r\nFM.B.U2.EUR.4F.KR.DFR.LEV,2025-06-11,2.0\r\n", "for the series FM.B.U2"),
        ("TIME_PERIOD,OBS_VALUE\r\n2025-06,2.15\r\n", "line 2: '2025-06' is not a date"),
        ("TIME_PERIOD,OBS_VALUE\r\n2025-06-11,NaN\r\n", "line 2: 'NaN' is not a rate in percent"),
        ("TIME_PERIOD,OBS_VALUE\r\n2025-06-11,\r\n", "line 2: '' is not a rate in percent"),
        ("TIME_PERIOD,OBS_VALUE\r\n2025-06-11,2.123456\r\n", "has more than 4 decimals"),
        ("TIME_PERIOD,OBS_VALUE\r\n2025-06-11,2.15\r\n2025-06-11,2.40\r\n", "two rates for 2025-06-11"),
        ('TIME_PERIOD,OBS_VALUE\r\n2025-06-11,"2.15\r\n', "the CSV answer is malformed"),
        ("TIME_PERIOD,OBS_VALUE\r\n2025-06-11,2.15,A\r\n", "line 2: the number of fields is wrong"),
        ("TIME_PERIOD,OBS_VALUE\r\n2025-06-11\r\n", "line 2: the number of fields is wrong"),
    ],
)
def test_a_malformed_table_is_refused_with_its_reason(text: str, reason: str) -> None:
    with pytest.raises(SourceError, match=None) as raised:
        parse_series(text)

    assert reason in str(raised.value)
    assert "\n" not in str(raised.value)


def test_the_recorded_answer_parses_whatever_the_order_and_the_number_form() -> None:
    text = "TIME_PERIOD,OBS_VALUE\r\n2025-06-11,2.15\r\n2016-03-16,0\r\n2016-03-16,0.00\r\n"

    assert parse_series(text) == (EcbRate(date(2016, 3, 16), Decimal("0")), EcbRate(date(2025, 6, 11), Decimal("2.15")))


def test_an_invalid_table_is_reported_and_nothing_is_fetched(
    ecb: EcbServer, example_repo: Path, write: Callable[[Path, str, str], Path]
) -> None:
    write(example_repo, "policies/rates.yaml", "semesters:\n  2026-S3: {}\n")

    code, out, _ = update(example_repo, ecb.base("good"), "--as-of", "2026-11-15")

    assert code == 1
    assert out.startswith("policies/rates.yaml:") and "'2026-S3'" in out
    assert ecb.requests == []


def test_a_table_the_editor_cannot_keep_gets_the_lines_to_add_by_hand(
    ecb: EcbServer, example_repo: Path, write: Callable[[Path, str, str], Path]
) -> None:
    text = 'semesters:\n  2026-S1: {ecb_reference: "2.15",\n            b2b_default: "12.15"}\n'
    write(example_repo, "policies/rates.yaml", text)

    code, _, err = update(example_repo, ecb.base("good"), "--as-of", "2026-11-15")

    assert code == 1
    assert (example_repo / "policies/rates.yaml").read_text(encoding="utf-8") == text
    assert err.splitlines() == [
        "policies/rates.yaml: cannot be edited safely (its layout cannot be kept by the YAML editor); "
        "add these lines by hand:",
        '  2026-S2: {ecb_reference: "2.15", b2b_default: "12.15", legal_individual: "x.xx", legal_other: "x.xx"}',
    ]


def test_a_semester_starting_after_today_is_not_added_whatever_the_as_of_date(
    ecb: EcbServer, example_repo: Path
) -> None:
    outcome = rates_command.update(
        example_repo, as_of=date(2027, 2, 1), today=date(2026, 11, 15), base_url=ecb.base("good"), timeout=2
    )

    assert outcome.code == 0
    table = (example_repo / "policies/rates.yaml").read_text(encoding="utf-8")
    assert "2026-S2:" in table and "2027-S1:" not in table
    assert outcome.notes == [
        "policies/rates.yaml: semesters starting after today (2026-11-15) are not added before they start"
    ]


def test_an_added_row_computes_b2b_penalties_and_stops_legal_interest_clearly(
    ecb: EcbServer, example_repo: Path
) -> None:
    update(example_repo, ecb.base("good"), "--as-of", "2026-11-15")
    loaded = read_books(example_repo)
    assert loaded.books is not None
    invoice = Invoice("F-2026-100", "acme", date(2026, 6, 1), date(2026, 6, 30), Decimal("1000.00"), "x.yaml")

    charge = money.penalties(invoice, loaded.books.rates, date(2026, 7, 31), contractual=None)
    interest = money.legal_interest(invoice, loaded.books.rates, date(2026, 7, 1), date(2026, 7, 31))

    assert isinstance(charge, money.Charge)
    assert charge.amount == Decimal("10.32")  # 1000 × 12.15 % × 31 / 365
    assert isinstance(interest, money.MissingRate)
    assert (interest.semester, interest.rate, interest.row_missing) == (Semester(2026, 2), "legal_other", False)
    assert "no legal_other rate for 2026-S2" in interest.problem().message
