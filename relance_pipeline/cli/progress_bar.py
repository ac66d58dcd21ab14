"""A progress bar on stderr while `relance run` renders, when stderr is a terminal; silence in CI and logs."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import click

from relance_pipeline.model import Action


class ProgressBar:
    """Called once per rendered action with the night's number of actions (`run`'s progress callback).

    The bar starts at the first action, when the total is known; `rendering()` closes it when the run ends.
    """

    def __init__(self, stack: ExitStack) -> None:
        self._stack = stack
        self._bar: Any = None

    def __call__(self, action: Action, total: int) -> None:
        if self._bar is None:
            bar = click.progressbar(length=total, label="rendering", file=sys.stderr, show_pos=True)
            self._bar = self._stack.enter_context(bar)
        self._bar.update(1)


@contextmanager
def rendering() -> Iterator[ProgressBar | None]:
    """A progress bar for the run's rendering on a terminal (None elsewhere), closed when the block ends."""
    if not sys.stderr.isatty():
        yield None
        return
    with ExitStack() as stack:
        yield ProgressBar(stack)
