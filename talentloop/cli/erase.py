"""``talentloop erase EMPLOYEE_ID``: the right to erasure, across every place TalentLoop keeps a person."""

from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path

import typer

from talentloop.cli._common import console, fail, settings, summary, writes


def register(app: typer.Typer) -> None:
    @app.command("erase")
    @writes("erase")
    def erase(
        employee_id: str = typer.Argument(..., help="The employee to erase."),
        json_out: bool = typer.Option(False, "--json", help="Print what was removed as JSON on stdout."),
    ) -> None:
        """Remove an employee from every place TalentLoop keeps them: raw copies, every kept clean version,
        quarantine, feeds kept in the workspace, feature files, online store, scores / alerts / reviews, the
        audit log (tombstones), MLflow artifacts with per-person rows; SQLite files are compacted so no deleted
        value remains on disk. Prints (and saves under reports/, without the id) the count per place."""
        s = settings()
        try:
            removed = erase_everywhere(s, employee_id)
        except ValueError as exc:
            raise fail(str(exc)) from exc
        if json_out:
            typer.echo(json.dumps({"employee_id": employee_id, "removed": removed}))
        else:
            console.print(summary(f"Erased {employee_id}", ["place", "rows"], list(removed.items())))
            if not any(removed.values()):
                console.print(f"[yellow]nothing found for {employee_id!r}[/]")


def erase_everywhere(s, employee_id: str) -> dict[str, int]:  # noqa: ANN001 - Settings
    """Erase ``employee_id`` from the whole workspace of ``s``; returns rows (or values) per place, in order."""
    import orjson
    import pandas as pd

    from features.app_db import connect
    from features.contract import FEEDS
    from features.feature_repo.config import repo_config
    from features.ingest import erase_employee
    from features.ingest.erase import compact_sqlite, feed_folders, scrub_files
    from features.store import erase_employee_features
    from models.attrition.alerts import erase_employee as erase_app
    from models.learning_plans.store import erase_employee as erase_plans
    from models.points.store import erase_employee as erase_points
    from models.potential.store import erase_employee as erase_talent
    from serving.audit import tombstone

    employee_id = employee_id.strip()
    removed = {**erase_employee(s, employee_id), **erase_employee_features(s, employee_id)}
    if s.app_db.exists():
        with closing(connect(s.app_db)) as con:
            removed.update(erase_app(con, employee_id))
            removed.update(erase_talent(con, employee_id))
            removed.update(erase_points(con, employee_id))
            removed.update(erase_plans(con, employee_id))
            removed["app:audit_log (tombstoned)"] = tombstone(con, employee_id)
    removed["mlflow artifacts"] = sum(scrub_files(s.artifacts_dir, employee_id).values())
    for folder in feed_folders(s):  # e.g. the simulator's truth next to the demo feeds
        removed[f"{folder.name} (other files)"] = sum(
            scrub_files(folder, employee_id, skip=tuple(folder / f for f in FEEDS)).values())
    online = getattr(repo_config(s).online_store, "path", None)
    for db in (s.app_db, s.home / "mlflow.db", *([Path(online)] if online else [])):
        compact_sqlite(db)  # checkpoint the WAL and VACUUM: deleted values leave the file
    report = {"erased_at": pd.Timestamp.now(tz="UTC").isoformat(), "removed": removed,
              "note": "the person's id is not kept in this report"}
    s.reports_dir.mkdir(parents=True, exist_ok=True)
    (s.reports_dir / f"erasure-{pd.Timestamp.now(tz='UTC'):%Y%m%dT%H%M%S%f}.json").write_bytes(
        orjson.dumps(report, option=orjson.OPT_INDENT_2))
    return removed
