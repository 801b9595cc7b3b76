"""CourseRanker behaviour on small generated feature frames shaped like the ``course_ranker_v1`` service."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.course_ranker import CourseRanker
from tests.factories import SKILL_NAMES, make_frame, with_pair_features


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return make_frame()


@pytest.fixture(scope="module")
def ranker(data) -> CourseRanker:
    return CourseRanker(n_estimators=60, n_jobs=1).fit(data)


def one_employee(data: pd.DataFrame, employee: str = "e0003") -> pd.DataFrame:
    last = data["event_timestamp"].max()
    return data[(data["employee_id"] == employee) & (data["event_timestamp"] == last)].reset_index(drop=True)


def test_fit_is_compact_and_learns_the_utility(ranker, data):
    assert ranker.booster_.num_trees() <= 200 and ranker.num_leaves <= 31
    assert ranker.columns_ == list(ranker._matrix(data.head(2)).columns)
    assert not {"employee_id", "course_id", "job_id", "org_unit_id", "label"} & set(ranker.columns_)
    held_out = make_frame(n_employees=40, n_origins=1, seed=1)
    held_out["score"] = ranker.score(held_out)
    corr = held_out.groupby("employee_id")[["score", "label"]].corr(method="spearman").xs("score", level=1)["label"]
    assert corr.mean() > 0.4


def test_fit_rejects_bad_inputs(data):
    with pytest.raises(ValueError, match="labels must be graded"):
        CourseRanker(n_jobs=1).fit(data.assign(label=5))
    with pytest.raises(ValueError, match="num_leaves"):
        CourseRanker(num_leaves=0).fit(data)
    with pytest.raises(ValueError, match="missing column"):
        CourseRanker(n_jobs=1).fit(data.drop(columns="gap_match"))
    with pytest.raises(RuntimeError, match="not fitted"):
        CourseRanker().score(data)


def test_larger_gap_never_lowers_the_rank_of_the_course_teaching_it(ranker, data):
    frame = one_employee(data)
    for skill in frame["skill_ids"].iloc[0]:
        teaches = frame["course_skill_ids"].map(lambda t, s=skill: s in t)
        if not teaches.any():
            continue
        target = frame.loc[teaches, "course_id"].iloc[0]
        sub = frame[~teaches | (frame["course_id"] == target)].reset_index(drop=True)
        pos = list(sub["skill_ids"].iloc[0]).index(skill)
        ranks, scores = [], []
        for gap in (0.0, 0.5, 1.0, 2.0, 3.0, 4.0):
            gaps = list(sub["skill_gaps"].iloc[0])
            gaps[pos] = gap
            varied = with_pair_features(sub.assign(skill_gaps=[gaps] * len(sub)))
            s = ranker.score(varied)
            i = int(np.flatnonzero(varied["course_id"] == target)[0])
            scores.append(s[i])
            ranks.append(int((s > s[i]).sum()) + 1)
        assert all(b >= a - 1e-12 for a, b in zip(scores, scores[1:], strict=False)), (skill, scores)
        assert all(b <= a for a, b in zip(ranks, ranks[1:], strict=False)), (skill, ranks)


def test_new_course_without_takers_is_not_hard_penalised(ranker, data):
    frame = one_employee(data)
    row = frame[frame["takers_total"] > 0].head(1)
    as_new = row.assign(takers_total=0, takers_12m=0, avg_rating_change=np.nan, completion_rate=np.nan,
                        avg_exam_score=np.nan)
    X = ranker._matrix(as_new)
    assert X["avg_rating_change"].iloc[0] == pytest.approx(ranker.priors_["avg_rating_change"])
    assert X["has_takers"].iloc[0] == 0.0
    spread = np.ptp(ranker.score(frame))
    assert abs(ranker.score(as_new)[0] - ranker.score(row)[0]) < spread


def test_recommend_honours_constraints(ranker, data):
    frame = one_employee(data)
    recs = ranker.recommend(frame, k=5)
    assert list(recs["rank"]) == list(range(1, len(recs) + 1)) and len(recs) == min(5, len(frame))
    assert list(recs.columns[:4]) == ["course_id", "score", "rank", "skills_addressed"]
    online = ranker.recommend(frame, k=10, formats=["online"])
    assert set(online["format"]) <= {"online"}
    assert ranker.recommend(frame, k=10, max_hours=10)["hours"].sum() <= 10
    assert ranker.recommend(frame, k=10, budget=400)["cost"].sum() <= 400
    banned = recs["course_id"].iloc[:2].tolist()
    assert not set(banned) & set(ranker.recommend(frame, k=10, exclude=banned)["course_id"])
    first = ranker.recommend(frame, k=10, mandatory_first=True)
    n_mand = int(frame["mandatory"].sum())
    assert n_mand > 0 and first["mandatory"].iloc[:n_mand].all()
    done = frame.assign(already_completed=frame["course_id"] == recs["course_id"].iloc[0])
    assert recs["course_id"].iloc[0] not in set(ranker.recommend(done, k=10)["course_id"])
    with pytest.raises(ValueError, match="formats"):
        ranker.recommend(frame, formats=["podcast"])
    with pytest.raises(ValueError, match="k must be"):
        ranker.recommend(frame, k=0)
    with pytest.raises(ValueError, match="one employee"):
        ranker.recommend(data)


def test_recommend_diversifies_the_top_three(ranker, data):
    frame = one_employee(data)
    # Make every course teach the same single gap skill except a few: the top 3 must still differ.
    skill = frame["skill_ids"].iloc[0][int(np.argmax(frame["skill_gaps"].iloc[0]))]
    others = [s for s, g in zip(frame["skill_ids"].iloc[0], frame["skill_gaps"].iloc[0], strict=True)
              if g > 0 and s != skill]
    taught = [[skill] if i % 4 else [others[i % len(others)]] if others else [skill] for i in range(len(frame))]
    same = with_pair_features(frame.assign(course_skill_ids=taught))
    main = ranker.recommend(same, k=10)["skills_addressed"].iloc[:3].map(lambda s: s[0] if s else None)
    assert main.dropna().is_unique
    plain = ranker.recommend(same, k=10, diversify=False)
    assert list(plain["score"]) == sorted(plain["score"], reverse=True)


@pytest.mark.parametrize("lang,needs", [("en", "your job needs"), ("zh", "岗位要求")])
def test_reasons_name_real_gaps(ranker, data, lang, needs):
    frame = one_employee(data)
    recs = ranker.recommend(frame, k=5)
    explained = ranker.explain(frame, lang=lang, skill_names=SKILL_NAMES, course_ids=recs["course_id"].tolist())
    gaps = dict(zip(frame["skill_ids"].iloc[0], frame["skill_gaps"].iloc[0], strict=True))
    required = dict(zip(frame["skill_ids"].iloc[0], frame["skill_required_levels"].iloc[0], strict=True))
    for (_, rec), exp in zip(recs.iterrows(), explained, strict=True):
        if not rec["skills_addressed"]:
            continue
        s = rec["skills_addressed"][0]
        name = SKILL_NAMES[s][lang]
        level = required[s] - gaps[s]
        assert exp.reasons[0].startswith(f"{name} {level:.0f}/5"), exp.reasons
        assert needs in exp.reasons[0] and f"{required[s]:.0f}/5" in exp.reasons[0]
        assert len(exp.contributions) <= 5


def test_explanations_are_additive(ranker, data):
    frame = one_employee(data)
    explained = ranker.explain(frame, top=3)
    scores = ranker.score(frame)
    np.testing.assert_allclose([e.raw_score for e in explained], scores, rtol=1e-6, atol=1e-6)
    recs = ranker.recommend(frame, k=3)
    top = ranker.explain(frame, course_ids=recs["course_id"].tolist())
    np.testing.assert_allclose([e.raw_score for e in top], recs["score"], rtol=1e-6, atol=1e-6)


def as_columns(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """The frame as serving passes it: column → numpy array (object arrays for lists and text)."""
    return {c: frame[c].to_numpy() for c in frame.columns}


@pytest.mark.parametrize("constraints", [{}, {"formats": ["online", "workshop"], "max_hours": 30, "budget": 900},
                                         {"mandatory_first": True, "exclude": ["c005"]}])
def test_columns_rank_and_explain_like_the_frame(ranker, data, constraints):
    """Serving's column mapping gives the same ranking, scores and explanations as the DataFrame."""
    frame = one_employee(data).reset_index(drop=True)
    columns = as_columns(frame)
    recs = ranker.recommend(frame, k=10, **constraints)
    same = ranker.recommend(columns, k=10, **constraints)
    pd.testing.assert_frame_equal(recs, same)
    ids = recs["course_id"].tolist()
    for lang in ("en", "zh"):
        a = ranker.explain(frame, lang=lang, course_ids=ids, skill_names=SKILL_NAMES)
        b = ranker.explain(columns, lang=lang, course_ids=ids, skill_names=SKILL_NAMES)
        assert a == b
        chosen, explained = ranker.recommend_explained(columns, k=10, lang=lang, skill_names=SKILL_NAMES,
                                                       **constraints)  # serving's one pass
        pd.testing.assert_frame_equal(pd.DataFrame(chosen, columns=recs.columns), recs)
        assert explained == a
    np.testing.assert_array_equal(ranker.score(frame), ranker.score(columns))


