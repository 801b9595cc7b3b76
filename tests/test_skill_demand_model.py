"""DemandForecaster: quantiles, generic input, no leakage in the backtest, explanations, supply and gap."""

import pandas as pd
import pytest

from models.skill_demand import DemandForecaster
from tests.factories import make_series

FAST = {"n_estimators": 20, "min_child_samples": 10, "horizons": (1, 3)}


def model(**params) -> DemandForecaster:
    base = {"id_col": ("org_unit_id", "skill_id"), "exog_cols": ("open_req_slots",),
            "static_cols": ("skill_id", "unit_level"), **FAST}
    return DemandForecaster(**{**base, **params})


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return make_series()


@pytest.fixture(scope="module")
def fitted(data) -> DemandForecaster:
    return model().fit(data)


def test_fit_stores_fitted_attributes_only(fitted):
    assert fitted.horizons_ == [1, 3]
    assert fitted.feature_service_ == "skill_demand_v1"
    assert set(fitted.calibration_) == {1, 3}
    assert "month_of_year" in fitted.feature_names_ and "x_open_req_slots" in fitted.feature_names_
    assert not hasattr(DemandForecaster(), "boosters_")


def test_predict_gives_ordered_quantiles_per_series_and_horizon(fitted, data):
    out = fitted.predict(data)
    assert len(out) == 24 * 2
    assert list(out.columns[:5]) == ["org_unit_id", "skill_id", "month", "horizon", "p10"]
    assert (out["p10"] <= out["p50"]).all() and (out["p50"] <= out["p90"]).all()
    assert (out["p10"] >= 0).all()
    h3 = out[out["horizon"] == 3]
    assert (h3["month"] == pd.Timestamp("2024-09-01")).all()


def test_unfitted_horizon_and_unfitted_model_are_refused(fitted, data):
    with pytest.raises(ValueError, match="horizons \\[6\\] were not fitted"):
        fitted.predict(data, horizons=6)
    with pytest.raises(RuntimeError, match="not fitted"):
        DemandForecaster().predict(data)


def test_row_cap_samples_training_rows_but_calibrates_on_every_row(fitted, data):
    # the cap is above this data: the same model as without one
    pd.testing.assert_frame_equal(model(max_train_rows=None).fit(data).predict(data), fitted.predict(data))
    capped = model(max_train_rows=300).fit(data)
    assert not capped.predict(data).equals(fitted.predict(data))
    assert all(capped.calibration_[h]["n"] == fitted.calibration_[h]["n"] for h in fitted.horizons_)
    with pytest.raises(ValueError, match="max_train_rows"):
        model(max_train_rows=10).fit(data)


def test_generic_long_format_works_and_malformed_input_is_refused():
    df = make_series(n_series=12)[["org_unit_id", "skill_id", "month", "value"]]
    generic = df.assign(series_id=df["org_unit_id"] + "-" + df["skill_id"])[["series_id", "month", "value"]]
    fc = DemandForecaster(**FAST).fit(generic).predict(generic)
    assert set(fc.columns) == {"series_id", "month", "horizon", "p10", "p50", "p90", "method"}
    with pytest.raises(ValueError, match="missing column\\(s\\) \\['value'\\]"):
        DemandForecaster(**FAST).fit(generic.rename(columns={"value": "demand"}))
    with pytest.raises(ValueError, match="duplicate \\(series_id, month\\)"):
        DemandForecaster(**FAST).fit(pd.concat([generic, generic.head(1)]))


def test_too_short_history_names_the_horizon():
    df = make_series(n_series=4, n_months=6)[["org_unit_id", "month", "value", "skill_id"]]
    with pytest.raises(ValueError, match="horizon 3 has"):
        DemandForecaster(id_col=("org_unit_id", "skill_id"), horizons=(3,), n_estimators=5).fit(df)


