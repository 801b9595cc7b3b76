"""The application database (``settings.app_db``, one SQLite file in the workspace): every table's schema and
the one way to open it.

Batch scoring, the API, the console and the command line all keep their rows in this one file: attrition
scores, alerts and their reviews, talent scores, points balances, training-need findings and webhook deliveries,
the recommendation log and learning plans, API keys and refused key attempts, console sessions and the audit
log. :func:`connect` opens it the same way for all of them (WAL journal, ``synchronous=NORMAL``, a 30 s busy
timeout, usable from the API's worker threads, the file and its WAL user-only, 0600) and creates every table
that is missing, so no caller depends on which command ran first.

Adding a table: append a :class:`Table` to :data:`TABLES` with its ``CREATE ... IF NOT EXISTS`` statements
(indexes and triggers included); a column added to an existing table goes in ``added_columns`` so databases
made before it gain it on their next :func:`connect`. The module that reads and writes the table keeps its
queries; only the schema lives here. An append-only table declares its guard triggers in ``guards``;
:func:`unguarded` lifts one inside a transaction for the one sanctioned exception (erasure).

Lives in ``features`` (the lowest layer) because ``models`` (the score stores), ``serving`` and ``talentloop``
all open it.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("talentloop.app_db")


@dataclass(frozen=True)
class Table:
    """One table of the application database: who owns its rows and how it is created."""

    name: str
    owner: str  # the module that reads and writes it
    ddl: str  # CREATE TABLE / INDEX / TRIGGER ... IF NOT EXISTS statements
    added_columns: tuple[tuple[str, str], ...] = ()  # (column, type) added after the table first shipped
    guards: dict[str, str] = field(default_factory=dict)  # trigger name -> CREATE TRIGGER (append-only tables)


def _append_only(table: str, prefix: str) -> dict[str, str]:
    return {f"{prefix}_{op[0]}": f"CREATE TRIGGER IF NOT EXISTS {prefix}_{op[0]} BEFORE {op.upper()} ON {table} "
                                 f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            for op in ("update", "delete")}


TABLES: tuple[Table, ...] = (
    Table("attrition_scores", "models.attrition.alerts", """
CREATE TABLE IF NOT EXISTS attrition_scores (
    as_of TEXT NOT NULL, employee_id TEXT NOT NULL, org_unit_id TEXT, model_version TEXT NOT NULL,
    risks TEXT NOT NULL, explanation TEXT NOT NULL, scored_at TEXT NOT NULL,
    PRIMARY KEY (as_of, employee_id));
CREATE INDEX IF NOT EXISTS attrition_scores_employee ON attrition_scores (employee_id, as_of);
"""),
    Table("attrition_alerts", "models.attrition.alerts", """
CREATE TABLE IF NOT EXISTS attrition_alerts (
    alert_id TEXT PRIMARY KEY, as_of TEXT NOT NULL, employee_id TEXT NOT NULL, org_unit_id TEXT,
    horizon INTEGER NOT NULL, risk REAL NOT NULL, model_version TEXT NOT NULL, explanation TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open', created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    UNIQUE (as_of, employee_id));
CREATE INDEX IF NOT EXISTS alerts_unit ON attrition_alerts (org_unit_id, status);
-- the console's queue reads these columns of every alert in scope: a covering index keeps the scan off the
-- rows' large stored explanations (3x faster on the demo company)
CREATE INDEX IF NOT EXISTS console_alert_rows ON attrition_alerts
    (org_unit_id, as_of, status, risk, employee_id, horizon, model_version, alert_id);
"""),
    Table("alert_reviews", "models.attrition.alerts", """
CREATE TABLE IF NOT EXISTS alert_reviews (
    review_id INTEGER PRIMARY KEY AUTOINCREMENT, alert_id TEXT NOT NULL REFERENCES attrition_alerts(alert_id),
    status TEXT NOT NULL, action_taken TEXT, note TEXT, reviewer TEXT NOT NULL, reviewed_at TEXT NOT NULL);
""", guards=_append_only("alert_reviews", "reviews_append_only")),
    Table("talent_scores", "models.potential.store", """
CREATE TABLE IF NOT EXISTS talent_scores (
    as_of TEXT NOT NULL, employee_id TEXT NOT NULL, org_unit_id TEXT, pool_unit_id TEXT,
    talent_pool_member INTEGER NOT NULL, pool_rank INTEGER, potential REAL, high_potential INTEGER,
    next_job_id TEXT, readiness REAL, risk REAL, risk_horizon INTEGER, alert_id TEXT, impact REAL,
    expected_loss REAL, regrettable INTEGER, model_version TEXT, detail TEXT NOT NULL,
    PRIMARY KEY (as_of, employee_id));
CREATE INDEX IF NOT EXISTS talent_scores_unit ON talent_scores (org_unit_id, as_of);
CREATE INDEX IF NOT EXISTS talent_scores_employee ON talent_scores (employee_id, as_of);
"""),
    Table("api_keys", "serving.auth", """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, org_units TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, revoked_at TEXT, expires_at TEXT);
