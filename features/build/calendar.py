"""The snapshot calendar: which months get a feature snapshot.

A snapshot at ``T`` (the first instant of a month, UTC) uses only rows dated strictly before ``T``. The data
window runs from the month of the first activity of the export (reviews, enrollments, ledger entries,
requisitions; employment events are left out because an HR export carries each person's history back to
their hire) to the month after the last dated row, so the newest snapshot sees every row. When nothing but
employment events is dated (an HR-only export), the window starts at the month of the first recorded exit.
"""

from __future__ import annotations

import duckdb
import pandas as pd

# (table, column) pairs that date activity in the export window.
_ACTIVITY_DATES: tuple[tuple[str, str], ...] = (
    ("reviews", "review_date"),
    ("enrollments", "enrolled_at"),
    ("points_ledger", "date"),
    ("requisitions", "opened_at"),
)
_LAST_DATES: tuple[tuple[str, str], ...] = (
    ("employment_events", "effective_date"),
    ("reviews", "review_date"),
    ("enrollments", "enrolled_at"),
    ("enrollments", "completed_at"),
    ("points_ledger", "date"),
    ("requisitions", "opened_at"),
    ("requisitions", "closed_at"),
    ("assessments", "assessed_at"),
)


def month_floor(ts: pd.Timestamp) -> pd.Timestamp:
    """The first instant of the month of ``ts`` (naive, UTC wall time)."""
    ts = pd.Timestamp(ts)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.to_period("M").to_timestamp()


def _first_hr_month(con: duckdb.DuckDBPyConnection) -> pd.Timestamp | None:
    """The window's start when only employment events are dated (an HR-only export): the first recorded exit.

    Before the first exit an HR export cannot show who left (people who left earlier are usually not in it), so
    earlier months hold only survivors; with no exit at all, the first event of any kind other than a hire.
    """
    (first,), = con.execute("""
        SELECT coalesce(min(effective_date) FILTER (WHERE event_type = 'termination'),
                        min(effective_date) FILTER (WHERE event_type <> 'hire'),
                        min(effective_date))
        FROM employment_events""").fetchall()
    return first


def snapshot_months(con: duckdb.DuckDBPyConnection, as_of: pd.Timestamp | str | None = None) -> list[pd.Timestamp]:
    """Month starts ``T`` to snapshot, from the clean tables registered on ``con``.

    ``as_of`` keeps only snapshots with ``T <= as_of`` (default: up to the month after the last dated row).
    """
    firsts = " UNION ALL ".join(f"SELECT min({c}) AS d FROM {t}" for t, c in _ACTIVITY_DATES)
    lasts = " UNION ALL ".join(f"SELECT max({c}) AS d FROM {t}" for t, c in _LAST_DATES)
    (first,), = con.execute(f"SELECT min(d) FROM ({firsts})").fetchall()
    (last,), = con.execute(f"SELECT max(d) FROM ({lasts})").fetchall()
    if first is None:
        first = _first_hr_month(con)
    if first is None or last is None:
        raise ValueError("no dated rows in the clean tables: ingest the feeds before building features")
    start = month_floor(first)
    end = month_floor(last) + pd.DateOffset(months=1)
    if as_of is not None:
        as_of_ts = pd.Timestamp(as_of)
        if pd.isna(as_of_ts):
            raise ValueError(f"as_of must be a date, got {as_of!r}")
        end = min(end, month_floor(as_of_ts))
    months = list(pd.date_range(start, end, freq="MS"))
    if not months:
        raise ValueError(f"as_of={as_of!r} is before the first snapshot month {start:%Y-%m-%d}")
    return months
