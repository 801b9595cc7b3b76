"""``talentloop erase EMPLOYEE_ID``: the right to erasure, across every place TalentLoop keeps a person."""

from __future__ import annotations

import json
from contextlib import closing

import typer

from talentloop.cli._common import console, fail, settings, summary


def register(app: typer.Typer) -> None:
    @app.command("erase")
    def erase(
        employee_id: str = typer.Argument(..., help="The employee to erase."),
        json_out: bool = typer.Option(False, "--json", help="Print what was removed as JSON on stdout."),
    ) -> None:
        """Remove an employee from raw copies, clean tables, quarantine, feature store (offline and online)
        and the scores / alerts / reviews of the application database; report what was removed."""
        from features.ingest import erase_employee
        from features.store import erase_employee_features
        from models.attrition.alerts import connect
        from models.attrition.alerts import erase_employee as erase_app

        s = settings()
        try:
            removed = {**erase_employee(s, employee_id), **erase_employee_features(s, employee_id)}
        except ValueError as exc:
            raise fail(str(exc)) from exc
        if s.app_db.exists():
            with closing(connect(s.app_db)) as con:
                removed.update(erase_app(con, employee_id))
                from models.potential.store import erase_employee as erase_talent

                removed.update(erase_talent(con, employee_id))
        if json_out:
            typer.echo(json.dumps({"employee_id": employee_id, "removed": removed}))
        else:
            console.print(summary(f"Erased {employee_id}", ["place", "rows"], sorted(removed.items())))
            if not any(removed.values()):
                console.print(f"[yellow]nothing found for {employee_id!r}[/]")
