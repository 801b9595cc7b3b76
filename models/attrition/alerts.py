"""The attrition score and alert store (SQLite in the workspace), written by batch scoring, read by the API.

- ``attrition_scores``: one row per (as_of month, employee): risk per horizon and the top drivers.
- ``attrition_alerts``: one row per (as_of, employee) above the model's threshold policy; re-scoring the same
  month updates scores but never duplicates an alert, and keeps its review status.
- ``alert_reviews``: the append-only review history (acknowledged / actioned / dismissed, action, note).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

REVIEW_STATUSES = ("acknowledged", "actioned", "dismissed")
STATUSES = ("open", *REVIEW_STATUSES)

SCHEMA = """
CREATE TABLE IF NOT EXISTS attrition_scores (
    as_of TEXT NOT NULL, employee_id TEXT NOT NULL, org_unit_id TEXT, model_version TEXT NOT NULL,
    risks TEXT NOT NULL, explanation TEXT NOT NULL, scored_at TEXT NOT NULL,
    PRIMARY KEY (as_of, employee_id));
CREATE INDEX IF NOT EXISTS attrition_scores_employee ON attrition_scores (employee_id, as_of);
CREATE TABLE IF NOT EXISTS attrition_alerts (
    alert_id TEXT PRIMARY KEY, as_of TEXT NOT NULL, employee_id TEXT NOT NULL, org_unit_id TEXT,
    horizon INTEGER NOT NULL, risk REAL NOT NULL, model_version TEXT NOT NULL, explanation TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open', created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    UNIQUE (as_of, employee_id));
CREATE INDEX IF NOT EXISTS alerts_unit ON attrition_alerts (org_unit_id, status);
CREATE TABLE IF NOT EXISTS alert_reviews (
    review_id INTEGER PRIMARY KEY AUTOINCREMENT, alert_id TEXT NOT NULL REFERENCES attrition_alerts(alert_id),
    status TEXT NOT NULL, action_taken TEXT, note TEXT, reviewer TEXT NOT NULL, reviewed_at TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS reviews_append_only_u BEFORE UPDATE ON alert_reviews
    BEGIN SELECT RAISE(ABORT, 'alert_reviews is append-only'); END;
CREATE TRIGGER IF NOT EXISTS reviews_append_only_d BEFORE DELETE ON alert_reviews
    BEGIN SELECT RAISE(ABORT, 'alert_reviews is append-only'); END;
"""


@dataclass(frozen=True)
class Alert:
    alert_id: str
    as_of: str
    employee_id: str
    org_unit_id: str | None
    horizon: int
    risk: float
    model_version: str
    explanation: dict
    status: str
    created_at: str
    updated_at: str


def connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=30, check_same_thread=False)
    con.execute("PRAGMA journal_mode=WAL")
    con.executescript(SCHEMA)
    return con


def alert_id(as_of: str, employee_id: str) -> str:
    return f"att-{as_of.replace('-', '')[:6]}-{employee_id}"


def write_scores(con: sqlite3.Connection, scores: pd.DataFrame, alerts: pd.DataFrame) -> tuple[int, int]:
    """Upsert scores; insert new alerts, refresh risk of existing open ones. Returns (scores, new alerts)."""
    now = pd.Timestamp.now(tz="UTC").isoformat()
    with con:
        con.executemany(
            "INSERT INTO attrition_scores VALUES (?,?,?,?,?,?,?) ON CONFLICT(as_of, employee_id) DO UPDATE SET "
            "org_unit_id=excluded.org_unit_id, model_version=excluded.model_version, risks=excluded.risks, "
            "explanation=excluded.explanation, scored_at=excluded.scored_at",
            [(r.as_of, r.employee_id, r.org_unit_id, r.model_version, json.dumps(r.risks),
              json.dumps(r.explanation, ensure_ascii=False), now) for r in scores.itertuples()],
        )
        before = con.total_changes
        con.executemany(
            "INSERT INTO attrition_alerts (alert_id, as_of, employee_id, org_unit_id, horizon, risk, model_version, "
            "explanation, status, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?, 'open', ?, ?) "
            "ON CONFLICT(as_of, employee_id) DO NOTHING",
            [(alert_id(r.as_of, r.employee_id), r.as_of, r.employee_id, r.org_unit_id, int(r.horizon), float(r.risk),
              r.model_version, json.dumps(r.explanation, ensure_ascii=False), now, now) for r in alerts.itertuples()],
        )
        new = con.total_changes - before
    return len(scores), new


def list_alerts(
    con: sqlite3.Connection,
    org_units: Sequence[str] | None = None,
    status: str | None = None,
    min_risk: float | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[Alert], int]:
    """Alerts newest month first, highest risk first; ``org_units=None`` means every unit."""
    where, args = [], []
    if org_units is not None:
        if not org_units:
            return [], 0
        where.append(f"org_unit_id IN ({','.join('?' * len(org_units))})")
        args.extend(org_units)
    if status is not None:
        where.append("status = ?")
        args.append(status)
    if min_risk is not None:
        where.append("risk >= ?")
        args.append(min_risk)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    total = con.execute(f"SELECT COUNT(*) FROM attrition_alerts {clause}", args).fetchone()[0]
    rows = con.execute(
        f"SELECT * FROM attrition_alerts {clause} ORDER BY as_of DESC, risk DESC, alert_id LIMIT ? OFFSET ?",
        [*args, page_size, (page - 1) * page_size],
    ).fetchall()
    return [_alert(r) for r in rows], total


def get_alert(con: sqlite3.Connection, alert: str) -> Alert | None:
    row = con.execute("SELECT * FROM attrition_alerts WHERE alert_id = ?", (alert,)).fetchone()
    return _alert(row) if row else None


def review(con: sqlite3.Connection, alert: str, status: str, reviewer: str, action_taken: str | None = None,
           note: str | None = None) -> list[dict]:
    """Record a review (append-only) and set the alert's status; returns the alert's review history."""
    if status not in REVIEW_STATUSES:
        raise ValueError(f"status must be one of {REVIEW_STATUSES}, got {status!r}")
    now = pd.Timestamp.now(tz="UTC").isoformat()
    with con:
        if con.execute("SELECT 1 FROM attrition_alerts WHERE alert_id = ?", (alert,)).fetchone() is None:
            raise KeyError(alert)
        con.execute("INSERT INTO alert_reviews (alert_id, status, action_taken, note, reviewer, reviewed_at) "
                    "VALUES (?,?,?,?,?,?)", (alert, status, action_taken, note, reviewer, now))
        con.execute("UPDATE attrition_alerts SET status = ?, updated_at = ? WHERE alert_id = ?", (status, now, alert))
    return history(con, alert)


def history(con: sqlite3.Connection, alert: str) -> list[dict]:
    cur = con.execute("SELECT review_id, status, action_taken, note, reviewer, reviewed_at FROM alert_reviews "
                      "WHERE alert_id = ? ORDER BY review_id", (alert,))
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def latest_score(con: sqlite3.Connection, employee_id: str) -> dict | None:
    row = con.execute("SELECT as_of, model_version, risks, explanation FROM attrition_scores WHERE employee_id = ? "
                      "ORDER BY as_of DESC LIMIT 1", (employee_id,)).fetchone()
    if row is None:
        return None
    return {"as_of": row[0], "model_version": row[1], "risks": json.loads(row[2]), "explanation": json.loads(row[3])}


def _alert(row: Iterable) -> Alert:
    r = list(row)
    r[7] = json.loads(r[7])
    return Alert(*r)


def erase_employee(con: sqlite3.Connection, employee_id: str) -> dict[str, int]:
    """Right to erasure: remove a person's scores, alerts and the reviews of those alerts.

    The one sanctioned exception to the append-only review log: the guard triggers are dropped and re-created
    inside the same transaction, so nothing else can slip through while they are off.
    """
    with con:
        alerts = [r[0] for r in con.execute("SELECT alert_id FROM attrition_alerts WHERE employee_id = ?",
                                            (employee_id,))]
        con.execute("DROP TRIGGER IF EXISTS reviews_append_only_d")
        reviews = con.execute(f"DELETE FROM alert_reviews WHERE alert_id IN ({','.join('?' * len(alerts))})",
                              alerts).rowcount if alerts else 0
        n_alerts = con.execute("DELETE FROM attrition_alerts WHERE employee_id = ?", (employee_id,)).rowcount
        n_scores = con.execute("DELETE FROM attrition_scores WHERE employee_id = ?", (employee_id,)).rowcount
        con.execute("CREATE TRIGGER reviews_append_only_d BEFORE DELETE ON alert_reviews "
                    "BEGIN SELECT RAISE(ABORT, 'alert_reviews is append-only'); END")
    return {"app:attrition_scores": n_scores, "app:attrition_alerts": n_alerts, "app:alert_reviews": reviews}
