"""How the command line draws :mod:`features.progress`: a rich progress bar with elapsed time on a terminal,
one plain line per finished step otherwise (logs, CI, a pipe), nothing for a command run with ``--json``.

The choice is made when a step starts, from the command running then (``--json`` is an option of each command,
not of the root), so one reporter serves every command, including those the demo runs in its own process.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import click
from rich.console import Console
from rich.errors import LiveError
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


@dataclass
class _Step:
    description: str
    total: int | None
    mode: str  # "rich", "plain" or "off"
    started: float = field(default_factory=time.perf_counter)
    done: int = 0
    task: TaskID | None = None
    failed: bool = False  # the step raised (its error is the line a person reads, not "done")


def _current_context():
    """The context of the command running now: typer keeps its own copy of click (``typer._click``) with its
    own context stack; plain click's is the fallback."""
    try:
        from typer._click.globals import get_current_context
    except ImportError:  # a typer without its own click
        get_current_context = click.get_current_context
    return get_current_context(silent=True) or click.get_current_context(silent=True)


def _json_output() -> bool:
    """Whether the command running now (or one that runs it) prints JSON on stdout."""
    ctx = _current_context()
    while ctx is not None:
        if ctx.params.get("json_out") or ctx.params.get("as_json"):
            return True
        ctx = ctx.parent
    return False


class CliReporter:
    """A :class:`features.progress.Reporter` drawing on ``console`` (the CLI's stderr console)."""

    def __init__(self, console: Console):
        self.console = console
        self._bar: Progress | None = None
        self._open = 0

    def _mode(self) -> str:
        if _json_output():
            return "off"
        return "rich" if self.console.is_terminal and not self.console.is_dumb_terminal else "plain"

    def start(self, description: str, total: int | None) -> _Step:
        step = _Step(description, total, self._mode())
        if step.mode == "rich":
            if self._bar is None:
                bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                               MofNCompleteColumn(), TimeElapsedColumn(), console=self.console)
                try:
                    bar.start()
                except LiveError:  # another live display (a status spinner) is on screen: plain lines instead
                    step.mode = "plain"
                    return step
                self._bar = bar
            step.task = self._bar.add_task(description, total=total)
            self._open += 1
        return step

    def advance(self, handle: object, amount: int) -> None:
        step: _Step = handle  # type: ignore[assignment]
        step.done += amount
        if step.mode == "rich" and self._bar is not None and step.task is not None:
            self._bar.advance(step.task, amount)

    def stopped(self, handle: object) -> None:
        """The step raised: its error says what happened, so no "done" line follows."""
        step: _Step = handle  # type: ignore[assignment]
        step.failed = True

    def finish(self, handle: object) -> None:
        step: _Step = handle  # type: ignore[assignment]
        seconds = time.perf_counter() - step.started
        if step.mode == "plain" and not step.failed:
            count = f"{step.done}/{step.total} " if step.total is not None else ""
            self.console.print(f"{step.description}: {count}done in {seconds:.1f} s", soft_wrap=True,
                               highlight=False)
        elif step.mode == "rich" and self._bar is not None and step.task is not None:
            if step.total is None:  # an open-ended step ends full
                self._bar.update(step.task, total=max(step.done, 1), completed=max(step.done, 1))
            self._bar.stop_task(step.task)
            self._open -= 1
            if self._open == 0:
                self._bar.stop()
                self._bar = None


_REPORTER: CliReporter | None = None


def reporter() -> CliReporter:
    """The one reporter of this process (the demo's nested commands share its bar)."""
    global _REPORTER
    if _REPORTER is None:
        from talentloop.cli._common import console

        _REPORTER = CliReporter(console)
    return _REPORTER
