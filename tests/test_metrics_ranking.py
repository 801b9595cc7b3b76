"""Ranking metrics on tiny hand-typed frames with hand-computed values."""

import numpy as np
import pandas as pd
import pytest

from evaluation.metrics import (
    catalog_coverage,
    intra_list_diversity,
    mean_gain_at_k,
    mean_reciprocal_rank,
    ndcg_at_k,
    ndcg_per_user,
    precision_at_k,
    recall_at_k,
    top_k,
    uplift_capture_at_k,
    uplift_capture_per_user,
)


def _frame(rows, value_col):
    return pd.DataFrame(rows, columns=["user_id", "item_id", value_col])


# u1: graded relevance a=3, b=2, d=1, c=0; u2: nothing relevant (excluded); u3: e=2 but no predictions (0)
TRUE = _frame(
    [("u1", "a", 3), ("u1", "b", 2), ("u1", "c", 0), ("u1", "d", 1), ("u2", "a", 0), ("u3", "e", 2)],
    "relevance",
)
# u1's list: b, x (unknown item), a, d, c
PRED = _frame(
    [
        ("u1", "b", 0.9),
        ("u1", "x", 0.8),
        ("u1", "a", 0.7),
        ("u1", "d", 0.6),
        ("u1", "c", 0.5),
        ("u2", "a", 0.5),
    ],
    "score",
)
U1_ONLY = TRUE[TRUE["user_id"] == "u1"]


def test_ndcg_graded_gains():
    # DCG@3 = (2^2-1)/log2(2) + 0 + (2^3-1)/log2(4) = 3 + 3.5
    # IDCG@3 = 7/1 + 3/log2(3) + 1/2
    expected = 6.5 / (7 + 3 / np.log2(3) + 0.5)
    assert ndcg_at_k(U1_ONLY, PRED, k=3) == pytest.approx(expected)
    # u2 is excluded (nothing relevant), u3 counts 0 (relevant item, no list)
    assert ndcg_at_k(TRUE, PRED, k=3) == pytest.approx(expected / 2)


def test_ndcg_per_user_are_the_units_of_the_mean():
    per_user = ndcg_per_user(TRUE, PRED, k=3)
    # u2 has nothing relevant: left out; u3 has no list: 0; order of first appearance in true
    assert per_user.index.tolist() == ["u1", "u3"] and per_user.index.name == "user_id"
    assert per_user["u1"] == pytest.approx(ndcg_at_k(U1_ONLY, PRED, k=3)) and per_user["u3"] == 0.0
    assert per_user.mean() == pytest.approx(ndcg_at_k(TRUE, PRED, k=3))


def test_ndcg_perfect_ranking_is_one():
    pred = _frame([("u1", "a", 4), ("u1", "b", 3), ("u1", "d", 2), ("u1", "c", 1)], "score")
    assert ndcg_at_k(U1_ONLY, pred, k=10) == pytest.approx(1.0)


def test_ties_break_by_item_id_whatever_the_row_order():
    pred = _frame([("u1", "b", 0.9), ("u1", "a", 0.9)], "score")
    # a comes first on the tie: DCG@1 = 7 = IDCG@1
    assert ndcg_at_k(U1_ONLY, pred, k=1) == pytest.approx(1.0)
    assert ndcg_at_k(U1_ONLY, pred.iloc[::-1], k=1) == pytest.approx(1.0)


def test_recall_and_precision_at_k():
    # u1 relevant (>= 1): a, b, d; top-3 b, x, a -> 2 hits. u3: 0 hits. u2 excluded.
    assert recall_at_k(TRUE, PRED, k=3) == pytest.approx((2 / 3 + 0) / 2)
    assert precision_at_k(TRUE, PRED, k=3) == pytest.approx((2 / 3 + 0) / 2)


def test_k_larger_than_the_list():
    # u1's whole list (5 items) holds all 3 relevant items; precision still divides by k
    assert recall_at_k(TRUE, PRED, k=10) == pytest.approx(0.5)
    assert precision_at_k(TRUE, PRED, k=10) == pytest.approx(0.15)
    assert ndcg_at_k(U1_ONLY, PRED, k=100) == ndcg_at_k(U1_ONLY, PRED, k=5)


def test_relevance_threshold():
    # relevant means >= 2: u1 has a, b (both in its top-3), u3 has e
    assert recall_at_k(TRUE, PRED, k=3, threshold=2) == pytest.approx(0.5)
    assert precision_at_k(U1_ONLY, PRED, k=2, threshold=2) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="threshold"):
        recall_at_k(TRUE, PRED, threshold=0)


def test_mean_reciprocal_rank():
    # u1's first relevant item is b at rank 1; u3 gets 0
    assert mean_reciprocal_rank(TRUE, PRED) == pytest.approx(0.5)
    pred = pd.concat([PRED, _frame([("u1", "z", 0.95)], "score")])
    # now b is at rank 2
    assert mean_reciprocal_rank(U1_ONLY, pred) == pytest.approx(0.5)
    assert mean_reciprocal_rank(U1_ONLY, pred, k=1) == 0.0


def test_custom_column_names():
    true = TRUE.rename(columns={"user_id": "employee_id", "item_id": "course_id", "relevance": "label"})
    pred = PRED.rename(columns={"user_id": "employee_id", "item_id": "course_id", "score": "s"})
    got = ndcg_at_k(
        true, pred, k=3, col_user="employee_id", col_item="course_id", col_score="s", col_rel="label"
    )
    assert got == pytest.approx(ndcg_at_k(TRUE, PRED, k=3))


