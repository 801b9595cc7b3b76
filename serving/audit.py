"""The append-only audit log of every prediction served (table ``audit_log`` of :mod:`features.app_db`).

One row per prediction: when, which key (id and role), about whom (employee or org unit × skill), through
which endpoint, with which model version, the score, and the top drivers. Triggers abort any UPDATE or
DELETE, so rows can only be added. :func:`export` writes a time window as CSV or JSON Lines.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from features.app_db import connect as connect  # re-exported: the application database, with the audit log
from features.app_db import unguarded
from features.settings import Settings

COLUMNS = ("audit_id", "at", "key_id", "role", "subject", "endpoint", "model_name", "model_version", "score",
           "drivers", "explanation_source")


@dataclass(frozen=True)
class Entry:
    key_id: str
    role: str
    subject: str
    endpoint: str
    model_name: str
    model_version: str
    score: float | None
    drivers: Sequence[str]
    explanation_source: str | None = None


class AuditLog:
    """Appends entries; one transaction per request (a batch is one transaction)."""

    def __init__(self, con: sqlite3.Connection, lock: threading.Lock | None = None):
        self.con = con
        self._lock = lock or threading.Lock()

    def append(self, entries: Sequence[Entry]) -> None:
        if not entries:
            return
        now = datetime.now(UTC).isoformat(timespec="microseconds")
        rows = [(now, e.key_id, e.role, e.subject, e.endpoint, e.model_name, e.model_version,
                 None if e.score is None else float(e.score), json.dumps(list(e.drivers), ensure_ascii=False),
                 e.explanation_source) for e in entries]
        with self._lock, self.con:
            self.con.executemany(
                "INSERT INTO audit_log (at, key_id, role, subject, endpoint, model_name, model_version, score, "
                "drivers, explanation_source) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)


def _bound(value: str | datetime | pd.Timestamp, end: bool) -> str:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"expected a date like 2025-06-01 or an ISO time, got {value!r}") from exc
    if pd.isna(ts):
        raise ValueError(f"expected a date like 2025-06-01 or an ISO time, got {value!r}")
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    if end and isinstance(value, str) and len(value.strip()) <= 10:  # a bare date includes the whole day
        ts = ts + pd.Timedelta(days=1)
    return ts.isoformat(timespec="microseconds")


def read(con: sqlite3.Connection, start: str | datetime | None = None, end: str | datetime | None = None
         ) -> list[dict]:
    """Rows with ``start <= at < end`` (a bare ``end`` date includes that day), oldest first."""
    where, args = [], []
    if start is not None:
        where.append("at >= ?")
        args.append(_bound(start, end=False))
    if end is not None:
        where.append("at < ?")
        args.append(_bound(end, end=True))
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    cur = con.execute(f"SELECT {', '.join(COLUMNS)} FROM audit_log {clause} ORDER BY audit_id", args)
    out = []
    for r in cur.fetchall():
        row = dict(zip(COLUMNS, r, strict=True))
        row["drivers"] = json.loads(row["drivers"])
        out.append(row)
    return out


def export(settings: Settings, start: str | datetime | None, end: str | datetime | None, out: Path) -> int:
    """Write the audit rows of [start, end] to ``out`` (``.csv`` or ``.jsonl``); returns the row count."""
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".jsonl"):
        raise ValueError(f"--out must end in .csv or .jsonl, got {out.name!r}")
    if not settings.app_db.exists():
        raise FileNotFoundError(f"no application database at {settings.app_db}: nothing has been served yet")
    con = connect(settings.app_db)
    try:
        rows = read(con, start, end)
    finally:
        con.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        if suffix == ".csv":
            writer = csv.DictWriter(fh, fieldnames=list(COLUMNS))
            writer.writeheader()
            for r in rows:
                writer.writerow({**r, "drivers": "; ".join(r["drivers"])})
        else:
            for r in rows:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    tmp.replace(out)
    return len(rows)


ERASED = "[erased]"


def tombstone(con: sqlite3.Connection, employee_id: str) -> int:
    """Right to erasure in the append-only log: the person's rows (predictions about them, alerts and
    reviews of their alerts) keep their time, caller, endpoint and model, so counts still add up, but lose
    the subject, score, drivers and explanation. The one sanctioned exception to append-only: the update
    guard is dropped and re-created in the same transaction."""
    with con, unguarded(con, "audit_append_only_u"):
        n = con.execute(f"UPDATE audit_log SET subject = '{ERASED}', score = NULL, drivers = '[]', "
                        "explanation_source = NULL WHERE subject = ? OR subject LIKE ?",
                        (employee_id, f"att-%-{employee_id}")).rowcount
    return n
