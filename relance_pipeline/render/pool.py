"""The night's actions rendered, in plan order, in this process or in a pool of worker processes.

A letter costs a few hundred milliseconds of WeasyPrint layout while everything else of a run costs little, so
a night with many letters renders them on every core. Each worker builds one `Renderer` (templates, stylesheet
and fonts loaded once) and renders whole actions, previews included; the parent only writes. Results are taken
in plan order, so files and journal lines come out in the same order and with the same bytes whatever the
number of workers. At most a few actions per worker are in flight, so memory does not grow with the night.

Workers are forked from the run (no re-import, no copy of the books) and die with it: a killed run leaves no
worker behind holding the repository's lock.
"""

from __future__ import annotations

import gc
import os
import sys
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from relance_pipeline.model import PREVIEW_IMAGE_SUFFIX, PREVIEW_SUFFIX, Action, Books

if TYPE_CHECKING:  # the renderer (Jinja, WeasyPrint) is imported only by nights that render something
    from concurrent.futures import Future

    from relance_pipeline.render.renderer import Renderer, Rendering

MIN_PARALLEL_LETTERS = 8
"""Below this many letters, starting workers (each loads WeasyPrint and the fonts) costs more than it saves."""
MAX_AUTO_JOBS = 8
IN_FLIGHT_PER_JOB = 3


@dataclass(frozen=True)
class Rendered:
    rendering: Rendering
    extras: tuple[tuple[str, bytes], ...] = ()
    """Files written beside the documents but not journaled: each letter's preview PDF, and its PNG."""


def worker_count(actions: Sequence[Action], jobs: int | None) -> int:
    """How many processes render: `jobs` when given; otherwise the cores, when there are enough letters."""
    if jobs is not None:
        return max(1, jobs)
    letters = sum(1 for action in actions if "letter" in action.step.channels)
    if letters < MIN_PARALLEL_LETTERS:
        return 1
    return max(1, min(available_cores(), MAX_AUTO_JOBS, letters))


def available_cores() -> int:
    """The cores this process may run on (a container's or CI runner's share, not the host's)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def rendered(
    root: Path, books: Books, actions: Sequence[Action], as_of: date, *, previews: bool, jobs: int | None = None
) -> Iterator[Rendered]:
    """Each action rendered, in the order given; `jobs=1` renders in this process."""
    if not actions:
        return
    from relance_pipeline.render.renderer import Renderer

    workers = min(worker_count(actions, jobs), len(actions))
    if workers == 1:
        worker = _Worker(Renderer(root, books), previews)
        for action in actions:
            yield worker.render(action, as_of)
        return
    yield from _in_pool(root, books, actions, as_of, previews, workers)


def _in_pool(
    root: Path, books: Books, actions: Sequence[Action], as_of: date, previews: bool, workers: int
) -> Iterator[Rendered]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork") if sys.platform == "linux" else None
    # The books are shared with the forked workers page by page; the cyclic collector of a worker would walk
    # (and so copy) every inherited object: frozen, they are left alone.
    gc.freeze()
    try:
        with ProcessPoolExecutor(
            workers, context, initializer=_start_worker, initargs=(root, books, previews, os.getpid())
        ) as pool:
            pending: deque[Future[Rendered]] = deque()
            upcoming = iter(actions)
            try:
                for action in upcoming:
                    pending.append(pool.submit(_render_in_worker, action, as_of))
                    if len(pending) >= workers * IN_FLIGHT_PER_JOB:
                        break
                while pending:
                    result = pending.popleft().result()
                    following = next(upcoming, None)
                    if following is not None:
                        pending.append(pool.submit(_render_in_worker, following, as_of))
                    yield result
            finally:
                for future in pending:
                    future.cancel()
    finally:
        gc.unfreeze()


class _Worker:
    def __init__(self, renderer: Renderer, previews: bool) -> None:
        self.renderer = renderer
        self.previews = previews

    def render(self, action: Action, as_of: date) -> Rendered:
        rendering = self.renderer.render(action, as_of)
        if not (self.previews and rendering.ok):
            return Rendered(rendering, rendering.previews)
        from relance_pipeline.render.preview import first_page_png  # PDFium is loaded only by runs that draw previews

        pictures = tuple(
            (name.removesuffix(PREVIEW_SUFFIX) + PREVIEW_IMAGE_SUFFIX, first_page_png(content))
            for name, content in rendering.previews
        )
        return Rendered(rendering, rendering.previews + pictures)


_worker: _Worker | None = None


def _start_worker(root: Path, books: Books, previews: bool, parent: int) -> None:
    from relance_pipeline.render.renderer import Renderer

    global _worker
    _die_with_parent(parent)
    _worker = _Worker(Renderer(root, books), previews)


def _render_in_worker(action: Action, as_of: date) -> Rendered:
    assert _worker is not None, "the pool's initializer builds the worker's renderer"
    return _worker.render(action, as_of)


def _die_with_parent(parent: int) -> None:
    """Ask Linux to kill this worker when the run that forked it dies (a killed run must not leave workers that
    hold the repository's lock, inherited with the fork); elsewhere the pool's own shutdown has to do. Ctrl-C is
    the run's to handle: it stops taking results and the pool ends its current letters."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform != "linux":
        return
    import ctypes

    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request was in place
        os._exit(1)
