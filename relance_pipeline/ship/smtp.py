"""SMTP: the settings come from the environment only (CI secrets), and the password is never shown.

`Mailer.deliver` sorts what can go wrong into three kinds, because the sender acts differently on each:
- `Refused`: the server answered this message with an error; the connection is still good, go on. A 5xx
  answer is `permanent` (RFC 5321: the same message would be refused again): it is not tried again without
  a person; a 4xx is tried again by the next send;
- `Broken`: the connection is lost (or never made) before the message was handed over; the batch stops,
  the rest waits for the next run. `attempted` is false when no session ever opened (no connection, no
  greeting, login refused): no message was tried, so no message has failed;
- `Unknown`: the message was handed over (the final `.` of DATA written) and no answer came in time, or the
  connection was lost before it: the server may have accepted it, so it must never be sent again without a
  person checking. The next message gets a new connection.

Each exchange (connecting and logging in; then each message from MAIL FROM to the answer after its data) is
bounded as a whole by the timeout, not only each read: a server that trickles `250-` lines, each in time,
is cut off at the deadline like a silent one.
"""

from __future__ import annotations

import base64
import contextlib
import re
import smtplib
import socket
import ssl
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from relance_pipeline.model import Problem

PREFIX = "RELANCE_SMTP_"
Security = Literal["plain", "starttls", "ssl"]
_DEFAULT_PORTS: dict[Security, int] = {"plain": 25, "starttls": 587, "ssl": 465}
_TLS_PORTS: dict[int, Security] = {587: "starttls", 465: "ssl"}
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
"""Where RELANCE_SMTP_ALLOW_CLEAR may log in without TLS: a relay on this machine, whose traffic stays on it."""
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: Security
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0

    def describe(self) -> str:
        """Where mail goes, for messages: never the password."""
        login = f" as {self.user}" if self.user else ""
        return f"{self.host}:{self.port} ({self.security}){login}"


def smtp_config(environ: Mapping[str, str]) -> SmtpConfig | list[Problem]:
    """Read RELANCE_SMTP_HOST, _PORT, _USER, _PASSWORD, _STARTTLS, _SSL, _ALLOW_CLEAR and _TIMEOUT.

    A login goes over TLS (STARTTLS or implicit TLS), never in clear, unless RELANCE_SMTP_ALLOW_CLEAR names a
    loopback server; without a flag, port 587 means STARTTLS and 465 implicit TLS."""
    problems: list[Problem] = []
    secret = environ.get(PREFIX + "PASSWORD") or None

    def problem(name: str, message: str) -> None:
        # A value quoted back is the user's to see, unless it is the password pasted into the wrong setting.
        shown = message.replace(secret, "***") if secret else message
        problems.append(Problem("environment", None, f"{PREFIX}{name}: {shown}", code="smtp.config"))

    host = environ.get(PREFIX + "HOST", "").strip()
    if not host:
        problem("HOST", "is not set; relance send needs the SMTP server's name")
    flags = {name: _flag(environ.get(PREFIX + name, "")) for name in ("STARTTLS", "SSL")}
    for name, value in flags.items():
        if value is None:
            problem(name, f"should be 1 or 0, not '{environ[PREFIX + name]}'")
    if flags["STARTTLS"] and flags["SSL"]:
        problem("SSL", "and RELANCE_SMTP_STARTTLS are both set; choose one (465: SSL, 587: STARTTLS)")
    security: Security = "ssl" if flags["SSL"] else "starttls" if flags["STARTTLS"] else "plain"
    port = _number(environ.get(PREFIX + "PORT", ""), _DEFAULT_PORTS[security], 1, 65535)
    if port is None:
        problem("PORT", f"should be a port number, not '{environ[PREFIX + 'PORT']}'")
    elif security == "plain" and not any(flags.values()):
        # The submission ports speak TLS: 587 without RELANCE_SMTP_STARTTLS is a forgotten flag, not clear text.
        security = _TLS_PORTS.get(port, security)
    timeout = _number(environ.get(PREFIX + "TIMEOUT", ""), 30, 1, 600)
    if timeout is None:
        problem("TIMEOUT", f"should be a number of seconds (1 to 600), not '{environ[PREFIX + 'TIMEOUT']}'")
    user = environ.get(PREFIX + "USER", "").strip() or None
    password = environ.get(PREFIX + "PASSWORD") or None
    if password is not None and user is None:
        problem("USER", "is not set while RELANCE_SMTP_PASSWORD is; set both to log in, or neither")
    allow_clear = _flag(environ.get(PREFIX + "ALLOW_CLEAR", ""))
    if allow_clear is None:
        problem("ALLOW_CLEAR", f"should be 1 or 0, not '{environ[PREFIX + 'ALLOW_CLEAR']}'")
    elif allow_clear and host and host.lower() not in LOOPBACK:
        problem("ALLOW_CLEAR", f"allows logging in without TLS to a server on this machine only, not to '{host}'")
    elif user is not None and security == "plain" and not allow_clear:
        problem(
            "USER",
            "logging in needs TLS, or the password crosses the network in clear: set RELANCE_SMTP_STARTTLS=1 "
            "(port 587) or RELANCE_SMTP_SSL=1 (port 465); for a server on this machine, RELANCE_SMTP_ALLOW_CLEAR=1",
        )
    if problems or port is None or timeout is None:
        return problems
    return SmtpConfig(host, port, security, user, password, float(timeout))


