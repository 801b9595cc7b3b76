"""What every command shares: the settings built once at the entry point, the console, summary tables."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from features.settings import Settings

console = Console(stderr=True)
VERBOSE = False  # set by the root command's --verbose (the demo passes it on to the commands it runs apart)


def quiet_third_parties() -> None:
    """Hide other libraries' warnings and INFO logs (ibis's fetch_arrow_table deprecation, SQLAlchemy's noload,
    MLflow's environment and pickling notes, ...): they concern those libraries' maintainers, not a person
    running TalentLoop. Our own warnings still show. Libraries re-install warning filters at import (feast puts
    ``once`` filters first), so the choice is made where a warning is shown, by the file that raised it."""
    import logging
    import os
    import warnings

    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "ERROR")  # read when mlflow is imported, later
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # "Downloading artifacts" bars
    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if "-packages" in str(filename):  # raised inside site-packages / dist-packages
            return
        shown(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    for name in ("alembic", "feast", "numba", "urllib3", "matplotlib"):
        logging.getLogger(name).setLevel(logging.ERROR)


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The settings of this process, built from the environment on first use."""
    return Settings()


def summary(title: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Table:
    """A short table that ends a long-running command."""
    table = Table(title=title, title_justify="left")
    for h in header:
        table.add_column(str(h))
    for r in rows:
        table.add_row(*(str(v) for v in r))
    return table


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a message a person can act on and return the exit to raise."""
    console.print(f"[bold red]error:[/] {message}", soft_wrap=True)  # never break a path across lines
    return typer.Exit(code)



BUSY_EXIT = 75  # EX_TEMPFAIL: another run holds the workspace; try again later


def writes(command: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Run the decorated command holding the workspace lock (:func:`features.workspace.lock`); when another run
    holds it, say who and since when and exit 75. Leftovers of killed runs are removed and reported."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            from contextlib import ExitStack

            from features.workspace import WorkspaceBusy, lock

            with ExitStack() as stack:
                try:
                    cleaned = stack.enter_context(lock(settings().home, command))
                except WorkspaceBusy as exc:
                    raise fail(str(exc), code=BUSY_EXIT) from exc
                if cleaned:
                    console.print("removed what an interrupted run had left: "
                                  + ", ".join(f"{n} {kind}" for kind, n in sorted(cleaned.items())))
                moved_here()
                return fn(*args, **kwargs)

        return run

    return decorate


def moved_here() -> None:
    """Make a workspace that was copied or moved use its own files (see :func:`features.workspace.relocate`)."""
    from features.workspace import recorded_home, relocate

    s = settings()
    old = recorded_home(s.home)
    done = relocate(s)
    if done:
        console.print(f"the workspace moved from {old}: its MLflow and Feast paths now point here")
