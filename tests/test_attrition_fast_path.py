"""The attrition model's numpy path (one float64 matrix, one LightGBM call per request step) gives the very
numbers of the pandas path it replaced: risks, TreeSHAP contributions, explanations and levers, on rows with
missing and unknown categories, NaNs and the column types the online store and batch scoring hand over."""

import pickle

import numpy as np
import pandas as pd
import pytest

from models.attrition import AttritionModel
from models.attrition.labels import hazard_rows
from models.attrition.model import MONTHS_AHEAD, _sigmoid
from models.attrition.reasons import DRIVERS, KIND, LEVERS, MIN_LEVER_CHANGE
from models.explanation import explain_rows, tree_contributions
from tests.factories import FEATURES, attrition_company


# ---------------------------------------------------------------------- the pandas path, as it was
def old_hazards(model, df, max_h):
    n = len(df)
    X = model._matrix(df, 0)
    stacked = pd.concat([X.assign(**{MONTHS_AHEAD: k}) for k in range(max_h)], ignore_index=True)
    raw = model.booster_.predict(stacked, raw_score=True).reshape(max_h, n).T
    return _sigmoid(model.platt_[0] * raw + model.platt_[1])


def old_predict_risk(model, df, horizons=tuple(range(1, 13))):
    q = old_hazards(model, df, max(horizons))
    survival = np.cumprod(1.0 - q, axis=1)
    return np.column_stack([1.0 - survival[:, h - 1] for h in horizons])


def old_contributions(model, df, horizon):
    X0 = model._matrix(df, 0)
    base = np.zeros(len(df))
    contrib = np.zeros((len(df), X0.shape[1]))
    for k in range(horizon):
        b, c = tree_contributions(model.booster_, X0.assign(**{MONTHS_AHEAD: k}))
        base += b / horizon
        contrib += c / horizon
    return base, contrib, X0


def old_explain_langs(model, df, horizon, langs=("en", "zh"), top=5):
    base, contrib, X0 = old_contributions(model, df, horizon)
    k_col = X0.columns.get_loc(MONTHS_AHEAD)
    base = base + contrib[:, k_col]
    contrib = np.delete(contrib, k_col, axis=1)
    X = X0.drop(columns=[MONTHS_AHEAD])
    return {lang: explain_rows(base, contrib, X, DRIVERS, lang=lang, top=top, direction=1) for lang in langs}


def old_levers(model, df, horizon, predict_risk=old_predict_risk):
    before = predict_risk(model, df, (horizon,))[:, 0]
    per_lever = {}
    for name, lever in LEVERS.items():
        if not set(lever.needs) <= set(model.feature_columns_):
            continue
        changed = lever.apply(df.reset_index(drop=True))
        per_lever[name] = (lever, predict_risk(model, changed, (horizon,))[:, 0], lever.applies(df))
    out = []
    for i in range(len(df)):
        rows = []
        for name, (lever, after, applies) in per_lever.items():
            if applies[i] and after[i] - before[i] <= -MIN_LEVER_CHANGE:
                rows.append({"lever": name, "description": dict(lever.description),
                             "kind": dict(KIND), "risk_before": float(before[i]),
                             "risk_after": float(after[i]), "change": float(after[i] - before[i])})
        out.append(sorted(rows, key=lambda r: r["change"]))
    return out


# ---------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def fitted():
    snaps, events, end = attrition_company(n=900, months=24, seed=3)
    rows = hazard_rows(snaps[["employee_id", "event_timestamp"]], events, end, max_k=6)
    rows = rows.merge(snaps, on=["employee_id", "event_timestamp"])
    model = AttritionModel(n_estimators=80, num_leaves=7, min_child_samples=40).fit(rows, FEATURES)
    return model, snaps


