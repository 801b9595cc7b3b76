"""An HR suite's learning-plan export (the optional feed table ``learning/learning_plans``, after ingest has
accepted, quarantined and de-duplicated its rows) loaded into the application database: the courses shown go
to ``recommendation_log``, the statuses to ``learning_plans`` (``docs/learning-plans.md``).

Loading is idempotent: a shown course is keyed by (request, course) and a plan by its idempotency key
``feed:<request_id>:<course_id>`` (caller ``feed``), so loading the same table again adds nothing.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import pandas as pd

from models.learning_plans.store import LOG_COLUMNS, ensure

CALLER = "feed"
RECORDED_BY = "talentloop ingest (learning_plans feed)"
FEED_MODEL_VERSION = "feed"


@dataclass(frozen=True)
class Loaded:
    requests: int
    shown: int  # rows of the table
    shown_added: int  # of those, new in the recommendation log
    plans: int  # rows with a status
    plans_added: int


def _served_at(dates: pd.Series) -> pd.Series:
    return pd.to_datetime(dates).dt.strftime("%Y-%m-%dT00:00:00+00:00")


def load(con: sqlite3.Connection, table: pd.DataFrame) -> Loaded:
    """Insert the clean ``learning_plans`` rows into the recommendation log and the plans table."""
    ensure(con)
    t = table.dropna(subset=["request_id", "employee_id", "course_id", "served_at", "propensity"])
    if t.empty:
        return Loaded(0, 0, 0, 0, 0)
    served = _served_at(t["served_at"])
    explored = t["explored"].astype("boolean").fillna(False).astype(bool) if "explored" in t else False
    share = pd.to_numeric(t.get("exploration_share"), errors="coerce") if "exploration_share" in t else None
    log = pd.DataFrame({
        "request_id": t["request_id"].astype(str), "employee_id": t["employee_id"].astype(str),
        "org_unit_id": None, "course_id": t["course_id"].astype(str), "rank": t["rank"].astype(int),
        "score": pd.to_numeric(t["score"], errors="coerce"), "model_name": t["policy"].astype(str),
        "model_version": FEED_MODEL_VERSION, "propensity": t["propensity"].astype(float),
        "explored": pd.Series(explored, index=t.index).astype(int),
        "exploration_share": (share.fillna(0.0) if share is not None else 0.0),
        "served_at": served, "features_as_of": None})
    rows = [tuple(None if pd.isna(v) else v for v in r) for r in log[list(LOG_COLUMNS)].itertuples(index=False)]
    planned = log.assign(status=t["status"]).dropna(subset=["status"])
    plan_rows = [(CALLER, f"feed:{r.request_id}:{r.course_id}", r.employee_id, None, r.course_id, r.status, 1,
                  r.request_id, int(r.rank), None if pd.isna(r.score) else float(r.score), r.model_name,
                  r.model_version, float(r.propensity), int(r.explored), None, RECORDED_BY, r.served_at)
                 for r in planned.itertuples(index=False)]
    with con:
        before = con.execute("SELECT COUNT(*) FROM recommendation_log").fetchone()[0]
        con.executemany(f"INSERT OR IGNORE INTO recommendation_log ({', '.join(LOG_COLUMNS)}) "
                        f"VALUES ({', '.join('?' * len(LOG_COLUMNS))})", rows)
        after = con.execute("SELECT COUNT(*) FROM recommendation_log").fetchone()[0]
        p_before = con.execute("SELECT COUNT(*) FROM learning_plans").fetchone()[0]
        con.executemany(
            "INSERT OR IGNORE INTO learning_plans (caller_key_id, idempotency_key, employee_id, org_unit_id, "
            "course_id, status, recommended, request_id, rank, score, model_name, model_version, propensity, "
            "explored, note, recorded_by, recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", plan_rows)
        p_after = con.execute("SELECT COUNT(*) FROM learning_plans").fetchone()[0]
    return Loaded(requests=int(log["request_id"].nunique()), shown=len(log), shown_added=int(after - before),
                  plans=len(plan_rows), plans_added=int(p_after - p_before))


def describe(loaded: Loaded) -> str:
    """One line for the ingest output (English; the CLI is English-only like the rest of its output)."""
    return (f"learning plans: {loaded.shown:,} courses shown in {loaded.requests:,} requests are in the "
            f"recommendation log ({loaded.shown_added:,} new), {loaded.plans:,} plan statuses "
            f"({loaded.plans_added:,} new)")