""", added_columns=(("expires_at", "TEXT"),)),
    Table("key_denials", "serving.auth", """
CREATE TABLE IF NOT EXISTS key_denials (
    at TEXT NOT NULL, key_id TEXT NOT NULL, reason TEXT NOT NULL, path TEXT NOT NULL);
"""),
    Table("console_sessions", "serving.console.sessions", """
CREATE TABLE IF NOT EXISTS console_sessions (
    session_hash TEXT PRIMARY KEY, key_id TEXT NOT NULL, csrf TEXT NOT NULL, created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL, ends_at TEXT NOT NULL, ended_at TEXT);
"""),
    Table("audit_log", "serving.audit", """
CREATE TABLE IF NOT EXISTS audit_log (
    audit_id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, key_id TEXT NOT NULL, role TEXT NOT NULL,
    subject TEXT NOT NULL, endpoint TEXT NOT NULL, model_name TEXT NOT NULL, model_version TEXT NOT NULL,
    score REAL, drivers TEXT NOT NULL, explanation_source TEXT);
CREATE INDEX IF NOT EXISTS audit_at ON audit_log (at);
""", guards=_append_only("audit_log", "audit_append_only")),
    Table("points_balances", "models.points.store", """
CREATE TABLE IF NOT EXISTS points_balances (
    as_of TEXT NOT NULL, employee_id TEXT NOT NULL, org_unit_id TEXT, job_level INTEGER,
    year_start TEXT NOT NULL, year_end TEXT NOT NULL, target REAL NOT NULL, earned REAL NOT NULL,
    pace_per_month REAL NOT NULL, balance REAL NOT NULL, projected REAL NOT NULL, remaining REAL NOT NULL,
    attainment REAL NOT NULL, projected_attainment REAL NOT NULL, met INTEGER NOT NULL, on_track INTEGER NOT NULL,
    months_left REAL NOT NULL,
    PRIMARY KEY (as_of, employee_id));
CREATE INDEX IF NOT EXISTS points_balances_employee ON points_balances (employee_id, as_of);
"""),
    Table("course_points", "models.points.store", """
CREATE TABLE IF NOT EXISTS course_points (course_id TEXT PRIMARY KEY, points REAL NOT NULL, as_of TEXT NOT NULL);
"""),
    Table("training_needs", "models.training_needs.store", """
CREATE TABLE IF NOT EXISTS training_needs (
    finding_id TEXT PRIMARY KEY, as_of TEXT NOT NULL, org_unit_id TEXT NOT NULL, rule TEXT NOT NULL,
    kind TEXT NOT NULL, skill_id TEXT, share_below REAL NOT NULL, n_below INTEGER NOT NULL,
    n_assessed INTEGER NOT NULL, detail TEXT NOT NULL, delivered_at TEXT, delivery_id TEXT);
CREATE INDEX IF NOT EXISTS training_needs_month ON training_needs (as_of, org_unit_id);
"""),
    Table("webhook_deliveries", "models.training_needs.store", """
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    delivery_id TEXT NOT NULL, attempt INTEGER NOT NULL, at TEXT NOT NULL, url TEXT NOT NULL,
    event TEXT NOT NULL, finding_ids TEXT NOT NULL, status_code INTEGER, outcome TEXT NOT NULL,
    error TEXT, duration_ms REAL NOT NULL, signature TEXT NOT NULL,
    PRIMARY KEY (delivery_id, attempt));
"""),
    Table("recommendation_log", "models.learning_plans.store", """
CREATE TABLE IF NOT EXISTS recommendation_log (
    request_id TEXT NOT NULL, employee_id TEXT NOT NULL, org_unit_id TEXT, course_id TEXT NOT NULL,
    rank INTEGER NOT NULL, score REAL, model_name TEXT NOT NULL, model_version TEXT NOT NULL,
    propensity REAL NOT NULL, explored INTEGER NOT NULL, exploration_share REAL NOT NULL,
    served_at TEXT NOT NULL, features_as_of TEXT,
    PRIMARY KEY (request_id, course_id));
