"""What ``CourseRanker.fit`` estimates around LightGBM, and how a fitted ranker is read back: query sizes,
inverse-propensity weights, the empirical-Bayes shrinkage of takers' averages, the early-stopping metric,
the booster's lowest output, a one-thread view of the booster for explanations and the state of models
pickled by an earlier version. Frame access (DataFrame or column mapping) is in ``frames``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def group_sizes(qid: np.ndarray) -> np.ndarray:
    """Sizes of consecutive runs of the same query id (rows are sorted by query)."""
    if len(qid) == 0:
        return np.zeros(0, dtype=int)
    cut = np.flatnonzero(np.diff(qid)) + 1
    return np.diff(np.concatenate([[0], cut, [len(qid)]]))


def propensity_weights(course: np.ndarray, y: np.ndarray, max_weight: float, smoothing: float = 20.0) -> np.ndarray:
    """Inverse-propensity weights for enrolled rows: how often a course is chosen when it is a candidate.

    A course enrolled in by few of the people it was a candidate for counts more when it was taken (and
    improved someone); a popular one counts less. Rows not taken keep weight 1. Clipped to ``max_weight``.
    """
    taken = (y > 0).astype(float)
    codes, inverse = np.unique(course, return_inverse=True)
    n = np.bincount(inverse, minlength=len(codes)).astype(float)
    pos = np.bincount(inverse, weights=taken, minlength=len(codes))
    overall = max(taken.mean(), 1e-9)
    rate = (pos + smoothing * overall) / (n + smoothing)
    w = np.clip(overall / rate[inverse], 1.0 / max_weight, max_weight)
    return np.where(taken > 0, w, 1.0)


def empirical_bayes(mean: np.ndarray, n: np.ndarray, min_rows: int = 20) -> dict[str, float] | None:
    """Method-of-moments empirical Bayes for takers' averages: ``mean[i]`` is the average of ``n[i]`` takers.

    Var(mean) = τ² (spread of the true course values) + σ² / n (noise of an average of n takers): the squared
    deviations from the takers-weighted overall mean are regressed on 1 / n. Returns the overall mean, τ²,
    σ² and the prior strength σ² / τ² (a course with n takers keeps n / (n + strength) of its own average),
    or None with fewer than ``min_rows`` usable rows.
    """
    mean, n = np.asarray(mean, dtype=float), np.nan_to_num(np.asarray(n, dtype=float), nan=0.0)
    ok = np.isfinite(mean) & (n > 0)
    if ok.sum() < min_rows:
        return None
    mean, n = mean[ok], n[ok]
    mu = float(np.average(mean, weights=n))
    design = np.column_stack([np.ones(len(n)), 1.0 / n])
    tau2, sigma2 = np.linalg.lstsq(design, (mean - mu) ** 2, rcond=None)[0]
    tau2 = max(float(tau2), 1e-4)
    sigma2 = max(float(sigma2), 1e-4)
    return {"mean": mu, "tau2": tau2, "sigma2": sigma2, "strength": float(np.clip(sigma2 / tau2, 0.5, 500.0))}


def lowest_output(booster) -> float:
    """The lowest raw score the booster can give: the sum over trees of each tree's smallest leaf value."""
    def smallest(node: dict) -> float:
        if "leaf_value" in node:
            return float(node["leaf_value"])
        return min(smallest(node["left_child"]), smallest(node["right_child"]))

    return float(sum(smallest(t["tree_structure"]) for t in booster.dump_model()["tree_info"]))


def legacy_state(state: dict) -> dict:
    """A pickled CourseRanker's state in the current form. Before the gated blend the trees were boosted from
    ``prior_weight`` × (expected gain − ``prior_center_``) on every row: the same score as a blend with tree
    weight 1, gain scale 1 / ``prior_weight``, no effect term and no gate."""
    if "prior_center_" not in state or "gain_center_" in state:
        return state
    state = dict(state)
    weight = float(state.pop("prior_weight"))
    state.update(tree_weight=1.0, effect_weight=0.0, tree_scale_=1.0, tree_floor_=0.0, gated_=False,
                 gain_center_=state.pop("prior_center_"), gain_scale_=1.0 / weight if weight > 0 else np.inf,
                 prior_strength_=float(state["prior_strength"]), eb_=None)
    return state


def weighted_ndcg(qid: np.ndarray, weight: np.ndarray, gains: np.ndarray, k: int = 10):
    """Early-stopping metric: NDCG@k with each row's gain times its (inverse-propensity) weight.

    LightGBM's own NDCG ignores row weights, so it would reward re-learning who chose what.
    """
    _, q = np.unique(qid, return_inverse=True)
    starts = np.r_[0, np.flatnonzero(np.diff(q)) + 1]

    def dcg(order: np.ndarray, g: np.ndarray) -> np.ndarray:
        rank = np.arange(len(order)) - starts[q[order]]
        disc = np.where(rank < k, 1.0 / np.log2(rank + 2.0), 0.0)
        return np.bincount(q[order], weights=g[order] * disc, minlength=len(starts))

    ideals: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # per dataset: its gains and ideal DCG, fixed

    def feval(preds: np.ndarray, data) -> tuple[str, float, bool]:
        if id(data) not in ideals:
            g = gains[data.get_label().astype(int)] * weight
            ideals[id(data)] = g, dcg(np.lexsort((-g, q)), g)
        g, ideal = ideals[id(data)]
        got = dcg(np.lexsort((-preds, q)), g)
        ok = ideal > 0
        return f"weighted_ndcg@{k}", float(np.mean(got[ok] / ideal[ok])) if ok.any() else 0.0, True

    return feval


class SingleThread:
    """The booster seen by ``tree_contributions``: one thread, since explanations cover a handful of rows
    and OpenMP start-up costs more than it saves (and stalls on a busy machine)."""

    def __init__(self, booster):
        self.booster = booster

    def predict(self, X, **kwargs):
        data = X.to_numpy(dtype=float) if isinstance(X, pd.DataFrame) else X  # skips LightGBM's pandas checks
        return self.booster.predict(data, num_threads=1, **kwargs)
