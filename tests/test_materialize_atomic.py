"""Materialize switches every feature view together (a run killed half-way leaves all views at the old
snapshot) and removes entities absent from the new snapshot."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd

from features.build import FEATURE_TABLES, feature_path
from features.feature_repo.config import PROJECT
from features.store import materialize
from tests.conftest import private_copy

ROOT = Path(__file__).resolve().parents[1]


def _state(online: Path) -> dict[str, tuple[int, int]]:
    """Per view: (entities, newest event_ts)."""
    with sqlite3.connect(online) as con:
        return {t: con.execute(f'SELECT count(DISTINCT entity_key), max(event_ts) FROM "{PROJECT}_{t}"').fetchone()
                for t in FEATURE_TABLES}


def test_a_materialize_killed_between_views_switches_nothing(tmp_path, feature_workspace):
    s = private_copy(feature_workspace, tmp_path / "home")
    online = s.feast_dir / "online.db"
    materialize(s)
    newest = _state(online)
    months = sorted(pd.read_parquet(feature_path(s.feature_dir, "employee_monthly"),
                                    columns=["event_timestamp"])["event_timestamp"].unique())
    earlier = str(pd.Timestamp(months[-4]).date())
    script = (  # write two views of an older snapshot, then hang inside the transaction until killed
        "import time, features.store as st\n"
        "seen = []\n"
        "def stop(name):\n"
        "    seen.append(name)\n"
        "    if len(seen) == 2:\n"
        "        print('half', flush=True); time.sleep(600)\n"
        "st._between_views = stop\n"
        "from features.settings import Settings\n"
        f"st.materialize(Settings(home={str(s.home)!r}), as_of={earlier!r})\n")
    p = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "half"
    finally:
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
    assert _state(online) == newest  # all five views still at the newest snapshot
    materialize(s, as_of=earlier)
    older = _state(online)
    assert all(older[t][1] < newest[t][1] for t in ("employee_monthly", "org_unit_monthly")), (older, newest)


def test_entities_absent_from_the_new_snapshot_leave_the_online_store(tmp_path, feature_workspace):
    s = private_copy(feature_workspace, tmp_path / "home")
    online = s.feast_dir / "online.db"
    materialize(s)
    before = _state(online)["employee_monthly"][0]
    path = feature_path(s.feature_dir, "employee_monthly")
    gone = sorted(pd.read_parquet(path, columns=["employee_id"])["employee_id"].unique())[:3]
    kept = tmp_path / "kept.parquet"
    with duckdb.connect() as con:  # the file's own types kept
        con.execute(f"COPY (SELECT * FROM read_parquet('{path}') WHERE employee_id NOT IN "
                    f"({', '.join(repr(g) for g in gone)})) TO '{kept}' (FORMAT parquet)")
    os.replace(kept, path)
    written = materialize(s)
    assert written["employee_monthly"] == before - 3
    assert _state(online)["employee_monthly"][0] == before - 3
