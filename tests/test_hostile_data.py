"""Hostile books and templates: text from YAML is data (never template code, never HTML, never a URL that is
fetched), templates run sandboxed and read nothing outside templates/, and broken or malicious files are one
`file:line` problem each, quickly, with nothing written.
"""

from __future__ import annotations

import io
import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner, Result
from loop_support import Mailbox, smtp_server
from pypdf import PdfReader
from safety_support import outbox_files, run_relance

from relance_pipeline.cli.main import main
from relance_pipeline.cli.terminal import printable
from relance_pipeline.render import budget

CLIENT = "ledger/clients/atelier-ferrand.yaml"
FIRST_STEP_IS_EVERYTHING = """\
min_interval_days: 7
steps:
  - id: lettre
    after_days: 7
    channels: [letter, email, sms, phone]
    template: lettre
    deadline_days: 10
"""
"""One step that drafts a letter, an email, a text and a call sheet on the first night."""
AS_OF = "2026-03-09"
LOCATED = re.compile(r"^[^\s:][^:]*:\d+: \S.*$")


def relance(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--repo", str(root), *args], catch_exceptions=False)


class Requests(BaseHTTPRequestHandler):
    seen: ClassVar[list[str]]

    def do_GET(self) -> None:
        self.seen.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"body { color: red }")

    def log_message(self, *_: object) -> None:
        pass