CREATE INDEX IF NOT EXISTS recommendation_log_employee ON recommendation_log (employee_id, course_id, served_at);
"""),
    Table("learning_plans", "models.learning_plans.store", """
CREATE TABLE IF NOT EXISTS learning_plans (
    plan_id INTEGER PRIMARY KEY AUTOINCREMENT, caller_key_id TEXT NOT NULL, idempotency_key TEXT NOT NULL,
    employee_id TEXT NOT NULL, org_unit_id TEXT, course_id TEXT NOT NULL, status TEXT NOT NULL,
    recommended INTEGER NOT NULL, request_id TEXT, rank INTEGER, score REAL, model_name TEXT,
    model_version TEXT, propensity REAL, explored INTEGER, note TEXT, recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    UNIQUE (caller_key_id, idempotency_key));
CREATE INDEX IF NOT EXISTS learning_plans_employee ON learning_plans (employee_id, recorded_at);
"""),
)
BY_NAME = {t.name: t for t in TABLES}
GUARDS = {name: ddl for t in TABLES for name, ddl in t.guards.items()}


def ensure_schema(con: sqlite3.Connection) -> None:
    """Create every missing table, index and guard, and add the columns a database made earlier lacks."""
    con.executescript("".join(t.ddl for t in TABLES) + "".join(f"{g};\n" for g in GUARDS.values()))
    for t in TABLES:
        if not t.added_columns:
            continue
        have = {r[1] for r in con.execute(f"PRAGMA table_info({t.name})")}
        missing = [(c, kind) for c, kind in t.added_columns if c not in have]
        if missing:
            with con:
                for column, kind in missing:
                    con.execute(f"ALTER TABLE {t.name} ADD COLUMN {column} {kind}")


def connect(path: Path, autocheckpoint: bool = True) -> sqlite3.Connection:
    """Open (and create when missing) the application database at ``path`` with every table; user-only.

    ``autocheckpoint=False``: this connection's commits never copy the WAL back into the database (SQLite's
    automatic checkpoint runs inside the commit that crosses 1,000 pages, 5-12 ms every second or so under
    serving's load, with the connection's lock held); whoever opens it so runs a :class:`Checkpointer`."""
    from features.workspace import make_private_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=30, check_same_thread=False)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        if not autocheckpoint:
            con.execute("PRAGMA wal_autocheckpoint=0")
        ensure_schema(con)
    except BaseException:
        con.close()
        raise
    make_private_file(path)
    return con


class Checkpointer:
    """Copies the WAL of the database at ``path`` back into it from a background thread every ``every``
    seconds (a PASSIVE checkpoint on its own connection: writers and readers go on), for connections opened
    with ``autocheckpoint=False``. :meth:`stop` ends the thread after a last checkpoint. A checkpoint that
    fails (the file is locked or being restored) is logged and tried again on the next tick; committed rows are
    in the WAL either way (durable across a crash of the process under ``synchronous=NORMAL``)."""

    def __init__(self, path: Path, every: float = 0.5):
        self.path = Path(path)
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="app-db-checkpoint", daemon=True)
        self._thread.start()

    def checkpoint(self, con: sqlite3.Connection) -> None:
        try:
            con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:
            log.warning("checkpoint of %s failed (tried again shortly): %s", self.path.name, exc)

    def _run(self) -> None:
        con = sqlite3.connect(self.path, timeout=5, check_same_thread=False)
        try:
            while not self._stop.wait(self.every):
                self.checkpoint(con)
            self.checkpoint(con)
        finally:
            con.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


@contextmanager
def unguarded(con: sqlite3.Connection, guard: str) -> Iterator[None]:
    """Inside an open transaction (``with con:``), drop the append-only trigger ``guard`` for the block and
    create it again at its end, so nothing else slips through while it is off. Erasure only."""
    ddl = GUARDS[guard]
    if not con.in_transaction:  # sqlite3 opens none before DDL: the drop would commit alone, and a failure
        con.execute("BEGIN")    # after it would roll back the re-creation, leaving the table unguarded
    con.execute(f"DROP TRIGGER IF EXISTS {guard}")
    try:
        yield
    finally:
        con.execute(ddl)
