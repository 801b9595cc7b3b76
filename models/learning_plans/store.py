"""The recommendation log and the learning plans (tables of the workspace's application database).

- ``recommendation_log``: one row per course shown by the recommendation endpoints: request id, employee,
  course, rank shown, score, model version, the logging policy's propensity (``exploration``), whether the
  list was randomised, and when. The log is what a learning plan is checked against and what off-policy
  evaluation reads.
- ``learning_plans``: what the HR system recorded for a course: ``accepted``, ``planned`` or ``declined``,
  with the rank, score, model version and propensity of the recommendation it answers (empty for a plan
  recorded as unsolicited). A client-supplied idempotency key (unique per API key) makes a retried POST
  return the plan already recorded instead of a second row.

Both hold per-person rows: :func:`erase_employee` removes them (``talentloop erase``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from features.app_db import ensure_schema
from features.contract import PLAN_STATUSES

LOG_COLUMNS = ("request_id", "employee_id", "org_unit_id", "course_id", "rank", "score", "model_name",
               "model_version", "propensity", "explored", "exploration_share", "served_at", "features_as_of")


@dataclass(frozen=True)
class Logged:
    """One course shown to one employee in one request."""

    request_id: str
    employee_id: str
    org_unit_id: str | None
    course_id: str
    rank: int
    score: float | None
    model_name: str
    model_version: str
    propensity: float
    explored: bool
    exploration_share: float
    served_at: str
    features_as_of: str | None = None


@dataclass(frozen=True)
class Plan:
    plan_id: int
    caller_key_id: str
    idempotency_key: str
    employee_id: str
    org_unit_id: str | None
    course_id: str
    status: str
    recommended: bool
    request_id: str | None
    rank: int | None
    score: float | None
    model_name: str | None
    model_version: str | None
    propensity: float | None
    explored: bool | None
    note: str | None
    recorded_by: str
    recorded_at: str


class IdempotencyConflict(ValueError):
    """The idempotency key was already used for a different plan."""


def ensure(con: sqlite3.Connection) -> None:
    """Create the tables when missing (their schema lives in :mod:`features.app_db`)."""
    ensure_schema(con)


def log_shown(con: sqlite3.Connection, rows: Sequence[Logged]) -> int:
    if not rows:
        return 0
    with con:
        con.executemany(f"INSERT OR IGNORE INTO recommendation_log ({', '.join(LOG_COLUMNS)}) "
                        f"VALUES ({', '.join('?' * len(LOG_COLUMNS))})",
                        [tuple(getattr(r, c) for c in LOG_COLUMNS) for r in rows])
    return len(rows)


def last_shown(con: sqlite3.Connection, employee_id: str, course_id: str,
               request_id: str | None = None) -> Logged | None:
    """The latest time ``course_id`` was shown to ``employee_id`` (in ``request_id`` when given)."""
    sql = f"SELECT {', '.join(LOG_COLUMNS)} FROM recommendation_log WHERE employee_id = ? AND course_id = ?"
    args: list = [employee_id, course_id]
    if request_id is not None:
        sql += " AND request_id = ?"
        args.append(request_id)
    row = con.execute(sql + " ORDER BY served_at DESC LIMIT 1", args).fetchone()
    if row is None:
        return None
    values = dict(zip(LOG_COLUMNS, row, strict=True))
    return Logged(**{**values, "explored": bool(values["explored"])})


def _plan(row: sqlite3.Row | tuple, names: Sequence[str]) -> Plan:
    v = dict(zip(names, row, strict=True))
    v["recommended"] = bool(v["recommended"])
    v["explored"] = None if v["explored"] is None else bool(v["explored"])
    return Plan(**v)


def _fetch(con: sqlite3.Connection, where: str, args: Sequence) -> list[Plan]:
    cur = con.execute(f"SELECT * FROM learning_plans WHERE {where} ORDER BY plan_id", args)
    names = [d[0] for d in cur.description]
    return [_plan(r, names) for r in cur.fetchall()]


def record_plan(con: sqlite3.Connection, *, caller_key_id: str, idempotency_key: str, employee_id: str,
                org_unit_id: str | None, course_id: str, status: str, shown: Logged | None, note: str | None,
                recorded_by: str) -> tuple[Plan, bool]:
    """Insert a plan; returns (plan, created). The same key with the same plan returns the stored one
    (``created`` False); the same key with a different plan raises :class:`IdempotencyConflict`."""
    if status not in PLAN_STATUSES:
        raise ValueError(f"status must be one of {', '.join(PLAN_STATUSES)}, got {status!r}")
    with con:
        old = _fetch(con, "caller_key_id = ? AND idempotency_key = ?", (caller_key_id, idempotency_key))
        if old:
            p = old[0]
            same = (p.employee_id, p.course_id, p.status, p.recommended, p.note) == (
                employee_id, course_id, status, shown is not None, note)
            if not same:
                raise IdempotencyConflict(
                    f"idempotency key {idempotency_key!r} was already used for another plan (plan {p.plan_id}: "
                    f"{p.employee_id}, {p.course_id}, {p.status}); use a new key for a new plan")
            return p, False
        now = pd.Timestamp.now(tz="UTC").isoformat()
        s = shown
        cur = con.execute(
            "INSERT INTO learning_plans (caller_key_id, idempotency_key, employee_id, org_unit_id, course_id, status, "
            "recommended, request_id, rank, score, model_name, model_version, propensity, explored, note, recorded_by, "
            "recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (caller_key_id, idempotency_key, employee_id, org_unit_id, course_id, status, int(s is not None),
             s and s.request_id, s and s.rank, s and s.score, s and s.model_name, s and s.model_version,
             s and s.propensity, None if s is None else int(s.explored), note, recorded_by, now))
        return _fetch(con, "plan_id = ?", (cur.lastrowid,))[0], True


def plans_of(con: sqlite3.Connection, employee_id: str) -> list[Plan]:
    return _fetch(con, "employee_id = ?", (employee_id,))


def read_log(con: sqlite3.Connection) -> pd.DataFrame:
    """The whole recommendation log with the plan recorded for each shown course (``plan_status``, or None)."""
    ensure(con)
    log = pd.read_sql_query(f"SELECT {', '.join(LOG_COLUMNS)} FROM recommendation_log", con)
    plans = pd.read_sql_query("SELECT request_id, course_id, status AS plan_status, recorded_at AS plan_recorded_at "
                              "FROM learning_plans WHERE recommended = 1 ORDER BY plan_id", con)
    plans = plans.drop_duplicates(["request_id", "course_id"], keep="last")
    return log.merge(plans, on=["request_id", "course_id"], how="left")


def erase_employee(con: sqlite3.Connection, employee_id: str) -> dict[str, int]:
    """Right to erasure: the person's recommendation log rows and learning plans."""
    ensure(con)
    with con:
        shown = con.execute("DELETE FROM recommendation_log WHERE employee_id = ?", (employee_id,)).rowcount
        plans = con.execute("DELETE FROM learning_plans WHERE employee_id = ?", (employee_id,)).rowcount
    return {"app:recommendation_log": int(shown), "app:learning_plans": int(plans)}