def _awkward(snaps: pd.DataFrame) -> pd.DataFrame:
    """Rows with a missing and an unknown job family, NaNs, extra columns and a shuffled index."""
    rows = snaps.sample(9, random_state=5).copy()
    rows.index = [17, 3, 99, 4, 5, 6, 0, 1, 2]
    rows["job_family"] = rows["job_family"].astype(object)
    rows.iloc[0, rows.columns.get_loc("job_family")] = None
    rows.iloc[1, rows.columns.get_loc("job_family")] = "marketing"  # not seen in training
    rows.iloc[2, rows.columns.get_loc("pay_vs_band_mid")] = np.nan
    rows.iloc[3, rows.columns.get_loc("months_since_manager_change")] = np.nan
    rows.iloc[4, rows.columns.get_loc("job_level")] = np.nan
    rows.iloc[5, rows.columns.get_loc("pay_vs_band_mid")] = -0.3  # underpaid: the pay lever applies
    rows.iloc[6, rows.columns.get_loc("job_family")] = np.nan
    return rows


def _online(rows: pd.DataFrame) -> pd.DataFrame:
    """The frame ``OnlineFeatures.frame()`` builds: plain Python values (None for missing), one column a list."""
    values = {c: [None if (isinstance(v, float) and np.isnan(v)) else v for v in rows[c].tolist()] for c in FEATURES}
    values["completions_3m"] = [None] * len(rows)  # a column with nothing known: object dtype
    values["job_level"] = [None if v is None else int(v) for v in values["job_level"]]
    return pd.DataFrame(values)


def _typed(rows: pd.DataFrame) -> pd.DataFrame:
    """Nullable and categorical pandas dtypes, as a caller's own frame may have."""
    out = rows.reset_index(drop=True).copy()
    out["job_level"] = out["job_level"].astype("Float64").round().astype("Int64")
    out["job_family"] = out["job_family"].astype("string")
    out["completions_12m"] = out["completions_12m"].astype("int64")
    out["tenure_months"] = out["tenure_months"].astype("float32")
    out["manager_changes_12m"] = out["manager_changes_12m"] > 0  # bool
    out["completions_3m"] = out["completions_3m"].astype("Int64")  # nullable, nothing missing
    hours = out["training_hours_12m"].astype(object)
    hours.iloc[2] = 2**60  # an integer too large to be exact as a float: converted by pandas
    out["training_hours_12m"] = hours
    return out


def _frames(snaps):
    rows = _awkward(snaps)
    cat = rows.reset_index(drop=True).assign(job_family=lambda d: d["job_family"].astype("category"))
    return {"awkward": rows, "online": _online(rows), "typed": _typed(rows), "category": cat,
            "one row": rows.iloc[[5]], "one unknown": rows.iloc[[1]], "many": snaps.head(300),
            "family as numbers": rows.assign(job_family=[7, None, 7.5, 7, 7, 7, 7, 7, 7])}


def _assert_same_explanations(new, old):
    assert len(new) == len(old)
    for e, o in zip(new, old, strict=True):
        assert e.to_dict() == o.to_dict()
        assert e.base_value == o.base_value and e.total == o.total


# ---------------------------------------------------------------------- tests
def test_the_matrix_predicts_and_explains_as_lightgbm_does_from_the_frame(fitted):
    """LightGBM's own pandas conversion (public ``predict`` on the ``_matrix`` frame) is the reference."""
    model, snaps = fitted
    assert model.booster_.pandas_categorical == [model.categories_["job_family"]]
    for name, df in _frames(snaps).items():
        for k in (None, 0, 5):
            frame = df.assign(**{MONTHS_AHEAD: 2}) if k is None else df
            got = model._array(frame, k)
            assert got.dtype == np.float64 and got.flags.c_contiguous, name
            for kind in ({"raw_score": True}, {"pred_leaf": True}, {"pred_contrib": True}):
                expected = model.booster_.predict(model._matrix(frame, k), **kind)
                assert np.array_equal(model.booster_.predict(got, **kind), expected), (name, kind)
    codes = model._array(_awkward(snaps), 0)[:, FEATURES.index("job_family")]
    assert np.isnan(codes[[0, 1, 6]]).all() and not np.isnan(np.delete(codes, [0, 1, 6])).any()


