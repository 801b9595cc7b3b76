"""The logistic and tenure attrition models the job can register: the LightGBM model's interface (risk at any
horizon, additive explanations, reasons in both languages, levers, a threshold policy), a calibration slice with
one class falling back to the whole window, and the fitted model surviving the MLflow pyfunc round trip."""

import numpy as np
import pytest

from models.attrition import AttritionModel
from models.attrition.labels import hazard_rows
from models.attrition.reasons import MIN_LEVER_CHANGE
from models.attrition.simple import LogisticAttritionModel, TenureAttritionModel
from tests.factories import FEATURES, attrition_company


@pytest.fixture(scope="module")
def data():
    snaps, events, end = attrition_company(n=800, months=24)
    rows = hazard_rows(snaps[["employee_id", "event_timestamp"]], events, end, max_k=6)
    rows = rows.merge(snaps, on=["employee_id", "event_timestamp"])
    latest = snaps[snaps["event_timestamp"] == snaps["event_timestamp"].max()].head(40).reset_index(drop=True)
    return rows, latest


@pytest.fixture(scope="module", params=["logistic", "tenure"])
def fitted(request, data):
    rows, _ = data
    if request.param == "logistic":
        return LogisticAttritionModel().fit(rows, FEATURES)
    return TenureAttritionModel().fit(rows, FEATURES)


def test_risk_grows_with_the_horizon_and_the_policy_is_set(fitted, data):
    _, latest = data
    risk = fitted.predict_risk(latest)
    assert risk.shape == (len(latest), 12)
    assert ((risk > 0) & (risk < 1)).all() and (np.diff(risk, axis=1) >= 0).all()
    assert list(fitted.predict_frame(latest, (1, 3)).columns) == ["risk_h1", "risk_h3"]
    assert fitted.policy_.horizon == 3 and 0 < fitted.policy_.min_risk < 1
    with pytest.raises(ValueError, match="between 1 and 12"):
        fitted.predict_risk(latest, (13,))


def test_explanations_are_additive_in_the_mean_log_odds(fitted, data):
    _, latest = data
    for h in (1, 3, 7):
        base, contrib, X = fitted.contributions(latest, horizon=h)
        q = fitted._hazards(latest, h)
        mean_logit = np.log(q / (1 - q)).mean(axis=1)
        assert np.allclose(base + contrib.sum(axis=1), mean_logit, atol=1e-9)
        assert contrib.shape == (len(latest), len(fitted.feature_columns_)) == (len(X), X.shape[1])
    both = fitted.explain_langs(latest, horizon=3)
    en, zh = both["en"][0], both["zh"][0]
    assert en.raw_score == pytest.approx(zh.raw_score) and [c.feature for c in en.contributions]
    assert all(r and "unknown" not in r and "nan" not in r for r in en.reasons + zh.reasons)


def test_linear_shap_is_coef_times_distance_from_the_training_mean(data):
    rows, latest = data
    model = LogisticAttritionModel().fit(rows, FEATURES)
    _, contrib, _ = model.contributions(latest, horizon=1)
    j = FEATURES.index("pay_vs_band_mid")
    coef = model.lr_.coef_[0][model.design_.index("pay_vs_band_mid")]
    z = (latest["pay_vs_band_mid"] - model.means_["pay_vs_band_mid"]) / model.scales_["pay_vs_band_mid"]
    mean_z = model.background_[model.design_.index("pay_vs_band_mid")]
    assert np.allclose(contrib[:, j], coef * (z - mean_z))
    assert coef < 0  # pay below the band midpoint raises the true hazard
    fam = [i for i, o in enumerate(model.design_) if o == "job_family"]
    assert len(fam) == 3  # the categorical's one-hot columns sum into one driver


def test_levers_rescore_actionable_changes(data):
    rows, latest = data
    model = LogisticAttritionModel().fit(rows, FEATURES)
    levers = model.levers(latest, horizon=3)
    underpaid = latest["pay_vs_band_mid"].to_numpy() < 0
    i = int(np.argmax(underpaid))
    pay = [lv for lv in levers[i] if lv["lever"] == "pay_to_band_midpoint"]
    assert pay and pay[0]["risk_after"] < pay[0]["risk_before"]  # the model learnt pay lowers risk
    assert pay[0]["kind"]["en"] == "model-based what-if, not causal" and pay[0]["change"] <= -MIN_LEVER_CHANGE
    assert TenureAttritionModel().fit(rows).levers(latest, 3) == [[] for _ in range(len(latest))]


def test_a_calibration_slice_with_one_class_falls_back_to_the_whole_window(data):
    rows, latest = data
    outcome = rows["event_timestamp"].dt.tz_convert(None).dt.to_period("M") + rows["months_ahead"]
    quiet = rows.assign(label=np.where(outcome >= outcome.max() - 1, 0, rows["label"]))  # no exit in the last 2 months
    model = AttritionModel(n_estimators=60, num_leaves=4, min_child_samples=50, calibration_months=2).fit(quiet, FEATURES)
    assert model.calibration_slice_ == "whole"
    assert "whole training window" in model.describe()["calibration"]
    assert np.isfinite(model.predict_risk(latest)).all()
    normal = AttritionModel(n_estimators=60, num_leaves=4, min_child_samples=50, calibration_months=2).fit(rows, FEATURES)
    assert normal.calibration_slice_ == "latest"
    with pytest.raises(ValueError, match="--calibration-months"):
        AttritionModel(calibration_months=99).fit(rows, FEATURES)
    with pytest.raises(ValueError, match="no voluntary exit"):
        LogisticAttritionModel().fit(rows.assign(label=0), FEATURES)


def test_pyfunc_round_trip_keeps_the_model(tmp_path, data):
    import mlflow

    from models.pyfunc import TalentLoopModel

    rows, latest = data
    model = LogisticAttritionModel().fit(rows, FEATURES)
    path = tmp_path / "m"
    mlflow.pyfunc.save_model(str(path), python_model=TalentLoopModel(model), pip_requirements=[])
    loaded = mlflow.pyfunc.load_model(str(path))
    assert np.allclose(loaded.predict(latest)["risk_h3"], model.predict_risk(latest, (3,))[:, 0])
    assert isinstance(loaded.unwrap_python_model().model, LogisticAttritionModel)