@pytest.mark.parametrize("k", [0, -1, 2.5, True])
def test_k_must_be_a_positive_integer(k):
    with pytest.raises(ValueError, match="k must be"):
        ndcg_at_k(TRUE, PRED, k=k)


def test_bad_frames():
    with pytest.raises(ValueError, match="missing column"):
        ndcg_at_k(TRUE.drop(columns="relevance"), PRED)
    with pytest.raises(ValueError, match="duplicate"):
        ndcg_at_k(TRUE, pd.concat([PRED, PRED]))
    with pytest.raises(ValueError, match="no user in true has a relevant item"):
        ndcg_at_k(TRUE[TRUE["relevance"] == 0], PRED)
    with pytest.raises(ValueError, match=">= 0"):
        ndcg_at_k(_frame([("u1", "a", -1)], "relevance"), PRED)
    with pytest.raises(ValueError, match="empty"):
        ndcg_at_k(TRUE, PRED.iloc[:0])


SCORES = _frame(
    [
        ("u1", "a", 0.9),
        ("u1", "b", 0.8),
        ("u1", "c", 0.7),
        ("u2", "a", 0.1),
        ("u2", "b", 0.2),
        ("u3", "a", 0.5),
        ("u3", "b", 0.4),
    ],
    "score",
)
GAINS = _frame(
    [
        ("u1", "a", 0.1),
        ("u1", "b", 0.0),
        ("u1", "c", 0.3),
        ("u2", "a", 0.0),
        ("u2", "b", 0.0),
        ("u3", "a", 0.2),
        ("u3", "b", 0.2),
        ("u3", "z", 9.0),
    ],
    "gain",
)


def test_uplift_capture():
    # k=1: u1 picks a (0.1) of best c (0.3) -> 1/3; u3 picks a (0.2) of best 0.2 -> 1; u2 best 0 -> excluded
    assert uplift_capture_at_k(SCORES, GAINS, k=1) == pytest.approx((1 / 3 + 1) / 2)
    # k=2: u1 a+b = 0.1 of best c+a = 0.4 -> 1/4; u3 -> 1. u3's z is not a candidate, so it is ignored.
    assert uplift_capture_at_k(SCORES, GAINS, k=2) == pytest.approx((0.25 + 1) / 2)
    # k beyond the lists: every candidate is taken -> 1
    assert uplift_capture_at_k(SCORES, GAINS, k=5) == pytest.approx(1.0)


def test_uplift_capture_per_user():
    per_user = uplift_capture_per_user(SCORES, GAINS, k=1)
    assert per_user.to_dict() == pytest.approx({"u1": 1 / 3, "u3": 1.0})  # u2's best gain is 0: left out
    assert per_user.mean() == pytest.approx(uplift_capture_at_k(SCORES, GAINS, k=1))


def test_top_k_lists():
    top = top_k(SCORES, k=2)
    assert list(zip(top["user_id"], top["item_id"], top["rank"], strict=True)) == [
        ("u1", "a", 1), ("u1", "b", 2), ("u2", "b", 1), ("u2", "a", 2), ("u3", "a", 1), ("u3", "b", 2)]
    with pytest.raises(ValueError, match="k must be"):
        top_k(SCORES, k=0)
    with pytest.raises(ValueError, match="'rank'"):
        top_k(SCORES.assign(rank=1))


def test_uplift_capture_errors():
    with pytest.raises(ValueError, match="no 'gain'"):
        uplift_capture_at_k(SCORES, GAINS[GAINS["item_id"] != "c"], k=1)
    zero = GAINS.assign(gain=0.0)
    with pytest.raises(ValueError, match="positive best"):
        uplift_capture_at_k(SCORES, zero, k=1)


def test_mean_gain_at_k():
    # top-1: u1 a 0.1, u2 b 0.0, u3 a 0.2
    assert mean_gain_at_k(SCORES, GAINS, k=1) == pytest.approx(0.1)


def test_catalog_coverage():
    # top-1 items: a, b, a -> 2 of 4
    assert catalog_coverage(SCORES, n_items=4, k=1) == 0.5
    # top-3 adds c -> 3 of 4
    assert catalog_coverage(SCORES, n_items=4, k=3) == 0.75
    with pytest.raises(ValueError, match="n_items"):
        catalog_coverage(SCORES, n_items=2, k=3)
    with pytest.raises(ValueError, match="n_items"):
        catalog_coverage(SCORES, n_items=0)


def test_intra_list_diversity():
    features = pd.DataFrame({"item_id": ["a", "a", "b", "c"], "skill_id": ["s1", "s2", "s2", "s3"]})
    pred = _frame(
        [("u1", "a", 0.9), ("u1", "b", 0.8), ("u1", "c", 0.7), ("u2", "c", 0.9), ("u2", "a", 0.8)], "score"
    )
    # u1 top-2 a, b -> skills s1 s2 s2 -> 2 distinct / 3; u2 top-2 c, a -> s3 s1 s2 -> 3 / 3
    assert intra_list_diversity(pred, features, k=2) == pytest.approx((2 / 3 + 1) / 2)
    # a user whose top-k items carry no skill is excluded
    pred = pd.concat([pred, _frame([("u3", "x", 1.0)], "score")])
    assert intra_list_diversity(pred, features, k=2) == pytest.approx((2 / 3 + 1) / 2)
    with pytest.raises(ValueError, match="item_features is missing"):
        intra_list_diversity(pred, features.rename(columns={"skill_id": "skill"}))