def test_predict_frame_scores_rows(ranker, data):
    out = ranker.predict_frame(data.head(50))
    assert list(out.columns) == ["employee_id", "course_id", "score", "rank"]
    assert len(out) == 50 and out.groupby("employee_id")["rank"].min().eq(1).all()


def test_empirical_bayes_splits_spread_into_effects_and_noise():
    from models.course_ranker.fitting import empirical_bayes

    rng = np.random.default_rng(0)
    n = rng.integers(1, 80, 4000).astype(float)
    true = rng.normal(0.4, 0.3, len(n))  # tau = 0.3
    observed = true + rng.normal(0, 0.9, len(n)) / np.sqrt(n)  # sigma = 0.9
    eb = empirical_bayes(observed, n)
    assert eb["mean"] == pytest.approx(0.4, abs=0.03)
    assert eb["tau2"] == pytest.approx(0.09, rel=0.25) and eb["sigma2"] == pytest.approx(0.81, rel=0.25)
    assert eb["strength"] == pytest.approx(0.81 / 0.09, rel=0.4)
    assert empirical_bayes(observed[:5], n[:5]) is None  # too few courses: the fixed prior strength is used
    assert empirical_bayes(np.full(3, np.nan), np.ones(3)) is None


def test_fit_estimates_the_shrinkage_unless_given(data):
    fitted = CourseRanker(n_estimators=10, n_jobs=1).fit(data)
    assert fitted.eb_ is not None and fitted.prior_strength_ == pytest.approx(fitted.eb_["strength"])
    assert fitted.priors_["avg_rating_change"] == pytest.approx(fitted.eb_["mean"])
    fixed = CourseRanker(n_estimators=10, n_jobs=1, prior_strength=5.0).fit(data)
    assert fixed.eb_ is None and fixed.prior_strength_ == 5.0
    with pytest.raises(ValueError, match="prior_strength"):
        CourseRanker(prior_strength=-1.0).fit(data)
    with pytest.raises(ValueError, match="tree_weight"):
        CourseRanker(tree_weight=-0.1).fit(data)
    with pytest.raises(ValueError, match="expected_gain"):
        CourseRanker(exclude_columns=["expected_gain"]).fit(data)


