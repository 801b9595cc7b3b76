"""Training-need findings and webhook deliveries in the workspace's application database.

``training_needs``: one row per finding (``finding_id`` is stable for a month, unit, rule and skill, so
re-scoring a month replaces its findings and never sends one twice); ``detail`` holds the finding as JSON
(sentences in en / zh, courses). ``webhook_deliveries``: every attempt to deliver findings (one row per
attempt: when, where, HTTP status or error, outcome). Findings are group aggregates: no per-person rows.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from features.app_db import ensure_schema


def ensure(con: sqlite3.Connection) -> None:
    """Create the tables when missing (their schema lives in :mod:`features.app_db`)."""
    ensure_schema(con)


def write(con: sqlite3.Connection, as_of: str, findings: list[dict]) -> int:
    """Replace the month's findings; a finding already delivered keeps its delivery."""
    ensure(con)
    delivered = {r[0]: (r[1], r[2]) for r in con.execute(
        "SELECT finding_id, delivered_at, delivery_id FROM training_needs WHERE as_of = ? AND delivered_at IS NOT NULL",
        (as_of,))}
    with con:
        con.execute("DELETE FROM training_needs WHERE as_of = ?", (as_of,))
        con.executemany(
            "INSERT INTO training_needs (finding_id, as_of, org_unit_id, rule, kind, skill_id, share_below, n_below, "
            "n_assessed, detail, delivered_at, delivery_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(f["finding_id"], as_of, f["org_unit_id"], f["rule"], f["kind"], f["skill_id"], f["share_below"],
              f["n_below"], f["n_assessed"], json.dumps(f, ensure_ascii=False),
              *delivered.get(f["finding_id"], (None, None))) for f in findings])
    return len(findings)


def latest_month(con: sqlite3.Connection) -> str | None:
    ensure(con)
    return con.execute("SELECT max(as_of) FROM training_needs").fetchone()[0]


def findings(con: sqlite3.Connection, as_of: str | None = None, org_units: Iterable[str] | None = None,
             undelivered: bool = False) -> tuple[list[dict], str | None]:
    """The findings of ``as_of`` (default: the latest month diagnosed), optionally only in ``org_units``."""
    ensure(con)
    month = as_of or latest_month(con)
    sql = "SELECT detail, delivered_at, delivery_id FROM training_needs WHERE as_of = ?"
    if undelivered:
        sql += " AND delivered_at IS NULL"
    rows = con.execute(sql + " ORDER BY org_unit_id, rule, skill_id", (month,)).fetchall()
    wanted = None if org_units is None else set(org_units)
    out = []
    for detail, delivered_at, delivery_id in rows:
        f = json.loads(detail)
        if wanted is None or f["org_unit_id"] in wanted:
            out.append({**f, "delivered_at": delivered_at, "delivery_id": delivery_id})
    return out, month


def months(con: sqlite3.Connection) -> list[str]:
    ensure(con)
    return [r[0] for r in con.execute("SELECT DISTINCT as_of FROM training_needs ORDER BY as_of")]


def log_attempt(con: sqlite3.Connection, row: dict) -> None:
    ensure(con)
    with con:
        con.execute("INSERT INTO webhook_deliveries (delivery_id, attempt, at, url, event, finding_ids, status_code, "
                    "outcome, error, duration_ms, signature) VALUES (:delivery_id, :attempt, :at, :url, :event, "
                    ":finding_ids, :status_code, :outcome, :error, :duration_ms, :signature)", row)


def mark_delivered(con: sqlite3.Connection, finding_ids: list[str], delivery_id: str, at: str) -> None:
    with con:
        con.executemany("UPDATE training_needs SET delivered_at = ?, delivery_id = ? WHERE finding_id = ?",
                        [(at, delivery_id, f) for f in finding_ids])


def attempts(con: sqlite3.Connection, limit: int = 50) -> list[dict]:
    ensure(con)
    cur = con.execute("SELECT delivery_id, attempt, at, url, event, finding_ids, status_code, outcome, error, "
                      "duration_ms FROM webhook_deliveries ORDER BY at DESC, attempt DESC LIMIT ?", (limit,))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