def _flag(text: str) -> bool | None:
    value = text.strip().lower()
    return True if value in _TRUE else False if value in _FALSE else None


def _number(text: str, default: int, low: int, high: int) -> int | None:
    if not text.strip():
        return default
    try:
        value = int(text.strip())
    except ValueError:
        return None
    return value if low <= value <= high else None


@dataclass(frozen=True)
class Refused:
    """The server refused this message (its code and words); the connection can carry the next one."""

    reason: str
    permanent: bool = False
    """A 5xx answer (or an address SMTP cannot carry): sent again, it would be refused again."""


@dataclass(frozen=True)
class Broken:
    """The connection failed; nothing more can be sent in this run."""

    reason: str
    attempted: bool = True
    """False when the session never opened: the failure is the server's (or the settings'), no message's."""


@dataclass(frozen=True)
class Unknown:
    """The message was handed over and no answer came: the server may have accepted it."""

    reason: str


@dataclass(frozen=True)
class Accepted:
    """The server took the message; `refused` lists recipients it turned down while accepting others."""

    refused: tuple[str, ...] = ()


Outcome = Accepted | Refused | Broken | Unknown
_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)


class Mailer:
    """One SMTP session, opened on the first message (again after a message whose outcome is unknown) and
    closed by `close`."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._session: smtplib.SMTP | None = None
        self._secrets = _forms_of(config.user or "", config.password)
        self._expired = False

    def deliver(
        self, sender: str, recipients: Sequence[str], message: bytes, *, handing: Callable[[], None] | None = None
    ) -> Outcome:
        """Send one message; what the server said comes back with the password blanked out, should it quote it.
        `handing` is called once the server is ready for the message's data, before any of it goes."""
        outcome = self._deliver(sender, recipients, message, handing)
        if isinstance(outcome, Accepted):
            return Accepted(tuple(self._hidden(text) for text in outcome.refused))
        return replace(outcome, reason=self._hidden(outcome.reason))

    def _hidden(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _deliver(
        self, sender: str, recipients: Sequence[str], message: bytes, handing: Callable[[], None] | None
    ) -> Outcome:
        if self._session is None:
            opened = self._open()
            if isinstance(opened, Broken):
                return opened
            self._session = opened
        with self._deadline(self._session):
            return self._exchange(self._session, sender, recipients, message, handing)

    def _exchange(
        self,
        session: smtplib.SMTP,
        sender: str,
        recipients: Sequence[str],
        message: bytes,
        handing: Callable[[], None] | None,
    ) -> Outcome:
        """MAIL, RCPT, DATA by hand (not `sendmail`), to know when the message has been handed over."""
        handed_over = False
        try:
            code, words = session.mail(sender)
            if code != 250:
                return self._refused(session, _said(code, words), _permanent(code))
            turned_down: dict[str, tuple[int, bytes]] = {}
            for recipient in recipients:
                code, words = session.rcpt(recipient)
                if code not in (250, 251):
                    turned_down[recipient] = (code, words)
            if len(turned_down) == len(recipients):
                every = "; ".join(f"{who}: {_said(*said)}" for who, said in turned_down.items())
                return self._refused(session, every, all(_permanent(code) for code, _ in turned_down.values()))
            code, words = session.docmd("data")
            if code != 354:
                return self._refused(session, _said(code, words), _permanent(code))
            if handing is not None:
                handing()
            session.send(_LEADING_DOT.sub(b"..", message).removesuffix(b"\r\n") + b"\r\n.\r\n")
            handed_over = True
            code, words = session.getreply()
        except UnicodeEncodeError:
            return self._refused(session, "an address is not ASCII, which SMTP without SMTPUTF8 cannot carry", True)
        except (OSError, smtplib.SMTPException) as error:
            self._drop()
            reason = self._lost(error)
            if handed_over:
                return Unknown(f"{reason} after the message was handed over: the server may have accepted it")
            return Broken(reason)
        if code != 250:
            return Refused(_said(code, words), _permanent(code))
        return Accepted(tuple(f"{who}: {_said(*said)}" for who, said in sorted(turned_down.items())))

    def _refused(self, session: smtplib.SMTP, reason: str, permanent: bool) -> Refused | Broken:
        """A refusal ends the transaction; a connection that cannot even reset is broken."""
        try:
            session.rset()
        except (OSError, smtplib.SMTPException) as error:
            self._drop()
            return Broken(f"{reason}; then {self._lost(error)}")
        return Refused(reason, permanent)

    def _lost(self, error: BaseException) -> str:
        # The watchdog and the socket's own timeout race for the same deadline (a loaded machine decides which
        # fires first): both are the one fact that the answer did not come in time.
        if self._expired or isinstance(error, socket.timeout):
            return f"no complete answer within {self.config.timeout:g} s (RELANCE_SMTP_TIMEOUT)"
        if isinstance(error, smtplib.SMTPServerDisconnected):
            return f"the server closed the connection ({error or 'no reason given'})"
        return f"the connection failed ({error})"

    @contextlib.contextmanager
    def _deadline(self, session: smtplib.SMTP) -> Iterator[None]:
        """Cut the connection when the exchange outlasts the timeout, whatever state smtplib is in: every read
        or write under way then fails at once."""
        self._expired = False

        def expire() -> None:
            self._expired = True
            sock = getattr(session, "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

        timer = threading.Timer(self.config.timeout, expire)
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()

    def close(self) -> None:
        if self._session is not None:
            with self._deadline(self._session), contextlib.suppress(OSError, smtplib.SMTPException):
                self._session.quit()
            self._drop()

    def _drop(self) -> None:
        if self._session is not None:
            with contextlib.suppress(OSError):
                self._session.close()
        self._session = None

    def _open(self) -> smtplib.SMTP | Broken:
        opened = self._connect()
        return replace(opened, attempted=False) if isinstance(opened, Broken) else opened

    def _connect(self) -> smtplib.SMTP | Broken:
        config = self.config
        where = config.describe()
        session: smtplib.SMTP = (
            smtplib.SMTP_SSL(timeout=config.timeout, context=ssl.create_default_context())
            if config.security == "ssl"
            else smtplib.SMTP(timeout=config.timeout)
        )
        try:
            with self._deadline(session):
                code, greeting = session.connect(config.host, config.port)
                if code != 220:
                    raise smtplib.SMTPConnectError(code, greeting)
                session.ehlo()
                if config.security == "starttls":
                    session.starttls(context=ssl.create_default_context())
                    session.ehlo()
                if config.user is not None:
                    session.login(config.user, config.password or "")
        except smtplib.SMTPNotSupportedError:
            _close_quietly(session)
            return Broken(f"{where}: the server does not offer STARTTLS; nothing is sent in clear")
        except smtplib.SMTPAuthenticationError as error:
            _close_quietly(session)
            return Broken(f"{where}: login refused ({_said(error.smtp_code, error.smtp_error)})")
        except UnicodeEncodeError:
            # smtplib sends SASL PLAIN and LOGIN as ASCII only (CPython issue 73936).
            _close_quietly(session)
            return Broken(
                f"{where}: cannot log in: RELANCE_SMTP_USER or RELANCE_SMTP_PASSWORD has a character outside ASCII, "
                "which Python's SMTP client cannot send; use an ASCII password (an app password)"
            )
        except smtplib.SMTPResponseException as error:
            _close_quietly(session)
            return Broken(f"{where}: {_said(error.smtp_code, error.smtp_error)}")
        except (OSError, smtplib.SMTPException) as error:
            _close_quietly(session)
            timed_out = self._expired or isinstance(error, socket.timeout)
            reason = "timed out" if timed_out else str(error) or type(error).__name__
            return Broken(f"{where}: cannot connect ({reason})")
        return session


def _forms_of(user: str, password: str | None) -> tuple[str, ...]:
    """The password as written and as AUTH LOGIN and PLAIN encode it: a server may quote back any of them."""
    if not password:
        return ()
    forms = {password, " ".join(password.split())}
    for raw in (password, f"\0{user}\0{password}"):
        forms.add(base64.b64encode(raw.encode("utf-8")).decode("ascii"))
    return tuple(sorted((form for form in forms if form), key=len, reverse=True))


def _close_quietly(session: smtplib.SMTP | None) -> None:
    if session is not None:
        with contextlib.suppress(OSError):
            session.close()


def _permanent(code: int) -> bool:
    """RFC 5321 4.2.1: 5yz is a permanent negative reply, 4yz a transient one (and anything else is no SMTP)."""
    return 500 <= code <= 599


def _said(code: int, words: bytes | str) -> str:
    text = words.decode("utf-8", "replace") if isinstance(words, bytes) else str(words)
    return f"{code} {' '.join(text.split())}"
