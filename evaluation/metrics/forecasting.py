"""Forecast accuracy for skill demand: scaled errors, sMAPE, quantile losses and interval metrics.

Array functions take 1-D arrays of equal length. Frame functions take long frames
``series_id, month, y, y_hat`` (test) and ``series_id, month, y`` (train); the column names are keyword
defaults. Training series must be regularly spaced: the naive forecast at lag ``season`` is the value
``season`` rows earlier after sorting by month (gaps are not filled).

- ``mase``: mean |y - y_hat| divided by the in-sample mean absolute error of the seasonal naive forecast
  (``y_train[t] - y_train[t - season]``) on the training part of the same series.
- ``mase_frame`` averages per-series MASE; ``pooled_mase`` divides the mean absolute error over all test
  rows by the mean naive error over all training rows (defined even where one series is constant).
- ``smape``: ``100 / n * sum(2 |y - y_hat| / (|y| + |y_hat|))`` on a 0-200 scale, with 0/0 counted as 0.
- ``weighted_quantile_loss``: ``sum_q 2 * sum_t pinball_q(y_t, q_hat_t) / sum_t |y_t|``, divided by the
  number of quantiles (the GluonTS "mean wQuantileLoss"); at q = 0.5 it equals the weighted MAPE.
"""

from collections.abc import Mapping

import numpy as np
import pandas as pd

from evaluation.metrics.constants import (
    DEFAULT_PREDICTION_COL,
    DEFAULT_SEASON,
    DEFAULT_SERIES_COL,
    DEFAULT_TARGET_COL,
    DEFAULT_TIME_COL,
)
from evaluation.metrics.frames import check_long_frame


