"""``talentloop ingest DIR``: validate, normalise, de-duplicate and quarantine the four feeds, publish clean
tables atomically, and report what happened to every row."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from talentloop.cli._common import console, fail, settings, summary, writes


def register(app: typer.Typer) -> None:
    """Add the ``ingest`` command to the root app."""

    @app.command("ingest")
    @writes("ingest")
    def ingest_command(
        source: Annotated[Path, typer.Argument(
            metavar="DIR", help="Folder holding <feed>/<table>.<csv|parquet|xlsx>.")],
        mapping: Annotated[Path | None, typer.Option("--mapping", help="Mapping YAML (default: DIR/mapping.yaml "
                                                     "when present). See docs/mapping.md.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON on stdout "
                                              "(and nothing else).")] = False,
        allow_shrink: Annotated[list[str] | None, typer.Option(
            "--allow-shrink", metavar="TABLE", help="Accept that TABLE loses more than the allowed share of its "
            "previous rows (TALENTLOOP_MAX_SHRINK, 0.5 by default); repeat for several tables.")] = None,
    ) -> None:
        """Ingest the feeds in DIR; exit code 1 when a delivered feed failed (drift, unreadable file)."""
        import orjson

        from features.ingest import MappingError, ingest

        if not source.is_dir():
            raise fail(f"{source} is not a folder (expected {source}/<feed>/<table>.csv|parquet|xlsx)")
        try:
            report = ingest(source, settings(), mapping, allow_shrink=allow_shrink or ())
        except (MappingError, ValueError) as e:
            raise fail(str(e)) from e
        _print_report(report)
        _load_learning_plans()
        if as_json:
            sys.stdout.write(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n")
        if not report.ok:
            raise typer.Exit(1)


def _load_learning_plans() -> None:
    """An HR suite's learning-plan export (the optional table ``learning_plans``, as accepted by this ingest)
    into the application database's recommendation log and plans (idempotent; docs/learning-plans.md)."""
    from contextlib import closing

    from features.offline import read_clean

    table = read_clean(settings(), "learning_plans")
    if table.empty:
        return
    from features import app_db
    from models.learning_plans import feed

    with closing(app_db.connect(settings().app_db)) as con:
        loaded = feed.load(con, table)
    console.print(feed.describe(loaded), soft_wrap=True)


def _print_report(report) -> None:  # noqa: ANN001 - features.ingest.IngestReport
    """The counts, reasons and warnings of an ingest, on stderr."""
    console.print(f"mapping: {report.mapping}")
    if report.unchanged:
        console.print("inputs unchanged since the last ingest: nothing written")
    if report.not_delivered:
        console.print(f"not delivered (previous clean state kept): {', '.join(report.not_delivered)}")
    counts = summary("ingest", ("table", "rows in", "accepted", "quarantined", "duplicates"),
                     [(t.table, t.rows_in, t.accepted, t.quarantined, t.duplicates)
                      for t in report.tables.values()])
    reasons = summary("quarantined rows by reason", ("table", "reason", "rows"),
                      [(t.table, r, n) for t in report.tables.values() for r, n in t.reasons.items()])
    for table in (counts, reasons):
        table.columns[0].no_wrap = True
        console.print(table)
    _print_warnings(report)


def _print_warnings(report) -> None:  # noqa: ANN001 - features.ingest.IngestReport
    for t in report.tables.values():
        if t.kept_previous:
            console.print(f"[yellow]warning:[/] {t.source_file}: {t.kept_previous:,} key(s) appear on several "
                          "rows with different values; those rows are quarantined and the previous accepted "
                          "version of each key is kept")
    for message in report.missing_tables.values():
        console.print(f"[yellow]warning:[/] {message}")
    for t in report.tables.values():
        if t.extra_columns:
            console.print(f"{t.source_file}: ignored columns not in the contract: {', '.join(t.extra_columns)}")
        if t.missing_optional_columns:
            console.print(f"{t.source_file}: optional columns not in the file (left empty, or filled from their fallback): "
                          f"{', '.join(t.missing_optional_columns)}")
        for column, n in t.unknown_codes.items():
            console.print(f"{t.source_file}: {n:,} {column} values not in the contract's codes were mapped "
                          "by the mapping's unknown_values")
    for feed, message in report.failed_feeds.items():
        console.print(f"[bold red]feed {feed} failed:[/] {message}")
