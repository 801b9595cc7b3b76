"""The attrition score and alert store (tables of the application database, :mod:`features.app_db`), written by
batch scoring, read by the API, the console and the monitor.

- ``attrition_scores``: one row per (as_of month, employee): a :class:`StoredScore`, the risk per horizon and the
  explanation, levers and context at the model's alert horizon.
- ``attrition_alerts``: one row per (as_of, employee) above the model's threshold policy; re-scoring the same
  month updates scores but never duplicates an alert, and keeps its review status.
- ``alert_reviews``: the append-only review history (acknowledged / actioned / dismissed, action, note).

A score's explanation column holds one JSON object (``horizon``, ``base_value``, ``contributions``, ``reasons``
per language, ``levers``, ``context``); :meth:`StoredScore.explanation_json` writes it and
:func:`_explained` is the one place that reads it back (rows scored before levers or context were stored read
as having none).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from features.app_db import connect as connect  # re-exported: the one way to open the application database
from features.app_db import unguarded
from models.explanation import StoredExplanation

REVIEW_STATUSES = ("acknowledged", "actioned", "dismissed")
STATUSES = ("open", *REVIEW_STATUSES)


@dataclass(frozen=True)
class Explained:
    """What batch scoring stores about one person at the model's alert horizon."""

    horizon: int | None  # None: rows scored before the horizon was stored
    explanation: StoredExplanation
    levers: tuple[dict, ...] | None = None  # model-based what-ifs, priced (``AttritionModel.levers`` +
    # ``price_levers``); None: scored before levers were stored
    context: Mapping | None = None  # what an alert shows about the person (``models.wording.alerts``)


@dataclass(frozen=True)
class StoredScore:
    """One stored attrition score: the risk at every horizon and what explains it at the alert horizon."""

    as_of: str
    employee_id: str
    org_unit_id: str | None
    model_version: str
    risks: Mapping[int, float]  # horizon (months) -> P(exit within it)
    explained: Explained
    scored_at: str | None = field(default=None, compare=False)

    @property
    def horizon(self) -> int | None:
        return self.explained.horizon

    def risk(self, horizon: int) -> float:
        return self.risks[horizon]

    def made_from(self, version: str, features_as_of: datetime | None) -> bool:
        """True when this score came from model ``version`` on the feature month ``features_as_of``: the same
        inputs, so the same numbers as scoring them now."""
        return (features_as_of is not None and self.model_version == str(version)
                and str(self.as_of)[:10] == features_as_of.date().isoformat())

    def risks_json(self) -> str:
        return json.dumps({f"h{h}": float(r) for h, r in self.risks.items()})

    def explanation_json(self) -> str:
        e = self.explained
        return json.dumps({"horizon": e.horizon, **e.explanation.to_dict(),
                           "levers": None if e.levers is None else list(e.levers),
                           "context": None if e.context is None else dict(e.context)}, ensure_ascii=False)


@dataclass(frozen=True)
class Alert:
    alert_id: str
    as_of: str
    employee_id: str
    org_unit_id: str | None
    horizon: int
    risk: float
    model_version: str
    explained: Explained
    status: str
    created_at: str
    updated_at: str

    @property
    def explanation(self) -> StoredExplanation:
        return self.explained.explanation


def _risks(text: str) -> dict[int, float]:
    return {int(k[1:]): float(v) for k, v in json.loads(text).items()}


def _explained(text: str) -> Explained:
    d = json.loads(text)
    levers = d.get("levers")
    return Explained(d.get("horizon"), StoredExplanation.from_dict(d), None if levers is None else tuple(levers),
                     d.get("context") or None)


def alert_id(as_of: str, employee_id: str) -> str:
    return f"att-{as_of.replace('-', '')[:6]}-{employee_id}"


