"""The headcount plan as a known-in-advance input of the skill-demand forecaster, and how it is worded."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.skill_demand import DemandForecaster

AHEAD = 6


def _planned(n_series: int = 30, n_months: int = 30, seed: int = 5, plan_ends: int | None = None) -> pd.DataFrame:
    """Series that follow a stepwise plan (demand = plan + small noise), with the plan of the next ``AHEAD``
    months on each row; ``plan_ends`` (a month index) leaves the months from it without a plan."""
    rng = np.random.default_rng(seed)
    total = n_months + AHEAD
    steps = rng.choice([-3.0, 0.0, 0.0, 0.0, 4.0], size=(n_series, total))
    plan = np.maximum(20 + np.cumsum(steps, axis=1), 1.0)
    months = pd.date_range("2023-01-01", periods=n_months, freq="MS")
    rows = []
    for s in range(n_series):
        for t, month in enumerate(months):
            row = {"org_unit_id": f"U{s:02d}", "skill_id": "SK-X", "month": month,
                   "demand_slots": plan[s, t] + rng.integers(0, 2)}
            for k in range(1, AHEAD + 1):
                covered = plan_ends is None or t + k < plan_ends
                row[f"planned_slots_ahead_{k}"] = plan[s, t + k] if covered else np.nan
            rows.append(row)
    return pd.DataFrame(rows), plan


def _model(**kw) -> DemandForecaster:
    return DemandForecaster(id_col=("org_unit_id", "skill_id"), target_col="demand_slots", ahead_cols=("planned_slots",),
                            horizons=tuple(range(1, AHEAD + 1)), n_estimators=60, min_child_samples=10, **kw)


@pytest.fixture(scope="module")
def fitted():
    data, plan = _planned()
    return _model().fit(data), data, plan


def test_the_plan_of_the_target_month_drives_the_forecast(fitted):
    model, data, plan = fitted
    last = data["month"].max()
    got = model.predict(data, 3).sort_values("org_unit_id")["p50"].to_numpy()
    target_plan = plan[:, len(data["month"].unique()) - 1 + 3]  # the plan of the month 3 months after the last
    last_value = data[data["month"] == last].sort_values("org_unit_id")["demand_slots"].to_numpy()
    assert np.abs(got - target_plan).mean() < 0.5 * np.abs(last_value - target_plan).mean()
    # the 3-month forecast reads the plan 3 months ahead, not another month's
    moved = data.copy()
    at_last = moved["month"] == last
    moved.loc[at_last, "planned_slots_ahead_5"] += 40
    np.testing.assert_allclose(model.predict(moved, 3)["p50"], model.predict(data, 3)["p50"])
    moved.loc[at_last, "planned_slots_ahead_3"] += 40
    assert (model.predict(moved, 3)["p50"].to_numpy() > model.predict(data, 3)["p50"].to_numpy()).mean() > 0.8


def test_the_plan_columns_are_required_and_named():
    data, _ = _planned(n_series=4, n_months=12)
    with pytest.raises(ValueError, match="planned_slots_ahead_6"):
        _model().fit(data.drop(columns="planned_slots_ahead_6"))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_month_no_plan_covers_is_said_in_words_never_n_a(lang):
    data, plan = _planned(plan_ends=31)  # the plan runs one month past the data: h >= 2 has no plan
    model = _model().fit(data)
    for h, covered in ((1, True), (3, False)):
        explained = model.explain(data, horizon=h, lang=lang, top=30)
        p50 = model.predict(data, h)["p50"]
        for e, p in zip(explained, p50, strict=True):
            assert e.raw_score == pytest.approx(p, abs=1e-6)
            texts = " | ".join(e.reasons)
            assert not any(w in texts for w in ("n/a", "nan", "None", "planned_slots"))
            plan_rows = [c for c in e.contributions if c.feature == "ahead_planned_slots"]
            assert len(plan_rows) == 1
            if covered:
                n = f"{plan_rows[0].value:.0f}"
                want = (f"the headcount plan for the forecast month needs the skill in {n} positions" if lang == "en"
                        else f"预测月份的编制计划中有{n}个岗位需要该技能")
                assert plan_rows[0].value is not None and want in e.reasons
            else:
                want = "no headcount plan covers the forecast month" if lang == "en" else "预测月份没有编制计划"
                assert plan_rows[0].value is None and want in e.reasons
            assert plan_rows[0].display_name == ("headcount plan for the forecast month" if lang == "en" else "预测月份的编制计划")


def test_a_model_saved_before_the_plan_input_existed_still_forecasts():
    data, _ = _planned(n_series=8, n_months=18)
    old = DemandForecaster(id_col=("org_unit_id", "skill_id"), target_col="demand_slots", horizons=(1, 3),
                           n_estimators=20, min_child_samples=10).fit(data)
    expected = old.predict(data, 3)
    del old.ahead_cols  # what unpickling a model of the previous version gives
    pd.testing.assert_frame_equal(old.predict(data, 3), expected)
    assert old.explain(data, horizon=3)[0].reasons
