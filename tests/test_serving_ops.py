"""Operations: hot reload of a new champion under load (nothing dropped), missing models answer 503,
the CLI commands (keys create, audit export, serve wiring)."""

from __future__ import annotations

import shutil
import threading
import time

import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from features.settings import Settings
from tests.serving_workspace import Workspace, auth, shared_workspace

PROBLEM = "application/problem+json"


@pytest.fixture()
def own_workspace(tmp_path, tmp_path_factory) -> Workspace:
    """A private copy: these tests move aliases and write keys."""
    shared = shared_workspace(tmp_path_factory)
    shutil.copytree(shared / "home", tmp_path / "home")
    return Workspace(Settings(home=tmp_path / "home"), tmp_path)


def _new_champion_version(settings: Settings, name: str = "attrition") -> str:
    """Register the champion's artifacts again as a new version and move the alias to it (real MLflow)."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=settings.tracking_uri, registry_uri=settings.tracking_uri)
    current = client.get_model_version_by_alias(name, "champion")
    new = client.create_model_version(name, source=current.source, run_id=current.run_id)
    client.set_registered_model_alias(name, "champion", new.version)
    return str(new.version)


def test_reload_under_load_drops_nothing(own_workspace):
    from serving.app import create_app

    ws = own_workspace
    admin, reader = ws.key("admin"), ws.key("hr_system")
    employees = ws.employees()["employee_id"].tolist()[:20]
    results: list[tuple[int, str | None]] = []
    stop = threading.Event()

    with TestClient(create_app(ws.settings), raise_server_exceptions=False) as client:
        before = client.get("/v1/models", headers=auth(admin)).json()["models"][0]["version"]

        def hammer() -> None:
            i = 0
            while not stop.is_set():
                r = client.get(f"/v1/employees/{employees[i % len(employees)]}/attrition-risk",
                               params={"levers": "false"}, headers=auth(reader))
                results.append((r.status_code, r.json().get("model", {}).get("version")))
                i += 1

        threads = [threading.Thread(target=hammer) for _ in range(2)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        new = _new_champion_version(ws.settings)
        reloaded = client.post("/v1/admin/models/reload", headers=auth(admin))
        time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join(timeout=30)
        assert reloaded.status_code == 200, reloaded.text
        assert f"-> {new}" in reloaded.json()["report"]["attrition"]
        after = client.get("/v1/models", headers=auth(admin)).json()
        assert next(m for m in after["models"] if m["name"] == "attrition")["version"] == new
        # a second reload with no alias change swaps nothing
        again = client.post("/v1/admin/models/reload", headers=auth(admin)).json()
        assert again["report"]["attrition"].startswith("unchanged")
        metrics = client.get("/metrics").text
        assert f'model="attrition",version="{new}"}} 1.0' in metrics
    statuses = [s for s, _ in results]
    assert len(results) > 10 and set(statuses) == {200}, set(statuses)
    versions = [v for _, v in results]
    assert versions[0] == before and versions[-1] == new  # requests before and after the swap both answered


def test_reload_reaches_every_worker_without_dropping_requests(own_workspace):
    """Two apps on one workspace stand for two uvicorn workers: a reload posted to one reaches the other
    (through the workspace's signal file) while the other keeps answering."""
    from serving.app import create_app

    ws = own_workspace
    admin, reader = ws.key("admin"), ws.key("hr_system")
    employees = ws.employees()["employee_id"].tolist()[:20]
    results: list[tuple[int, str | None]] = []
    stop = threading.Event()

    def version(client: TestClient) -> str:
        models = client.get("/v1/models", headers=auth(admin)).json()["models"]
        return next(m for m in models if m["name"] == "attrition")["version"]

    with TestClient(create_app(ws.settings), raise_server_exceptions=False) as first, \
            TestClient(create_app(ws.settings), raise_server_exceptions=False) as second:
        before = version(second)

        def hammer() -> None:
            i = 0
            while not stop.is_set():
                r = second.get(f"/v1/employees/{employees[i % len(employees)]}/attrition-risk",
                               params={"levers": "false"}, headers=auth(reader))
                results.append((r.status_code, r.json().get("model", {}).get("version")))
                i += 1

        thread = threading.Thread(target=hammer)
        thread.start()
        new = _new_champion_version(ws.settings)
        assert first.post("/v1/admin/models/reload", headers=auth(admin)).status_code == 200
        assert version(first) == new
        deadline = time.time() + 60
        while version(second) != new and time.time() < deadline:
            time.sleep(0.2)
        time.sleep(0.3)
        stop.set()
        thread.join(timeout=30)
        assert version(second) == new, "the reload did not reach the other worker"
        assert f'model="attrition",version="{new}"}} 1.0' in second.get("/metrics").text
    statuses = [s for s, _ in results]
    assert len(results) > 10 and set(statuses) == {200}, set(statuses)
    assert results[0][1] == before and results[-1][1] == new


def test_polling_picks_up_a_new_champion(own_workspace):
    from serving.app import create_app

    ws = own_workspace
    key = ws.key("data_scientist")
    with TestClient(create_app(ws.settings, reload_seconds=0.5), raise_server_exceptions=False) as client:
        new = _new_champion_version(ws.settings)
        deadline = time.time() + 60
        version = None
        while time.time() < deadline:
            version = client.get("/v1/models", headers=auth(key)).json()["models"][0]["version"]
            if version == new:
                break
            time.sleep(0.3)
        assert version == new


def test_missing_models_answer_503_and_readyz_names_them(own_workspace):
    """A workspace without course ranker / skill demand champions (or an unregistered name) never crashes."""
    from serving.app import create_app
    from serving.registry import ModelRegistry, mlflow_loader, mlflow_resolver

    ws = own_workspace
    key = ws.key("hr_system")
    uri = ws.settings.tracking_uri
    registry = ModelRegistry(mlflow_loader(uri), mlflow_resolver(uri), names=("attrition", "no_such_model"))
    emp = ws.employees()["employee_id"].iloc[0]
    with TestClient(create_app(ws.settings, registry=registry), raise_server_exceptions=False) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "model no_such_model" in ready.json()["missing"]
        assert client.get(f"/v1/employees/{emp}/attrition-risk", headers=auth(key)).status_code == 200
    # course ranker and skill demand endpoints: 503 problem+json when their model is not loaded
    registry = ModelRegistry(mlflow_loader(uri), mlflow_resolver(uri), names=("attrition",))
    with TestClient(create_app(ws.settings, registry=registry), raise_server_exceptions=False) as client:
        for path in (f"/v1/employees/{emp}/course-recommendations", "/v1/skill-demand"):
            r = client.get(path, headers=auth(key))
            assert r.status_code == 503 and r.headers["content-type"].startswith(PROBLEM), (path, r.text)
            assert "is not loaded" in r.json()["detail"]
        r = client.post("/v1/course-recommendations:batch", json={"employee_ids": [emp]}, headers=auth(key))
        assert r.status_code == 503


def test_cli_keys_and_audit_export(own_workspace, monkeypatch, tmp_path):
    from talentloop.cli import _common
    from talentloop.cli.serve import register

    ws = own_workspace
    monkeypatch.setenv("TALENTLOOP_HOME", str(ws.settings.home))
    _common.settings.cache_clear()
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    try:
        made = runner.invoke(app, ["keys", "create", "--role", "hr_partner", "--org-unit", "OU-0002",
                                   "--name", "partner"])
        assert made.exit_code == 0, made.output
        key = made.stdout.strip().splitlines()[-1]
        assert key.startswith("tl_")
        from features import app_db
        from serving import auth as auth_mod

        con = app_db.connect(ws.settings.app_db)
        try:
            stored = con.execute("SELECT key_hash FROM api_keys WHERE name = 'partner'").fetchone()[0]
            assert stored == auth_mod.hash_key(key) and key not in stored
        finally:
            con.close()
        bad = runner.invoke(app, ["keys", "create", "--role", "hr_partner", "--org-unit", "OU-NOPE"])
        assert bad.exit_code != 0 and "unknown org unit" in bad.output
        assert runner.invoke(app, ["keys", "create", "--role", "hr_partner"]).exit_code != 0
        assert runner.invoke(app, ["keys", "create", "--role", "root"]).exit_code != 0
        out = tmp_path / "audit.jsonl"
        done = runner.invoke(app, ["audit", "export", "--from", "2020-01-01", "--to", "2100-01-01", "--out", str(out)])
        assert done.exit_code == 0, done.output and out.exists()
        wrong = runner.invoke(app, ["audit", "export", "--from", "yesterday-ish", "--out", str(tmp_path / "a.csv")])
        assert wrong.exit_code != 0 and "expected a date" in wrong.output
        assert "serve" in runner.invoke(app, ["--help"]).output
    finally:
        _common.settings.cache_clear()
