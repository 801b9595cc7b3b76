"""``talentloop monitor``: predictions against outcomes and drift, with an exit code a scheduler can branch on."""

from __future__ import annotations

import json
from enum import IntEnum

import typer

from talentloop.cli._common import console, fail, settings


class Outcome(IntEnum):
    """Exit codes of ``talentloop monitor``."""

    OK = 0  # monitored; no retraining needed
    FAILED = 1  # an unexpected error (see the log)
    BAD_INPUT = 2  # nothing to monitor: no champion, no data, no features
    RETRAIN = 3  # drift beyond the threshold or precision falling: retrain (`talentloop retrain attrition`)


def register(app: typer.Typer) -> None:
    @app.command("monitor")
    def monitor(
        json_out: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout."),
        no_log: bool = typer.Option(False, "--no-log", help="Do not log to MLflow or tag the champion."),
    ) -> None:
        """Alerts of every scored month whose horizon has passed against who actually left (precision, recall,
        calibration by risk band), skill-demand forecasts against the demand that arrived, and feature drift
        (PSI, training window vs latest month). Exit codes: 0 ok, 3 needs retraining, 2 bad input, 1 failure."""
        from training_jobs.monitor import run

        try:
            report = run(settings(), log=not no_log)
        except (ValueError, FileNotFoundError) as exc:
            raise fail(str(exc).splitlines()[0], code=int(Outcome.BAD_INPUT)) from exc
        except Exception as exc:  # a scheduler needs the code; the traceback goes to the log
            console.print_exception()
            raise fail(f"monitor failed: {exc}", code=int(Outcome.FAILED)) from exc
        outcome = Outcome.RETRAIN if report["needs_retraining"] else Outcome.OK
        if json_out:
            typer.echo(json.dumps({**{k: v for k, v in report.items() if k != "markdown"},
                                   "exit_code": int(outcome)}, ensure_ascii=False, default=str))
        else:
            typer.echo(report["markdown"])
            console.print(f"monitor attrition v{report['version']}: {outcome.name.lower()} (exit {int(outcome)})")
        raise typer.Exit(int(outcome))
