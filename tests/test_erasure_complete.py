"""Erasure is complete and proven: after ``talentloop erase`` a search of every file of the workspace (bytes,
and the decoded text columns of every Parquet file) finds neither the person's id nor their distinctive values
(their event, enrollment and ledger ids, a review note about them), while counts elsewhere are kept."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from features.app_db import connect as audit_connect
from features.offline import current_version_dir, read_clean
from models.learning_plans import store as plans_store
from serving.audit import AuditLog, Entry
from tests.conftest import private_copy

ROOT = Path(__file__).resolve().parents[1]
NOTE = "erasure-probe-note-7f3a"


def _found(home: Path, needles: list[str]) -> list[str]:
    """Files (and Parquet columns) of ``home`` that hold any of ``needles``."""
    hits = []
    raw = [n.encode() for n in needles]
    for path in sorted(p for p in home.rglob("*") if p.is_file()):
        data = path.read_bytes()
        for n, b in zip(needles, raw, strict=True):
            if b in data:
                hits.append(f"{path.relative_to(home)}: {n}")
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            for name in table.column_names:
                col = table.column(name)
                if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)
                        or pa.types.is_dictionary(col.type)):
                    continue
                text = col.to_pandas().astype("string").fillna("")
                for n in needles:
                    if text.str.contains(n, regex=False).any():
                        hits.append(f"{path.relative_to(home)}[{name}]: {n}")
    return hits


def test_erase_leaves_no_trace_in_any_file(tmp_path, trained_workspace, sim_feeds):
    s = private_copy(trained_workspace, tmp_path / "home")
    shutil.copytree(sim_feeds, s.home / "demo-company")  # demo feeds (and their truth) kept in the workspace
    with sqlite3.connect(s.app_db) as con:
        employee, alert = con.execute("SELECT employee_id, alert_id FROM attrition_alerts ORDER BY risk DESC "
                                      "LIMIT 1").fetchone()
        con.execute("INSERT INTO alert_reviews (alert_id, status, reviewer, action_taken, note, reviewed_at) "
                    "VALUES (?, 'acknowledged', 'partner', 'talk', ?, '2026-01-01')", (alert, NOTE))
    from training_jobs.score_points import run as score_points

    score_points(s, send=False)  # per-person points balances in the application database
    plan_note = "erasure-probe-plan-3c1d"
    with closing(sqlite3.connect(s.app_db)) as con:  # a logged recommendation and the plan answering it
        plans_store.ensure(con)
        plans_store.log_shown(con, [plans_store.Logged("req-erase-probe", employee, None, "C-0001", 1, 0.5,
                                                       "course_ranker", "1", 1.0, False, 0.0, "2026-01-01")])
        plans_store.record_plan(con, caller_key_id="k_1", idempotency_key="erase-probe-key", employee_id=employee,
                                org_unit_id=None, course_id="C-0001", status="accepted", note=plan_note,
                                shown=plans_store.last_shown(con, employee, "C-0001"), recorded_by="partner")
    con = audit_connect(s.app_db)
    AuditLog(con).append([Entry("k_1", "hr_system", employee, "attrition-risk", "attrition", "1", 0.42,
                                ["pay_vs_band_mid", "tenure_months"])] * 3)
    audit_before = con.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    con.close()
    current = current_version_dir(s)  # an older clean version, kept on purpose, holds the person too
    shutil.copytree(current, current.with_name("v-20000101T000000-older"))
    events = read_clean(s, "employment_events")
    distinctive = [employee, alert, NOTE, plan_note,
                   *events.loc[events["employee_id"] == employee, "event_id"].head(3).tolist(),
                   *read_clean(s, "enrollments").query("employee_id == @employee")["enrollment_id"].head(3).tolist(),
                   *read_clean(s, "points_ledger").query("employee_id == @employee")["entry_id"].head(3).tolist()]
    assert len(distinctive) >= 4
    before = _found(s.home, distinctive)
    places = {h.split("/")[0].split(":")[0] for h in before}
    assert {"raw", "offline", "talentloop.db", "mlartifacts", "demo-company"} <= places, before

    env = {**os.environ, "TALENTLOOP_HOME": str(s.home), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "talentloop", "erase", employee, "--json"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    removed = json.loads(done.stdout)["removed"]
    for place in ("raw_rows", "clean_rows", "offline:employee_monthly", "online:employee_monthly",
                  "app:attrition_alerts", "app:points_balances", "app:audit_log (tombstoned)", "mlflow artifacts",
                  "app:recommendation_log", "app:learning_plans",
                  "workspace_feed_rows", "demo-company (other files)"):
        assert removed[place] > 0, (place, removed)

    assert _found(s.home, distinctive) == []
    with sqlite3.connect(s.app_db) as con:  # counts kept: one tombstone per audited answer
        assert con.execute("SELECT count(*) FROM audit_log").fetchone()[0] == audit_before
        assert con.execute("SELECT count(*) FROM audit_log WHERE subject = '[erased]' AND score IS NULL "
                           "AND drivers = '[]'").fetchone()[0] >= 3
    assert len(read_clean(s, "employees")) > 0
    report = sorted(s.reports_dir.glob("erasure-*.json"))[-1]
    assert json.loads(report.read_text())["removed"] == removed
    units = list(s.artifacts_dir.rglob("units.parquet"))
    assert units and all(len(pd.read_parquet(u)) > 0 for u in units)  # the others' rows are kept