def test_backtest_forecasts_at_an_origin_ignore_later_months(data):
    m = model(horizons=(3,))
    cv = m.cross_validation(data, n_windows=1, horizons=(3,))
    origin = cv["origin"].iloc[0]
    assert origin == pd.Timestamp("2024-04-01") and (cv["month"] == pd.Timestamp("2024-06-01")).all()
    future = data.copy()
    later = future["month"] >= origin
    future.loc[later, "value"] = future.loc[later, "value"] * 5 + 100
    future.loc[later, "open_req_slots"] = 50.0
    again = m.cross_validation(future, n_windows=1, horizons=(3,))
    pd.testing.assert_frame_equal(cv.drop(columns="value"), again.drop(columns="value"))


def test_backtest_has_one_row_per_series_origin_and_horizon(data):
    cv = model().cross_validation(data, n_windows=2, horizons=(1, 3))
    assert len(cv) == 24 * 2 * 2
    assert not cv.duplicated(["org_unit_id", "skill_id", "origin", "horizon"]).any()
    assert (cv["month"] > cv["origin"] - pd.offsets.MonthBegin(1)).all()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_explanations_are_additive_and_worded(fitted, data, lang):
    explanations = fitted.explain(data, horizon=3, lang=lang, top=20)
    fc = fitted.predict(data, horizons=3)
    assert len(explanations) == len(fc)
    for e, p50 in zip(explanations, fc["p50"], strict=True):
        # base + contributions = P50 (before clipping at zero; these series are far from zero)
        assert e.raw_score == pytest.approx(p50, rel=1e-6, abs=1e-6)
        assert e.reasons
    names = {c.feature for e in explanations for c in e.contributions}
    assert {"trend", "seasonality", "open_req_slots"} <= names
    words = " ".join(r for e in explanations for r in e.reasons)
    assert ("open requisitions" in words) if lang == "en" else ("个在招职位" in words)
    assert ("seasonality" in words) if lang == "en" else ("季度季节性" in words)
    # static columns are named for what they are: the skill, or the caller's column in its own words
    shown = {c.feature: c.display_name for e in explanations for c in e.contributions}
    assert shown["skill_id"] == ("the skill itself" if lang == "en" else "技能本身")
    assert shown["unit_level"] == ("unit level" if lang == "en" else "序列固定属性（unit level）")
    assert "单位属性" not in " ".join(shown.values())


def test_predict_frame_adds_supply_and_gap(fitted, data):
    out = fitted.predict_frame(data)
    # holders 10, attrition 12%/year, 2 in training at 70% completion within 3 months
    h3 = out[out["horizon"] == 3].iloc[0]
    expected = 10 - 10 * (1 - 0.88 ** (3 / 12)) + 2 * 0.7
    assert h3["supply"] == pytest.approx(expected)
    assert h3["gap_p50"] == pytest.approx(h3["p50"] - expected)
    assert (out["gap_p10"] <= out["gap_p90"]).all()
    only_demand = fitted.predict_frame(data.drop(columns=["in_training"]))
    assert "supply" not in only_demand.columns


def test_threaded_fit_names_lightgbm_threads_on_every_call(data, monkeypatch):
    """With ``n_jobs`` > 1 horizons and origins are fitted on Python threads. LightGBM keeps one process-wide
    thread count, and a call that does not name it resets it under a thread that is training (a segfault in
    ``talentloop demo``). Every train, dataset and predict call in a threaded fit names ``num_threads``."""
    import lightgbm as lgb

    calls = []
    real_predict, real_train = lgb.Booster.predict, lgb.train

    def predict(self, X, *args, **kwargs):
        calls.append(("predict", kwargs.get("num_threads")))
        return real_predict(self, X, *args, **kwargs)

    def train(params, train_set, *args, **kwargs):
        calls.append(("train", params.get("num_threads")))
        calls.append(("dataset", (train_set.params or {}).get("num_threads")))
        return real_train(params, train_set, *args, **kwargs)

    monkeypatch.setattr(lgb.Booster, "predict", predict)
    monkeypatch.setattr(lgb, "train", train)
    m = model(n_jobs=2)
    m.cross_validation(data, n_windows=2, horizons=(1, 3))
    m.fit(data).predict(data)
    assert {kind for kind, _ in calls} == {"predict", "train", "dataset"}
    assert all(threads == 1 for _, threads in calls), sorted(set(calls))
