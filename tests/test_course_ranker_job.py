"""The course-ranker training job end to end on a small simulated company (temporary workspace): metrics,
evaluation units, fairness audit and model card logged in the run."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest


def test_job_runs_end_to_end_on_a_small_simulation(tmp_path):
    pytest.importorskip("feast")
    simulator = pytest.importorskip("features.simulator")
    ingest = pytest.importorskip("features.ingest")
    build = pytest.importorskip("features.build")
    store = pytest.importorskip("features.store")
    from evaluation.model_card import SECTIONS
    from features.settings import Settings
    from training_jobs.course_ranker import run
    from training_jobs.tracking import configure

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
    assert metrics["fairness_passed"] in (0.0, 1.0) and 0.0 <= metrics["fairness_min_impact_ratio"] <= 1.0

    client = configure(settings)
    run_id = client.get_model_version("course_ranker", "1").run_id
    logged = client.get_run(run_id).data.metrics
    assert logged["fairness_passed"] == metrics["fairness_passed"]
    assert logged["fairness_min_impact_ratio"] == pytest.approx(metrics["fairness_min_impact_ratio"])

    out = tmp_path / "artifacts"
    units = pd.read_parquet(client.download_artifacts(run_id, "evaluation/units.parquet", str(out)))
    assert units.columns.tolist() == ["unit", "key", "value", "uplift_capture"]
    assert units["unit"].is_unique and len(units) <= metrics["eval_queries"]
    assert (units["key"] == units["unit"] + "|" + client.get_run(run_id).data.params["eval_origin"][:7]).all()
    assert units["value"].between(0, 1).all()
    assert units["value"].mean() == pytest.approx(metrics["model_ndcg@10"])  # the units behind the metric
    assert units["uplift_capture"].dropna().between(0, 1 + 1e-9).all()

    client.download_artifacts(run_id, "fairness", str(out))
    audit = json.loads((out / "fairness" / "audit.json").read_text(encoding="utf-8"))
    assert audit["subject"] == "course recommendations" and audit["labelled"] is True and audit["k"] == 10
    assert audit["passed"] == bool(metrics["fairness_passed"])
    assert {b["column"] for b in audit["course_types"].values()} == {"format"}
    assert "sex" in audit["protected_attributes"] and audit["proxies"]["pairs"]
    page = (out / "fairness" / "audit.md").read_text(encoding="utf-8")
    assert page.startswith("# Fairness audit: course recommendations")

    text = Path(client.download_artifacts(run_id, "model_card.md", str(out))).read_text(encoding="utf-8")
    for section in SECTIONS:
        assert f"## {section}\n" in text
    assert "Not recorded" not in text
    assert "not calibrated probabilities" in text and "fairness/audit.md" in text
    assert "Enrollment bias" in text and "| model |" in text and "Oracle (true gains" in text
