"""The one feature-building step: clean tables → monthly point-in-time feature tables (Parquet).

``build_features(settings)`` reads the published clean tables, computes every feature table in one DuckDB
session and writes them to ``settings.feature_dir`` as ``<table>.parquet`` with ``event_timestamp`` as a
UTC timestamp in microseconds (Feast's DuckDB offline store rejects nanoseconds). A snapshot at ``T``
uses only rows dated strictly before ``T``. All tables are written to temporary files first and then
moved into place with ``os.replace``, so readers never see a half-written table.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd

from features import progress
from features.build.base import create_base_tables, register_clean_tables
from features.build.calendar import snapshot_months
from features.build.course import course_stats_sql, job_course_stats_sql
from features.build.employee import EMPLOYEE_HELPERS, employee_monthly_sql
from features.build.org_unit import create_closure, org_unit_monthly_sql
from features.build.talent_pool import load_rules, talent_pool_monthly_sql
from features.build.unit_skill import unit_skill_monthly_sql
from features.settings import Settings

MEMORY_LIMIT = "5GB"

# Feature table → its entity key columns (the Feast sources read these files).
FEATURE_TABLES: dict[str, tuple[str, ...]] = {
    "employee_monthly": ("employee_id",),
    "course_stats": ("course_id",),
    "job_course_stats": ("job_id", "course_id"),
    "org_unit_monthly": ("org_unit_id",),
    "unit_skill_monthly": ("org_unit_id", "skill_id"),
    "talent_pool_monthly": ("employee_id",),
}


def feature_path(feature_dir: Path, table: str) -> Path:
    """Where a feature table lives."""
    if table not in FEATURE_TABLES:
        raise KeyError(f"unknown feature table {table!r}; tables are {', '.join(FEATURE_TABLES)}")
    return Path(feature_dir) / f"{table}.parquet"


def _write_sorted(con: duckdb.DuckDBPyConnection, sql: str, keys: tuple[str, ...], path: Path) -> int:
    """Write the rows of ``sql`` sorted by ``keys`` and ``event_timestamp`` to ``path``; returns the row count."""
    written = con.execute(
        f"COPY (SELECT * FROM ({sql}) ORDER BY {', '.join(keys)}, event_timestamp) TO '{path}' "
        "(FORMAT parquet, COMPRESSION zstd)"
    ).fetchall()
    return int(written[0][0]) if written else 0


def build_features(settings: Settings, as_of: pd.Timestamp | str | None = None) -> dict[str, int]:
    """Build every feature table from the clean tables; returns rows written per table.

    ``as_of`` limits snapshots to months ``T <= as_of`` (default: through the month after the last row).
    """
    settings.feature_dir.mkdir(parents=True, exist_ok=True)
    pool_rules = load_rules(settings)
    spill = settings.feature_dir / f".duckdb-spill-{uuid.uuid4().hex[:8]}"
    # DuckDB spills to disk beyond MEMORY_LIMIT, which keeps 100k employees × 36 months under 8 GiB.
    con = duckdb.connect(config={"temp_directory": str(spill), "preserve_insertion_order": False,
                                 "memory_limit": MEMORY_LIMIT})
    staged: dict[str, Path] = {}
    try:
        register_clean_tables(con, settings)
        months = snapshot_months(con, as_of)
        create_base_tables(con, months)
        create_closure(con)
        # Each table is prepared and written in turn, so its output is sorted while the helper tables of
        # later tables do not exist yet; employee_monthly's helpers are dropped once it is written.
        builders: dict[str, Callable[[duckdb.DuckDBPyConnection], str]] = {
            "employee_monthly": employee_monthly_sql,
            "course_stats": course_stats_sql,
            "job_course_stats": job_course_stats_sql,
            "org_unit_monthly": org_unit_monthly_sql,
            "unit_skill_monthly": unit_skill_monthly_sql,
            "talent_pool_monthly": lambda c: talent_pool_monthly_sql(c, pool_rules, staged["employee_monthly"]),
        }
        rows: dict[str, int] = {}
        for table, builder in progress.track(builders.items(), "features: build tables"):
            target = feature_path(settings.feature_dir, table)
            staged[table] = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
            rows[table] = _write_sorted(con, builder(con), FEATURE_TABLES[table], staged[table])
            if table == "employee_monthly":
                for helper in EMPLOYEE_HELPERS:
                    con.execute(f"DROP TABLE {helper}")
        for table, tmp in staged.items():
            os.replace(tmp, feature_path(settings.feature_dir, table))
        staged.clear()
        return rows
    finally:
        con.close()
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)
        if spill.exists():
            for f in spill.iterdir():
                f.unlink()
            spill.rmdir()
