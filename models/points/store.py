"""The points store in the workspace's application database, written by ``talentloop score points`` and read
by the points API, the ``target=points`` recommendations and ``talentloop points``.

``points_balances``: one row per (month, person) (:func:`models.points.balances.balances`); ``course_points``:
each course's points under the rules at the last scoring. Erasure removes a person's rows (``erase_employee``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

import pandas as pd

from features.app_db import ensure_schema

NOT_SCORED = "no points balances yet: run `talentloop score points`"  # the API's 503 detail
COLUMNS = ("as_of", "employee_id", "org_unit_id", "job_level", "year_start", "year_end", "target", "earned",
           "pace_per_month", "balance", "projected", "remaining", "attainment", "projected_attainment", "met",
           "on_track", "months_left")


def ensure(con: sqlite3.Connection) -> None:
    """Create the tables when missing (their schema lives in :mod:`features.app_db`)."""
    ensure_schema(con)


def _plain(v: object) -> object:
    if v is None or v is pd.NA or (isinstance(v, float) and v != v):
        return None
    return v.item() if hasattr(v, "item") else v


def write(con: sqlite3.Connection, rows: pd.DataFrame, prices: pd.Series) -> int:
    """Replace the month's balances (re-scoring a month is idempotent) and the course points."""
    ensure(con)
    with con:
        for month in rows["as_of"].unique():
            con.execute("DELETE FROM points_balances WHERE as_of = ?", (str(month),))
        con.executemany(
            f"INSERT INTO points_balances ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
            [tuple(_plain(r[c]) for c in COLUMNS) for r in rows.to_dict(orient="records")])
        con.execute("DELETE FROM course_points")
        as_of = str(rows["as_of"].iloc[0]) if len(rows) else ""
        con.executemany("INSERT INTO course_points (course_id, points, as_of) VALUES (?, ?, ?)",
                        [(str(c), float(p), as_of) for c, p in prices.items()])
    return len(rows)


def latest_month(con: sqlite3.Connection) -> str | None:
    ensure(con)
    return con.execute("SELECT max(as_of) FROM points_balances").fetchone()[0]


def _dicts(cur: sqlite3.Cursor) -> list[dict]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def month_rows(con: sqlite3.Connection, as_of: str | None = None, org_units: Iterable[str] | None = None
               ) -> tuple[pd.DataFrame, str | None]:
    """Every balance of ``as_of`` (default: the latest month), optionally only in ``org_units``."""
    month = as_of or latest_month(con)
    frame = pd.DataFrame(_dicts(con.execute("SELECT * FROM points_balances WHERE as_of = ?", (month,))),
                         columns=list(COLUMNS))
    if org_units is not None:
        frame = frame[frame["org_unit_id"].isin(set(org_units))]
    for c in ("met", "on_track"):
        frame[c] = frame[c].astype(bool)
    return frame.reset_index(drop=True), month


def employee_balance(con: sqlite3.Connection, employee_id: str) -> dict | None:
    """The person's balance at the latest month they were scored."""
    ensure(con)
    rows = _dicts(con.execute("SELECT * FROM points_balances WHERE employee_id = ? ORDER BY as_of DESC LIMIT 1",
                              (employee_id,)))
    return rows[0] if rows else None


def employee_history(con: sqlite3.Connection, employee_id: str, limit: int = 12) -> list[dict]:
    return _dicts(con.execute("SELECT as_of, earned, target, projected FROM points_balances WHERE employee_id = ? "
                              "ORDER BY as_of DESC LIMIT ?", (employee_id, limit)))


def course_points(con: sqlite3.Connection) -> dict[str, float]:
    ensure(con)
    return {c: float(p) for c, p in con.execute("SELECT course_id, points FROM course_points")}


def erase_employee(con: sqlite3.Connection, employee_id: str) -> dict[str, int]:
    """Right to erasure: remove the person's points balances."""
    ensure(con)
    with con:
        n = con.execute("DELETE FROM points_balances WHERE employee_id = ?", (employee_id,)).rowcount
    return {"app:points_balances": int(n)}
