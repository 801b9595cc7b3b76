"""The application database: one connect() creates every table, user-only; old databases gain added columns;
an append-only guard lifted for erasure comes back; a stored score reads back as written, old layouts too."""

from __future__ import annotations

import json
import sqlite3
import stat
import threading
from datetime import UTC, datetime

import pytest

from features import app_db
from models.attrition import alerts
from models.explanation import Contribution, StoredExplanation


def test_connect_creates_every_table_user_only(tmp_path):
    path = tmp_path / "ws" / "talentloop.db"
    con = app_db.connect(path)
    try:
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {t.name for t in app_db.TABLES} <= names
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        with con:
            con.execute("INSERT INTO key_denials VALUES ('t', 'k', 'revoked', '/')")  # the WAL file exists now
    finally:
        con.close()
    for p in (path, path.with_name(path.name + "-wal")):
        if p.exists():
            assert stat.S_IMODE(p.stat().st_mode) == 0o600, p


def test_a_database_made_before_a_column_was_added_gains_it(tmp_path):
    path = tmp_path / "talentloop.db"
    with sqlite3.connect(path) as old:
        old.execute("CREATE TABLE api_keys (key_id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, "
                    "org_units TEXT NOT NULL, key_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, revoked_at TEXT)")
    old.close()
    con = app_db.connect(path)
    try:
        assert "expires_at" in {r[1] for r in con.execute("PRAGMA table_info(api_keys)")}
    finally:
        con.close()


def test_an_unguarded_block_restores_the_guard_even_when_it_fails(tmp_path):
    con = app_db.connect(tmp_path / "talentloop.db")
    try:
        with con:
            con.execute("INSERT INTO audit_log (at, key_id, role, subject, endpoint, model_name, model_version, "
                        "drivers) VALUES ('t', 'k', 'admin', 'E1', 'x', 'attrition', '1', '[]')")
        with pytest.raises(RuntimeError), con, app_db.unguarded(con, "audit_append_only_u"):
            con.execute("UPDATE audit_log SET subject = 'x'")
            raise RuntimeError("stop")
        assert con.execute("SELECT subject FROM audit_log").fetchone()[0] == "E1"  # rolled back
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute("UPDATE audit_log SET subject = 'y'")
    finally:
        con.close()


def test_a_stored_score_reads_back_as_written_and_old_rows_read_too(tmp_path):
    con = app_db.connect(tmp_path / "talentloop.db")
    try:
        explanation = StoredExplanation(-2.5, (Contribution("pay_vs_band_mid", "Pay vs band midpoint", -0.1, 0.4),),
                                        {"en": ("Pay is below the band midpoint",), "zh": ("薪酬低于职级中位",)})
        score = alerts.StoredScore("2025-06-01", "E1", "T1", "3", {1: 0.01, 3: 0.05},
                                   alerts.Explained(3, explanation, ({"lever": "promotion"},), {"band": "high"}))
        alerts.write_scores(con, [score], [score])
        assert alerts.latest_score(con, "E1") == score
        assert alerts.get_alert(con, "att-202506-E1").explained == score.explained
        # a row scored before reasons were kept per language and before levers / context were stored
        legacy = {"horizon": 3, "base_value": -1.0, "reasons": ["old reason"],
                  "contributions": [{"feature": "tenure_months", "display_name": "Tenure", "value": 5,
                                     "contribution": 0.2}]}
        with con:
            con.execute("INSERT INTO attrition_scores VALUES ('2025-07-01', 'E1', 'T1', '3', ?, ?, 't')",
                        (json.dumps({"h3": 0.07}), json.dumps(legacy)))
        old = alerts.latest_score(con, "E1")
        assert old.explained.levers is None and old.explained.context is None and old.risk(3) == 0.07
        assert old.explained.explanation.reasons_in("zh") == ["old reason"]  # English when zh was not stored
        assert old.made_from("3", datetime(2025, 7, 1, tzinfo=UTC))
        assert not old.made_from("4", datetime(2025, 7, 1, tzinfo=UTC)) and not old.made_from("3", None)
    finally:
        con.close()


def _fill_audit(con: sqlite3.Connection, n: int) -> None:
    with con:
        con.executemany("INSERT INTO audit_log (at, key_id, role, subject, endpoint, model_name, model_version, "
                        "drivers) VALUES (?, 'k', 'admin', ?, 'x', 'attrition', '1', ?)",
                        [(f"t{i:06d}", f"E{i:06d}", json.dumps(["tenure_months"] * 20)) for i in range(n)])


def test_serving_commits_leave_the_wal_to_the_checkpointer(tmp_path):
    """With autocheckpoint off, commits past 1,000 WAL pages do not copy them back (no request pays for it);
    the Checkpointer does, in the background, and every row reads back through a fresh connection."""
    path = tmp_path / "talentloop.db"
    con = app_db.connect(path, autocheckpoint=False)
    try:
        assert con.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        size = path.stat().st_size
        for _ in range(10):
            _fill_audit(con, 2_000)  # ~5 MB of WAL, past SQLite's automatic checkpoint at 1,000 pages (4 MB)
        assert path.stat().st_size == size  # nothing copied back by the commits
        checkpointer = app_db.Checkpointer(path, every=0.05)
        try:
            for _ in range(200):
                if path.stat().st_size > size:
                    break
                threading.Event().wait(0.05)
        finally:
            checkpointer.stop()
        assert path.stat().st_size > size + 1_000_000
        with sqlite3.connect(path) as other:
            assert other.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0] == 20_000
        other.close()
    finally:
        con.close()