def test_lowest_output_bounds_the_trees(ranker, data):
    from models.course_ranker.fitting import lowest_output

    raw = ranker.booster_.predict(ranker._matrix(data).to_numpy(), raw_score=True)
    assert ranker.tree_floor_ == pytest.approx(lowest_output(ranker.booster_))
    assert ranker.tree_floor_ <= raw.min() + 1e-9


def test_score_is_the_uplift_estimate_plus_the_gated_trees(ranker, data):
    frame = one_employee(data)
    inputs = ranker._inputs(frame)
    raw = ranker.booster_.predict(ranker._matrix(frame).to_numpy(), raw_score=True)
    covers = frame["gap_match"].to_numpy() > 0
    assert covers.any() and (~covers).any()  # mandatory courses cover no gap
    uplift = ((inputs["expected_gain"] - ranker.gain_center_) / ranker.gain_scale_
              + ranker.effect_weight * inputs["avg_rating_change"])
    trees = np.where(covers, raw, ranker.tree_floor_) * ranker.tree_weight / ranker.tree_scale_
    np.testing.assert_allclose(ranker.score(frame), uplift + trees, rtol=1e-9, atol=1e-9)
    # courses covering no gap of the current job are ordered by their takers' improvement alone
    rest = np.flatnonzero(~covers)
    order = np.argsort(-ranker.score(frame)[rest], kind="stable")
    assert np.all(np.diff(inputs["avg_rating_change"][rest][order]) <= 1e-12)


