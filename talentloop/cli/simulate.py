"""`talentloop simulate`: write the demo company's four feeds and its ground truth."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer

from talentloop.cli._common import console, fail, summary


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the root app."""
    app.command("simulate")(simulate_command)


def first_month(months: int, start: str | None, end: str | None, today: date | None = None) -> str:
    """The first simulated month (YYYY-MM): ``start`` as given, else ``months`` ending with ``end``, else
    ``months`` ending with the last complete month before ``today`` (UTC)."""
    if start is not None and end is not None:
        raise ValueError("give --start or --end, not both")
    if start is not None:
        return start
    if end is not None:
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", end):
            raise ValueError(f"--end must be a month written YYYY-MM, got {end!r}")
        last = int(end[:4]) * 12 + int(end[5:]) - 1
    else:
        now = today or datetime.now(UTC).date()
        last = now.year * 12 + now.month - 2  # the month before this one
    first = last - (months - 1)
    return f"{first // 12:04d}-{first % 12 + 1:02d}"


def simulate_command(
    out: Annotated[Path, typer.Option("--out", help="Folder to write DIR/<feed>/<table>.<ext> and DIR/_truth/ into.")],
    employees: Annotated[int | None, typer.Option(
        help="Starting headcount (hires replace leavers, growth adds more); default 2000, 300 for --profile "
             "small.", show_default=False)] = None,
    months: Annotated[int, typer.Option(help="Months to simulate.")] = 36,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives byte-identical files.")] = 7,
    fmt: Annotated[str, typer.Option("--format", help="Feed file format: csv or parquet.")] = "csv",
    dirty_rate: Annotated[float, typer.Option(help="Fraction of rows per table made dirty (0 = clean).")] = 0.02,
    start: Annotated[str | None, typer.Option(help="First simulated month, YYYY-MM (default: from --end).")] = None,
    end: Annotated[str | None, typer.Option(
        help="Last simulated month, YYYY-MM (default: the last complete month, so the newest feature snapshot "
             "is the first day of this month and nothing is stale on day one).")] = None,
    profile: Annotated[str, typer.Option(help="Export profile: full, hris-minimal, no-learning, annual-reviews, "
                                         "small or leaky (see docs/simulator.md).")] = "full",
    reorg_month: Annotated[int | None, typer.Option(
        "--reorg-month", help="Opt-in drift: a company-wide reorganisation in this month (1 = the second month) "
                              "after which the old drivers of exits no longer tell who leaves; for `talentloop monitor`.")] = None,
    learning_plans: Annotated[bool, typer.Option(
        "--learning-plans", help="Play the HR suite's learning-plan flow 12 to 9 months before the last review month and write "
                                 "learning/learning_plans (on in `talentloop demo`; see docs/simulator.md).")] = False,
    plan_share: Annotated[float, typer.Option(
        help="With --learning-plans: share of active employees given a plan request each window month.")] = 0.15,
    plan_k: Annotated[int, typer.Option(help="With --learning-plans: courses per list.")] = 3,
    plan_pool: Annotated[int, typer.Option(
        help="With --learning-plans: a randomised list draws from the policy's top this many.")] = 30,
    plan_epsilon: Annotated[float, typer.Option(
        help="With --learning-plans: share of lists randomised (exploration).")] = 0.3,
    plan_follow: Annotated[float, typer.Option(
        help="With --learning-plans: probability an employee accepts (and enrolls in) a course shown.")] = 0.4,
) -> None:
    """Simulate a demo company: HR records, performance, learning and recruiting feeds plus the truth."""
    try:
        start = first_month(months, start, end)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from features.simulator import PlanSettings, simulate
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
                              start=start, progress=progress, profile=profile, reorg_at=reorg_month,
                              plans=PlanSettings(share=plan_share, k=plan_k, pool=plan_pool, epsilon=plan_epsilon,
                                                 follow=plan_follow) if learning_plans else None)
        except ValueError as exc:
            raise fail(str(exc)) from exc
    shape = "" if profile == "full" else f" as a {profile} export"
    console.print(summary(f"Simulated {employees} employees × {months} months into {out}{shape}", ("table", "rows"),
                          sorted(report.rows.items())))
    console.print(summary("Voluntary attrition (annualised)", ("year", "rate"),
                          [(y, f"{r:.1%}") for y, r in report.voluntary_attrition.items()]))
    console.print(f"dirty rows: {report.dirty_rows:,} (listed in {out / '_truth' / 'dirty_rows.parquet'}); "
                  f"{report.seconds:.1f} s")
