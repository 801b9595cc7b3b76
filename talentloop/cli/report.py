"""``talentloop report training-effect``: which courses lift the next competency rating and the next review."""

from __future__ import annotations

from pathlib import Path

import typer

from talentloop.cli._common import console, fail, settings, summary, writes

OUT_SUFFIXES = (".csv", ".xlsx", ".html")
BRIEF_SKILLS = ("course_id", "skill_id", "effect", "ci_low", "ci_high", "takers", "verdict", "cost_per_point")
BRIEF_COURSES = ("course_id", "effect", "ci_low", "ci_high", "takers", "verdict", "roi")


def register(app: typer.Typer) -> None:
    """Add the ``report`` group and its commands to the root app."""
    group = typer.Typer(help="Reports for HR: the effect of training on ratings and reviews, with its return.",
                        no_args_is_help=True)
    app.add_typer(group, name="report")

    @group.command("training-effect")
    @writes("report training-effect")
    def training_effect(
        org_unit: str = typer.Option(None, "--org-unit", help="Org unit id: only its subtree, takers and "
                                                               "non-takers alike (default: the whole company)."),
        out: Path = typer.Option(None, "--out", help="Write the report to FILE.xlsx, FILE.csv or FILE.html."),
        lang: str = typer.Option("en", help="en or zh."),
        min_takers: int = typer.Option(10, "--min-takers", help="Courses with fewer takers are left out."),
        limit: int = typer.Option(20, help="Rows to print of each table (the file holds every row)."),
        no_log: bool = typer.Option(False, "--no-log", help="Do not log the run to MLflow."),
    ) -> None:
        """Per course and skill: the effect of completing it on the next competency rating and on the next
        review (doubly robust difference-in-differences against comparable non-takers, 95 % intervals, takers),
        the cost per point of improvement and the return on investment (docs/training-effect.md)."""
        if lang not in ("en", "zh"):
            raise fail(f"--lang must be en or zh, got {lang!r}")
        if out is not None and out.suffix.lower() not in OUT_SUFFIXES:
            raise fail(f"--out must end in .xlsx, .csv or .html, got {out.name!r}")
        if min_takers < 2:
            raise fail("--min-takers must be at least 2")
        if limit < 1:
            raise fail("--limit must be at least 1")
        from features import progress
        from models.training_effect import export
        from training_jobs.training_effect import run, write

        try:
            with progress.step("report training-effect: panels, doubly robust estimates, MLflow"):
                rep, result = run(settings(), org_unit=org_unit, min_takers=min_takers, log=not no_log)
        except ValueError as exc:
            raise fail(str(exc)) from exc
        if out is not None:
            for path in write(rep, out, lang):
                console.print(f"written: {path}")
        for frame, skills, keys in ((rep.skills, True, BRIEF_SKILLS), (rep.courses, False, BRIEF_COURSES)):
            headers = export.SKILL_HEADERS if skills else export.COURSE_HEADERS
            shown = export.table(frame.head(limit), lang, skills)[[headers[k][lang == "zh"] for k in keys]]
            heading = {True: ("effect on the next competency rating", "对下次能力评分的效果"),
                       False: ("effect on the next review", "对下次绩效的效果")}[skills][lang == "zh"]
            scope = org_unit or ("company" if lang == "en" else "全公司")
            console.print(summary(f"{heading} ({scope})", list(shown.columns), shown.itertuples(index=False)))
        rows = [(k, f"{v:.3f}" if isinstance(v, float) else v) for k, v in result.items()]
        console.print(summary("run", ["field", "value"], rows))
