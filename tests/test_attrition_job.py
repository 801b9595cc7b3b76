"""The attrition job end to end on a small simulation: Feast training set, backtest vs baselines and oracle,
MLflow registration with aliases and artifacts, batch scoring into the alert store."""

from contextlib import closing

import mlflow
import numpy as np
import pandas as pd
import pytest

from features.app_db import connect
from models.attrition.alerts import list_alerts
from models.attrition.labels import KEYS
from tests.conftest import private_copy


@pytest.fixture()
def client(trained_workspace):
    from training_jobs.tracking import configure

    return configure(trained_workspace)  # tracking and registry URI both: other tests in this process move them


def test_registered_with_aliases_signature_and_artifacts(client):
    model = client.get_registered_model("attrition")
    assert {k: str(v) for k, v in model.aliases.items()}.get("champion") == "1"  # forced past the gate by the fixture
    version = client.get_model_version("attrition", "1")
    run = client.get_run(version.run_id)
    m = run.data.metrics
    for method in ("model", "logistic", "tenure_km", "oracle"):
        assert 0.4 < m[f"{method}_h3_roc_auc"] <= 1.0
    assert "model_h3_roc_auc_vs_oracle" in m and "model_h3_ece" in m
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"model_card.md", "plots", "evaluation", "model_policy.json"} <= artifacts
    plots = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {"plots/attrition_h3.png", "plots/shap_summary.png"} <= plots
    card = mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/model_card.md")
    assert "## Fairness audit" in card and "## Calibration" in card


def test_pyfunc_signature_has_no_protected_attribute(client, trained_workspace):
    info = mlflow.models.get_model_info("models:/attrition@champion")
    inputs = {c["name"] for c in info.signature.inputs.to_dict()}
    assert not inputs & {"sex", "birth_year", "age", "ethnicity", "marital_status", "nationality"}
    assert {"pay_vs_band_mid", "months_since_promotion", "tenure_months"} <= inputs
    loaded = mlflow.pyfunc.load_model("models:/attrition@champion")
    model = loaded.unwrap_python_model().model
    assert loaded.metadata.metadata["feature_service"] == "attrition_v1"
    assert model.columns_[:-1] == model.feature_columns_


def test_scoring_filled_the_alert_store_and_rescoring_adds_nothing(trained_workspace, tmp_path):
    from training_jobs import score_attrition

    with closing(connect(trained_workspace.app_db)) as con:
        alerts, total = list_alerts(con, page_size=500)
        n_scores = con.execute("SELECT COUNT(*) FROM attrition_scores").fetchone()[0]
    assert n_scores > 100 and 0 < total < n_scores
    assert all(a.explanation.reasons["zh"] for a in alerts)
    copy = private_copy(trained_workspace, tmp_path / "ws")
    again = score_attrition.run(copy)
    assert again["new_alerts"] == 0 and again["alerts"] == total


def test_training_frame_takes_no_feature_from_the_future(feature_workspace, tmp_path):
    """Poison every employee feature row dated after T: the training rows at T must not change."""
    from features.build import feature_path
    from features.store import apply
    from training_jobs.attrition import training_frame

    copy = private_copy(feature_workspace, tmp_path / "ws")
    _, before, _, _, cols = training_frame(copy)
    cut = before["event_timestamp"].sort_values().unique()[len(before["event_timestamp"].unique()) // 2]
    path = feature_path(copy.feature_dir, "employee_monthly")
    table = pd.read_parquet(path)
    table.loc[table["event_timestamp"] > cut, "tenure_months"] = 9999.0
    table.to_parquet(path, index=False)
    apply(copy)
    _, after, _, _, _ = training_frame(copy)
    merged = before.merge(after, on=KEYS, suffixes=("", "_after"))
    past = merged["event_timestamp"] <= cut
    assert np.allclose(merged.loc[past, "tenure_months"], merged.loc[past, "tenure_months_after"])
    assert (merged.loc[~past, "tenure_months_after"] == 9999.0).all()  # the poison is visible where it belongs
