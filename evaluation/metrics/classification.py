"""Binary classification metrics for attrition risk: ranking quality, top-of-list hit rates, calibration.

Conventions:
- ``y`` holds 0/1 (or bool) labels; censored rows must be dropped by the caller (NaN is rejected).
- ``p`` holds scores; metrics that read them as probabilities (Brier, calibration) require ``0 <= p <= 1``.
- Top-of-list metrics rank rows by ``p`` descending with a *stable* sort, so tied scores keep their input
  order, and take the first ``ceil(fraction * n)`` rows.
- Calibration bins: ``"uniform"`` bins are ``[i/n_bins, (i+1)/n_bins)`` with the last bin closed at 1;
  ``"quantile"`` bins have edges at the quantiles of ``p`` and are closed on the left (the last one on both
  sides), so tied scores always share a bin. Empty bins are dropped.
"""

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from evaluation.metrics.constants import DEFAULT_ECE_BINS, DEFAULT_ECE_STRATEGY, DEFAULT_TOP_FRACTIONS

_STRATEGIES = ("uniform", "quantile")


def check_binary(y, name: str = "y") -> np.ndarray:
    """Return ``y`` as a 1-D int array of 0/1, or raise ValueError naming ``name``."""
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if arr.dtype == bool:
        return arr.astype(int)
    try:
        as_float = arr.astype(float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must hold 0/1 labels, got dtype {arr.dtype}") from exc
    bad = ~np.isin(as_float, (0.0, 1.0))
    if bad.any():
        raise ValueError(
            f"{name} must hold only 0/1 labels (drop censored rows first); found {arr[bad][:3].tolist()}"
        )
    return as_float.astype(int)


def check_scores(p, n: int, name: str = "p", probabilities: bool = False) -> np.ndarray:
    """Return ``p`` as a finite 1-D float array of length ``n``, or raise ValueError naming ``name``."""
    arr = np.asarray(p, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.size != n:
        raise ValueError(f"{name} has {arr.size} values but y has {n}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    if probabilities and ((arr < 0).any() or (arr > 1).any()):
        raise ValueError(f"{name} must be probabilities in [0, 1]")
    return arr


def _both_classes(y: np.ndarray, metric: str) -> None:
    if y.min() == y.max():
        raise ValueError(f"y contains only one class ({y[0]}); {metric} is undefined")


def _n_top(fraction: float, n: int) -> int:
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    # round() absorbs float noise such as 0.1 * 30 = 3.0000000000000004 before the ceiling.
    return max(1, math.ceil(round(fraction * n, 9)))


def _top_hits(y: np.ndarray, p: np.ndarray, fraction: float) -> tuple[int, int]:
    n_top = _n_top(fraction, y.size)
    order = np.argsort(-p, kind="stable")
    return int(y[order[:n_top]].sum()), n_top


def roc_auc(y, p) -> float:
    """Area under the ROC curve (ties in ``p`` count one half)."""
    y = check_binary(y)
    p = check_scores(p, y.size)
    _both_classes(y, "ROC-AUC")
    return float(roc_auc_score(y, p))


def pr_auc(y, p) -> float:
    """Area under the precision-recall curve as average precision (sklearn's step-wise definition)."""
    y = check_binary(y)
    p = check_scores(p, y.size)
    _both_classes(y, "PR-AUC")
    return float(average_precision_score(y, p))


def precision_at_top(y, p, fraction: float) -> float:
    """Share of positives among the top ``ceil(fraction * n)`` rows ranked by ``p`` (stable ties)."""
    y = check_binary(y)
    p = check_scores(p, y.size)
    hits, n_top = _top_hits(y, p, fraction)
    return hits / n_top


def recall_at_top(y, p, fraction: float) -> float:
    """Share of all positives found in the top ``ceil(fraction * n)`` rows ranked by ``p`` (stable ties)."""
    y = check_binary(y)
    p = check_scores(p, y.size)
    if y.sum() == 0:
        raise ValueError("y has no positive; recall at top is undefined")
    hits, _ = _top_hits(y, p, fraction)
    return hits / int(y.sum())


def brier(y, p) -> float:
    """Mean squared difference between the label and the predicted probability."""
    y = check_binary(y)
    p = check_scores(p, y.size, probabilities=True)
    return float(np.mean((p - y) ** 2))


def _bin_edges(p: np.ndarray, n_bins: int, strategy: str) -> np.ndarray:
    if not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
    if strategy == "uniform":
        return np.linspace(0.0, 1.0, n_bins + 1)
    if strategy == "quantile":
        return np.quantile(p, np.linspace(0.0, 1.0, n_bins + 1))
    raise ValueError(f"strategy must be one of {_STRATEGIES}, got {strategy!r}")


def calibration_table(
    y, p, n_bins: int = DEFAULT_ECE_BINS, strategy: str = DEFAULT_ECE_STRATEGY
) -> pd.DataFrame:
    """One row per non-empty bin: bin, lower, upper, n, mean_predicted, observed_rate, abs_gap."""
    y = check_binary(y)
    p = check_scores(p, y.size, probabilities=True)
    edges = _bin_edges(p, n_bins, strategy)
    if strategy == "uniform":
        ids = np.minimum(np.floor(p * n_bins).astype(int), n_bins - 1)
    else:
        ids = np.searchsorted(edges[1:-1], p, side="right")
    frame = pd.DataFrame({"bin": ids, "y": y, "p": p})
    table = (
        frame.groupby("bin", sort=True)
        .agg(n=("y", "size"), mean_predicted=("p", "mean"), observed_rate=("y", "mean"))
        .reset_index()
    )
    table.insert(1, "lower", edges[table["bin"].to_numpy()])
    table.insert(2, "upper", edges[table["bin"].to_numpy() + 1])
    table["abs_gap"] = (table["observed_rate"] - table["mean_predicted"]).abs()
    return table


def expected_calibration_error(
    y, p, n_bins: int = DEFAULT_ECE_BINS, strategy: str = DEFAULT_ECE_STRATEGY
) -> float:
    """Mean over non-empty bins of |observed rate - mean probability|, weighted by the bin's share of rows."""
    table = calibration_table(y, p, n_bins=n_bins, strategy=strategy)
    return float((table["n"] * table["abs_gap"]).sum() / table["n"].sum())


def _pct(fraction: float) -> str:
    return f"{round(fraction * 100, 6):g}pct"


def classification_report(
    y,
    p,
    fractions: Sequence[float] = DEFAULT_TOP_FRACTIONS,
    n_bins: int = DEFAULT_ECE_BINS,
    strategy: str = DEFAULT_ECE_STRATEGY,
) -> dict[str, float]:
    """All classification metrics in one dict (keys: n, prevalence, roc_auc, pr_auc, brier, ece,
    ``precision_at_top_5pct``, ``recall_at_top_5pct``, ... one pair per fraction)."""
    y = check_binary(y)
    p = check_scores(p, y.size, probabilities=True)
    report: dict[str, float] = {
        "n": float(y.size),
        "prevalence": float(y.mean()),
        "roc_auc": roc_auc(y, p),
        "pr_auc": pr_auc(y, p),
        "brier": brier(y, p),
        "ece": expected_calibration_error(y, p, n_bins=n_bins, strategy=strategy),
    }
    for fraction in fractions:
        report[f"precision_at_top_{_pct(fraction)}"] = precision_at_top(y, p, fraction)
        report[f"recall_at_top_{_pct(fraction)}"] = recall_at_top(y, p, fraction)
    return report


def report_by(
    df: pd.DataFrame,
    by: str = "horizon",
    y_col: str = "y",
    p_col: str = "p",
    fractions: Sequence[float] = DEFAULT_TOP_FRACTIONS,
    n_bins: int = DEFAULT_ECE_BINS,
) -> pd.DataFrame:
    """``classification_report`` per value of ``by`` (e.g. one row per attrition horizon)."""
    for col in (by, y_col, p_col):
        if col not in df.columns:
            raise ValueError(f"df has no column {col!r}")
    if df.empty:
        raise ValueError("df is empty")
    rows = []
    for key, part in df.groupby(by, sort=True):
        rows.append({by: key, **classification_report(part[y_col], part[p_col], fractions, n_bins)})
    return pd.DataFrame(rows)
