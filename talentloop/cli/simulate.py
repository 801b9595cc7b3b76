"""`talentloop simulate`: write the demo company's four feeds and its ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from talentloop.cli._common import console, fail, summary


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the root app."""
    app.command("simulate")(simulate_command)


def simulate_command(
    out: Annotated[Path, typer.Option("--out", help="Folder to write DIR/<feed>/<table>.<ext> and DIR/_truth/ into.")],
    employees: Annotated[int | None, typer.Option(
        help="Starting headcount (hires replace leavers, growth adds more); default 2000, 300 for --profile "
             "small.", show_default=False)] = None,
    months: Annotated[int, typer.Option(help="Months to simulate.")] = 36,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives byte-identical files.")] = 7,
    fmt: Annotated[str, typer.Option("--format", help="Feed file format: csv or parquet.")] = "csv",
    dirty_rate: Annotated[float, typer.Option(help="Fraction of rows per table made dirty (0 = clean).")] = 0.02,
    start: Annotated[str, typer.Option(help="First simulated month, YYYY-MM.")] = "2023-01",
    profile: Annotated[str, typer.Option(help="Export profile: full, hris-minimal, no-learning, annual-reviews, "
                                         "small or leaky (see docs/simulator.md).")] = "full",
) -> None:
    """Simulate a demo company: HR records, performance, learning and recruiting feeds plus the truth."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from features.simulator import simulate
    from features.simulator.profiles import get_profile

    try:
        employees = employees if employees is not None else get_profile(profile).default_employees
    except ValueError as exc:
        raise fail(str(exc)) from exc

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        tasks: dict[str, int] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(f"simulate: {phase}", total=total)
            bar.update(tasks[phase], completed=done)

        try:
            report = simulate(out, employees=employees, months=months, seed=seed, fmt=fmt, dirty_rate=dirty_rate,
                              start=start, progress=progress, profile=profile)
        except ValueError as exc:
            raise fail(str(exc)) from exc
    shape = "" if profile == "full" else f" as a {profile} export"
    console.print(summary(f"Simulated {employees} employees × {months} months into {out}{shape}", ("table", "rows"),
                          sorted(report.rows.items())))
    console.print(summary("Voluntary attrition (annualised)", ("year", "rate"),
                          [(y, f"{r:.1%}") for y, r in report.voluntary_attrition.items()]))
    console.print(f"dirty rows: {report.dirty_rows:,} (listed in {out / '_truth' / 'dirty_rows.parquet'}); "
                  f"{report.seconds:.1f} s")