def test_risks_contributions_explanations_and_levers_equal_the_pandas_path(fitted):
    model, snaps = fitted
    for name, df in _frames(snaps).items():
        assert np.array_equal(model.predict_risk(df), old_predict_risk(model, df)), name
        assert np.array_equal(model.predict_risk(df, (4, 1, 12)), old_predict_risk(model, df, (4, 1, 12))), name
        for h in (1, 3, 7, 12):
            base, contrib, X0 = model.contributions(df, h)
            base_old, contrib_old, X0_old = old_contributions(model, df, h)
            assert np.array_equal(base, base_old) and np.array_equal(contrib, contrib_old), (name, h)
            pd.testing.assert_frame_equal(X0, X0_old)
            _assert_same_explanations(model.explain(df, h, lang="zh", top=40),
                                      old_explain_langs(model, df, h, top=40)["zh"])
            assert model.levers(df, h) == old_levers(model, df, h), (name, h)
        both, both_old = model.explain_langs(df, 3), old_explain_langs(model, df, 3)
        for lang in ("en", "zh"):
            _assert_same_explanations(both[lang], both_old[lang])
    frame = model.predict_frame(snaps.head(5), (1, 3))
    assert list(frame.columns) == ["risk_h1", "risk_h3"]
    assert np.array_equal(frame.to_numpy(), old_predict_risk(model, snaps.head(5), (1, 3)))


def test_explanation_values_of_a_missing_or_unknown_category_are_none(fitted):
    model, snaps = fitted
    rows = _awkward(snaps)
    for i in (0, 1, 6):
        expl = model.explain(rows.iloc[[i]], 3, top=len(FEATURES))[0]
        assert next(c.value for c in expl.contributions if c.feature == "job_family") is None
    expl = model.explain(rows.iloc[[2]], 3, top=len(FEATURES))[0]
    assert next(c.value for c in expl.contributions if c.feature == "pay_vs_band_mid") is None


def test_a_model_pickled_before_serves_the_same_numbers(fitted):
    """Nothing new is fitted: a pickle of the model (as MLflow stores it) needs no new attribute."""
    model, snaps = fitted
    state = {k: v for k, v in model.__dict__.items() if k.endswith("_") or not k.startswith("_")}
    old = AttritionModel.__new__(AttritionModel)
    old.__dict__.update(pickle.loads(pickle.dumps(state)))
    df = _awkward(snaps)
    assert np.array_equal(old.predict_risk(df), old_predict_risk(model, df))
    assert old.levers(df, 3) == old_levers(model, df, 3)
    _assert_same_explanations(old.explain(df, 3), old_explain_langs(model, df, 3)["en"])


def test_a_booster_without_pandas_categories_codes_by_the_fitted_categories(fitted):
    model, snaps = fitted
    twin = pickle.loads(pickle.dumps(model))
    twin.booster_.pandas_categorical = None  # LightGBM then codes by the frame's own categories (categories_)
    df = _awkward(snaps)
    assert np.array_equal(twin._array(df, 0), model._array(df, 0), equal_nan=True)


def test_pyfunc_wrapper_still_predicts(fitted):
    from models.pyfunc import TalentLoopModel

    model, snaps = fitted
    out = TalentLoopModel(model).predict(None, _online(_awkward(snaps)), {"horizons": (3,)})
    assert np.array_equal(out["risk_h3"].to_numpy(), old_predict_risk(model, _online(_awkward(snaps)), (3,))[:, 0])


def test_large_frames_stack_months_in_chunks(fitted, monkeypatch):
    import models.attrition.model as M

    model, snaps = fitted
    df = snaps.head(50)
    expected = old_contributions(model, df, 5)
    monkeypatch.setattr(M, "_STACK_ROWS", 120)  # two months per call, then one
    monkeypatch.setattr(M, "_ONE_THREAD_ROWS", 10)  # and LightGBM's own threading
    base, contrib, _ = model.contributions(df, 5)
    assert np.array_equal(base, expected[0]) and np.array_equal(contrib, expected[1])
    assert np.array_equal(model.predict_risk(df), old_predict_risk(model, df))


def test_an_empty_frame_is_refused_as_before(fitted):
    model, snaps = fitted
    for call in (model.predict_risk, lambda d: model.explain(d, 3), lambda d: model.levers(d, 3),
                 lambda d: model.contributions(d, 3)):
        with pytest.raises(ValueError, match="non empty"):
            call(snaps.head(0))