def test_takers_improvement_never_lowers_a_course(ranker, data):
    frame = one_employee(data)
    row = frame[(frame["gap_match"] > 0) & (frame["takers_total"] > 0)].head(1)
    scores = [ranker.score(row.assign(avg_rating_change=v))[0] for v in (-0.5, 0.0, 0.3, 0.6, 1.0, 2.0)]
    assert all(b >= a - 1e-12 for a, b in zip(scores, scores[1:], strict=False)), scores
    assert scores[-1] > scores[0]


def test_without_trees_the_score_is_the_uplift_estimate(data):
    model = CourseRanker(n_estimators=10, n_jobs=1, tree_weight=0.0).fit(data)
    frame = one_employee(data)
    expected = model._inputs(frame)["expected_gain"]
    covers = frame["gap_match"].to_numpy() > 0
    s = model.score(frame)
    assert pd.Series(s[covers]).corr(pd.Series(expected[covers]), method="spearman") > 0.95
    explained = model.explain(frame, top=3)
    np.testing.assert_allclose([e.raw_score for e in explained], s, rtol=1e-6, atol=1e-6)


def test_a_model_pickled_before_the_gated_blend_scores_as_it_did(ranker, data):
    """Models registered by the previous version (boosted from ``prior_weight`` × expected gain) still serve."""
    import pickle

    frame = one_employee(data)
    state = {k: v for k, v in ranker.__dict__.items()
             if k not in ("tree_weight", "effect_weight", "tree_scale_", "tree_floor_", "gated_", "gain_center_",
                          "gain_scale_", "prior_strength_", "eb_")}
    state.update(prior_weight=10.0, prior_center_=0.2, prior_strength=5.0)
    legacy = CourseRanker.__new__(CourseRanker)
    legacy.__setstate__(dict(state))
    legacy = pickle.loads(pickle.dumps(legacy))
    inputs = legacy._inputs(frame)
    raw = legacy.booster_.predict(legacy._matrix(frame).to_numpy(), raw_score=True)
    np.testing.assert_allclose(legacy.score(frame), raw + 10.0 * (inputs["expected_gain"] - 0.2), rtol=1e-9)
    explained = legacy.explain(frame, top=3)
    np.testing.assert_allclose([e.raw_score for e in explained], legacy.score(frame), rtol=1e-6, atol=1e-6)


def test_explanations_use_tree_tables_equal_to_lightgbm(ranker, data):
    """The trees' TreeSHAP comes from per-leaf tables (models.treeshap), equal to LightGBM's pred_contrib;
    the tables are rebuilt after unpickling, never stored."""
    import pickle

    from models.course_ranker.fitting import SingleThread
    from models.explanation import tree_contributions

    frame = one_employee(data)
    inputs = ranker._inputs(frame)
    X = np.column_stack([inputs[c] for c in ranker._model_columns()])
    base, contrib = ranker._tree_shap(X)
    assert ranker._shap_tables[1] is not None
    lgb_base, lgb_contrib = tree_contributions(SingleThread(ranker.booster_), X)
    np.testing.assert_allclose(base, lgb_base, atol=1e-12)
    np.testing.assert_allclose(contrib, lgb_contrib, atol=1e-12)
    copy = pickle.loads(pickle.dumps(ranker))
    assert "_shap_tables" not in copy.__dict__
    assert copy.explain(frame, top=3) == ranker.explain(frame, top=3)


def test_explanations_fall_back_to_lightgbm_when_tables_are_refused(ranker, data, monkeypatch):
    import copy

    from models import treeshap

    frame = one_employee(data)
    expected = ranker.explain(frame, top=3)
    monkeypatch.setattr(treeshap, "MAX_DEPTH", 0)
    fallback = copy.deepcopy(ranker)
    fallback.__dict__.pop("_shap_tables", None)
    got = fallback.explain(frame, top=3)
    assert fallback._shap_tables[1] is None
    for a, b in zip(got, expected, strict=True):
        assert [c.feature for c in a.contributions] == [c.feature for c in b.contributions]
        assert a.base_value == pytest.approx(b.base_value, abs=1e-12)
        assert a.raw_score == pytest.approx(b.raw_score, abs=1e-12) and a.reasons == b.reasons
