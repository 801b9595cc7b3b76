"""Long-format series validation: hand-made input, clear messages for malformed input, gap filling."""

import numpy as np
import pandas as pd
import pytest

from models.skill_demand.series import Panel, origin_features, series_key, to_panel, validate_long


def _frame(**extra) -> pd.DataFrame:
    df = pd.DataFrame({
        "series_id": ["a", "a", "a", "b", "b"],
        "month": ["2024-01-01", "2024-02-01", "2024-03-01", "2024-02-01", "2024-03-01"],
        "value": [1.0, 2.0, 3.0, 10.0, 12.0],
    })
    return df.assign(**extra)


def test_clean_frame_is_sorted_monthly_and_float():
    df = _frame().sample(frac=1.0, random_state=0)
    out = validate_long(df)
    assert out["series_id"].tolist() == ["a", "a", "a", "b", "b"]
    assert out["month"].dt.day.eq(1).all()
    assert out["value"].dtype == "float64"


def test_several_id_columns_make_one_key():
    df = _frame(org_unit_id="u1", skill_id=["s1", "s1", "s1", "s2", "s2"]).drop(columns="series_id")
    out = validate_long(df, id_col=("org_unit_id", "skill_id"))
    assert set(out["_series_key"]) == {"u1|s1", "u1|s2"}


def test_series_key_joins_ids_per_row_and_shares_one_string_per_series():
    df = pd.DataFrame({"unit": ["u1", "u2", "u1", "u1"], "skill": ["s1", "s1", "s2", "s1"], "n": [1, 2, 3, 4]},
                      index=[10, 11, 12, 13])
    key = series_key(df, ["unit", "skill"])
    assert key.tolist() == ["u1|s1", "u2|s1", "u1|s2", "u1|s1"] and key.index.tolist() == [10, 11, 12, 13]
    assert key.iat[0] is key.iat[3]  # one object per series, not per row
    assert series_key(df, ["n"]).tolist() == ["1", "2", "3", "4"]


def test_utc_months_are_accepted():
    df = _frame()
    df["month"] = pd.to_datetime(df["month"]).dt.tz_localize("UTC")
    assert validate_long(df)["month"].dt.tz is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.drop(columns="value"), "missing column(s) ['value']"),
        (lambda d: d.assign(month=["2024-01-01", "2024-01-15", "2024-03-01", "2024-02-01", "2024-03-01"]),
         "rows [1] are not, e.g. '2024-01-15'"),
        (lambda d: d.assign(month=["2024-01-01", "not a date", "2024-03-01", "2024-02-01", "2024-03-01"]),
         "column 'month' has values that are not dates"),
        (lambda d: d.assign(value=[1, "12 slots", 3, 4, 5]), "column 'value' must be numeric; rows [1] hold '12 slots'"),
        (lambda d: d.assign(value=[1, np.inf, 3, 4, 5]), "column 'value' is infinite at rows [1]"),
        (lambda d: d.assign(series_id=["a", "a", None, "b", "b"]), "id column 'series_id' is empty at rows [2]"),
        (lambda d: pd.concat([d, d.iloc[[0]]]), "duplicate (series_id, month) rows"),
        (lambda d: d.drop(index=1), "series ['a'] have missing months in 'month' (e.g. 'a' lacks ['2024-02']"),
        (lambda d: d.assign(value=[1, None, 3, 4, 5]), "column 'value' is empty at rows [1]"),
        (lambda d: d.iloc[0:0], "input has no rows"),
    ],
)
def test_malformed_input_is_rejected_with_a_clear_message(change, message):
    with pytest.raises(ValueError) as err:
        validate_long(change(_frame()))
    assert message in str(err.value)


def test_static_column_must_not_change_within_a_series():
    df = _frame(unit_type=["team", "team", "department", "team", "team"])
    with pytest.raises(ValueError, match="static column 'unit_type' changes within series \\['a'\\]"):
        validate_long(df, static_cols=("unit_type",))


def test_exogenous_column_is_checked_too():
    with pytest.raises(ValueError, match="column 'open_req_slots' must be numeric"):
        validate_long(_frame(open_req_slots=["1", "x", "2", "0", "0"]), exog_cols=("open_req_slots",))


def test_gaps_are_filled_with_zero_or_carried_forward():
    df = _frame(open_req_slots=[1.0, 5.0, 2.0, 0.0, 0.0]).drop(index=1)
    zero = validate_long(df, exog_cols=("open_req_slots",), fill="zero")
    a = zero[zero["series_id"] == "a"]
    assert a["value"].tolist() == [1.0, 0.0, 3.0]
    assert a["open_req_slots"].tolist() == [1.0, 1.0, 2.0]
    ffill = validate_long(df, fill="ffill")
    assert ffill[ffill["series_id"] == "a"]["value"].tolist() == [1.0, 1.0, 3.0]


def test_panel_puts_series_on_a_common_grid():
    clean = validate_long(_frame())
    panel = to_panel(clean, ["series_id"], "month", "value")
    assert panel.keys.tolist() == ["a", "b"]
    np.testing.assert_array_equal(panel.values[1], [np.nan, 10.0, 12.0])


def test_features_at_an_origin_ignore_the_future():
    rng = np.random.default_rng(3)
    values = rng.poisson(20, size=(6, 30)).astype(float)
    exog = rng.poisson(2, size=(6, 30)).astype(float)
    months = pd.date_range("2022-01-01", periods=30, freq="MS")
    static = pd.DataFrame({"series_id": list("abcdef")}, index=list("abcdef"))
    panel = Panel(np.array(list("abcdef")), months, values, {"reqs": exog}, static)
    origin = 18
    future = values.copy()
    future[:, origin:] = rng.poisson(500, size=(6, 30 - origin))
    future_exog = exog.copy()
    future_exog[:, origin:] = 99.0
    perturbed = Panel(panel.keys, months, future, {"reqs": future_exog}, static)
    before = origin_features(panel, (1, 2, 3, 6, 12), (3, 6, 12), 6)
    after = origin_features(perturbed, (1, 2, 3, 6, 12), (3, 6, 12), 6)
    for name in before:
        np.testing.assert_array_equal(before[name][:, : origin + 1], after[name][:, : origin + 1], err_msg=name)
    assert not np.array_equal(before["lag_1"][:, origin + 1], after["lag_1"][:, origin + 1])
    # lag k at origin T is the value of month T - k, scaled by the mean |value| of the last 12 months
    np.testing.assert_allclose(before["lag_2"][:, origin] * before["scale"][:, origin], values[:, origin - 2])
    np.testing.assert_allclose(before["scale"][:, origin], values[:, origin - 12 : origin].mean(axis=1))
