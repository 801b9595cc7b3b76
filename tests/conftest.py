"""Shared fixtures: one small simulated company taken through the real pipeline once per test session, and
the serving workspace (``workspace``, ``client``, ``keys``; built by ``tests/serving_workspace.py``).
Generated data for single modules is in ``tests/factories.py``.

Stages build on each other (feeds → features in Feast → trained models) and are cached in the session's
base temp folder under a file lock, so the two xdist workers build each stage once. Tests must treat these
workspaces as read-only; a test that writes copies one with :func:`private_copy`.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pytest

from features.settings import Settings
from tests.factories import ensure_champion
from tests.serving_workspace import Workspace, shared_workspace, two_units

# Two xdist workers on two cores: one OpenMP (LightGBM) thread each, set before anything imports lightgbm.
os.environ.setdefault("OMP_NUM_THREADS", "1")

SIM = {"employees": 300, "months": 24, "seed": 11, "dirty_rate": 0.02}


@contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _shared_stage(tmp_path_factory, name: str, build: Callable[[Path], None]) -> Path:
    root = tmp_path_factory.getbasetemp().parent / "talentloop-shared"
    target = root / name
    with _locked(root / f"{name}.lock"):
        if not (target / ".done").exists():
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            build(target)
            (target / ".done").touch()
    return target


@pytest.fixture(scope="session")
def sim_feeds(tmp_path_factory) -> Path:
    """A small simulated company's feeds (with a little dirt) and its truth."""
    from features.simulator import simulate

    return _shared_stage(tmp_path_factory, "feeds", lambda out: simulate(out / "company", **SIM)) / "company"


@pytest.fixture(scope="session")
def feature_workspace(tmp_path_factory, sim_feeds) -> Settings:
    """Workspace with the feeds ingested, features built, applied and materialized."""

    def build(home: Path) -> None:
        from features.build import build_features
        from features.ingest import ingest
        from features.store import apply, materialize

        settings = Settings(home=home)
        report = ingest(sim_feeds, settings)
        assert report.ok, report.to_dict()
        build_features(settings)
        apply(settings)
        materialize(settings)

    return Settings(home=_shared_stage(tmp_path_factory, "features", build))


@pytest.fixture(scope="session")
def trained_workspace(tmp_path_factory, feature_workspace) -> Settings:
    """A copy of the feature workspace with the attrition model trained, registered and scored."""

    def build(home: Path) -> None:
        from training_jobs import attrition, score_attrition

        shutil.copytree(feature_workspace.home, home, dirs_exist_ok=True)
        settings = Settings(home=home)
        _rebase_feast(settings)
        attrition.run(settings, model_params={"n_estimators": 120})
        ensure_champion(settings, "attrition")
        score_attrition.run(settings)

    return Settings(home=_shared_stage(tmp_path_factory, "trained", build))


def _rebase_feast(settings: Settings) -> None:
    """A copied workspace re-registers its Feast objects so sources point at its own feature files."""
    from features.store import apply

    apply(settings)


def private_copy(settings: Settings, dest: Path) -> Settings:
    """A writable copy of a shared workspace."""
    shutil.copytree(settings.home, dest, dirs_exist_ok=True)
    copy = Settings(home=dest)
    _rebase_feast(copy)
    return copy


# ---------------------------------------------------------------------- the serving workspace
# Built once per run by tests/serving_workspace.py; each worker gets its own copy, app and keys.


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    shared = shared_workspace(tmp_path_factory)
    mine = tmp_path_factory.mktemp("serving-home")
    shutil.copytree(shared / "home", mine / "home")
    return Workspace(Settings(home=mine / "home"), mine)


@pytest.fixture(scope="session")
def client(workspace: Workspace):
    from fastapi.testclient import TestClient

    from serving.app import create_app

    with TestClient(create_app(workspace.settings), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="module")
def keys(workspace):
    a, b, in_a, in_b = two_units(workspace)
    return {
        "hr_system": workspace.key("hr_system"),
        "partner_a": workspace.key("hr_partner", (a,), "partner of A"),
        "data_scientist": workspace.key("data_scientist"),
        "admin": workspace.key("admin"),
        "units": (a, b), "in_a": in_a, "in_b": in_b,
    }


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Say plainly when the console's browser tests could not run (no Chromium on this machine)."""
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if "test_console_browser" in r.nodeid]
    if skipped:
        reason = skipped[0].longrepr[2] if isinstance(skipped[0].longrepr, tuple) else str(skipped[0].longrepr)
        terminalreporter.write_line(f"BROWSER TESTS SKIPPED ({len(skipped)}): {reason}", yellow=True, bold=True)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A CLI workspace: ``TALENTLOOP_HOME`` set to ``tmp_path/home``, the CLI's cached settings cleared around
    the test (a test module may define its own ``home``, which then takes precedence)."""
    from talentloop.cli import _common

    monkeypatch.setenv("TALENTLOOP_HOME", str(tmp_path / "home"))
    _common.settings.cache_clear()
    yield tmp_path / "home"
    _common.settings.cache_clear()
