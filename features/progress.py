"""Progress of long steps: reported by the code that does the work, drawn by whoever runs it.

A job marks a long step with ``step``::

    with progress.step("backtest horizons", total=12) as advance:
        for h in horizons:
            ...
            advance()

or iterates with ``for h in progress.track(horizons, "backtest horizons"):`` (a one-line change to a loop).
The command line installs a reporter (a rich progress bar with elapsed time, or one line per step in a log)
with ``use``; tests, the API and library callers install none, and then the calls cost nothing. This module sits in ``features`` because every
layer above it (models, training jobs, evaluation) may report progress and none of them may import the CLI.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sized
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol, TypeVar

T = TypeVar("T")


class Reporter(Protocol):
    """What draws progress: ``start`` returns a handle that ``advance`` and ``finish`` receive."""

    def start(self, description: str, total: int | None) -> object: ...

    def advance(self, handle: object, amount: int) -> None: ...

    def finish(self, handle: object) -> None: ...


_REPORTER: ContextVar[Reporter | None] = ContextVar("talentloop_progress_reporter", default=None)


@contextmanager
def use(reporter: Reporter | None) -> Iterator[None]:
    """Report the steps run inside this block to ``reporter`` (None: report nothing)."""
    token = _REPORTER.set(reporter)
    try:
        yield
    finally:
        _REPORTER.reset(token)


def _ignore(amount: int = 1) -> None:
    """The advance of a step nobody watches."""


@contextmanager
def step(description: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """A long step of ``total`` units (None: of unknown length); yields ``advance(amount=1)``."""
    reporter = _REPORTER.get()
    if reporter is None:
        yield _ignore
        return
    handle = reporter.start(description, total)

    def advance(amount: int = 1) -> None:
        reporter.advance(handle, amount)

    try:
        yield advance
    except BaseException:
        stopped = getattr(reporter, "stopped", None)  # optional: a step that failed is not reported done
        if stopped is not None:
            stopped(handle)
        raise
    finally:
        reporter.finish(handle)


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """``items`` one by one, each counted as a unit of the step ``description`` (total: ``len(items)`` if known)."""
    if total is None and isinstance(items, Sized):
        total = len(items)
    with step(description, total) as advance:
        for item in items:
            yield item
            advance()
