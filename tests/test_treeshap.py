"""models.treeshap: per-leaf Shapley tables give LightGBM's own pred_contrib, row by row."""

from __future__ import annotations

import math
from itertools import combinations

import lightgbm as lgb
import numpy as np
import pytest

from models import treeshap
from models.treeshap import TreeTables, shapley_table


def _data(n: int = 600, m: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, m))
    X[:, 2] = rng.integers(0, 3, n)  # many exact zeros
    y = X[:, 0] * 2 + np.sin(X[:, 1]) + (X[:, 2] == 0) + X[:, 3] * X[:, 4] + rng.normal(0, 0.1, n)
    X[rng.random((n, m)) < 0.1] = np.nan
    return X, y


def _booster(**params) -> lgb.Booster:
    X, y = _data()
    base = {"objective": "regression", "num_leaves": 15, "min_data_in_leaf": 5, "verbosity": -1,
            "num_threads": 1, "seed": 0}
    return lgb.train({**base, **params}, lgb.Dataset(X, y, params={"verbosity": -1}), num_boost_round=40)


@pytest.mark.parametrize("params", [
    {},                                   # missing values go their learned way (missing_type NaN)
    {"zero_as_missing": True},            # zeros and NaN are missing (missing_type Zero)
    {"use_missing": False},               # NaN read as 0 (missing_type None)
    {"num_leaves": 63, "min_data_in_leaf": 2},  # deep paths, features repeated along a path
])
def test_tables_equal_lightgbm_pred_contrib(params):
    booster = _booster(**params)
    X, _ = _data(n=200, seed=1)
    X[:5] = 0.0
    X[5:10] = np.nan
    expected = booster.predict(X, pred_contrib=True, num_threads=1)
    got = TreeTables(booster).contributions(X)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got.sum(axis=1), booster.predict(X, raw_score=True), atol=1e-10)


def test_ranking_objective_and_single_leaf_trees():
    X, y = _data(n=400)
    label = np.clip(np.round(y - y.min()), 0, 3).astype(int)
    data = lgb.Dataset(X, label, group=[20] * 20, params={"verbosity": -1})
    booster = lgb.train({"objective": "lambdarank", "num_leaves": 7, "min_data_in_leaf": 200, "verbosity": -1,
                         "num_threads": 1}, data, num_boost_round=10)  # min_data_in_leaf large: stumps and single leaves
    np.testing.assert_allclose(TreeTables(booster).contributions(X[:50]),
                               booster.predict(X[:50], pred_contrib=True, num_threads=1), atol=1e-12)


def test_shapley_table_matches_the_definition():
    """Brute force over subsets for every bit pattern of a 4-feature path."""
    z = np.array([0.3, 0.6, 0.9, 0.45])
    d = len(z)
    table = shapley_table(z)
    for pattern in range(2**d):
        o = [(pattern >> j) & 1 for j in range(d)]

        def value(S, o=o):
            return math.prod(o[j] if j in S else z[j] for j in range(d))

        for i in range(d):
            rest = [j for j in range(d) if j != i]
            phi = sum(math.factorial(len(S)) * math.factorial(d - len(S) - 1) / math.factorial(d)
                      * (value(set(S) | {i}) - value(set(S))) for k in range(d) for S in combinations(rest, k))
            assert table[pattern, i] == pytest.approx(phi, abs=1e-14)


def test_refuses_what_it_cannot_table(monkeypatch):
    X, y = _data()
    cat = lgb.train({"objective": "regression", "verbosity": -1, "num_threads": 1, "min_data_in_leaf": 5},
                    lgb.Dataset(np.abs(np.nan_to_num(X)).round(), y, categorical_feature=[2],
                                params={"verbosity": -1}), num_boost_round=5)
    with pytest.raises(ValueError, match="categorical split"):
        TreeTables(cat)
    with pytest.raises(ValueError, match="columns"):
        TreeTables(_booster(num_leaves=3)).contributions(np.zeros((2, 3)))
    monkeypatch.setattr(treeshap, "MAX_TABLE_BYTES", 10_000)
    with pytest.raises(ValueError, match="MiB"):
        TreeTables(_booster())
    monkeypatch.setattr(treeshap, "MAX_DEPTH", 1)
    with pytest.raises(ValueError, match="distinct features"):
        TreeTables(_booster())
