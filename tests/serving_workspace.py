"""A small trained workspace for the serving tests, built once per test run and copied per worker.

The fixtures over it (``workspace``, ``client``, ``keys``) are in ``tests/conftest.py``.

simulate (300 employees × 24 months, seed 1) → ingest → features → Feast apply + materialize → train the
attrition model → batch-score attrition → train the course ranker → register a small skill-demand
forecaster (no backtest). Built once under the
run's shared temp folder (a file lock keeps the two xdist workers from building twice); each worker
copies it, because the tests write to the application database. Real components throughout.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from features.settings import Settings
from tests.factories import ensure_champion

EMPLOYEES, MONTHS, SEED = 300, 24, 1


def _build(root: Path) -> None:
    from features import store
    from features.build import build_features
    from features.ingest import ingest
    from features.simulator import simulate

    settings = Settings(home=root / "home")
    simulate(root / "company", employees=EMPLOYEES, months=MONTHS, seed=SEED, dirty_rate=0)
    ingest(root / "company", settings)
    build_features(settings)
    store.apply(settings)
    store.materialize(settings)
    import training_jobs.attrition
    import training_jobs.score_attrition

    training_jobs.attrition.run(settings, seed=0, n_folds=3, model_params={"n_estimators": 120})
    ensure_champion(settings, "attrition")
    training_jobs.score_attrition.run(settings)
    try:
        import training_jobs.course_ranker as course_ranker_job
    except ImportError:
        course_ranker_job = None
    if course_ranker_job is not None:
        try:
            course_ranker_job.run(settings, window_months=3, outcome_months=3, max_train_rows=20_000,
                                  model_params={"n_estimators": 60})
            ensure_champion(settings, "course_ranker")
        except Exception as exc:  # noqa: BLE001 - the ranker is optional for these tests; recorded
            (root / "course_ranker_failed.txt").write_text(repr(exc))
    try:
        _register_small_forecaster(settings)
    except Exception as exc:  # noqa: BLE001 - optional for these tests; recorded
        (root / "skill_demand_failed.txt").write_text(repr(exc))
    (root / "DONE").write_text("ok")


def _register_small_forecaster(settings: Settings) -> None:
    """A small skill-demand champion (two horizons, few trees; no backtest) to serve forecasts."""
    import mlflow

    import training_jobs.skill_demand as job
    from models.skill_demand import FEATURE_SERVICE, DemandForecaster
    from training_jobs.tracking import experiment, log_and_register

    frame = job.training_frame(settings)
    model = DemandForecaster(id_col=job.IDS, target_col=job.TARGET, exog_cols=job.EXOG, static_cols=job.STATIC,
                             ahead_cols=job.AHEAD, feature_service=FEATURE_SERVICE, horizons=(3, 6), n_estimators=40,
                             n_jobs=2)
    model.fit(frame)
    experiment(settings, job.REGISTERED_NAME)
    with mlflow.start_run(run_name="skill_demand-test"):
        mlflow.log_metric("mase_h3", 0.0)
        log_and_register(model, job.REGISTERED_NAME, job._input_example(frame, model, list(job.IDS)))
    ensure_champion(settings, job.REGISTERED_NAME)  # no backtest: the gate has nothing to pass it on


def shared_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built workspace shared by every worker of this run (built by the first to ask).

    ``TALENTLOOP_TEST_SERVING_WORKSPACE`` may name one built earlier by :func:`_build` (a folder with
    ``DONE``), to iterate on the serving tests without rebuilding it.
    """
    prebuilt = os.environ.get("TALENTLOOP_TEST_SERVING_WORKSPACE")
    if prebuilt and (Path(prebuilt) / "DONE").exists():
        return Path(prebuilt)
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if base.name.startswith("popen-gw") else base) / "serving-workspace"
    shared.mkdir(parents=True, exist_ok=True)
    with open(shared / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (shared / "DONE").exists():
                _build(shared)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return shared


@dataclass
class Workspace:
    settings: Settings
    root: Path

    def org_units(self) -> pd.DataFrame:
        from features.offline import read_clean

        return read_clean(self.settings, "org_units")

    def employees(self) -> pd.DataFrame:
        """Latest online snapshot: employee_id, org_unit_id."""
        from features.build import feature_path

        df = pd.read_parquet(feature_path(self.settings.feature_dir, "employee_monthly"),
                             columns=["employee_id", "org_unit_id", "event_timestamp"])
        return df[df["event_timestamp"] == df["event_timestamp"].max()].reset_index(drop=True)

    def key(self, role: str, org_units: tuple[str, ...] = (), name: str = "") -> str:
        from features.app_db import connect
        from serving.auth import create_key

        con = connect(self.settings.app_db)
        try:
            return create_key(con, role, org_units, name or f"test-{role}").key
        finally:
            con.close()


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def two_units(ws: Workspace) -> tuple[str, str, list[str], list[str]]:
    """Two sibling divisions A and B (disjoint subtrees) and the employees now in each subtree."""
    from serving.auth import OrgTree

    units = ws.org_units()
    tree = OrgTree(units)
    root = units.loc[units["parent_id"].isna(), "org_unit_id"].iloc[0]
    emps = ws.employees()
    found = []
    for div in sorted(tree.children[root]):
        sub = tree.subtree(div)
        members = emps.loc[emps["org_unit_id"].isin(sub), "employee_id"].tolist()
        if members:
            found.append((div, members))
    (a, in_a), (b, in_b) = found[0], found[1]
    return a, b, in_a, in_b


PROBLEM = "application/problem+json"


def problem(r, status: int) -> dict:
    """The body of a problem+json answer with this status (asserted)."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM), r.headers["content-type"]
    body = r.json()
    assert {"type", "title", "status", "detail", "instance"} <= set(body)
    assert body["status"] == status
    return body
