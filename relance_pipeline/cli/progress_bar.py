"""A progress bar on stderr while `relance run` renders, when stderr is a terminal; silence in CI and logs."""

from __future__ import annotations

import sys
from typing import Any

import click

from relance_pipeline.model import Action


class ProgressBar:
    """Called once per rendered action with the night's number of actions (`run`'s progress callback)."""

    def __init__(self) -> None:
        self._bar: Any = None

    @classmethod
    def on_terminal(cls) -> ProgressBar | None:
        return cls() if sys.stderr.isatty() else None

    def __call__(self, action: Action, total: int) -> None:
        if self._bar is None:
            self._bar = click.progressbar(length=total, label="rendering", file=sys.stderr, show_pos=True)
            self._bar.__enter__()
        self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
