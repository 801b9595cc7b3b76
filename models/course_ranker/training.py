"""Helpers of the course ranker: frame checks and conversion, query sizes, inverse-propensity weights, the
early-stopping metric and a one-thread view of the booster for explanations."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

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

    def feval(preds: np.ndarray, data) -> tuple[str, float, bool]:
        g = gains[data.get_label().astype(int)] * weight
        ideal = dcg(np.lexsort((-g, q)), g)
        got = dcg(np.lexsort((-preds, q)), g)
        ok = ideal > 0
        return f"weighted_ndcg@{k}", float(np.mean(got[ok] / ideal[ok])) if ok.any() else 0.0, True

    return feval


def require(df: pd.DataFrame, cols: Iterable[str], name: str) -> None:
    missing = [c for c in dict.fromkeys(cols) if c not in df.columns]
    if missing:
        raise ValueError(f"{name} is missing column(s) {missing}")


def block(df: pd.DataFrame, cols: Sequence[str]) -> np.ndarray:
    """Columns as one float matrix, missing values (None, NA, NaN) as NaN; clear error on non-numbers."""
    try:
        return df[list(cols)].to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        bad = [c for c in cols if pd.to_numeric(df[c].astype(object), errors="coerce").isna().sum() > df[c].isna().sum()]
        raise ValueError(f"columns {bad} must be numeric (or boolean)") from None


class SingleThread:
    """The booster seen by ``tree_contributions``: one thread, since explanations cover a handful of rows
    and OpenMP start-up costs more than it saves (and stalls on a busy machine)."""

    def __init__(self, booster):
        self.booster = booster

    def predict(self, X, **kwargs):
        data = X.to_numpy(dtype=float) if isinstance(X, pd.DataFrame) else X  # skips LightGBM's pandas checks
        return self.booster.predict(data, num_threads=1, **kwargs)


def as_float(s: pd.Series) -> np.ndarray:
    if s.dtype == object or str(s.dtype) in ("boolean", "string"):
        s = pd.to_numeric(s.astype(object).where(s.notna(), np.nan), errors="coerce")
    return s.to_numpy(dtype=float, na_value=np.nan)
