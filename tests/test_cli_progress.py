"""The CLI's progress renderer: a bar on a terminal, one line per step in a log, nothing under --json."""

from __future__ import annotations

import io

import typer
import typer.main
from rich.console import Console

from features import progress
from talentloop.cli._progress import CliReporter


def _console(terminal: bool) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=terminal, width=100, color_system=None), out


def _work() -> None:
    with progress.step("features: build tables", total=3) as advance:
        for _ in range(3):
            advance()
    for _ in progress.track(["a", "b"], "attrition: backtest folds"):
        pass
    with progress.step("train skill-demand"):  # open-ended
        pass


def test_a_log_gets_one_line_per_step_with_counts_and_seconds():
    console, out = _console(terminal=False)
    with progress.use(CliReporter(console)):
        _work()
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("features: build tables: 3/3 done in ") and lines[0].endswith(" s")
    assert lines[1].startswith("attrition: backtest folds: 2/2 done in ")
    assert lines[2].startswith("train skill-demand: done in ")


def test_a_terminal_gets_a_bar_that_ends_complete_and_is_stopped():
    console, out = _console(terminal=True)
    reporter = CliReporter(console)
    with progress.use(reporter):
        _work()
    text = out.getvalue()
    assert "features: build tables" in text and "3/3" in text and "2/2" in text
    assert reporter._bar is None  # the live display ended with the last step


def test_nothing_is_drawn_for_a_command_run_with_json():
    console, out = _console(terminal=False)
    app = typer.Typer()

    @app.command()
    def train(json_out: bool = typer.Option(False, "--json")) -> None:
        with progress.use(CliReporter(console)):
            _work()

    command = typer.main.get_command(app)
    command.main(["--json"], standalone_mode=False)
    assert out.getvalue() == ""
    command.main([], standalone_mode=False)  # the same command without --json reports its steps
    assert out.getvalue().count(" done in ") == 3
