"""The attrition model on generated data with a known hazard: learns it, calibrated, monotone in horizon,
additive explanations, levers, protected attributes have no way in."""

import re

import numpy as np
import pandas as pd
import pytest

from models.attrition import AttritionModel
from models.attrition.labels import hazard_rows
from models.attrition.reasons import MIN_LEVER_CHANGE
from tests.factories import FEATURES, attrition_company, true_hazard


@pytest.fixture(scope="module")
def fitted():
    snaps, events, end = attrition_company()
    rows = hazard_rows(snaps[["employee_id", "event_timestamp"]], events, end, max_k=6)
    rows = rows.merge(snaps, on=["employee_id", "event_timestamp"])
    model = AttritionModel(n_estimators=150, num_leaves=7, min_child_samples=50).fit(rows, FEATURES)
    return model, snaps


def test_risk_grows_with_horizon_and_is_a_probability(fitted):
    model, snaps = fitted
    risk = model.predict_risk(snaps.head(200))
    assert risk.shape == (200, 12)
    assert (risk >= 0).all() and (risk <= 1).all()
    assert (np.diff(risk, axis=1) >= -1e-12).all()


def test_the_model_ranks_by_the_true_hazard(fitted):
    model, snaps = fitted
    sample = snaps.sample(3000, random_state=1)
    risk = model.predict_risk(sample, (1,))[:, 0]
    corr = pd.Series(risk).corr(pd.Series(true_hazard(sample).to_numpy()), method="spearman")
    assert corr > 0.7
    # calibrated on average: mean predicted one-month risk near the mean true hazard
    assert abs(risk.mean() - true_hazard(sample).mean()) < 0.01


def test_explanations_are_additive_to_the_raw_score(fitted):
    model, snaps = fitted
    rows = snaps.head(50)
    for h in (1, 3):
        base, contrib, X0 = model.contributions(rows, horizon=h)
        raw = np.mean([model.booster_.predict(X0.assign(months_ahead=k), raw_score=True) for k in range(h)], axis=0)
        assert np.abs(base + contrib.sum(axis=1) - raw).max() < 1e-6
    expl = model.explain(rows, horizon=3, lang="zh", top=5)
    assert all(len(e.contributions) == 5 for e in expl)
    assert all(abs(e.raw_score - r) < 1e-6 for e, r in zip(expl, raw, strict=True))
    low_paid = rows[rows["pay_vs_band_mid"] < -0.2].head(1)
    reasons = model.explain(low_paid, horizon=3, lang="en")[0].reasons
    assert any("below the band midpoint" in r for r in reasons)


def test_pay_lever_lowers_risk_for_the_underpaid(fitted):
    model, snaps = fitted
    low_paid = snaps[snaps["pay_vs_band_mid"] < -0.2].head(20)
    levers = model.levers(low_paid, horizon=3)
    changes = [x["change"] for row in levers for x in row if x["lever"] == "pay_to_band_midpoint"]
    assert len(changes) >= len(levers) // 2 and np.mean(changes) < 0
    # only levers worth showing: each lowers the risk by at least the stated minimum
    assert all(x["change"] <= -MIN_LEVER_CHANGE for row in levers for x in row)
    assert all(x["kind"]["en"].startswith("model-based") and x["kind"]["zh"] for row in levers for x in row)


def test_protected_attributes_are_not_inputs_and_do_not_move_scores(fitted):
    model, snaps = fitted
    assert "sex" not in model.columns_
    rows = snaps.head(100)
    flipped = rows.assign(sex=np.where(rows["sex"] == "female", "male", "female"))
    assert np.array_equal(model.predict_risk(rows), model.predict_risk(flipped))


def test_policy_and_bad_horizon(fitted):
    model, snaps = fitted
    assert model.policy_.horizon == 3 and 0 < model.policy_.min_risk < 1
    with pytest.raises(ValueError, match="horizon_months"):
        model.predict_risk(snaps.head(2), (0,))


def test_every_attrition_feature_has_a_driver_in_both_languages():
    from features.store import feature_columns
    from models.attrition.reasons import DRIVERS

    columns = feature_columns("attrition_v1")
    assert [c for c in columns if c not in DRIVERS] == []
    for name in columns:
        for lang in ("en", "zh"):
            assert DRIVERS[name].name(lang)
            missing = DRIVERS[name].reason(None, lang)  # worded as missing, or left out: never a number
            assert missing is None or not re.search(r"\d|unknown|None|nan|未知", missing), (name, missing)
