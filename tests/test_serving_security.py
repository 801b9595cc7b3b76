"""Security and honesty of the serving app: revocable, expiring and rotating keys (across two real workers),
readiness that sees a deleted or corrupt online store and recovers after a restore and a reload, audited
alert answers, the OpenAPI security schemes, 422 for undecodable bodies, user-only database files."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from features.app_db import connect
from features.settings import Settings
from serving.auth import create_key, revoke_key, rotate_key
from tests.serving_workspace import Workspace, auth, shared_workspace

TALENTLOOP = Path(sys.executable).with_name("talentloop")
PROBLEM = "application/problem+json"


def _audit_rows(ws: Workspace) -> int:
    with sqlite3.connect(ws.settings.app_db) as con:
        return con.execute("SELECT count(*) FROM audit_log").fetchone()[0]


# ---------------------------------------------------------------------- in-process (TestClient)
def test_alert_answers_are_audited_one_row_per_alert_shown(client, workspace):
    key = workspace.key("hr_system")
    before = _audit_rows(workspace)
    r = client.get("/v1/attrition-alerts?page_size=7", headers=auth(key))
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert items, "the workspace has no alerts: nothing to audit"
    assert _audit_rows(workspace) == before + len(items)
    one = items[0]["alert_id"]
    assert client.get(f"/v1/attrition-alerts/{one}", headers=auth(key)).status_code == 200
    r = client.post(f"/v1/attrition-alerts/{one}/review", headers=auth(key),
                    json={"status": "acknowledged", "note": "seen"})
    assert r.status_code == 200, r.text
    with sqlite3.connect(workspace.settings.app_db) as con:
        rows = con.execute("SELECT subject, endpoint, score, drivers FROM audit_log ORDER BY audit_id DESC "
                           "LIMIT 2").fetchall()
    assert [r[1] for r in rows] == ["attrition-alert/review/acknowledged", "attrition-alert"]
    assert all(r[0] == items[0]["employee_id"] and r[2] == pytest.approx(items[0]["risk"]) for r in rows)
    assert json.loads(rows[0][3]) == [c["feature"] for c in items[0]["explanation"]["contributions"][:5]]


def test_expired_revoked_and_rotated_keys(client, workspace):
    con = connect(workspace.settings.app_db)
    try:
        old = create_key(con, "hr_system", name="rotating")
        soon = create_key(con, "data_scientist", expires_at=datetime.now(UTC) + timedelta(seconds=1))
        assert client.get("/v1/models", headers=auth(soon.key)).status_code == 200
        time.sleep(1.2)
        r = client.get("/v1/models", headers=auth(soon.key))
        assert r.status_code == 401 and f"the API key {soon.key_id} was expired on" in r.json()["detail"]
        assert client.get("/v1/attrition-alerts?page_size=1", headers=auth(old.key)).status_code == 200
        new = rotate_key(con, old.key_id)
        time.sleep(0.6)
        r = client.get("/v1/attrition-alerts?page_size=1", headers=auth(old.key))
        assert r.status_code == 401 and "was revoked on" in r.json()["detail"]
        assert client.get("/v1/attrition-alerts?page_size=1", headers=auth(new.key)).status_code == 200
        denials = con.execute("SELECT key_id, reason, path FROM key_denials").fetchall()
        assert (old.key_id, "revoked", "/v1/attrition-alerts") in denials
        assert (soon.key_id, "expired", "/v1/models") in denials
        graced = rotate_key(con, new.key_id, grace=timedelta(hours=1))
        time.sleep(0.6)
        for k in (new.key, graced.key):  # during the grace period both work
            assert client.get("/v1/attrition-alerts?page_size=1", headers=auth(k)).status_code == 200
    finally:
        con.close()


def test_openapi_security_schemes_422_for_undecodable_bodies_and_the_limit_cap(client, workspace):
    spec = client.get("/v1/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"] == {"type": "http", "scheme": "bearer", "description": schemes["bearer"]["description"]}
    assert schemes["apiKey"]["in"] == "header" and schemes["apiKey"]["name"] == "X-API-Key"
    op = spec["paths"]["/v1/attrition-alerts"]["get"]
    assert {"bearer": []} in op["security"]
    assert not any(p["name"].lower() in ("authorization", "x-api-key") for p in op.get("parameters", []))
    key = workspace.key("admin")
    r = client.post("/v1/course-recommendations:batch", content=b'{"employee_ids": ["\xff\xfe"]}',
                    headers={**auth(key), "Content-Type": "application/json"})
    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM), r.text
    assert "not valid JSON" in r.json()["detail"]
    r = client.get("/v1/skill-demand?limit=2000", headers=auth(key))
    assert r.status_code == 422 and "limit must be between 1 and 500" in r.json()["detail"]


def test_database_files_and_workspace_are_user_only(tmp_path):
    home = tmp_path / "home"
    settings = Settings(home=home)
    settings.ensure_dirs()
    connect(settings.app_db).close()
    assert oct(settings.app_db.stat().st_mode & 0o777) == "0o600"
    for d in (home, settings.raw_dir, settings.feast_dir, settings.quarantine_dir):
        assert oct(d.stat().st_mode & 0o777) == "0o700", d
    env = {**os.environ, "TALENTLOOP_HOME": str(tmp_path / "cli")}
    done = subprocess.run([str(TALENTLOOP), "keys", "create", "--role", "admin"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for p in (tmp_path / "cli").rglob("*"):
        assert p.stat().st_mode & 0o077 == 0, p


# ---------------------------------------------------------------------- two real workers
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(conn: http.client.HTTPConnection, path: str, key: str | None = None, method: str = "GET"):
    conn.request(method, path, headers={"Authorization": f"Bearer {key}"} if key else {})
    r = conn.getresponse()
    body = r.read()
    return r.status, r.getheader("content-type", ""), json.loads(body or b"{}")


def _per_worker(port: int, deadline: float) -> dict[int, http.client.HTTPConnection]:
    """One keep-alive connection to each of the two workers."""
    out: dict[int, http.client.HTTPConnection] = {}
    while len(out) < 2 and time.time() < deadline:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            status, _, body = _call(c, "/readyz")
            if status == 200:
                pid = _call(c, "/healthz")[2]["worker"]
                if pid not in out:
                    out[pid] = c
                    continue
        except OSError:
            pass
        c.close()
        time.sleep(0.2)
    return out


def _until(check, seconds: float) -> float | None:
    """Seconds until ``check()`` is true (polled), None when it never was within ``seconds``."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if check():
            return time.monotonic() - start
        time.sleep(0.02)
    return None


@pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"), reason="needs SO_REUSEPORT")
def test_revocation_and_store_health_across_two_workers(tmp_path, tmp_path_factory):
    shutil.copytree(shared_workspace(tmp_path_factory) / "home", tmp_path / "home")
    ws = Workspace(Settings(home=tmp_path / "home"), tmp_path)
    admin, victim = ws.key("admin"), ws.key("hr_system", name="to revoke")
    port = _free_port()
    env = {**os.environ, "TALENTLOOP_HOME": str(ws.settings.home), "OMP_NUM_THREADS": "1"}
    log = open(tmp_path / "serve.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen([str(TALENTLOOP), "serve", "--port", str(port), "--workers", "2"], env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        workers = _per_worker(port, time.time() + 420)
        assert len(workers) == 2, (tmp_path / "serve.log").read_text()[-3000:]
        conns = list(workers.values())
        alerts = "/v1/attrition-alerts?page_size=1"
        assert all(_call(c, alerts, victim)[0] == 200 for c in conns)

        # revocation reaches every worker within a second
        con = connect(ws.settings.app_db)
        key_id = con.execute("SELECT key_id FROM api_keys WHERE name = 'to revoke'").fetchone()[0]
        revoke_key(con, key_id)
        took = [_until(lambda c=c: _call(c, alerts, victim)[0] == 401, 3.0) for c in conns]
        assert all(t is not None and t < 1.0 for t in took), took
        assert con.execute("SELECT count(*) FROM key_denials WHERE key_id = ?", (key_id,)).fetchone()[0] >= 2
        con.close()

        online = ws.settings.feast_dir / "online.db"
        backup = tmp_path / "online.backup.db"
        shutil.copy2(online, backup)
        employee = ws.employees()["employee_id"].iloc[0]
        risk = f"/v1/employees/{employee}/attrition-risk"
        assert all(_call(c, risk, admin)[0] == 200 for c in conns)

        def ready(c) -> bool:
            return _call(c, "/readyz")[0] == 200

        # deleted: every worker says not ready within ~a second, although it still holds the old file open
        online.unlink()
        assert all(_until(lambda c=c: not ready(c), 2.5) is not None for c in conns)
        status, _, body = _call(conns[0], "/readyz")
        assert status == 503 and "store feature_store" in body["missing"]
        assert body["stores"]["feature_store"].startswith("missing: the online store online.db is gone")

        # restored (a new file): still not ready until a reload is asked, then every worker recovers
        shutil.copy2(backup, online)
        time.sleep(1.2)
        assert not any(ready(c) for c in conns)
        assert _call(conns[0], "/v1/admin/models/reload", admin, "POST")[0] == 200
        assert all(_until(lambda c=c: ready(c), 5.0) is not None for c in conns)
        assert all(_call(c, risk, admin)[0] == 200 for c in conns)

        # corrupt in place under requests: 503 problem+json or 200, never 500; /readyz 503
        with open(online, "r+b") as fh:
            fh.write(os.urandom(1 << 16))
        statuses = []
        for i in range(200):
            s, ctype, _ = _call(conns[i % 2], risk, admin)
            statuses.append(s)
            if s != 200:
                assert s == 503 and ctype.startswith(PROBLEM), (s, ctype)
        assert 500 not in statuses
        assert all(_until(lambda c=c: not ready(c), 2.5) is not None for c in conns)
        shutil.copy2(backup, tmp_path / "fresh.db")
        os.replace(tmp_path / "fresh.db", online)
        assert _call(conns[1], "/v1/admin/models/reload", admin, "POST")[0] == 200
        assert all(_until(lambda c=c: ready(c), 5.0) is not None for c in conns)
        assert all(_call(c, risk, admin)[0] == 200 for c in conns)
        for c in conns:
            c.close()
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
    finally:
        if server.poll() is None:
            server.terminate()  # SIGTERM: the parent stops its workers (SIGKILL would orphan them)
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=30)
        log.close()