def write_scores(con: sqlite3.Connection, scores: Sequence[StoredScore], alerts: Sequence[StoredScore]
                 ) -> tuple[int, int]:
    """Upsert scores; insert the alerts not raised yet (each at its score's horizon). Returns (scores, new
    alerts)."""
    now = pd.Timestamp.now(tz="UTC").isoformat()
    with con:
        con.executemany(
            "INSERT INTO attrition_scores VALUES (?,?,?,?,?,?,?) ON CONFLICT(as_of, employee_id) DO UPDATE SET "
            "org_unit_id=excluded.org_unit_id, model_version=excluded.model_version, risks=excluded.risks, "
            "explanation=excluded.explanation, scored_at=excluded.scored_at",
            [(s.as_of, s.employee_id, s.org_unit_id, s.model_version, s.risks_json(), s.explanation_json(), now)
             for s in scores],
        )
        before = con.total_changes
        con.executemany(
            "INSERT INTO attrition_alerts (alert_id, as_of, employee_id, org_unit_id, horizon, risk, model_version, "
            "explanation, status, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?, 'open', ?, ?) "
            "ON CONFLICT(as_of, employee_id) DO NOTHING",
            [(alert_id(a.as_of, a.employee_id), a.as_of, a.employee_id, a.org_unit_id, int(a.horizon),
              float(a.risk(a.horizon)), a.model_version, a.explanation_json(), now, now) for a in alerts],
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


_SCORE = "SELECT as_of, employee_id, org_unit_id, model_version, risks, explanation, scored_at FROM attrition_scores"


def latest_score(con: sqlite3.Connection, employee_id: str) -> StoredScore | None:
    """The person's most recent stored score."""
    row = con.execute(f"{_SCORE} WHERE employee_id = ? ORDER BY as_of DESC LIMIT 1", (employee_id,)).fetchone()
    return _score(row) if row else None


def score_of(con: sqlite3.Connection, as_of: str, employee_id: str) -> StoredScore | None:
    """The person's stored score of month ``as_of``."""
    row = con.execute(f"{_SCORE} WHERE as_of = ? AND employee_id = ?", (as_of, employee_id)).fetchone()
    return _score(row) if row else None


def _score(row: Sequence) -> StoredScore:
    return StoredScore(row[0], row[1], row[2], row[3], _risks(row[4]), _explained(row[5]), row[6])


def risks_at(con: sqlite3.Connection, horizon: int, as_of: str | None = None) -> pd.DataFrame:
    """The stored risk at ``horizon`` of every score (or of month ``as_of``): ``as_of, employee_id,
    model_version, risk, alert_id`` (alert_id None where no alert was raised; risk None where that horizon was
    not stored)."""
    where, args = ("WHERE s.as_of = ?", (as_of,)) if as_of is not None else ("", ())
    rows = con.execute("SELECT s.as_of, s.employee_id, s.model_version, s.risks, a.alert_id FROM attrition_scores s "
                       "LEFT JOIN attrition_alerts a ON a.as_of = s.as_of AND a.employee_id = s.employee_id "
                       f"{where} ORDER BY s.as_of, s.employee_id", args).fetchall()
    return pd.DataFrame([(a, e, v, _risks(r).get(horizon), alert) for a, e, v, r, alert in rows],
                        columns=["as_of", "employee_id", "model_version", "risk", "alert_id"])


def _alert(row: Iterable) -> Alert:
    r = list(row)
    r[7] = _explained(r[7])
    return Alert(*r)


def erase_employee(con: sqlite3.Connection, employee_id: str) -> dict[str, int]:
    """Right to erasure: remove a person's scores, alerts and the reviews of those alerts.

    The one sanctioned exception to the append-only review log: the guard triggers are dropped and re-created
    inside the same transaction, so nothing else can slip through while they are off.
    """
    with con:
        alerts = [r[0] for r in con.execute("SELECT alert_id FROM attrition_alerts WHERE employee_id = ?",
                                            (employee_id,))]
        with unguarded(con, "reviews_append_only_d"):
            reviews = con.execute(f"DELETE FROM alert_reviews WHERE alert_id IN ({','.join('?' * len(alerts))})",
                                  alerts).rowcount if alerts else 0
        n_alerts = con.execute("DELETE FROM attrition_alerts WHERE employee_id = ?", (employee_id,)).rowcount
        n_scores = con.execute("DELETE FROM attrition_scores WHERE employee_id = ?", (employee_id,)).rowcount
    return {"app:attrition_scores": n_scores, "app:attrition_alerts": n_alerts, "app:alert_reviews": reviews}
