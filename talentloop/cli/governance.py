"""Data scientists' workflow: ``compare``, ``promote``, ``deployments``, ``retrain`` and ``model-card``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from talentloop.cli._common import console, fail, settings, summary, writes

MODEL_HELP = "attrition, course-ranker, skill-demand or potential."


def _model(name: str) -> str:
    from evaluation.compare import spec_for

    try:
        return spec_for(name).name
    except ValueError as exc:
        raise fail(str(exc)) from exc


def _versions(option: str | None) -> list[str] | None:
    """``--versions 3,4`` as a list (None: not given)."""
    return [v.strip() for v in option.split(",") if v.strip()] if option else None


def print_gate(name: str, version: str, gate: dict | None) -> None:
    """What the gate decided for a version a training job has just registered (the first version of a model)
    or, when a champion exists, how to put the new version through the gate."""
    if gate is None:
        console.print(f"{name} v{version} is registered as challenger; the champion is unchanged "
                      f"(`talentloop compare {name}`, then `talentloop promote {name} --version {version}`)",
                      soft_wrap=True)
        return
    action = gate["action"]
    colour = {"promoted": "green", "forced": "yellow"}.get(action, "red")
    verdict = {"promoted": "passed the gate and is the champion",
               "forced": "was forced past the gate and is the champion",
               "refused": "was refused by the gate: there is no champion to serve"}[action]
    console.print(f"[bold {colour}]gate {action}:[/] {name} v{version} {verdict} "
                  f"(deployment log #{gate['seq']}: `talentloop deployments {name}`)", soft_wrap=True)
    for line in str(gate.get("gate_summary", "")).split("; "):
        if line:
            console.print(f"  - {line}", soft_wrap=True)
    if action == "refused":
        console.print(f"  a person may still override it: `talentloop promote {name} --version {version} --force "
                      "--reason TEXT --by NAME` (logged)", soft_wrap=True)


def register(app: typer.Typer) -> None:
    _register_promotion(app)
    _register_retraining(app)


def _register_promotion(app: typer.Typer) -> None:
    """``compare``, ``promote`` and ``deployments``."""

    @app.command("compare")
    @writes("compare")
    def compare(
        model: str = typer.Argument(..., help=MODEL_HELP),
        versions: str = typer.Option(None, "--versions", help="Comma-separated versions to compare with the "
                                     "champion (default: every version newer than the champion)."),
        json_out: bool = typer.Option(False, "--json", help="Print the comparison as JSON on stdout."),
    ) -> None:
        """Champion and challengers side by side on the same out-of-sample rows, with bootstrap intervals;
        the table is also logged to MLflow (a run tagged talentloop.kind=comparison)."""
        from training_jobs.promotion import compare_versions

        name = _model(model)
        chosen = _versions(versions)
        try:
            result = compare_versions(settings(), name, chosen)
        except ValueError as exc:
            raise fail(str(exc)) from exc
        if json_out:
            typer.echo(json.dumps({k: v for k, v in result.items() if k != "markdown"}, ensure_ascii=False))
        else:
            typer.echo(result["markdown"])
            console.print(f"logged as MLflow run {result['comparison_run_id']}")

    @app.command("promote")
    @writes("promote")
    def promote(
        model: str = typer.Argument(..., help=MODEL_HELP),
        version: str = typer.Option(..., "--version", help="The version to make champion."),
        force: bool = typer.Option(False, "--force", help="Override a failing gate (needs --reason)."),
        reason: str = typer.Option(None, "--reason", help="Why (required with --force; kept in the log)."),
        by: str = typer.Option(None, "--by", help="Who promotes (default: $TALENTLOOP_USER or the login name)."),
        json_out: bool = typer.Option(False, "--json", help="Print the deployment event as JSON on stdout."),
    ) -> None:
        """Move alias champion to VERSION when the gate passes (not worse on the primary metric beyond the
        tolerance, fairness audit passed). Every attempt is appended to the deployment log. Exit 0 when moved,
        3 when the gate refused."""
        from training_jobs.promotion import REFUSED
        from training_jobs.promotion import promote as do_promote

        name = _model(model)
        try:
            event = do_promote(settings(), name, version, force=force, reason=reason, by=by)
        except ValueError as exc:
            raise fail(str(exc)) from exc
        if json_out:
            typer.echo(json.dumps(event, ensure_ascii=False, default=str))
        else:
            _print_promotion(name, event, refused=event["action"] == REFUSED)
        if event["action"] == REFUSED:
            raise typer.Exit(3)

    @app.command("deployments")
    def deployments(
        model: str = typer.Argument(..., help=MODEL_HELP),
        json_out: bool = typer.Option(False, "--json", help="Print the log as JSON on stdout."),
    ) -> None:
        """The append-only deployment log: every promotion attempt (who, when, from, to, gate, reason)."""
        from training_jobs.promotion import deployments as read_log

        name = _model(model)
        events = read_log(settings(), name)
        if json_out:
            typer.echo(json.dumps(events, ensure_ascii=False))
        else:
            _print_deployments(name, events)



def _register_retraining(app: typer.Typer) -> None:
    """``retrain`` and ``model-card``."""

    @app.command("retrain")
    @writes("retrain")
    def retrain(
        model: str = typer.Argument(..., help=MODEL_HELP),
        feeds: Path = typer.Option(None, "--feeds", help="Folder of new feeds to ingest first (optional)."),
        mapping: Path = typer.Option(None, "--mapping", help="Mapping file for the feeds."),
        by: str = typer.Option(None, "--by", help="Who runs it (kept in the deployment log)."),
        json_out: bool = typer.Option(False, "--json", help="Print the steps as JSON on stdout."),
    ) -> None:
        """Ingest new feeds (if given) → features → train → compare → promote if the gate passes.
        Exit codes: 0 promoted, 3 trained but the gate kept the champion, 2 bad feeds, 1 failure."""
        from training_jobs.retrain import Outcome, run

        name = _model(model)
        try:
            result = run(settings(), name, feeds=feeds, mapping=mapping, by=by)
        except (ValueError, FileNotFoundError) as exc:
            raise fail(str(exc), code=int(Outcome.BAD_INPUT)) from exc
        except Exception as exc:  # a scheduler needs the code; the traceback goes to the log
            console.print_exception()
            raise fail(f"retrain failed: {exc}", code=int(Outcome.FAILED)) from exc
        outcome = Outcome(result["outcome"])
        if json_out:
            typer.echo(json.dumps({**result, "outcome": outcome.name.lower(), "exit_code": int(outcome)},
                                  ensure_ascii=False, default=str))
        else:
            _print_retrain(name, result, outcome.name.lower(), int(outcome))
        raise typer.Exit(int(outcome))

    @app.command("model-card")
    def model_card(
        model: str = typer.Argument(..., help=MODEL_HELP),
        version: str = typer.Option(None, "--version", help="Version (default: the champion)."),
    ) -> None:
        """Print a registered version's Markdown model card (as logged in MLflow with its run)."""
        from training_jobs.promotion import model_card as read_card

        name = _model(model)
        try:
            card = read_card(settings(), name, version)
        except ValueError as exc:
            raise fail(str(exc)) from exc
        sys.stdout.write(card if card.endswith("\n") else card + "\n")


def _print_promotion(name: str, event: dict, refused: bool) -> None:
    colour = "red" if refused else "green"
    before = f"champion was v{event['from_version']}" if event["from_version"] else "no champion before"
    after = f"now v{event['to_version']}" if event["to_version"] else "no champion now"
    console.print(f"[bold {colour}]{event['action']}[/]: {name} v{event['candidate']} ({before}, {after})")
    for line in event["gate"]["reasons"]:
        console.print(f"  - {line}")


def _print_retrain(name: str, result: dict, outcome: str, code: int) -> None:
    if "compare" in result["steps"]:
        typer.echo(result["steps"]["compare"]["markdown"])
    console.print(f"retrain {name}: {outcome} (exit {code})" + (f" — {result['message']}" if "message" in result else ""))


def _print_deployments(name: str, events: list[dict]) -> None:
    rows = [[e["seq"], e["at"][:19], e["by"], e["action"], e["from_version"] or "-", e["to_version"] or "-",
             "passed" if e["gate_passed"] else "failed", e["reason"] or "-"] for e in events]
    console.print(summary(f"Deployments of {name}", ["#", "at (UTC)", "by", "action", "from", "to", "gate",
                                                      "reason"], rows))
    if not events:
        console.print("no promotion attempts logged yet")
