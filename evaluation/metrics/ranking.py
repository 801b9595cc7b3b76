"""Ranking metrics for course recommendations over long frames (one row per user and item).

Conventions:
- ``true`` has columns user, item, relevance (graded, >= 0); ``pred`` has user, item, score.
- A user's list is ``pred`` sorted by score descending, ties broken by item id ascending, so the result
  does not depend on row order. ``k`` larger than a list simply takes the whole list.
- Accuracy metrics (NDCG, recall, precision, MRR) average over the users of ``true`` that have at least one
  relevant item; users without any are excluded (their score is undefined). Such a user missing from
  ``pred`` counts as 0: the model recommended nothing.
- Precision divides by ``k`` even when a list is shorter (a short list is penalised); recall divides by the
  user's number of relevant items.
- NDCG uses gains ``2**rel - 1`` and discount ``log2(rank + 1)``; the ideal list is the user's ``true`` items
  sorted by relevance.
- ``ndcg_per_user`` and ``uplift_capture_per_user`` give the per-user values the ``*_at_k`` means average
  (the units of a bootstrap or a paired comparison).
"""

import numpy as np
import pandas as pd

from evaluation.metrics.constants import (
    DEFAULT_FEATURE_COL,
    DEFAULT_GAIN_COL,
    DEFAULT_ITEM_COL,
    DEFAULT_K,
    DEFAULT_RELEVANCE_COL,
    DEFAULT_RELEVANCE_THRESHOLD,
    DEFAULT_SCORE_COL,
    DEFAULT_USER_COL,
)
from evaluation.metrics.frames import check_long_frame


def _check_k(k) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    return int(k)


def _check_frame(df: pd.DataFrame, name: str, cols: tuple[str, ...], value_col: str) -> None:
    check_long_frame(df, name, cols)
    values = pd.to_numeric(df[value_col], errors="coerce")
    if not np.isfinite(values.to_numpy(dtype=float)).all():
        raise ValueError(f"{name}[{value_col!r}] must be finite numbers")


def top_k(
    pred: pd.DataFrame,
    k: int = DEFAULT_K,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_score: str = DEFAULT_SCORE_COL,
) -> pd.DataFrame:
    """Each user's top-k rows of ``pred`` (score descending, ties by item id) with a 1-based ``rank`` column."""
    k = _check_k(k)
    _check_frame(pred, "pred", (col_user, col_item, col_score), col_score)
    if "rank" in pred.columns:
        raise ValueError("pred already has a column 'rank'")
    return _top_k(pred, k, col_user, col_item, col_score).rename(columns={"_rank": "rank"})


def _top_k(pred: pd.DataFrame, k: int, col_user: str, col_item: str, col_score: str) -> pd.DataFrame:
    """Rows of each user's top-k with a 1-based ``_rank`` column."""
    ranked = pred.sort_values(
        [col_user, col_score, col_item], ascending=[True, False, True], kind="mergesort"
    )
    ranked = ranked.assign(_rank=ranked.groupby(col_user, sort=False).cumcount() + 1)
    return ranked[ranked["_rank"] <= k]


def _joined(true, pred, k, col_user, col_item, col_score, col_rel, threshold=None):
    """(top-k rows of ``pred`` joined with relevance, ``true`` restricted to evaluable users)."""
    k = _check_k(k)
    _check_frame(true, "true", (col_user, col_item, col_rel), col_rel)
    _check_frame(pred, "pred", (col_user, col_item, col_score), col_score)
    if (true[col_rel] < 0).any():
        raise ValueError(f"true[{col_rel!r}] must be >= 0")
    if threshold is not None and not threshold > 0:
        raise ValueError(f"threshold must be > 0, got {threshold!r}")
    is_relevant = true[col_rel] > 0 if threshold is None else true[col_rel] >= threshold
    users = pd.Index(true.loc[is_relevant, col_user].unique())
    if users.empty:
        rule = "> 0" if threshold is None else f">= {threshold}"
        raise ValueError(f"no user in true has a relevant item ({col_rel} {rule})")
    top = _top_k(pred[pred[col_user].isin(users)], k, col_user, col_item, col_score)
    top = top.merge(true[[col_user, col_item, col_rel]], on=[col_user, col_item], how="left")
    top[col_rel] = top[col_rel].fillna(0.0)
    return top, true[true[col_user].isin(users)], users, k