def _array(values, name: str, n: int | None = None, ref: str = "y") -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if n is not None and arr.size != n:
        raise ValueError(f"{name} has {arr.size} values but {ref} has {n}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return arr


def _check_season(season) -> int:
    if isinstance(season, bool) or not isinstance(season, int | np.integer) or season < 1:
        raise ValueError(f"season must be a positive integer, got {season!r}")
    return int(season)


def naive_scale(y_train, season: int = DEFAULT_SEASON) -> float:
    """In-sample mean absolute error of the seasonal naive forecast on ``y_train``."""
    season = _check_season(season)
    y_train = _array(y_train, "y_train")
    if y_train.size <= season:
        raise ValueError(f"y_train needs more than season={season} values, got {y_train.size}")
    return float(np.mean(np.abs(y_train[season:] - y_train[:-season])))


def mase(y, y_hat, y_train, season: int = DEFAULT_SEASON) -> float:
    """Mean absolute scaled error of one series."""
    y = _array(y, "y")
    y_hat = _array(y_hat, "y_hat", y.size)
    scale = naive_scale(y_train, season)
    if scale == 0:
        raise ValueError(f"y_train does not change at lag season={season}; MASE is undefined")
    return float(np.mean(np.abs(y - y_hat)) / scale)


def _check_cols(df: pd.DataFrame, name: str, cols: tuple[str, ...]) -> None:
    check_long_frame(df, name, cols)
    for col in cols[2:]:
        _array(df[col], f"{name}[{col!r}]")


def mase_by_series(
    df: pd.DataFrame,
    train: pd.DataFrame,
    season: int = DEFAULT_SEASON,
    col_series: str = DEFAULT_SERIES_COL,
    col_time: str = DEFAULT_TIME_COL,
    col_target: str = DEFAULT_TARGET_COL,
    col_pred: str = DEFAULT_PREDICTION_COL,
) -> pd.DataFrame:
    """Per series: n, mae, scale (seasonal naive in-sample MAE) and mase (NaN where scale is 0)."""
    season = _check_season(season)
    _check_cols(df, "df", (col_series, col_time, col_target, col_pred))
    _check_cols(train, "train", (col_series, col_time, col_target))
    ordered = train.sort_values([col_series, col_time], kind="mergesort")
    lagged = ordered.groupby(col_series, sort=False)[col_target].shift(season)
    naive_err = (ordered[col_target] - lagged).abs()
    scale = naive_err.groupby(ordered[col_series]).mean()
    short = scale.index[scale.isna()]
    if len(short):
        raise ValueError(f"train series {list(short[:3])} have no more than season={season} months")
    errors = (df[col_target] - df[col_pred]).abs()
    out = errors.groupby(df[col_series]).agg(["size", "mean"]).rename(columns={"size": "n", "mean": "mae"})
    unknown = out.index.difference(scale.index)
    if len(unknown):
        raise ValueError(f"df series {list(unknown[:3])} are missing from train")
    out["scale"] = scale.reindex(out.index)
    out["mase"] = (out["mae"] / out["scale"]).where(out["scale"] > 0)
    return out.rename_axis(col_series).reset_index()


def mase_frame(
    df: pd.DataFrame,
    train: pd.DataFrame,
    season: int = DEFAULT_SEASON,
    skip_constant: bool = False,
    col_series: str = DEFAULT_SERIES_COL,
    col_time: str = DEFAULT_TIME_COL,
    col_target: str = DEFAULT_TARGET_COL,
    col_pred: str = DEFAULT_PREDICTION_COL,
) -> float:
    """Mean of per-series MASE. A series whose training part has zero naive error raises ValueError,
    unless ``skip_constant=True`` leaves it out (then see ``pooled_mase`` for a figure that keeps it)."""
    per = mase_by_series(df, train, season, col_series, col_time, col_target, col_pred)
    constant = per.loc[per["mase"].isna(), col_series]
    if len(constant) and not skip_constant:
        raise ValueError(
            f"series {constant.tolist()[:3]} have zero naive error in train; MASE is undefined "
            "(pass skip_constant=True or use pooled_mase)"
        )
    if constant.size == len(per):
        raise ValueError("every series has zero naive error in train; MASE is undefined")
    return float(per["mase"].mean())


def pooled_mase(
    df: pd.DataFrame,
    train: pd.DataFrame,
    season: int = DEFAULT_SEASON,
    col_series: str = DEFAULT_SERIES_COL,
    col_time: str = DEFAULT_TIME_COL,
    col_target: str = DEFAULT_TARGET_COL,
    col_pred: str = DEFAULT_PREDICTION_COL,
) -> float:
    """Mean absolute error over all test rows / mean seasonal naive error over all training rows."""
    per = mase_by_series(df, train, season, col_series, col_time, col_target, col_pred)
    ordered = train[train[col_series].isin(per[col_series])].sort_values(
        [col_series, col_time], kind="mergesort"
    )
    lagged = ordered.groupby(col_series, sort=False)[col_target].shift(season)
    scale = float((ordered[col_target] - lagged).abs().mean())
    if scale == 0:
        raise ValueError(f"train does not change at lag season={season} in any series; MASE is undefined")
    return float((per["mae"] * per["n"]).sum() / per["n"].sum() / scale)


def smape(y, y_hat) -> float:
    """Symmetric MAPE on a 0-200 scale; a term with y = y_hat = 0 counts as 0."""
    y = _array(y, "y")
    y_hat = _array(y_hat, "y_hat", y.size)
    denom = np.abs(y) + np.abs(y_hat)
    terms = np.divide(2 * np.abs(y - y_hat), denom, out=np.zeros_like(y), where=denom > 0)
    return float(100 * terms.mean())


def _check_quantile(q) -> float:
    if not 0 < q < 1:
        raise ValueError(f"q must be in (0, 1), got {q!r}")
    return float(q)


def _pinball(y: np.ndarray, q_hat: np.ndarray, q: float) -> np.ndarray:
    diff = y - q_hat
    return np.maximum(q * diff, (q - 1) * diff)


def quantile_loss(y, q_hat, q: float) -> float:
    """Mean pinball loss of the ``q`` quantile forecast ``q_hat``."""
    q = _check_quantile(q)
    y = _array(y, "y")
    return float(_pinball(y, _array(q_hat, "q_hat", y.size), q).mean())


def weighted_quantile_loss(y, quantile_forecasts: Mapping[float, object]) -> float:
    """Mean over quantiles of ``2 * sum(pinball) / sum(|y|)`` (scale-free; see the module docstring)."""
    y = _array(y, "y")
    if not quantile_forecasts:
        raise ValueError("quantile_forecasts is empty; pass {q: q_hat}")
    total = np.abs(y).sum()
    if total == 0:
        raise ValueError("sum of |y| is 0; weighted quantile loss is undefined")
    losses = [
        2 * _pinball(y, _array(q_hat, f"quantile_forecasts[{q}]", y.size), _check_quantile(q)).sum() / total
        for q, q_hat in quantile_forecasts.items()
    ]
    return float(np.mean(losses))


def _interval(y, lo, hi) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = _array(y, "y")
    lo = _array(lo, "lo", y.size)
    hi = _array(hi, "hi", y.size)
    if (lo > hi).any():
        raise ValueError(f"lo exceeds hi in {int((lo > hi).sum())} row(s)")
    return y, lo, hi


def interval_coverage(y, lo, hi) -> float:
    """Share of ``y`` inside the closed interval ``[lo, hi]``."""
    y, lo, hi = _interval(y, lo, hi)
    return float(np.mean((y >= lo) & (y <= hi)))


def mean_interval_width(lo, hi) -> float:
    """Mean of ``hi - lo``."""
    lo = _array(lo, "lo")
    hi = _array(hi, "hi", lo.size, ref="lo")
    if (lo > hi).any():
        raise ValueError(f"lo exceeds hi in {int((lo > hi).sum())} row(s)")
    return float(np.mean(hi - lo))
