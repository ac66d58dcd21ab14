"""Bounds on the work a template asks for: its rendering time and the size of what it writes.

Templates are the user's code, and the sandbox bounds only `range`: nested loops over lists, or a filter
asked for a width of a billion, would run until the CI job's timeout. Each rendering has a budget of time
(`SECONDS`) and of output (`MAX_CHARACTERS`); past either, it stops with an exception raised where the
template is (`file:line` in the problem), and that client's documents are not drafted.

Time is kept by one watchdog thread for the whole process: a rendering arms it and disarms it (a dict entry
under a lock), and the watchdog raises `TemplateTimeout` in a rendering thread that outlasts its deadline
(CPython's `PyThreadState_SetAsyncExc`, delivered between two bytecodes, so any pure-Python loop stops). Size
is counted on the chunks the template yields, and `*`/`**` are refused beyond the budget before Python
allocates a string of a billion characters.
"""

from __future__ import annotations

import ctypes
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SECONDS = 5.0
"""A document renders in milliseconds; this is for a loop that would never end, on a loaded CI machine."""
MAX_CHARACTERS = 4 * 1024 * 1024
"""Far beyond any letter or email (the invoice tables are bounded), far below what would exhaust memory."""
_TICK = 0.1


class TemplateTimeout(Exception):
    """Raised inside a rendering that outlasted `SECONDS`."""

    def __str__(self) -> str:
        return f"took longer than {SECONDS:g} s to render (a loop too long?); stopped"


class TemplateTooLarge(Exception):
    """Raised inside a rendering whose output passed `MAX_CHARACTERS`."""

    def __str__(self) -> str:
        return f"writes more than {MAX_CHARACTERS // (1024 * 1024)} million characters; stopped"


class _Watchdog:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Fresh state; also in a forked worker, which inherits neither the thread nor a usable lock."""
        self._lock = threading.Lock()
        self._deadlines: dict[int, float] = {}
        self._thread: threading.Thread | None = None

    @contextmanager
    def armed(self, seconds: float) -> Iterator[None]:
        ident = threading.get_ident()
        with self._lock:
            self._deadlines[ident] = time.monotonic() + seconds
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name="relance-template-watchdog", daemon=True)
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                # Disarmed under the lock: an exception the watchdog set and Python has not raised yet is
                # taken back, so it cannot surface later in code that has nothing to do with the template.
                if self._deadlines.pop(ident, None) is None:
                    _raise_in(ident, None)

    def _watch(self) -> None:
        while True:
            time.sleep(_TICK)
            now = time.monotonic()
            with self._lock:
                for ident in [ident for ident, deadline in self._deadlines.items() if deadline <= now]:
                    del self._deadlines[ident]  # popped: `armed` knows it fired
                    _raise_in(ident, TemplateTimeout)


def _raise_in(ident: int, exception: type[BaseException] | None) -> None:
    target = ctypes.c_ulong(ident)
    ctypes.pythonapi.PyThreadState_SetAsyncExc(target, ctypes.py_object(exception) if exception else None)


_WATCHDOG = _Watchdog()
os.register_at_fork(after_in_child=_WATCHDOG.reset)


def render(template: Any, variables: dict[str, Any]) -> str:
    """`template.render(variables)` within the budgets; raises TemplateTimeout or TemplateTooLarge from the
    template's own frame (Jinja then points its traceback at the template's line)."""
    chunks: list[str] = []
    size = 0
    with _WATCHDOG.armed(SECONDS):
        generator = template.generate(variables)
        for chunk in generator:
            size += len(chunk)
            if size > MAX_CHARACTERS:
                generator.throw(TemplateTooLarge())
            chunks.append(chunk)
    return "".join(chunks)


def checked_binop(operator: str, left: Any, right: Any) -> None:
    """Refuses `'x' * 10**9` and `9 ** 10**9` before Python computes them."""
    if operator == "*":
        for sequence, times in ((left, right), (right, left)):
            sized = isinstance(sequence, str | bytes | list | tuple) and isinstance(times, int)
            if sized and len(sequence) * times > MAX_CHARACTERS:
                raise TemplateTooLarge()
    huge_power = operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1
    if huge_power and left.bit_length() * right > MAX_CHARACTERS * 4:
        raise TemplateTooLarge()