def _mean_over(users: pd.Index, per_user: pd.Series) -> float:
    return float(per_user.reindex(users, fill_value=0.0).mean())


def ndcg_per_user(
    true: pd.DataFrame,
    pred: pd.DataFrame,
    k: int = DEFAULT_K,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_score: str = DEFAULT_SCORE_COL,
    col_rel: str = DEFAULT_RELEVANCE_COL,
) -> pd.Series:
    """NDCG@k (gains ``2**rel - 1``) of each user with a relevance > 0 in ``true``, indexed by user in the
    order they first appear in ``true``; a user missing from ``pred`` scores 0."""
    top, truth, users, k = _joined(true, pred, k, col_user, col_item, col_score, col_rel)
    dcg = ((2.0 ** top[col_rel] - 1) / np.log2(top["_rank"] + 1)).groupby(top[col_user]).sum()
    ideal = _top_k(truth.assign(_s=truth[col_rel]), k, col_user, col_item, "_s")
    idcg = ((2.0 ** ideal[col_rel] - 1) / np.log2(ideal["_rank"] + 1)).groupby(ideal[col_user]).sum()
    per_user = dcg.reindex(users, fill_value=0.0) / idcg.reindex(users)
    return per_user.rename("ndcg").rename_axis(col_user)


def ndcg_at_k(
    true: pd.DataFrame,
    pred: pd.DataFrame,
    k: int = DEFAULT_K,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_score: str = DEFAULT_SCORE_COL,
    col_rel: str = DEFAULT_RELEVANCE_COL,
) -> float:
    """Mean NDCG@k with graded gains ``2**rel - 1`` over users with a relevance > 0 in ``true``."""
    return float(ndcg_per_user(true, pred, k, col_user, col_item, col_score, col_rel).mean())


def recall_at_k(
    true: pd.DataFrame,
    pred: pd.DataFrame,
    k: int = DEFAULT_K,
    threshold: float = DEFAULT_RELEVANCE_THRESHOLD,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_score: str = DEFAULT_SCORE_COL,
    col_rel: str = DEFAULT_RELEVANCE_COL,
) -> float:
    """Mean share of a user's relevant items (relevance >= threshold) found in their top-k."""
    top, truth, users, _ = _joined(true, pred, k, col_user, col_item, col_score, col_rel, threshold)
    hits = (top[col_rel] >= threshold).groupby(top[col_user]).sum()
    n_relevant = (truth[col_rel] >= threshold).groupby(truth[col_user]).sum()
    return _mean_over(users, hits.reindex(users, fill_value=0) / n_relevant.reindex(users))


def precision_at_k(
    true: pd.DataFrame,
    pred: pd.DataFrame,
    k: int = DEFAULT_K,
    threshold: float = DEFAULT_RELEVANCE_THRESHOLD,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_score: str = DEFAULT_SCORE_COL,
    col_rel: str = DEFAULT_RELEVANCE_COL,
) -> float:
    """Mean of (relevant items in the top-k) / k, relevance >= threshold counting as relevant."""
    top, _, users, k = _joined(true, pred, k, col_user, col_item, col_score, col_rel, threshold)
    hits = (top[col_rel] >= threshold).groupby(top[col_user]).sum()
    return _mean_over(users, hits / k)


def mean_reciprocal_rank(
    true: pd.DataFrame,
    pred: pd.DataFrame,
    k: int | None = None,
    threshold: float = DEFAULT_RELEVANCE_THRESHOLD,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_score: str = DEFAULT_SCORE_COL,
    col_rel: str = DEFAULT_RELEVANCE_COL,
) -> float:
    """Mean of 1 / rank of the first relevant item (0 when none is in the list, or in the top-k if given)."""
    cutoff = max(len(pred), 1) if k is None else k
    top, _, users, _ = _joined(true, pred, cutoff, col_user, col_item, col_score, col_rel, threshold)
    first = top[top[col_rel] >= threshold].groupby(col_user)["_rank"].min()
    return _mean_over(users, 1.0 / first)


def _gain_frames(pred, true_gain, k, col_user, col_item, col_score, col_gain):
    k = _check_k(k)
    _check_frame(pred, "pred", (col_user, col_item, col_score), col_score)
    _check_frame(true_gain, "true_gain", (col_user, col_item, col_gain), col_gain)
    cand = pred.merge(true_gain[[col_user, col_item, col_gain]], on=[col_user, col_item], how="left")
    if cand[col_gain].isna().any():
        n = int(cand[col_gain].isna().sum())
        raise ValueError(f"true_gain has no {col_gain!r} for {n} (user, item) candidate(s) in pred")
    return cand, k


