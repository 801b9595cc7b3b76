"""``talentloop demo``: the demo pipeline in one process, then the key and the requests to try.

simulate → ingest → features build / apply / materialize → train attrition → score attrition → train
course-ranker → train skill-demand → an admin API key. Each step is the very command a person would type
(run in this process, so feast, mlflow and lightgbm are imported once instead of once per step, which
saves about 8 s a step). ``make demo`` runs this, then ``talentloop serve``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from talentloop.cli._common import console, fail, settings, summary


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the root app (it runs the root app's own commands)."""

    @app.command("demo")
    def demo(
        employees: Annotated[int, typer.Option(help="Starting headcount of the simulated company.")] = 2000,
        months: Annotated[int, typer.Option(help="Months to simulate.")] = 36,
        seed: Annotated[int, typer.Option(help="Random seed of the simulation.")] = 7,
        out: Annotated[Path | None, typer.Option(
            "--out", help="Where the simulated feeds go (default: <workspace>/demo-company).")] = None,
        port: Annotated[int, typer.Option(help="Port the printed example requests use.")] = 8000,
        end: Annotated[str | None, typer.Option(
            help="Last simulated month, YYYY-MM (default: the last complete month).")] = None,
    ) -> None:
        """Simulate a company, ingest it, build features, train, register and score all three models."""
        folder = out or settings().home / "demo-company"
        steps = [
            ["simulate", "--employees", str(employees), "--months", str(months), "--seed", str(seed),
             "--out", str(folder), *(["--end", end] if end else [])],
            ["ingest", str(folder)],
            ["features", "build"], ["features", "apply"], ["features", "materialize"],
            ["train", "attrition"], ["score", "attrition"],
            ["train", "course-ranker"], ["train", "skill-demand"],
        ]
        timings = []
        for step in steps:
            if step == ["score", "attrition"]:  # the first version went through the gate: a champion to score with?
                timings += [["promote attrition", f"{run_step(app, exc):.1f}"] for exc in _gate_exception()]
            timings.append([" ".join(step[:2]), f"{run_step(app, step):.1f}"])
        key = _admin_key()
        console.print(summary("demo pipeline", ["step", "seconds"], timings))
        _print_tryout(key, _active_employee(), port)


def run_step(app: typer.Typer, args: list[str]) -> float:
    """Run ``talentloop ARGS`` in this process; seconds taken. A failing step stops the demo with its code."""
    import typer.main
    console.rule(f"talentloop {' '.join(args[:2])}")
    started = time.perf_counter()
    try:
        code = typer.main.get_command(app).main(args, prog_name="talentloop", standalone_mode=False)
    except SystemExit as exc:  # a command that exits by itself
        code = exc.code
    except typer.Exit as exc:
        code = exc.exit_code
    except typer.TyperException as exc:  # a usage error: bad option or value
        console.print(f"[bold red]error:[/] {exc}")
        code = getattr(exc, "exit_code", 2)
    if code not in (None, 0):
        raise fail(f"demo stopped: `talentloop {' '.join(args)}` exited with {code}", int(code))
    return time.perf_counter() - started


def _gate_exception() -> list[list[str]]:
    """The promote command that records a reasoned exception when the gate refused the demo's attrition model
    only for a fairness gap its attribution found outcome-driven (none when it passed; the demo stops with the
    refusal otherwise)."""
    from evaluation.compare import CHAMPION, aliases
    from training_jobs.promotion import configure, outcome_exception

    current = aliases(configure(settings()), "attrition")
    if CHAMPION in current or "challenger" not in current:
        return []
    reason = outcome_exception(settings(), "attrition", current["challenger"])
    if reason is None:
        raise fail("demo stopped: the gate refused the attrition model (see above); `talentloop deployments "
                   "attrition` shows why", 3)
    console.print(f"[yellow]the gate refused attrition v{current['challenger']} for its fairness audit only; the "
                  "attribution finds the gap outcome-driven, so the demo records a reasoned exception[/]",
                  soft_wrap=True)
    return [["promote", "attrition", "--version", current["challenger"], "--force", "--reason", reason,
             "--by", "talentloop demo"]]


def _admin_key() -> str:
    from serving.auth import connect, create_key

    con = connect(settings().app_db)
    try:
        return create_key(con, "admin", (), "demo-admin").key
    finally:
        con.close()


def _active_employee() -> str:
    """An employee still employed at the end of the data (the newest event of someone never terminated)."""
    from features.offline import read_clean

    events = read_clean(settings(), "employment_events")
    gone = events.loc[events["event_type"] == "termination", "employee_id"]
    return str(events.loc[~events["employee_id"].isin(gone), "employee_id"].iloc[-1])


def _print_tryout(key: str, employee: str, port: int) -> None:
    base = f"http://127.0.0.1:{port}"
    home = settings().home
    lines = [
        "",
        f"demo: workspace {home}; MLflow UI: .venv/bin/mlflow ui --backend-store-uri sqlite:///{home}/mlflow.db",
        f"demo API key (admin): {key}",
        "try (once `talentloop serve` is up):",
        f"  curl -s -H 'Authorization: Bearer {key}' '{base}/v1/employees/{employee}/attrition-risk"
        "?horizon_months=3&lang=zh'",
        f"  curl -s -H 'Authorization: Bearer {key}' '{base}/v1/employees/{employee}/course-recommendations"
        "?k=10&lang=en'",
        f"  curl -s -H 'Authorization: Bearer {key}' '{base}/v1/attrition-alerts?min_risk=0.1&page_size=5'",
        "",
    ]
    typer.echo("\n".join(lines))
