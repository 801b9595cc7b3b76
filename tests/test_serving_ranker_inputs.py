"""The course ranker's request-time inputs equal the feature service's online read.

``serving.ranker_inputs.RankerInputs`` keeps the course views in memory and runs the on-demand view's
transformation itself; for real employees of the small trained workspace, every column of
``course_ranker_v1`` (pair features included), ``features_as_of``, ``stale`` and the model's scores must be
what ``features.store.online_features`` gives through Feast.
"""

from __future__ import annotations

import os
import shutil
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from features.settings import Settings
from tests.serving_workspace import Workspace, shared_workspace


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    from features.store import feature_store
    from serving.catalog import load_catalog
    from serving.ranker_inputs import RankerInputs
    from serving.services import CachedFeatureStore

    shared = shared_workspace(tmp_path_factory)
    mine = tmp_path_factory.mktemp("ranker-inputs")
    shutil.copytree(shared / "home", mine / "home")
    ws = Workspace(Settings(home=mine / "home"), mine)
    store = CachedFeatureStore(feature_store(ws.settings))
    catalog = load_catalog(ws.settings)
    online = ws.settings.feast_dir / "online.db"
    inputs = RankerInputs(store, "course_ranker_v1", catalog.course_ids, catalog.job_ids, online)
    return ws, store, catalog, inputs


def _candidates(catalog, employee) -> list[str]:
    gaps = dict(zip(employee.values["skill_ids"] or [], employee.values["skill_gaps"] or [], strict=False))
    return catalog.index.candidates(gaps, employee.values["completed_course_ids"] or [])


def _same(a, b) -> bool:
    """Equal values, missing (None / NaN) equal to missing, numbers compared as floats."""
    def missing(v):
        return v is None or (isinstance(v, float) and np.isnan(v))

    if missing(a) or missing(b):
        return missing(a) and missing(b)
    if isinstance(a, bool | int | float | np.number) and isinstance(b, bool | int | float | np.number):
        return float(a) == float(b)
    return a == b


def test_inputs_equal_the_feature_service_read(setup):
    from features.store import feature_columns, online_features

    ws, store, catalog, inputs = setup
    checked = 0
    for employee_id in ws.employees()["employee_id"].tolist()[:40]:
        employee = inputs.employee(employee_id)
        assert employee is not None
        candidates = _candidates(catalog, employee)
        if not candidates:
            continue
        ours = inputs.frame(employee, candidates)
        rows = [{"employee_id": employee_id, "course_id": c, "job_id": employee.values["job_id"]} for c in candidates]
        feast = online_features(store, "course_ranker_v1", rows)
        for col in feature_columns("course_ranker_v1"):
            got, want = list(ours.columns[col]), feast.values[col]
            assert all(_same(g, w) for g, w in zip(got, want, strict=True)), (employee_id, col, got, want)
        assert ours.features_as_of == feast.features_as_of and ours.stale == feast.stale
        checked += 1
    assert checked >= 5


def test_scores_equal_those_of_the_feature_service_frame(setup):
    from mlflow import MlflowClient

    from features.store import online_features
    from serving.registry import mlflow_loader

    ws, store, catalog, inputs = setup
    uri = ws.settings.tracking_uri
    if not MlflowClient(tracking_uri=uri, registry_uri=uri).search_registered_models("name='course_ranker'"):
        pytest.skip("course ranker not trained in this workspace")
    model = mlflow_loader(uri)("course_ranker", "champion").model
    for employee_id in ws.employees()["employee_id"].tolist()[:20]:
        employee = inputs.employee(employee_id)
        candidates = _candidates(catalog, employee)
        if not candidates:
            continue
        rows = [{"employee_id": employee_id, "course_id": c, "job_id": employee.values["job_id"]} for c in candidates]
        frame = online_features(store, model.feature_service_, rows).frame()
        np.testing.assert_allclose(model.score(inputs.frame(employee, candidates).columns), model.score(frame),
                                   rtol=1e-12, atol=1e-12)


def test_unknown_employee_and_staleness(setup):
    ws, store, catalog, inputs = setup
    assert inputs.employee("E9999999") is None
    employee = inputs.employee(ws.employees()["employee_id"].iloc[0])
    candidates = _candidates(catalog, employee)
    read = inputs.frame(employee, candidates)
    assert read.features_as_of is not None
    assert not inputs.frame(employee, candidates, now=read.features_as_of + timedelta(days=1)).stale
    assert inputs.frame(employee, candidates, now=datetime.now(UTC) + timedelta(days=3650)).stale


def test_course_views_are_read_again_when_the_online_store_changes(setup):
    ws, store, catalog, inputs = setup
    before = inputs._views
    online = ws.settings.feast_dir / "online.db"
    stat = online.stat()
    os.utime(online, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # as a materialize would
    employee_id = ws.employees()["employee_id"].iloc[0]
    assert inputs.employee(employee_id) is not None  # served from the arrays in hand meanwhile
    deadline = time.time() + 60
    while inputs._views is before and time.time() < deadline:
        time.sleep(0.1)
    assert inputs._views is not before
    assert inputs.employee(employee_id) is not None
