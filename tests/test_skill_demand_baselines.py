"""Baselines on backtest origins see only months before the origin; oracle aggregation sums subtrees."""

import numpy as np
import pandas as pd
import pytest

from evaluation.forecast_baselines import baseline_backtest, score
from evaluation.skill_demand_oracle import aggregate_up


def _history() -> pd.DataFrame:
    months = pd.date_range("2022-01-01", periods=30, freq="MS")
    return pd.DataFrame({"series_id": "a", "month": months, "value": np.arange(30, dtype=float)})


def test_naive_and_seasonal_naive_use_only_months_before_the_origin():
    plan = pd.DataFrame({"series_id": "a", "origin": pd.Timestamp("2024-01-01"),
                         "month": pd.to_datetime(["2024-01-01", "2024-03-01", "2025-02-01"]), "horizon": [1, 3, 14]})
    out = baseline_backtest(_history(), plan, models=("naive", "seasonal_naive")).set_index(["model", "horizon"])
    # origin 2024-01 is month index 24: naive = value of index 23; seasonal naive = same month a year (or two) back
    assert out.loc[("naive", 1), "p50"] == 23.0 and out.loc[("naive", 14), "p50"] == 23.0
    assert out.loc[("seasonal_naive", 1), "p50"] == 12.0
    assert out.loc[("seasonal_naive", 3), "p50"] == 14.0
    assert out.loc[("seasonal_naive", 14), "p50"] == 13.0  # 2023-02, two years back
    with pytest.raises(ValueError, match="unknown baseline"):
        baseline_backtest(_history(), plan, models=("prophet",))


def test_score_compares_models_on_the_same_rows():
    history = _history()
    plan = pd.DataFrame({"series_id": "a", "origin": pd.Timestamp("2024-01-01"),
                         "month": pd.to_datetime(["2024-01-01"]), "horizon": [1]})
    base = baseline_backtest(history, plan, models=("naive",))
    perfect = plan.assign(model="lightgbm", p10=23.0, p50=24.0, p90=25.0)
    table = score(pd.concat([base, perfect]), history).set_index("model")
    assert table.loc["lightgbm", "mase"] == 0.0 and table.loc["lightgbm", "coverage_80"] == 1.0
    assert table.loc["naive", "mase"] == pytest.approx(1.0)  # one-step naive error 1, scale 1


def test_oracle_demand_is_summed_up_the_tree():
    units = pd.DataFrame({"org_unit_id": ["c", "d", "t1", "t2"], "parent_id": [None, "c", "d", "d"]})
    demand = pd.DataFrame({"org_unit_id": ["t1", "t2"], "skill_id": "s", "month": pd.Timestamp("2024-01-01"),
                           "expected_demand": [2.0, 3.0]})
    out = aggregate_up(demand, units).set_index("org_unit_id")["expected_demand"]
    assert out.to_dict() == {"c": 5.0, "d": 5.0, "t1": 2.0, "t2": 3.0}


def test_damped_ets_and_arima_see_only_months_before_the_origin_and_are_served_as_backtested():
    from models.skill_demand import baselines

    rng = np.random.default_rng(3)
    months = pd.date_range("2022-01-01", periods=30, freq="MS")
    history = pd.DataFrame({"series_id": np.repeat(["a", "b"], 30), "month": np.tile(months, 2),
                            "value": np.concatenate([50 + np.cumsum(rng.normal(0.5, 1.0, 30)),
                                                     80 - np.cumsum(rng.normal(0.3, 1.0, 30))])})
    plan = pd.DataFrame({"series_id": ["a", "a", "b"], "origin": pd.Timestamp("2024-01-01"),
                         "month": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-03-01"]), "horizon": [1, 3, 3]})
    models = ("ets_damped", "arima")
    out = baseline_backtest(history, plan, models=models)
    changed = history.assign(value=np.where(history["month"] >= "2024-01-01", 1e6, history["value"]))
    pd.testing.assert_frame_equal(out, baseline_backtest(changed, plan, models=models))  # the future is not seen
    assert out["p50"].between(20, 120).all() and set(out["model"]) == set(models)
    # the served forecast from the months before the origin is the backtest's, one horizon at a time
    values = history.pivot(index="series_id", columns="month", values="value").to_numpy()[:, :24]
    for m in models:
        at = out[out["model"] == m]
        got = [baselines.forecast(m, values, np.array([24, 24]), [h])[0 if s == "a" else 1, 0]
               for s, h in zip(at["series_id"], at["horizon"], strict=True)]
        np.testing.assert_allclose(got, at["p50"].to_numpy())
    with pytest.raises(ValueError, match="horizons must be within 1-24"):
        baselines.forecast("arima", values, np.array([24, 24]), [25])