@contextmanager
def web_server() -> Iterator[tuple[int, list[str]]]:
    """An HTTP server on 127.0.0.1 that notes every request: a letter must make none."""
    seen: list[str] = []
    handler = type("Noting", (Requests,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], seen
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail (instead of hanging) when the block takes longer than `seconds`."""

    def expired(*_: object) -> None:
        raise TimeoutError(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def one_step_repo(root: Path) -> Path:
    (root / "policies/standard.yaml").write_text(FIRST_STEP_IS_EVERYTHING, encoding="utf-8")
    return root


def squeezed(text: str) -> str:
    return "".join(text.split())


def pdf_text(content: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def parts(raw: bytes) -> tuple[EmailMessage, str, str]:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return message, text.get_content(), html.get_content()


# --- text from the books is data ------------------------------------------------------------------------------

NAME = 'ACME {{ 7*7 }} {% raw %}& "Fils" ${HOME} %s'
CONTACT = "{{ client.email }} {# note #}"


def hostile_address(port: int) -> list[str]:
    return [
        "{{ 7*7 }} {% if true %}oui{% endif %}",
        "<script>alert(1)</script>",
        f'<img src="http://127.0.0.1:{port}/img.png">',
        '<img src="file:///etc/passwd"><link rel="stylesheet" href="file:///etc/hostname">',
        f"<style>@import url(http://127.0.0.1:{port}/import.css);</style>",
        f'<p style="background: url(http://127.0.0.1:{port}/bg.png)">x</p>',
    ]


def yaml_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def write_hostile_client(root: Path, address: list[str]) -> None:
    lines = [
        f"name: {yaml_text(NAME)}",
        "kind: business",
        "email: compta@atelier-ferrand.fr",
        "address:",
        *(f"  - {yaml_text(line)}" for line in address),
        "language: fr",
        'phone: "+33 2 40 00 00 00"',
        f"contact: {yaml_text(CONTACT)}",
    ]
    (root / CLIENT).write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_hostile_text_in_the_books_is_printed_as_written_escaped_and_fetches_nothing(example_repo: Path) -> None:
    one_step_repo(example_repo)
    with web_server() as (port, requests):
        address = hostile_address(port)
        write_hostile_client(example_repo, address)
        invoice = example_repo / "ledger/invoices/2026/F-2026-003.yaml"
        invoice.write_text(
            invoice.read_text(encoding="utf-8").replace("VIR ATELIER FERRAND F-2026-003", "'<b>{{ 6*7 }}</b>'"),
            encoding="utf-8",
        )
        done = run_relance(example_repo, "run", "--as-of", AS_OF, "--commit", timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        mailbox = Mailbox()
        with smtp_server(mailbox) as smtp:
            sent = run_relance(example_repo, "send", env={**smtp, "RELANCE_AS_OF": AS_OF}, timeout=120)
        assert sent.returncode == 0, sent.stdout + sent.stderr
        assert requests == []
    folder = f"outbox/{AS_OF}/atelier-ferrand"
    files = outbox_files(example_repo)
    words = files[f"{folder}/lettre.email.txt"].decode()
    assert f"Bonjour {CONTACT}," in words and "ACME 49" not in words
    assert pdf_text(files[f"{folder}/lettre.preview.pdf"]) == pdf_text(files[f"{folder}/lettre.pdf"])
    letter = pdf_text(files[f"{folder}/lettre.pdf"])
    for line in address:
        assert squeezed(line) in squeezed(letter), line
    assert "ACME 49" not in letter and "root:x:" not in letter
    message, text, html = parts(files[f"{folder}/lettre.eml"])
    assert message["To"].addresses[0].display_name == NAME
    assert f"Bonjour {CONTACT}," in text
    assert "ACME 49" not in text + html and "<script" not in html and "<img" not in html and "root:x:" not in html
    call_sheet = files[f"{folder}/lettre.call.md"].decode()
    assert f"# Fiche d’appel — {NAME}" in call_sheet and CONTACT in call_sheet
    assert all(b"ACME 49" not in content for content in files.values())


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "ACME <script>alert(1)</script>"),
        ("name", "ACME\nBcc: victim@example.org"),
        ("name", "ACME\rBcc: victim@example.org"),
        ("name", "ACME\u2028Bcc: victim@example.org"),
        ("name", "ACME\x85Bcc: victim@example.org"),
        ("name", "ACME\x00"),
        ("name", "ACME\x1b[2J"),
        ("name", "ACME\x0bSAS"),
        ("contact", "Mme\nBcc: victim@example.org"),
        ("email", "compta@atelier-ferrand.fr\nBcc: victim@example.org"),
        ("email", "compta@atelier-ferrand.fr\r\nBcc: victim@example.org"),
        ("email", "compta@atelier-ferrand.fr, victim@example.org"),
        ("email", "Victim <victim@example.org>"),
        ("email", "compta@atelier-ferrand.fr\x00"),
        ("email", "compta"),
        ("email", "cómpta@atelier-ferrand.fr"),
    ],
)
def test_a_line_break_or_a_control_character_in_a_header_field_is_refused_at_validation(
    example_repo: Path, field: str, value: str
) -> None:
    file = example_repo / CLIENT
    text = file.read_text(encoding="utf-8")
    start = text.index(f"\n{field}: ") + 1 if not text.startswith(f"{field}: ") else 0
    end = text.index("\n", start)
    escaped = value.encode("unicode_escape").decode("ascii").replace('"', '\\"')
    file.write_text(text[:start] + f'{field}: "{escaped}"' + text[end:], encoding="utf-8")
    line = text[:start].count("\n") + 1
    result = relance(example_repo, "validate")
    assert result.exit_code == 1
    assert f"{CLIENT}:{line}: {field}: " in result.stdout, result.stdout
    assert relance(example_repo, "run", "--as-of", AS_OF).exit_code == 1
    assert not (example_repo / f"outbox/{AS_OF}").exists()


@pytest.mark.parametrize(
    ("file", "key", "value"),
    [
        ("relance.yaml", "  name", "Camille\nBcc: victim@example.org"),
        ("relance.yaml", "  email", "camille@durand-dev.fr\nBcc: victim@example.org"),
        ("relance.yaml", "  signatory", "Camille\u2029Durand"),
        ("relance.yaml", "  city", "Lyon\x1b]0;owned\x07"),
        ("ledger/invoices/2026/F-2026-003.yaml", '  - {date: 2026-03-10, amount: "1800.00", reference', "A\nB"),
    ],
)
def test_a_line_break_or_a_control_character_in_the_creditor_or_a_payment_is_refused(
    example_repo: Path, file: str, key: str, value: str
) -> None:
    path = example_repo / file
    lines = path.read_text(encoding="utf-8").splitlines()
    (number,) = [i for i, line in enumerate(lines) if line.startswith(f"{key}: ")]
    escaped = value.encode("unicode_escape").decode("ascii")
    closing = "}" if lines[number].endswith("}") else ""
    lines[number] = f'{key}: "{escaped}"{closing}'
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = relance(example_repo, "validate")
    assert result.exit_code == 1
    assert f"{file}:{number + 1}: " in result.stdout, result.stdout


# --- templates: sandboxed, strict, and confined to templates/ -------------------------------------------------

TEMPLATE = "templates/lettre/email.fr.txt"
HEAD = '{% extends "_base/email.txt" %}\n{% block subject %}Relance{% endblock %}\n{% block message %}\n'


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("{{ ''.__class__.__mro__ }}", "template: access to attribute '__class__' of 'str' object is unsafe."),
        ("{{ cycler.__init__.__globals__ }}", "template: access to attribute '__init__' of 'type' object is unsafe."),
        ("{{ creditor.__class__.__init__ }}", "template: access to attribute '__init__' of 'StrictUndefined'"),
        ("{{ creditor.__class__ }}", "template: access to attribute '__class__' of 'Creditor' object is unsafe."),
        ("{{ client.__dict__ }}", "template: access to attribute '__dict__' of 'Client' object is unsafe."),
        ("{% include '/etc/passwd' %}", "template '/etc/passwd' not found in templates/ or the built-ins"),
        ("{% include '../../../../../../etc/passwd' %}", "template '../../../../../../etc/passwd' not found"),
        ("{% import '/etc/hostname' as h %}", "template '/etc/hostname' not found"),
        ("{{ clent.name }}", "template: 'clent' is undefined"),
        ("{{ client.nmae }}", "template: 'relance_pipeline.model.Client object' has no attribute 'nmae'"),
        ("{{ amount_due|monney }}", "template syntax: No filter named 'monney'."),
        ("{% for x in range(10**9) %}{% endfor %}", "template: Range too big."),
    ],
)
def test_a_template_that_reaches_for_python_or_files_or_has_a_typo_is_an_error_at_its_line(
    example_repo: Path, code: str, expected: str
) -> None:
    one_step_repo(example_repo)
    (example_repo / TEMPLATE).parent.mkdir(parents=True)
    (example_repo / TEMPLATE).write_text(f"{HEAD}{code}\n{{% endblock %}}\n", encoding="utf-8")
    with deadline(30):
        validated = relance(example_repo, "validate")
        ran = relance(example_repo, "run", "--as-of", AS_OF)
    for result in (validated, ran):
        assert result.exit_code == 1
        assert f"{TEMPLATE}:4: {expected}" in result.stdout, result.stdout
        assert "Traceback" not in result.output and "root:" not in result.output
    drafted = {name.split("/")[2] for name in outbox_files(example_repo) if name.startswith(f"outbox/{AS_OF}/")}
    assert drafted == {"nordwind"}, "only the English client, whose template is untouched, gets its documents"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("{% set r = range(99999)|list %}{% for i in r %}{% for j in r %}{% endfor %}{% endfor %}", "to render"),
        ("{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}", "to render"),
        ("{{ 'x' * 10**9 }}", "writes more than 4 million characters; stopped"),
        ("{{ 9 ** (10 ** 9) }}", "writes more than 4 million characters; stopped"),
        ("{% for i in range(99999) %}{{ 'x' * 1000 }}{% endfor %}", "writes more than 4 million characters"),
    ],
)
def test_a_template_asking_for_endless_work_or_output_stops_at_its_line_in_bounded_time(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch, code: str, expected: str
) -> None:
    monkeypatch.setattr(budget, "SECONDS", 1.0)
    one_step_repo(example_repo)
    (example_repo / TEMPLATE).parent.mkdir(parents=True)
    (example_repo / TEMPLATE).write_text(f"{HEAD}{code}\n{{% endblock %}}\n", encoding="utf-8")
    started = time.monotonic()
    with deadline(30):
        validated = relance(example_repo, "validate")
        ran = relance(example_repo, "run", "--as-of", AS_OF)
    assert time.monotonic() - started < 15
    for result in (validated, ran):
        assert result.exit_code == 1
        assert f"{TEMPLATE}:4: template: " in result.stdout and expected in result.stdout, result.stdout
        assert "Traceback" not in result.output
    drafted = {name.split("/")[2] for name in outbox_files(example_repo) if name.startswith(f"outbox/{AS_OF}/")}
    assert drafted == {"nordwind"}


def test_a_template_linked_to_a_file_outside_templates_is_refused_unread(example_repo: Path, tmp_path: Path) -> None:
    one_step_repo(example_repo)
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-7f3a {{ 7*7 }}\n", encoding="utf-8")
    (example_repo / "templates/lettre").mkdir(parents=True)
    (example_repo / TEMPLATE).symlink_to(secret)
    (example_repo / "templates/lettre/sms.fr.txt").write_text('{% include "notes.txt" %}\n', encoding="utf-8")
    (example_repo / "templates/notes.txt").symlink_to(secret)
    result = relance(example_repo, "run", "--as-of", AS_OF)
    assert result.exit_code == 1
    assert (
        f"{TEMPLATE}: template: template 'lettre/email.fr.txt' is a link to a file outside the templates; refused"
        in result.stdout
    )
    assert "templates/lettre/sms.fr.txt:1: template: template 'notes.txt' is a link" in result.stdout
    assert "SECRET-7f3a" not in result.output
    assert all(b"SECRET-7f3a" not in content for content in outbox_files(example_repo).values())


@pytest.mark.parametrize(
    "reference",
    [
        "file:///etc/passwd",
        "../../../../../../../../etc/passwd",
        "/etc/passwd",
        "file:///proc/self/environ",
        "http://127.0.0.1:{port}/logo.png",
        "https://127.0.0.1:{port}/logo.png",
        "//127.0.0.1:{port}/logo.png",
        "ftp://127.0.0.1:{port}/logo.png",
    ],
)
def test_a_letter_template_asking_for_a_file_outside_templates_or_the_network_gets_nothing(
    example_repo: Path, reference: str
) -> None:
    one_step_repo(example_repo)
    template = "templates/lettre/letter.fr.html"
    (example_repo / template).parent.mkdir(parents=True)
    with web_server() as (port, requests):
        url = reference.format(port=port)
        (example_repo / template).write_text(
            '{% extends "_base/letter.html" %}{% block subject %}Relance{% endblock %}'
            f'{{% block registered %}}<img src="{url}">{{% endblock %}}'
            "{% block message %}<p>Texte.</p>{% endblock %}",
            encoding="utf-8",
        )
        result = relance(example_repo, "run", "--as-of", AS_OF)
        assert requests == []
    assert result.exit_code == 1
    assert f"{template}: the letter asks for '" in result.stdout and "no network" in result.stdout, result.stdout
    assert not (example_repo / f"outbox/{AS_OF}/atelier-ferrand").exists()


def test_a_letter_may_use_a_file_of_its_templates_folder(example_repo: Path) -> None:
    one_step_repo(example_repo)
    template = "templates/lettre/letter.fr.html"
    (example_repo / template).parent.mkdir(parents=True)
    (example_repo / "templates/lettre/logo.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
        encoding="utf-8",
    )
    (example_repo / template).write_text(
        '{% extends "_base/letter.html" %}{% block subject %}Relance{% endblock %}'
        '{% block message %}<img src="logo.svg"><p>Texte.</p>{% endblock %}',
        encoding="utf-8",
    )
    result = relance(example_repo, "run", "--as-of", AS_OF)
    assert result.exit_code == 0, result.stdout


# --- broken and malicious files: one located problem each, quickly, nothing written ---------------------------

BAD = "ledger/invoices/2026/bad.yaml"
BAD_FILES = [
    pytest.param(
        b"a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + b"".join(
            f"{name}: &{name} [{', '.join([f'*{prev}'] * 10)}]\n".encode()
            for prev, name in zip("abcdefghij", "bcdefghijk", strict=True)
        ),
        "1: its aliases",
        id="alias-bomb",
    ),
    pytest.param(
        b"a: &a {x: 1, y: 2}\n"
        + b"".join(
            f"{n}: &{n} {{<<: [*{p}, *{p}], k{n}: 1}}\n".encode() for p, n in zip("abcdefgh", "bcdefghi", strict=True)
        )
        + b"number: F-1\n",
        "1: the key 'client' is missing",
        id="merge-key-chain",
    ),
    pytest.param(b"number: F-1\n#" + b"x" * (1024 * 1024) + b"\n", "1: is too large", id="huge"),
    pytest.param(
        b"number: F-1\nnote: '" + b"y" * (1000 * 1000) + b"'\n", "2: unknown key 'note'", id="big-but-allowed"
    ),
    pytest.param(b"x: " + b"[" * 100_000 + b"]" * 100_000, "1: is ", id="deep-flow"),
    pytest.param(b"".join(b" " * i + b"k:\n" for i in range(1200)), "65: is nested too deeply", id="deep-block"),
    pytest.param(b"- " * 400_000 + b"x\n", "1: is nested too deeply", id="deep-dashes"),
    pytest.param(b"\x7fELF\x02\x01\x01\x00\x00\x00", "1: is a binary file", id="binary"),
    pytest.param(b"number: F-1\nclient: \xff\xfe\n", "2: is not UTF-8 text", id="bad-utf8"),
    pytest.param("number: F-1\n".encode("utf-16"), "1: is a binary file", id="utf-16"),
    pytest.param(b"number: F-1\nclient: a\nclient: b\n", "3: the key 'client' is written twice", id="duplicate-key"),
    pytest.param(b"number: !!python/object/apply:os.system [touch /tmp/owned]\n", "1: the YAML tag", id="python-apply"),
    pytest.param(b"number: !!python/name:os.system\n", "1: the YAML tag", id="python-name"),
    pytest.param(b"number: !ruby/object:Gem::Installer {}\n", "1: the YAML tag", id="foreign-tag"),
    pytest.param(b"number: !!binary aGVsbG8=\n", "1: the YAML tag", id="binary-tag"),
    pytest.param(b"number: !!set {a, b}\n", "1: the YAML tag", id="set-tag"),
    pytest.param(b"number: F-1\n---\nnumber: F-2\n", "2: ", id="two-documents"),
    pytest.param(b"number: F-1\n\tclient: x\n", "2: ", id="tab-indent"),
    pytest.param(b"? [a, b]\n: c\n", "1: a key must be plain text", id="list-key"),
    pytest.param(b"total: .nan\n", "1: '.nan' is not a finite number", id="nan"),
]


@pytest.mark.parametrize(("raw", "expected"), BAD_FILES)
def test_a_bad_file_stops_the_run_with_one_located_problem_quickly_and_nothing_written(
    example_repo: Path, raw: bytes, expected: str
) -> None:
    (example_repo / BAD).write_bytes(raw)
    before = outbox_files(example_repo)
    started = time.monotonic()
    with deadline(30):
        result = relance(example_repo, "run", "--as-of", AS_OF)
    elapsed = time.monotonic() - started
    assert result.exit_code == 1
    about = [line for line in result.stdout.splitlines() if line.startswith(BAD)]
    assert any(line.startswith(f"{BAD}:{expected}") for line in about), result.stdout
    assert all(LOCATED.match(line) for line in about), about
    assert outbox_files(example_repo) == before
    assert not Path("/tmp/owned").exists()
    assert elapsed < 5, f"{elapsed:.1f} s"  # generous for a shared machine: the point is that nothing hangs


def test_a_books_file_linked_to_a_file_outside_the_repository_is_not_read(example_repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "id_ed25519"
    outside.write_text("name: '-----BEGIN OPENSSH PRIVATE KEY----- c2VjcmV0'\n", encoding="utf-8")
    (example_repo / "ledger/clients/leak.yaml").symlink_to(outside)
    (example_repo / "ledger/invoices/2026/leak.yaml").symlink_to("/etc/hostname")
    result = relance(example_repo, "validate")
    assert result.exit_code == 1
    assert "ledger/clients/leak.yaml:1: is a link to a file outside the repository" in result.stdout
    assert "ledger/invoices/2026/leak.yaml:1: is a link to a file outside the repository" in result.stdout
    assert "PRIVATE KEY" not in result.output and Path("/etc/hostname").read_text().strip() not in result.output


def test_control_characters_in_a_note_are_refused_and_never_reach_the_terminal_raw(example_repo: Path) -> None:
    invoice = example_repo / "ledger/invoices/2026/F-2026-005.yaml"
    invoice.write_text(
        invoice.read_text(encoding="utf-8") + 'hold: {reason: other, note: "\\e]0;PWNED\\a\\0 ring"}\n',
        encoding="utf-8",
    )
    for verb in (["validate"], ["plan", "--as-of", AS_OF], ["plan", "--as-of", AS_OF, "--format", "json"]):
        result = run_relance(example_repo, *verb)
        assert not re.search("[\\x00-\\x08\\x0b-\\x1f\\x7f]", result.stdout + result.stderr), verb
    validated = run_relance(example_repo, "validate")
    assert validated.returncode == 1
    assert "ledger/invoices/2026/F-2026-005.yaml:9: hold.note:" in validated.stdout


def test_every_printed_control_character_is_escaped_readably() -> None:
    assert printable("\x1b]0;PWNED\x07 a\tb\nc\r\x9b\u202e") == "\\u001b]0;PWNED\\u0007 a\tb\nc\\u000d\\u009b\\u202e"


def test_only_the_terminal_module_prints() -> None:
    cli = Path(__file__).parents[1] / "relance_pipeline/cli"
    direct = [
        file.name
        for file in sorted(cli.glob("*.py"))
        if file.name != "terminal.py" and "click.echo(" in file.read_text()
    ]
    assert direct == []


@pytest.mark.parametrize("kind", ["fifo", "folder", "device", "broken link"])
def test_a_books_entry_that_is_not_a_file_is_a_clean_problem(example_repo: Path, kind: str) -> None:
    rel = "ledger/clients/ghost.yaml"
    path = example_repo / rel
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "device":
        path.symlink_to("/dev/zero")
    else:
        path.symlink_to("nowhere.yaml")
    with deadline(20):
        result = run_relance(example_repo, "validate", timeout=20)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert [line for line in result.stdout.splitlines() if line.startswith(rel)] == [
        {
            "fifo": f"{rel}: is a named pipe (FIFO), not a file: books files are plain YAML files",
            "folder": f"{rel}: is a folder, not a file: books files are plain YAML files",
            "device": f"{rel}:1: is a link to a file outside the repository; books files live in it",
            "broken link": f"{rel}: cannot be read: No such file or directory",
        }[kind]
    ]


def test_relance_yaml_linked_to_a_fifo_in_the_repository_is_refused_not_waited_on(example_repo: Path) -> None:
    os.mkfifo(example_repo / "pipe")
    (example_repo / "relance.yaml").unlink()
    (example_repo / "relance.yaml").symlink_to("pipe")
    for verb in (["validate"], ["plan", "--as-of", AS_OF], ["report", "--as-of", AS_OF]):
        result = run_relance(example_repo, *verb, timeout=20)
        assert result.returncode == 1, verb
        assert "relance.yaml: is a named pipe (FIFO), not a file: books files are plain YAML files" in result.stdout


def test_a_garbled_journal_line_is_reported_by_validate(example_repo: Path) -> None:
    journal_file = example_repo / "outbox/journal.jsonl"
    journal_file.write_text('{"date": "2026-03-09"\ngarbage{\n', encoding="utf-8")
    result = relance(example_repo, "validate")
    assert result.exit_code == 1
    assert "outbox/journal.jsonl:1: this line is not valid JSON" in result.stdout
    assert "outbox/journal.jsonl:2: this line is not valid JSON" in result.stdout


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_missing_image_is_refused_for_every_letter_whatever_the_number_of_workers(
    example_repo: Path, jobs: str
) -> None:
    one_step_repo(example_repo)
    template = "templates/lettre/letter.fr.html"
    (example_repo / template).parent.mkdir(parents=True)
    (example_repo / template).write_text(
        '{% extends "_base/letter.html" %}{% block subject %}Relance{% endblock %}'
        '{% block registered %}<img src="logo.png">{% endblock %}{% block message %}<p>Texte.</p>{% endblock %}',
        encoding="utf-8",
    )
    result = relance(example_repo, "run", "--as-of", AS_OF, "--jobs", jobs)
    refusals = [line for line in result.stdout.splitlines() if "the letter asks for '" in line]
    assert result.exit_code == 1
    assert len(refusals) >= 2, result.stdout
    letters = [p.relative_to(example_repo).as_posix() for p in (example_repo / "outbox").rglob("*.pdf")]
    assert letters == [f"outbox/{AS_OF}/nordwind/lettre.preview.pdf"], "only the English letter (built-in) goes"


LETTER = "templates/lettre/letter.fr.html"


def letter_template(root: Path, message: str) -> None:
    (root / LETTER).parent.mkdir(parents=True, exist_ok=True)
    (root / LETTER).write_text(
        '{% extends "_base/letter.html" %}{% block subject %}Relance{% endblock %}\n'
        f"{{% block message %}}\n<p>Texte.</p>\n{message}\n{{% endblock %}}\n",
        encoding="utf-8",
    )


@pytest.mark.parametrize(
    ("markup", "url"),
    [
        ('<img src="logo.png">', "logo.png"),
        ('<img src="file:///etc/passwd">', "file:///etc/passwd"),
        ('<object data="http://127.0.0.1:9/x.svg"></object>', "http://127.0.0.1:9/x.svg"),
        ('<link rel="stylesheet" href="/etc/hostname">', "/etc/hostname"),
        ('<p style="background: url(https://127.0.0.1:9/bg.png)">x</p>', "https://127.0.0.1:9/bg.png"),
        ("<style>@import 'http://127.0.0.1:9/a.css';</style>", "http://127.0.0.1:9/a.css"),
        ('<svg><image href="../../../../etc/passwd"/></svg>', "../../../../etc/passwd"),
        ('<IMG SRC="http://127.0.0.1:9/u.png">', "http://127.0.0.1:9/u.png"),
        ('<image src="http://127.0.0.1:9/i.png">', "http://127.0.0.1:9/i.png"),  # HTML reads <image> as <img>
        ('<P Style = "background: url(http://127.0.0.1:9/s.png)">x</P>', "http://127.0.0.1:9/s.png"),
        ('<embed src="http://127.0.0.1:9/e.svg">', "http://127.0.0.1:9/e.svg"),
        ('<svg><feImage href="http://127.0.0.1:9/f.png"/></svg>', "http://127.0.0.1:9/f.png"),
        ('<svg><use href="http://127.0.0.1:9/u.svg#a"/></svg>', "http://127.0.0.1:9/u.svg#a"),
    ],
)
def test_validate_reports_a_url_the_letter_printer_would_refuse_where_the_template_writes_it(
    example_repo: Path, markup: str, url: str
) -> None:
    letter_template(one_step_repo(example_repo), markup)
    result = relance(example_repo, "validate")
    assert result.exit_code == 1, result.stdout
    expected = f"{LETTER}:4: the letter asks for '{url}': only files under templates/ can be used (no network)"
    assert expected in result.stdout.splitlines(), result.stdout


def test_validate_follows_a_served_stylesheet_to_the_urls_it_imports(example_repo: Path) -> None:
    letter_template(one_step_repo(example_repo), '<link rel="stylesheet" href="extra.css">')
    (example_repo / "templates/lettre/extra.css").write_text(
        "p { color: black }\n@font-face { src: url(file:///etc/fonts/x.ttf) }\n", encoding="utf-8"
    )
    result = relance(example_repo, "validate")
    assert result.exit_code == 1
    assert "the letter asks for 'file:///etc/fonts/x.ttf'" in result.stdout, result.stdout


def test_validate_accepts_a_letter_using_files_of_templates_and_inline_data(example_repo: Path) -> None:
    letter_template(
        one_step_repo(example_repo),
        '<img src="logo.png"><img src="data:image/png;base64,iVBORw0KGgo="><a href="https://example.org">site</a>',
    )
    (example_repo / "templates/lettre/logo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    result = relance(example_repo, "validate")
    assert result.exit_code == 0, result.stdout
