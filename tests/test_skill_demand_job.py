"""Skill-demand job: pyfunc round trip through MLflow, the generic-file job, and (once the feature store
and simulator exist) the job end to end on a small simulation."""

from pathlib import Path

import pandas as pd
import pytest

from features.settings import Settings
from models.skill_demand import DemandForecaster
from tests.factories import make_series


def test_pyfunc_round_trip_through_the_registry(tmp_path):
    import mlflow

    from training_jobs.tracking import experiment, log_and_register

    data = make_series(n_series=12)
    model = DemandForecaster(id_col=("org_unit_id", "skill_id"), exog_cols=("open_req_slots",),
                             static_cols=("unit_level",), horizons=(1, 3), n_estimators=10,
                             min_child_samples=10).fit(data)
    example = data[data["month"] >= "2023-10-01"].drop(columns="unit_level").reset_index(drop=True)
    settings = Settings(home=tmp_path)
    experiment(settings, "skill_demand")
    with mlflow.start_run():
        version = log_and_register(model, "skill_demand", example)
    loaded = mlflow.pyfunc.load_model("models:/skill_demand@challenger")  # champion only through the gate
    out = loaded.predict(example)
    expected = model.predict_frame(example)
    pd.testing.assert_frame_equal(out.reset_index(drop=True), expected, check_dtype=False)
    assert {"p10", "p50", "p90", "supply", "gap_p50"} <= set(out.columns)
    assert version == "1"
    assert loaded.unwrap_python_model().model.feature_service_ == "skill_demand_v1"


def test_generic_file_job_logs_and_registers(tmp_path):
    from training_jobs.skill_demand import run_generic

    data = make_series(n_series=16, n_months=36)
    path = tmp_path / "series.csv"
    data.assign(series_id=data["org_unit_id"] + "/" + data["skill_id"])[["series_id", "month", "value"]].to_csv(
        path, index=False)
    result = run_generic(path, Settings(home=tmp_path / "home"), n_windows=2, horizons=(1, 3), ets_max_series=3)
    assert result["version"] == "1" and result["series"] == 16
    assert {"mase_h3_served", "mase_h3_lightgbm", "mase_h3_seasonal_naive", "mase_h3_drift",
            "mase_h3_best_baseline"} <= set(result["metrics"])
    assert 0.0 <= result["metrics"]["coverage_80_h3_served"] <= 1.0
    assert set(result["methods"]) == {1, 3}

    import mlflow
    import pandas as pd

    from evaluation.model_card import SECTIONS

    card = mlflow.artifacts.load_text(f"runs:/{result['run_id']}/model_card.md")
    assert all(f"## {section}\n" in card for section in SECTIONS) and "_Not recorded" not in card
    assert "Served method per horizon" in card and "- h = 3: " in card
    # coverage per series size, in the summary and on the card, every cell a share (no nan, no n/a)
    assert set(result["coverage_by_size"]) == {"smallest half", "next 40%", "largest 10%"}
    assert all(0.0 <= v <= 1.0 for cov in result["coverage_by_size"].values() for v in cov.values())
    size_table = card.split("Coverage by series size", 1)[1].split("##", 1)[0]
    assert "| h | smallest half | next 40% | largest 10% |" in size_table and "| 3 | " in size_table
    assert "nan" not in size_table and "n/a" not in size_table
    units = pd.read_parquet(mlflow.artifacts.download_artifacts(f"runs:/{result['run_id']}/evaluation/units.parquet"))
    assert list(units.columns) == ["unit", "key", "horizon", "value"] and units["key"].is_unique
    assert set(units["horizon"]) == {1, 3} and (units["value"] >= 0).all()
    # the mean scaled error of one origin is that origin's pooled MASE, which the job logged averaged over origins
    per_origin = units[units["horizon"] == 3].assign(origin=units["key"].str.split("|").str[1])
    assert per_origin.groupby("origin")["value"].mean().mean() == pytest.approx(result["metrics"]["mase_h3_served"])


def test_job_end_to_end_on_a_small_simulation(tmp_path):
    simulator = pytest.importorskip("features.simulator")
    ingest = pytest.importorskip("features.ingest")
    build = pytest.importorskip("features.build")
    store = pytest.importorskip("features.store")
    from training_jobs.skill_demand import run

    settings = Settings(home=tmp_path / "home")
    settings.ensure_dirs()
    company = tmp_path / "company"
    simulator.simulate(company, employees=60, months=36, seed=3)
    ingest.ingest(company, settings)
    build.build_features(settings)
    store.apply(settings)
    result = run(settings, truth_dir=company / "_truth", n_windows=2, horizons=(1, 3), ets_max_series=3)
    assert result["version"] == "1"
    assert "mase_h3_oracle" in result["metrics"]
    assert set(result["targets"]) == {"mase_h3_at_most_best_baseline", "coverage_80_within_75_88_every_horizon"}
    assert Path(settings.artifacts_dir).exists()
