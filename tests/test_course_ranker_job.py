"""The course-ranker training job end to end on a small simulated company (temporary workspace)."""

from __future__ import annotations

import pytest


def test_job_runs_end_to_end_on_a_small_simulation(tmp_path):
    pytest.importorskip("feast")
    simulator = pytest.importorskip("features.simulator")
    ingest = pytest.importorskip("features.ingest")
    build = pytest.importorskip("features.build")
    store = pytest.importorskip("features.store")
    from features.settings import Settings
    from training_jobs.course_ranker import run

    source = tmp_path / "company"
    simulator.simulate(source, employees=100, months=18, seed=3, fmt="parquet")
    settings = Settings(home=tmp_path / "home")
    ingest.ingest(source, settings)
    build.build_features(settings)
    store.apply(settings)
    metrics = run(settings, min_history_months=3, outcome_months=3, max_train_rows=20_000,
                  model_params={"n_estimators": 20, "n_jobs": 1})
    for method in ("model", "popularity", "rule", "cf"):
        assert 0.0 <= metrics[f"{method}_ndcg@10"] <= 1.0
        assert 0.0 <= metrics[f"{method}_uplift_capture@10"] <= 1.0 + 1e-9
    assert metrics["oracle_uplift_capture@10"] == pytest.approx(1.0)
    assert metrics["registered_version"] == "1"
