"""Learning plans: the exploration rule and its propensities, the plan store (idempotency, erasure), the
simulator's plan follower and the off-policy estimators on small hand-made and generated data."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest

from evaluation import off_policy as ope
from features.simulator.plans import completion_probability, play
from models.learning_plans import exploration
from models.learning_plans import store as plans


# ---------------------------------------------------------------------- exploration
def test_propensities_by_hand():
    p = exploration.inclusion_propensities(6, k=2, share=0.5, pool=4)
    assert p == pytest.approx([0.5 + 0.5 * 2 / 4] * 2 + [0.5 * 2 / 4] * 2 + [0.0] * 2)
    assert exploration.inclusion_propensities(3, k=5, share=0.7, pool=20) == pytest.approx([1.0] * 3)
    assert exploration.inclusion_propensities(30, k=5, share=0.0) == pytest.approx([1.0] * 5 + [0.0] * 25)
    with pytest.raises(ValueError, match="share"):
        exploration.inclusion_propensities(5, 2, 1.5)


def test_share_zero_shows_the_rankers_top_k_without_drawing():
    shown = exploration.choose(30, 5, 0.0, None)
    assert shown.positions.tolist() == [0, 1, 2, 3, 4] and not shown.explored
    assert shown.propensities.tolist() == [1.0] * 5


def test_logged_propensities_match_how_often_a_course_is_shown():
    rng = np.random.default_rng(0)
    n, k, share, pool, draws = 12, 3, 0.4, 6, 20_000
    counts = np.zeros(n)
    for _ in range(draws):
        shown = exploration.choose(n, k, share, rng, pool)
        counts[shown.positions] += 1
        assert len(set(shown.positions.tolist())) == k
    expected = exploration.inclusion_propensities(n, k, share, pool)
    assert counts / draws == pytest.approx(expected, abs=0.015)


# ---------------------------------------------------------------------- store
def _shown(con, request_id="r1", employee="E1", course="C-0001", propensity=0.6):
    row = plans.Logged(request_id, employee, "U1", course, 2, 0.8, "course_ranker", "3", propensity, True, 0.3,
                       "2026-01-05T10:00:00+00:00", None)
    plans.log_shown(con, [row])
    return plans.last_shown(con, employee, course)


def test_plan_keeps_the_recommendation_and_is_idempotent_per_key():
    con = sqlite3.connect(":memory:")
    plans.ensure(con)
    shown = _shown(con)
    assert shown.rank == 2 and shown.propensity == 0.6 and shown.explored
    kw = dict(caller_key_id="k1", idempotency_key="key-0001", employee_id="E1", org_unit_id="U1",
              course_id="C-0001", status="accepted", shown=shown, note=None, recorded_by="hr")
    first, created = plans.record_plan(con, **kw)
    again, created_again = plans.record_plan(con, **kw)
    assert created and not created_again and again.plan_id == first.plan_id
    assert (first.rank, first.score, first.model_version, first.propensity) == (2, 0.8, "3", 0.6)
    with pytest.raises(plans.IdempotencyConflict, match="already used"):
        plans.record_plan(con, **{**kw, "status": "declined"})
    other, created = plans.record_plan(con, **{**kw, "caller_key_id": "k2"})  # keys are per API key
    assert created and other.plan_id != first.plan_id
    log = plans.read_log(con)
    assert log.loc[0, "plan_status"] == "accepted"


def test_erasure_removes_log_and_plans_of_the_person_only():
    con = sqlite3.connect(":memory:")
    plans.ensure(con)
    for emp in ("E1", "E2"):
        shown = _shown(con, f"r-{emp}", emp)
        plans.record_plan(con, caller_key_id="k", idempotency_key=f"key-{emp}-0", employee_id=emp, org_unit_id="U",
                          course_id="C-0001", status="planned", shown=shown, note="n", recorded_by="hr")
    assert plans.erase_employee(con, "E1") == {"app:recommendation_log": 1, "app:learning_plans": 1}
    assert [p.employee_id for p in plans.plans_of(con, "E2")] == ["E2"]
    assert plans.last_shown(con, "E1", "C-0001") is None


# ---------------------------------------------------------------------- the simulator's plan follower
def _skills(n, gain=0.5, level=2.0):
    return pd.DataFrame({"row": np.arange(n), "true_level": level, "required_level": 4.0, "effect": gain,
                         "target_level": 4.0})


def test_nobody_follows_nothing_is_gained():
    shown = pd.DataFrame({"hours": [4.0] * 50, "format_match": [0.5] * 50})
    out = play(shown, _skills(50), follow=0.0, rng=np.random.default_rng(0))
    assert not out.accepted.any() and (out.reward == 0).all() and (out.expected == 0).all()


def test_expected_gain_is_follow_times_completion_times_effect_and_rewards_agree_on_average():
    n = 20_000
    shown = pd.DataFrame({"hours": [10.0] * n, "format_match": [1.0] * n})
    skills = pd.concat([_skills(n), _skills(n).assign(required_level=np.nan, effect=2.0)])  # not required: no gain
    out = play(shown, skills, follow=0.4, rng=np.random.default_rng(1))
    p_done = completion_probability(np.array([10.0]), np.array([1.0]))[0]
    assert out.expected == pytest.approx(0.4 * p_done * 0.5)
    assert out.accepted.mean() == pytest.approx(0.4, abs=0.015)
    assert out.reward.mean() == pytest.approx(out.expected.mean(), abs=0.02)  # measured through noisy ratings


def test_at_target_level_the_simulators_diminished_share_is_gained():
    shown = pd.DataFrame({"hours": [2.0], "format_match": [0.0]})
    out = play(shown, _skills(1, gain=1.0, level=4.0), follow=1.0, rng=np.random.default_rng(0))
    assert out.expected[0] == pytest.approx(completion_probability(np.array([2.0]), np.array([0.0]))[0] * 0.3)


# ---------------------------------------------------------------------- estimators
def test_ips_and_dr_by_hand():
    logged = pd.DataFrame({"request_id": ["a", "a", "b"], "course_id": ["x", "y", "x"],
                           "propensity": [0.5, 0.25, 1.0], "reward": [1.0, 2.0, 0.0]})
    target = pd.DataFrame({"request_id": ["a", "b"], "course_id": ["y", "z"]})
    q = pd.DataFrame({"request_id": ["a", "b"], "course_id": ["y", "z"], "q": [1.0, 0.5]})
    per = ope.per_request(logged, target, q).set_index("request_id")
    assert per.loc["a", "ips"] == pytest.approx(2.0 / 0.25) and per.loc["b", "ips"] == 0.0
    assert per.loc["a", "dr"] == pytest.approx(1.0 + (2.0 - 1.0) / 0.25) and per.loc["b", "dr"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="propensity"):
        ope.per_request(logged.assign(propensity=0.0), target)


def test_estimated_gain_covers_the_true_gain_on_a_generated_log():
    """A bandit with known per-course rewards: the logging policy explores (share 0.5 over all 12 courses);
    the IPS and DR intervals of the target's gain contain the true gain, which is far from 0."""
    rng = np.random.default_rng(3)
    n_req, n_c, k, share, pool = 3000, 12, 3, 0.5, 12
    value = rng.uniform(0, 1, (n_req, n_c))  # expected reward of each course for each request
    logging_score = value + rng.normal(0, 1.0, value.shape)  # a worse ranker
    target_score = value + rng.normal(0, 0.2, value.shape)
    rows, targets, refs, cands = [], [], [], []
    for i in range(n_req):
        order = np.argsort(-logging_score[i])
        shown = exploration.choose(n_c, k, share, rng, pool)
        prop_all = exploration.inclusion_propensities(n_c, k, share, pool)
        for pos, p in zip(shown.positions, shown.propensities, strict=True):
            c = order[pos]
            rows.append((i, c, p, float(rng.random() < value[i, c]), value[i, c]))
        targets += [(i, c) for c in np.argsort(-target_score[i])[:k]]
        refs += [(i, c) for c in order[:k]]
        cands += [(i, order[j], prop_all[j], value[i, order[j]] + rng.normal(0, 0.3)) for j in range(n_c)]
    logged = pd.DataFrame(rows, columns=["request_id", "course_id", "propensity", "reward", "_v"])
    cand = pd.DataFrame(cands, columns=["request_id", "course_id", "propensity", "noisy_value"])
    logged = logged.merge(cand[["request_id", "course_id", "noisy_value"]], on=["request_id", "course_id"])
    q = ope.predict_rewards(cand, logged, ["noisy_value"])
    res = ope.evaluate(logged, {"target": pd.DataFrame(targets, columns=["request_id", "course_id"]),
                                "ref": pd.DataFrame(refs, columns=["request_id", "course_id"])}, "ref", q)
    true_gain = (np.mean([value[i, c] for i, c in targets]) - np.mean([value[i, c] for i, c in refs])) * k
    r = res["rankers"]["target"]
    assert true_gain > 0.3 and r["support"] == 1.0
    for est in ("ips", "dr"):
        assert r[f"gain_{est}"]["lo"] <= true_gain <= r[f"gain_{est}"]["hi"], (est, r, true_gain)
    assert r["gain_dr"]["se"] < r["gain_ips"]["se"]  # the reward model takes variance out
    assert "Off-policy evaluation" in ope.render_markdown(res) and "离线策略评估" in ope.render_markdown(res, "zh")


def test_support_reports_target_courses_the_logging_policy_never_shows():
    logged = pd.DataFrame({"request_id": ["a"], "course_id": ["x"], "propensity": [0.5], "reward": [1.0]})
    target = pd.DataFrame({"request_id": ["a", "a"], "course_id": ["x", "far"]})
    q = pd.DataFrame({"request_id": ["a", "a"], "course_id": ["x", "far"], "q": [0.0, 0.0], "propensity": [0.5, 0.0]})
    assert ope.per_request(logged, target, q).loc[0, "support"] == 0.5
