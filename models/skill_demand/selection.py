"""Per-horizon choice of the served method on a backtest, and its per-horizon conformal interval.

Input: backtest rows (one per method, series, origin and horizon) with the actual value ``y``, the
method's ``p50`` and the row's ``scale`` (:func:`row_scale`: the series' mean absolute monthly change over
the 12 months before the origin, floored at 1% of its level, so series of every size weigh alike).

At each horizon every candidate is scored on the rows all candidates forecast, by its scaled error
``Σ|y − p50| / Σ scale`` (the pooled MASE with one scale per row). Candidates: each method and the
backtest-weighted ensembles of the best 2 and 3 methods (weights ∝ 1 / score²); a method that forecasts
too few of the rows for a comparison (fewer than 10 in common, e.g. AutoETS on a small sample of
series) is left out. The winner is served at
that horizon. Its interval is split-conformal on the same rows: the 10% and 90% quantiles of its scaled
residuals ``(y − p50) / scale``, made non-decreasing in width over the horizons (a longer horizon never
gets a narrower interval than a shorter one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

ENSEMBLE_SIZES = (2, 3)
LOWER, UPPER = 0.1, 0.9
MIN_ROWS = 10


def row_scale(values: np.ndarray, origin: np.ndarray, window: int = 12) -> np.ndarray:
    """Per series (row of ``values``), the mean |monthly change| over the ``window`` months before its
    ``origin``, floored at 1% of the mean |level| there (and at 1e-6)."""
    n, m = values.shape
    cols = np.arange(m)[None, :]
    inside = (cols < origin[:, None]) & (cols >= (origin - window - 1)[:, None])
    v = np.where(inside, values, np.nan)
    diff = np.abs(np.diff(v, axis=1))
    with np.errstate(all="ignore"):
        mad = np.nanmean(np.where(np.isnan(diff), np.nan, diff), axis=1)
        level = np.nanmean(np.abs(v), axis=1)
    mad = np.nan_to_num(mad, nan=0.0)
    level = np.nan_to_num(level, nan=0.0)
    return np.maximum(np.maximum(mad, 0.01 * level), 1e-6)


def _wide(rows: pd.DataFrame, key: Sequence[str]) -> pd.DataFrame:
    """One row per (key..., y, scale) with one P50 column per method, only where every method forecasts."""
    wide = rows.pivot_table(index=[*key], columns="model", values="p50", aggfunc="first")
    meta = rows.drop_duplicates(list(key)).set_index(list(key))[["y", "scale"]]
    return wide.join(meta).dropna()


def _score(y: np.ndarray, p50: np.ndarray, scale: np.ndarray) -> float:
    return float(np.abs(y - p50).sum() / scale.sum())


def candidates(wide: pd.DataFrame, methods: Sequence[str]) -> dict[str, dict[str, float]]:
    """Each candidate's weights: every method alone and the weighted ensembles of the best 2 and 3."""
    y, scale = wide["y"].to_numpy(), wide["scale"].to_numpy()
    scores = {m: _score(y, wide[m].to_numpy(), scale) for m in methods}
    out = {m: {m: 1.0} for m in methods}
    ranked = sorted(methods, key=lambda m: scores[m])
    for k in ENSEMBLE_SIZES:
        if len(ranked) >= k:
            top = ranked[:k]
            w = np.array([1.0 / max(scores[m], 1e-9) ** 2 for m in top])
            w = w / w.sum()
            out["ensemble:" + "+".join(top)] = {m: float(x) for m, x in zip(top, w, strict=True)}
    return out


def combine(p50: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> np.ndarray:
    return sum(w * np.asarray(p50[m], dtype=float) for m, w in weights.items())


def select(backtest: pd.DataFrame, key: Sequence[str] = ("series", "origin")) -> dict[int, dict[str, Any]]:
    """Per horizon of ``backtest`` (columns ``model``, ``horizon``, ``p50``, ``y``, ``scale`` and ``key``):
    the served candidate, its weights, every candidate's score and the conformal residual quantiles."""
    chosen: dict[int, dict[str, Any]] = {}
    for h, rows in backtest.groupby("horizon"):
        methods = sorted(rows["model"].unique())
        wide = _wide(rows, key)
        while len(wide) < MIN_ROWS and len(methods) > 1:  # a method forecasting few rows (a sample) drops out
            counts = rows.groupby("model").size()
            methods.remove(min(methods, key=lambda m: counts.get(m, 0)))
            rows = rows[rows["model"].isin(methods)]
            wide = _wide(rows, key)
        if len(wide) < MIN_ROWS:
            continue
        y, scale = wide["y"].to_numpy(), wide["scale"].to_numpy()
        cands = candidates(wide, methods)
        scores = {name: _score(y, combine(wide, w), scale) for name, w in cands.items()}
        best = min(scores, key=lambda n: (scores[n], n.startswith("ensemble"), n))
        resid = (y - combine(wide, cands[best])) / scale
        chosen[int(h)] = {"method": best, "weights": cands[best], "scores": scores, "rows": len(wide),
                          "q": [float(np.quantile(resid, LOWER)), float(np.quantile(resid, UPPER))]}
    lo = hi = 0.0
    for h in sorted(chosen):  # intervals never narrow as the horizon grows
        lo, hi = min(lo, chosen[h]["q"][0]), max(hi, chosen[h]["q"][1])
        chosen[h]["q"] = [lo, hi]
    return chosen


def served(p50: Mapping[str, np.ndarray], choice: Mapping[str, Any], scale: np.ndarray,
           nonnegative: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """P10, P50, P90 of the chosen candidate from each method's P50 (arrays of one length)."""
    mid = combine(p50, choice["weights"])
    lo, hi = mid + scale * choice["q"][0], mid + scale * choice["q"][1]
    if nonnegative:
        lo, mid, hi = (np.maximum(a, 0.0) for a in (lo, mid, hi))
    return np.minimum(lo, mid), mid, np.maximum(hi, mid)


def describe(choice: Mapping[str, Any], lang: str = "en") -> str:
    """The served method in words, e.g. "AutoETS" or "ensemble: 60% LightGBM + 40% naive"."""
    names = {"en": {"lightgbm": "LightGBM", "naive": "naive (last value)", "seasonal_naive": "seasonal naive",
                    "drift": "drift (random walk with drift)", "auto_ets": "AutoETS"},
             "zh": {"lightgbm": "LightGBM模型", "naive": "朴素法（最近值）", "seasonal_naive": "季节朴素法",
                    "drift": "漂移法（带漂移随机游走）", "auto_ets": "AutoETS指数平滑"}}[lang]
    w = choice["weights"]
    if len(w) == 1:
        return names[next(iter(w))]
    parts = [f"{round(100 * x)}% {names[m]}" for m, x in sorted(w.items(), key=lambda kv: -kv[1])]
    return ("ensemble: " if lang == "en" else "加权组合：") + " + ".join(parts)


def served_rows(values: np.ndarray, origin: np.ndarray, h: int, lightgbm_p50: np.ndarray | None,
                choice: Mapping[str, Any], nonnegative: bool, season: int = 12
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The served P10 / P50 / P90 at horizon ``h`` for series (rows of ``values``) at ``origin``."""
    from models.skill_demand import baselines

    p50 = {}
    for m in choice["weights"]:
        p50[m] = lightgbm_p50 if m == "lightgbm" else baselines.forecast(m, values, origin, [h], season)[:, 0]
    return served(p50, choice, row_scale(values, origin), nonnegative)
