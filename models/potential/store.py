"""The talent score store (table ``talent_scores`` of the application database, :mod:`features.app_db`), written by
``talentloop score potential`` and read by the talent-pool API and CLI.

One row per (as_of month, employee): pool membership, potential with its explanation (en / zh), readiness for
the next job, the attrition risk of the same month (when attrition was scored), impact of loss and expected loss.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence

import pandas as pd

from models.attrition.alerts import risks_at

COLUMNS = ("as_of", "employee_id", "org_unit_id", "pool_unit_id", "talent_pool_member", "pool_rank", "potential",
           "high_potential", "next_job_id", "readiness", "risk", "risk_horizon", "alert_id", "impact",
           "expected_loss", "regrettable", "model_version", "detail")
SORTS = {"expected_loss": "expected_loss", "risk": "risk", "potential": "potential", "readiness": "readiness"}


def _plain(v: object) -> object:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, float) and v != v:
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


def write(con: sqlite3.Connection, rows: pd.DataFrame) -> int:
    """Replace the rows of the months in ``rows`` (re-scoring a month is idempotent)."""
    with con:
        for month in rows["as_of"].unique():
            con.execute("DELETE FROM talent_scores WHERE as_of = ?", (str(month),))
        con.executemany(
            f"INSERT INTO talent_scores ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
            [tuple(json.dumps(r[c], ensure_ascii=False) if c == "detail" else _plain(r[c]) for c in COLUMNS)
             for r in rows.to_dict(orient="records")])
    return len(rows)


def latest_month(con: sqlite3.Connection) -> str | None:
    row = con.execute("SELECT max(as_of) FROM talent_scores").fetchone()
    return row[0] if row else None


def _rows(cur: sqlite3.Cursor) -> list[dict]:
    names = [d[0] for d in cur.description]
    out = []
    for values in cur.fetchall():
        rec = dict(zip(names, values, strict=True))
        rec["detail"] = json.loads(rec["detail"]) if rec.get("detail") else {}
        out.append(rec)
    return out


def list_scores(con: sqlite3.Connection, org_units: Iterable[str] | None = None, members_only: bool = False,
                alerts_only: bool = False, sort: str = "expected_loss", limit: int = 100, offset: int = 0,
                as_of: str | None = None) -> tuple[list[dict], int, str | None]:
    """(rows, total, as_of) of the latest month (or ``as_of``), filtered and sorted (descending, nulls last)."""
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}, got {sort!r}")
    month = as_of or latest_month(con)
    if month is None:
        return [], 0, None
    where, params = ["as_of = ?"], [month]
    if org_units is not None:
        units = list(org_units)
        if not units:
            return [], 0, month
        where.append(f"org_unit_id IN ({', '.join('?' * len(units))})")
        params += units
    if members_only:
        where.append("talent_pool_member = 1")
    if alerts_only:
        where.append("alert_id IS NOT NULL")
    clause = " AND ".join(where)
    total = con.execute(f"SELECT count(*) FROM talent_scores WHERE {clause}", params).fetchone()[0]
    col = SORTS[sort]
    cur = con.execute(f"SELECT * FROM talent_scores WHERE {clause} ORDER BY {col} IS NULL, {col} DESC, employee_id "
                      "LIMIT ? OFFSET ?", [*params, limit, offset])
    return _rows(cur), int(total), month


def employee_score(con: sqlite3.Connection, employee_id: str) -> dict | None:
    cur = con.execute("SELECT * FROM talent_scores WHERE employee_id = ? ORDER BY as_of DESC LIMIT 1", (employee_id,))
    rows = _rows(cur)
    return rows[0] if rows else None


def attrition_month(con: sqlite3.Connection, as_of: str, horizon: int) -> pd.DataFrame:
    """Risk at ``horizon`` and the alert id per employee from the attrition store for month ``as_of`` (empty
    frame when attrition was not scored that month)."""
    return risks_at(con, horizon, as_of)[["employee_id", "risk", "alert_id"]]


def erase_employee(con: sqlite3.Connection, employee_id: str) -> dict[str, int]:
    """Right to erasure: remove the person's talent scores."""
    with con:
        n = con.execute("DELETE FROM talent_scores WHERE employee_id = ?", (employee_id,)).rowcount
    return {"app:talent_scores": int(n)}


def columns_of(rows: Sequence[dict]) -> list[str]:
    return [c for c in COLUMNS if c != "detail"]
