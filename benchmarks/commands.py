"""relance's commands as a user (or the nightly job) runs them: each one a process, timed from the outside.

`os.wait4` gives a child's own rusage, its workers included: CPU seconds, which other work on a shared machine
disturbs much less than wall-clock seconds, and the peak RSS of the largest of those processes.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GIT_IDENTITY = ["-c", "user.name=bench", "-c", "user.email=bench@example.org"]


@dataclass(frozen=True)
class Timed:
    """One process: wall seconds, CPU seconds of it and its children, the largest RSS, what it printed."""

    wall: float
    cpu: float
    peak_mib: float
    output: str


def relance_command() -> list[str]:
    script = Path(sys.executable).with_name("relance")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from relance_pipeline.cli.main import main; main()"]


def installed_environment(pycache: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of an installed relance: its modules byte-compiled once (in `pycache`, outside the source
    tree) and reused, even where PYTHONDONTWRITEBYTECODE is set for development."""
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    environment["PYTHONPYCACHEPREFIX"] = str(pycache)
    environment.update(extra or {})
    return environment


def timed(command: list[str], cwd: Path, environment: Mapping[str, str], *, accept: tuple[int, ...] = (0,)) -> Timed:
    with tempfile.TemporaryFile() as output:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=output, stderr=subprocess.STDOUT, env=dict(environment))
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read().decode("utf-8", "replace")
    if code not in accept:
        tail = "\n".join(text.splitlines()[-30:])
        raise SystemExit(f"{' '.join(command)} failed ({code}) in {cwd}; its last lines:\n{tail}")
    # ru_maxrss is in KiB on Linux; with a child it is the largest of the child and the children it waited for.
    return Timed(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, text)


def relance(root: Path, *args: str, extra: Mapping[str, str] | None = None) -> Timed:
    """`relance --repo ROOT ARGS...` in a process of its own."""
    environment = installed_environment(root.parent / "pycache", extra)
    return timed([*relance_command(), "--repo", str(root), *args], root, environment)


def python(root: Path, code: str, *args: str) -> Timed:
    """A bare Python process (the same interpreter) running `code`."""
    environment = installed_environment(root.parent / "pycache")
    return timed([sys.executable, "-c", code, *args], root, environment)


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *GIT_IDENTITY, *args], cwd=root, check=True, capture_output=True)


def commit_all(root: Path, message: str) -> None:
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


def fresh_clone(source: Path, target: Path) -> Path:
    """A clone as a CI job checks the books out: nothing of the source's `.git/relance/` cache comes along."""
    subprocess.run(["git", "clone", "-q", str(source), str(target)], check=True, capture_output=True)
    return target


class _Sink:
    """Accepts every message and keeps nothing: the benchmark times the sending, not a mailbox."""

    def __init__(self) -> None:
        self.accepted = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.accepted += 1
        return "250 OK"


@contextmanager
def smtp_sink() -> Iterator[dict[str, str]]:
    """An SMTP server on 127.0.0.1 for the block; yields the RELANCE_SMTP_* settings that reach it."""
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(_Sink(), hostname="127.0.0.1", port=port, loop=asyncio.new_event_loop())
    controller.start()
    try:
        yield {"RELANCE_SMTP_HOST": "127.0.0.1", "RELANCE_SMTP_PORT": str(port), "RELANCE_SMTP_TIMEOUT": "30"}
    finally:
        controller.stop()
