"""The SMTP password comes from the environment only and is never printed, journaled, written or committed,
whatever happens: a refused login, a server that quotes it back, a wrong setting, a successful send."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session
from loop_support import Mailbox, add_draft, smtp_server
from safety_support import run_relance

from relance_pipeline.ship.smtp import SmtpConfig, smtp_config

USER = "camille"
PASSWORD = "pw-MARKER-5e1f9c"
"""Unique, so that finding it anywhere means it leaked."""

CLEAR = {"RELANCE_SMTP_ALLOW_CLEAR": "1"}
"""The test server on 127.0.0.1 has no TLS: logging in to it in clear is allowed, as for a local relay."""


def forms(password: str) -> tuple[str, ...]:
    """The password as written, as AUTH LOGIN sends it, and as AUTH PLAIN sends it with the user."""
    return (
        password,
        base64.b64encode(password.encode()).decode(),
        base64.b64encode(f"\0{USER}\0{password}".encode()).decode(),
    )


FORMS = forms(PASSWORD)


def quoting_authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object
) -> AuthResult:
    """A badly behaved server: it refuses the login and quotes back every form of what it was sent."""
    return AuthResult(success=False, handled=False, message="535 5.7.8 refused " + " ".join(FORMS))


def accepting_authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object
) -> AuthResult:
    login, password = getattr(auth_data, "login", b""), getattr(auth_data, "password", b"")
    return AuthResult(success=(login, password) == (USER.encode(), PASSWORD.encode()))


def everything_written(root: Path) -> bytes:
    """Every file of the repository, .git included (objects are compressed: read them back through git)."""
    files = b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and ".git" not in p.parts)
    history = subprocess.run(
        ["git", "log", "--all", "-p", "--format=%H%n%B"], cwd=root, capture_output=True, check=False
    ).stdout
    return files + history


def assert_never_shown(*texts: str | bytes) -> None:
    for text in texts:
        raw = text.encode() if isinstance(text, str) else text
        for form in FORMS:
            assert form.encode() not in raw, f"the password leaked as {form!r}"


@pytest.mark.parametrize(
    ("authenticator", "expected_code", "expected"),
    [
        (quoting_authenticator, 1, "login refused (535 5.7.8 refused"),
        (accepting_authenticator, 0, "sent outbox/"),
    ],
    ids=["refused-and-quoted-back", "accepted"],
)
def test_send_never_shows_nor_records_the_password(
    example_repo: Path, authenticator: object, expected_code: int, expected: str
) -> None:
    add_draft(example_repo, "nordwind", "relance-1", commit=False)
    subprocess.run(["git", "add", "-A"], cwd=example_repo, check=True)
    environment = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@x",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@x",
    }
    subprocess.run(["git", "commit", "-qm", "drafts"], cwd=example_repo, check=True, env=environment)
    mailbox = Mailbox()
    with smtp_server(mailbox, authenticator=authenticator, auth_require_tls=False) as environ:
        secret = {**environ, "RELANCE_SMTP_USER": USER, "RELANCE_SMTP_PASSWORD": PASSWORD, **CLEAR}
        done = run_relance(example_repo, "send", "--as-of", "2026-06-16", env=secret)
        dry = run_relance(example_repo, "send", "--dry-run", "--as-of", "2026-06-16", env=secret)
        ran = run_relance(example_repo, "run", "--as-of", "2026-03-09", "--commit", env=secret)
    assert done.returncode == expected_code and expected in done.stdout + done.stderr, done.stdout + done.stderr
    assert dry.returncode == 0 and ran.returncode == 0, ran.stdout + ran.stderr
    assert_never_shown(done.stdout, done.stderr, dry.stdout, dry.stderr, ran.stdout, ran.stderr)
    assert_never_shown(everything_written(example_repo))
    assert_never_shown(*(m.data for m in mailbox.received))


def test_a_password_without_a_user_is_refused_without_being_shown() -> None:
    problems = smtp_config({"RELANCE_SMTP_HOST": "127.0.0.1", "RELANCE_SMTP_PASSWORD": PASSWORD})
    assert isinstance(problems, list) and problems
    assert_never_shown(*(str(p) for p in problems))


def test_wrong_settings_beside_a_password_never_quote_it(example_repo: Path) -> None:
    add_draft(example_repo, "nordwind", "relance-1")
    environment = {
        "RELANCE_SMTP_HOST": "127.0.0.1",
        "RELANCE_SMTP_PORT": PASSWORD,
        "RELANCE_SMTP_USER": USER,
        "RELANCE_SMTP_PASSWORD": PASSWORD,
        "RELANCE_SMTP_SSL": "maybe",
    }
    done = run_relance(example_repo, "send", "--as-of", "2026-06-16", env=environment)
    assert done.returncode == 1 and "RELANCE_SMTP_SSL: should be 1 or 0" in done.stdout + done.stderr
    # The port was set to the password by mistake: that setting is named, its value not repeated.
    assert "RELANCE_SMTP_PORT: should be a port number" in done.stdout + done.stderr
    assert_never_shown(done.stdout, done.stderr, everything_written(example_repo))


def test_the_settings_never_show_the_password_in_their_repr_or_description() -> None:
    config = smtp_config(
        {
            "RELANCE_SMTP_HOST": "h",
            "RELANCE_SMTP_USER": USER,
            "RELANCE_SMTP_PASSWORD": PASSWORD,
            "RELANCE_SMTP_SSL": "1",
        }
    )
    assert isinstance(config, SmtpConfig) and config.password == PASSWORD
    assert_never_shown(repr(config), str(config), config.describe())


def test_a_password_outside_ascii_is_a_clear_failure_not_a_traceback(example_repo: Path) -> None:
    password = "pässwörd-MARKER-7c2d"
    add_draft(example_repo, "nordwind", "relance-1")
    with smtp_server(Mailbox(), authenticator=accepting_authenticator, auth_require_tls=False) as environ:
        done = run_relance(
            example_repo,
            "send",
            "--as-of",
            "2026-06-16",
            env={**environ, "RELANCE_SMTP_USER": USER, "RELANCE_SMTP_PASSWORD": password, **CLEAR},
        )
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "RELANCE_SMTP_PASSWORD has a character outside ASCII" in done.stdout
    for form in forms(password):
        assert form not in done.stdout + done.stderr


def test_send_never_hands_the_password_to_a_server_without_tls(example_repo: Path) -> None:
    add_draft(example_repo, "nordwind", "relance-1")
    tried: list[str] = []

    def recording(server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object) -> AuthResult:
        tried.append(mechanism)
        return accepting_authenticator(server, session, envelope, mechanism, auth_data)

    mailbox = Mailbox()
    with smtp_server(mailbox, authenticator=recording, auth_require_tls=False) as environ:
        done = run_relance(
            example_repo,
            "send",
            "--as-of",
            "2026-06-16",
            env={**environ, "RELANCE_SMTP_USER": USER, "RELANCE_SMTP_PASSWORD": PASSWORD},
        )
    assert done.returncode == 1 and "RELANCE_SMTP_USER: logging in needs TLS" in done.stdout, done.stdout
    assert tried == [] and mailbox.received == []
    assert_never_shown(done.stdout, done.stderr, everything_written(example_repo))
