"""`relance run` shows a progress bar on a terminal's stderr, and nothing of it in a log."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from safety_support import relance_args

from relance_pipeline.cli.progress_bar import rendering


def test_a_terminal_sees_the_rendering_bar_reach_the_number_of_actions(example_repo: Path) -> None:
    controller, terminal = pty.openpty()
    try:
        done = subprocess.run(
            relance_args(example_repo, "run", "--as-of", "2026-04-13"),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=terminal,
            env={**os.environ, "COLUMNS": "80"},
            check=False,
        )
    finally:
        os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal's other end is closed: all was read
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    drafted = [line for line in done.stdout.decode().splitlines() if line.startswith("drafted ")]
    assert done.returncode == 0 and drafted
    assert b"rendering" in shown
    assert f"{len(drafted)}/{len(drafted)}".encode() in shown


def test_a_log_gets_no_bar() -> None:
    assert not sys.stderr.isatty()  # pytest captures it, as a CI log would
    with rendering() as progress:
        assert progress is None