def mean_gain_at_k(
    pred: pd.DataFrame,
    true_gain: pd.DataFrame,
    k: int = DEFAULT_K,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_score: str = DEFAULT_SCORE_COL,
    col_gain: str = DEFAULT_GAIN_COL,
) -> float:
    """Mean over users of the summed true gain of their top-k (compare a model with popularity)."""
    cand, k = _gain_frames(pred, true_gain, k, col_user, col_item, col_score, col_gain)
    top = _top_k(cand, k, col_user, col_item, col_score)
    return float(top.groupby(col_user)[col_gain].sum().mean())


def uplift_capture_per_user(
    pred: pd.DataFrame,
    true_gain: pd.DataFrame,
    k: int = DEFAULT_K,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_score: str = DEFAULT_SCORE_COL,
    col_gain: str = DEFAULT_GAIN_COL,
) -> pd.Series:
    """Per user: (true gain of the top-k by score) / (true gain of the best top-k of the same candidates in
    ``pred``), indexed by user (sorted). Users whose best top-k gain is <= 0 are left out; every candidate
    needs a gain."""
    cand, k = _gain_frames(pred, true_gain, k, col_user, col_item, col_score, col_gain)
    model = _top_k(cand, k, col_user, col_item, col_score).groupby(col_user)[col_gain].sum()
    best = _top_k(cand, k, col_user, col_item, col_gain).groupby(col_user)[col_gain].sum()
    best = best[best > 0]
    if best.empty:
        raise ValueError("no user has a positive best top-k true gain; uplift capture is undefined")
    return (model.reindex(best.index) / best).rename("uplift_capture").rename_axis(col_user)


def uplift_capture_at_k(
    pred: pd.DataFrame,
    true_gain: pd.DataFrame,
    k: int = DEFAULT_K,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_score: str = DEFAULT_SCORE_COL,
    col_gain: str = DEFAULT_GAIN_COL,
) -> float:
    """Mean over users of ``uplift_capture_per_user``: the true gain of the model's top-k over the best
    top-k's. Users whose best top-k gain is <= 0 are excluded; every candidate needs a gain."""
    return float(uplift_capture_per_user(pred, true_gain, k, col_user, col_item, col_score, col_gain).mean())


def catalog_coverage(
    pred: pd.DataFrame,
    n_items: int,
    k: int = DEFAULT_K,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_score: str = DEFAULT_SCORE_COL,
) -> float:
    """Share of the catalogue's ``n_items`` that appear in at least one user's top-k."""
    k = _check_k(k)
    if isinstance(n_items, bool) or not isinstance(n_items, int | np.integer) or n_items < 1:
        raise ValueError(f"n_items must be a positive integer, got {n_items!r}")
    _check_frame(pred, "pred", (col_user, col_item, col_score), col_score)
    distinct = _top_k(pred, k, col_user, col_item, col_score)[col_item].nunique()
    if distinct > n_items:
        raise ValueError(f"n_items={n_items} is smaller than the {distinct} distinct items recommended")
    return distinct / int(n_items)


def intra_list_diversity(
    pred: pd.DataFrame,
    item_features: pd.DataFrame,
    k: int = DEFAULT_K,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_score: str = DEFAULT_SCORE_COL,
    col_feature: str = DEFAULT_FEATURE_COL,
) -> float:
    """Mean over users of distinct skills / skill mentions among their top-k items (1 = no skill repeated).

    ``item_features`` is long (item, skill), e.g. ``course_skills``. Users whose top-k items have no skill
    at all are excluded.
    """
    k = _check_k(k)
    _check_frame(pred, "pred", (col_user, col_item, col_score), col_score)
    for col in (col_item, col_feature):
        if col not in item_features.columns:
            raise ValueError(f"item_features is missing column {col!r}")
    pairs = item_features[[col_item, col_feature]].drop_duplicates()
    top = _top_k(pred, k, col_user, col_item, col_score)[[col_user, col_item]].merge(pairs, on=col_item)
    if top.empty:
        raise ValueError("no top-k item has a feature in item_features; diversity is undefined")
    per_user = top.groupby(col_user)[col_feature].agg(lambda s: s.nunique() / s.size)
    return float(per_user.mean())
