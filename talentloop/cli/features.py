"""``talentloop features build | apply | materialize``: clean tables → feature tables → Feast.

Feast is imported inside the commands (importing it takes seconds), so ``talentloop --help`` stays fast.
"""

from __future__ import annotations

import time

import typer

from talentloop.cli._common import console, fail, settings, summary, writes


def register(app: typer.Typer) -> None:
    """Add the ``features`` command group to the root app."""
    group = typer.Typer(help="Build point-in-time features and serve them through Feast.", no_args_is_help=True)

    @group.command("build")
    @writes("features build")
    def build(as_of: str = typer.Option(None, help="Only snapshots up to this date (YYYY-MM-DD); default: all.")) -> None:
        """Build the monthly feature tables from the clean tables (point-in-time correct)."""
        from features.build import build_features
        from features.offline import current_version_dir

        s = settings()
        if current_version_dir(s) is None:
            raise fail(f"no clean tables under {s.clean_dir}: run `talentloop ingest DIR` first")
        start = time.perf_counter()
        try:
            rows = build_features(s, as_of=as_of)
        except ValueError as exc:
            raise fail(str(exc)) from exc
        seconds = time.perf_counter() - start
        console.print(summary(f"features built in {seconds:.1f} s → {s.feature_dir}", ["table", "rows"],
                              [(t, f"{n:,}") for t, n in rows.items()]))

    @group.command("apply")
    @writes("features apply")
    def apply() -> None:
        """Register entities, feature views and feature services in the Feast registry."""
        from features.store import apply as apply_repo

        s = settings()
        start = time.perf_counter()
        counts = apply_repo(s)
        seconds = time.perf_counter() - start
        console.print(summary(f"feast repo applied in {seconds:.1f} s → {s.feast_dir}", ["object", "count"],
                              sorted(counts.items())))

    @group.command("materialize")
    @writes("features materialize")
    def materialize(as_of: str = typer.Option(None, help="Latest snapshot at or before this date; default: newest.")) -> None:
        """Load the newest snapshot of every entity into the online store."""
        from features.store import materialize as materialize_latest

        s = settings()
        start = time.perf_counter()
        try:
            rows = materialize_latest(s, as_of=as_of)
        except FileNotFoundError as exc:
            raise fail(str(exc)) from exc
        seconds = time.perf_counter() - start
        console.print(summary(f"online store ({s.online_store}) loaded in {seconds:.1f} s", ["feature view", "rows"],
                              [(t, f"{n:,}") for t, n in rows.items()]))

    app.add_typer(group, name="features")
