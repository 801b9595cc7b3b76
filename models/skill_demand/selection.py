"""Per-horizon choice of the served method on a backtest, and its per-horizon conformal interval.

Input: backtest rows (one per method, series, origin and horizon) with the actual value ``y``, the
method's ``p50`` and the row's ``scale`` (:func:`row_scale`: the series' mean level over the 12 months
before the origin, or its mean change over the row's horizon when larger, so series of every size
weigh alike).

**Forecast combination first.** Up to ``SHORT_HORIZON`` (3) months ahead the served forecast is the
equal-weight mean of naive, damped-trend ETS, ARIMA and LightGBM (:data:`COMBINATION`); beyond, the
equal-weight mean of naive and AutoETS (:data:`LONG_COMBINATION`). Where the backtest has every member, the
combination is served as it is, whatever the backtest scores: on the real job-posting series
the method that won on earlier origins often lost on later ones (trend-following won through the 2021-2022
recovery and lost in the 2023-2024 decline), and equal weights do not chase that. Short horizons carry the
trend (momentum in postings lasts a few months); at longer horizons only the level methods are averaged,
because a year-ahead trend extrapolated from the past two years was the largest loss on the real series.

**Selection without a combination** (a member missing: damped ETS and ARIMA are candidates on panels of
at most 100 series, AutoETS on at most 2,000). Every candidate is scored on the rows all candidates forecast, by its scaled
error ``Σ|y − p50| / Σ scale`` (the pooled MASE with one scale per row), overall and per origin.
Candidates: each method and the backtest-weighted ensembles of the best 2 and 3 methods (weights ∝ 1 /
score²); a method that forecasts too few of the rows for a comparison (fewer than 10 in common) is left
out. The default is naive, replaced by another baseline (seasonal naive, drift, AutoETS) only when that
baseline beats it significantly, and the default is replaced by another candidate (LightGBM or an
ensemble) only when that candidate beats it significantly. Significant: a lower pooled score, and a
per-origin difference of scores whose mean is at least ``T_SWITCH`` (1.64) standard errors below zero over
at least 3 origins, the standard error taken ``sqrt(h)`` times that of independent origins
(forecasts from origins less than ``h`` months apart miss the same months).

The interval is split-conformal on the same rows and symmetric: P50 ± the 80% quantile of the served
candidate's scaled absolute residuals ``|y − p50| / scale`` on the latest ``RECENT_ORIGINS`` (12) origins,
made non-decreasing in width over the horizons (a longer horizon never gets a narrower interval than a
shorter one). The quantile is taken per **scale bin** (Mondrian conformal): the rows are split into
``SCALE_BINS`` (5) bins of equal width in log scale, a bin of fewer than ``MIN_BIN_ROWS`` (30) rows merged
into its neighbour, and a series is given the quantile of the bin its scale falls in. Pooled over every
series, the quantile is set by the many small ones; on an HR panel those are teams whose need the headcount
plan fixes exactly, so a pooled quantile of about zero left the whole company's 6-month interval 0.1 slots
wide around a forecast that missed by 14 (80% coverage 2% on the largest 1% of the demo's series, 36% on
the company). Bins by scale give a large series the errors of large series (the number of bins was chosen
on a simulated company the demo is not: seed 3).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

ENSEMBLE_SIZES = (2, 3)
COMBINATION = ("naive", "ets_damped", "arima", "lightgbm")  # equal weights over the members present
LONG_COMBINATION = ("naive", "auto_ets")  # beyond SHORT_HORIZON months: the level methods only
SHORT_HORIZON = 3
RECENT_ORIGINS = 12  # the interval's residual quantile is taken on the latest origins only
SCALE_BINS = 5  # Mondrian conformal: one residual quantile per bin of series scale
MIN_BIN_ROWS = 30  # rows a bin needs for its own quantile
LOWER, UPPER = 0.1, 0.9
MIN_ROWS = 10
MIN_ORIGINS = 3
T_SWITCH = 1.64
MODEL = "lightgbm"
PRIOR = "naive"


def row_scale(values: np.ndarray, origin: np.ndarray, h: int = 1, window: int = 24) -> np.ndarray:
    """Per series (row of ``values``), its mean |level| over the 12 months before its ``origin``, or, when
    larger, the largest over ``k = 1..h`` of the mean |``k``-month change| over the ``window`` months before
    it (small counts move by more than their level); at least 1e-6. Errors and intervals are relative to
    it: relative errors of a level series stay comparable when its volatility changes (job postings after
    2020 moved 10 times more a month than in 2024), where errors relative to the monthly change do not.
    Never less at ``h`` than at a shorter horizon."""
    return horizon_scales(values, origin, [h], window)[h]


def horizon_scales(values: np.ndarray, origin: np.ndarray, horizons: Sequence[int], window: int = 24
                   ) -> dict[int, np.ndarray]:
    """:func:`row_scale` for every horizon of ``horizons`` at once."""
    n, m = values.shape
    cols = np.arange(m)[None, :]
    with np.errstate(all="ignore"):
        level = np.nan_to_num(np.nanmean(np.where((cols < origin[:, None]) & (cols >= (origin - 12)[:, None]),
                                                  np.abs(values), np.nan), axis=1), nan=0.0)
    out, running = {}, np.zeros(n)
    wanted = set(int(h) for h in horizons)
    for k in range(1, max(wanted) + 1):
        inside = (cols < origin[:, None]) & (cols >= (origin - window - k)[:, None])
        v = np.where(inside, values, np.nan)
        with np.errstate(all="ignore"):
            mad = np.nanmean(np.abs(v[:, k:] - v[:, :-k]), axis=1) if m > k else np.full(n, np.nan)
        running = np.maximum(running, np.nan_to_num(mad, nan=0.0))
        if k in wanted:
            out[k] = np.maximum(np.maximum(running, level), 1e-6)
    return out


def _wide(rows: pd.DataFrame, key: Sequence[str]) -> pd.DataFrame:
    """One row per (key..., y, scale) with one P50 column per method, only where every method forecasts."""
    wide = rows.set_index([*key, "model"])["p50"]
    wide = wide[~wide.index.duplicated()].unstack("model")
    meta = rows.drop_duplicates(list(key)).set_index(list(key))[["y", "scale"]]
    return wide.join(meta).dropna()


def _score(y: np.ndarray, p50: np.ndarray, scale: np.ndarray) -> float:
    return float(np.abs(y - p50).sum() / scale.sum())


def combination(methods: Sequence[str], h: int = 1) -> str | None:
    """The equal-weight combination's name at horizon ``h`` (``mean:`` and its members), :data:`COMBINATION`
    up to :data:`SHORT_HORIZON` months and :data:`LONG_COMBINATION` beyond, when every member is among
    ``methods`` (None otherwise: a mean of LightGBM and naive alone is no combination of diverse forecasts,
    and on synthetic counts it lost to LightGBM alone)."""
    members = COMBINATION if h <= SHORT_HORIZON else LONG_COMBINATION
    return "mean:" + "+".join(sorted(members)) if set(members) <= set(methods) else None


def candidates(wide: pd.DataFrame, methods: Sequence[str], h: int = 1) -> dict[str, dict[str, float]]:
    """Each candidate's weights: every method alone, the equal-weight :func:`combination` and the weighted
    ensembles of the best 2 and 3."""
    y, scale = wide["y"].to_numpy(), wide["scale"].to_numpy()
    scores = {m: _score(y, wide[m].to_numpy(), scale) for m in methods}
    out = {m: {m: 1.0} for m in methods}
    comb = combination(methods, h)
    if comb is not None:
        members = comb.split(":", 1)[1].split("+")
        out[comb] = {m: 1.0 / len(members) for m in members}
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


def _per_origin(err: np.ndarray, scale: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """Scaled error of each origin: Σ|error| / Σ scale over its rows."""
    codes, at = np.unique(origin, return_inverse=True)
    return np.bincount(at, weights=err, minlength=len(codes)) / np.bincount(at, weights=scale, minlength=len(codes))


def significant_win(challenger: np.ndarray, default: np.ndarray, h: int = 1) -> bool:
    """Whether per-origin scores ``challenger`` beat ``default`` significantly at horizon ``h``: over at least
    ``MIN_ORIGINS`` origins, a mean difference ``T_SWITCH`` standard errors below zero. Forecasts
    from origins less than ``h`` months apart miss the same months, so the standard error of the mean is
    taken ``sqrt(h)`` times larger than for independent origins (overlapping ``h``-step errors). The overlap
    is paid for there once: asking for ``h`` origins as well made any switch impossible at the horizons longer
    than the backtest has origins (with 8 origins, LightGBM five times better than naive at 9-12 months was
    never served)."""
    d = challenger - default
    if len(d) < MIN_ORIGINS or d.mean() >= 0:
        return False
    sd = d.std(ddof=1)
    return bool(sd == 0 or d.mean() / (sd * np.sqrt(h) / np.sqrt(len(d))) <= -T_SWITCH)


def choose(wide: pd.DataFrame, methods: Sequence[str], origin: np.ndarray, h: int = 1) -> dict[str, Any]:
    """The served candidate at horizon ``h`` on the rows of ``wide`` (one P50 column per method, ``y``,
    ``scale``; their origins ``origin``): the horizon's :func:`combination`, or, without one, the strongest
    baseline unless a candidate beats it significantly across origins."""
    y, scale = wide["y"].to_numpy(), wide["scale"].to_numpy()
    cands = candidates(wide, methods, h)
    p50 = {n: combine(wide, w) for n, w in cands.items()}
    scores = {n: _score(y, p, scale) for n, p in p50.items()}
    by_origin = {n: _per_origin(np.abs(y - p), scale, origin) for n, p in p50.items()}
    baselines = [m for m in methods if m != MODEL]
    default = combination(methods, h)
    if default is not None:
        best = default  # a combination is served as it is: no selection among the candidates
    else:
        default = PRIOR if PRIOR in baselines else min(baselines or list(methods), key=lambda n: (scores[n], n))
        stronger = [b for b in baselines if b != default and scores[b] < scores[default]
                    and significant_win(by_origin[b], by_origin[default], h)]
        if stronger:
            default = min(stronger, key=lambda n: (scores[n], n))
        winners = [n for n in cands if n != default and scores[n] < scores[default]
                   and significant_win(by_origin[n], by_origin[default], h)]
        best = min(winners, key=lambda n: (scores[n], n.startswith("ensemble"), n)) if winners else default
    # symmetric: the 80% quantile of |scaled residual| on each side. The sign of past errors flips with
    # the regime (a recovery's forecasts fall short, a decline's overshoot): a skewed interval calibrated
    # on one regime misses the other
    # the latest origins only: an interval calibrated on the 2020-2022 swings is too wide for calmer years
    recent = origin >= np.unique(origin)[-min(RECENT_ORIGINS, len(np.unique(origin)))]
    resid, at_scale = np.abs(y - p50[best])[recent] / scale[recent], scale[recent]
    half = float(np.quantile(resid, UPPER - LOWER))
    return {"method": best, "weights": cands[best], "scores": scores, "rows": len(wide), "default": default,
            "origins": len(np.unique(origin)),
            "q": [-half, half], "bins": scale_bins(resid, at_scale)}


def scale_bins(resid: np.ndarray, scale: np.ndarray) -> dict[str, list[float]]:
    """The Mondrian interval: ``edges`` (the scales splitting the rows into bins, :func:`_log_edges`) and each
    bin's 80% quantile of the scaled absolute residual, ``half``."""
    edges = _log_edges(scale)
    at = np.searchsorted(edges, scale, side="right")
    pooled = float(np.quantile(resid, UPPER - LOWER))
    half = [float(np.quantile(resid[at == k], UPPER - LOWER)) if (at == k).any() else pooled
            for k in range(len(edges) + 1)]
    return {"edges": [float(e) for e in edges], "half": half}


def _log_edges(scale: np.ndarray) -> np.ndarray:
    """:data:`SCALE_BINS` bins of equal width in log scale (a team, a department, a company differ by
    orders of magnitude, and the large series are few: equal-count bins would put them with small ones),
    a bin with fewer than :data:`MIN_BIN_ROWS` rows merged into its neighbour."""
    scale = np.asarray(scale, dtype=float)
    if len(scale) < 2 * MIN_BIN_ROWS or scale.min() <= 0 or scale.max() <= scale.min():
        return np.array([])
    edges = list(np.exp(np.linspace(np.log(scale.min()), np.log(scale.max()), SCALE_BINS + 1)[1:-1]))
    while edges:
        counts = np.bincount(np.searchsorted(edges, scale, side="right"), minlength=len(edges) + 1)
        k = int(np.argmin(counts))
        if counts[k] >= MIN_BIN_ROWS:
            break
        edges.pop(k - 1 if k == len(edges) else k)  # the last bin into the one below, any other into the next
    return np.asarray(edges)


def half_width(choice: Mapping[str, Any], scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The scaled lower and upper offsets of each row's interval: its scale bin's (a choice stored before
    the bins existed has one pooled pair)."""
    bins = choice.get("bins")
    if not bins:
        return np.full(len(scale), choice["q"][0]), np.full(len(scale), choice["q"][1])
    half = np.asarray(bins["half"], dtype=float)[np.searchsorted(np.asarray(bins["edges"], dtype=float), scale,
                                                                  side="right")]
    return -half, half


def horizon_tables(backtest: pd.DataFrame, key: Sequence[str] = ("series", "origin")
                   ) -> dict[int, tuple[pd.DataFrame, list[str]]]:
    """Per horizon: the wide table (:func:`_wide`) and its methods; a method forecasting few of the rows (a
    sample) drops out while fewer than ``MIN_ROWS`` rows have every method."""
    out = {}
    for h, rows in backtest.groupby("horizon"):
        methods = sorted(rows["model"].unique())
        wide = _wide(rows, key)
        while len(wide) < MIN_ROWS and len(methods) > 1:
            counts = rows.groupby("model").size()
            methods.remove(min(methods, key=lambda m: counts.get(m, 0)))
            rows = rows[rows["model"].isin(methods)]
            wide = _wide(rows, key)
        out[int(h)] = (wide, methods)
    return out


def select(backtest: pd.DataFrame, key: Sequence[str] = ("series", "origin")) -> dict[int, dict[str, Any]]:
    """Per horizon of ``backtest`` (columns ``model``, ``horizon``, ``p50``, ``y``, ``scale`` and ``key``, the
    last of which is the origin): the served candidate (:func:`choose`), its weights, every candidate's
    score and the conformal residual quantiles."""
    chosen: dict[int, dict[str, Any]] = {}
    for h, (wide, methods) in horizon_tables(backtest, key).items():
        if len(wide) >= MIN_ROWS:
            chosen[h] = choose(wide, methods, wide.index.get_level_values(key[-1]).to_numpy(), h)
    return monotone(chosen)


def monotone(chosen: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Intervals never narrow as the horizon grows."""
    lo = hi = 0.0
    halves: list[float] = []
    for h in sorted(chosen):
        lo, hi = min(lo, chosen[h]["q"][0]), max(hi, chosen[h]["q"][1])
        chosen[h]["q"] = [lo, hi]
        bins = chosen[h].get("bins")
        if bins:  # per bin, against the same bin one horizon shorter (the widest, when the bins differ)
            floor = halves if len(halves) == len(bins["half"]) else [max(halves, default=0.0)] * len(bins["half"])
            halves = bins["half"] = [max(a, b) for a, b in zip(bins["half"], floor, strict=True)]
    return chosen


def served(p50: Mapping[str, np.ndarray], choice: Mapping[str, Any], scale: np.ndarray,
           nonnegative: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """P10, P50, P90 of the chosen candidate from each method's P50 (arrays of one length)."""
    mid = combine(p50, choice["weights"])
    q_lo, q_hi = half_width(choice, scale)
    lo, hi = mid + scale * q_lo, mid + scale * q_hi
    if nonnegative:
        lo, mid, hi = (np.maximum(a, 0.0) for a in (lo, mid, hi))
    return np.minimum(lo, mid), mid, np.maximum(hi, mid)


def describe(choice: Mapping[str, Any], lang: str = "en") -> str:
    """The served method in words, e.g. "AutoETS", "ensemble: 60% LightGBM + 40% naive" or "equal-weight mean
    of LightGBM and naive (last value)"."""
    names = {"en": {"lightgbm": "LightGBM", "naive": "naive (last value)", "seasonal_naive": "seasonal naive",
                    "drift": "drift (random walk with drift)", "auto_ets": "AutoETS",
                    "ets_damped": "damped-trend ETS", "arima": "ARIMA"},
             "zh": {"lightgbm": "LightGBM模型", "naive": "朴素法（最近值）", "seasonal_naive": "季节朴素法",
                    "drift": "漂移法（带漂移随机游走）", "auto_ets": "AutoETS指数平滑",
                    "ets_damped": "阻尼趋势指数平滑", "arima": "ARIMA模型"}}[lang]
    w = choice["weights"]
    if len(w) == 1:
        return names[next(iter(w))]
    if str(choice.get("method", "")).startswith("mean:"):
        parts = [names[m] for m in sorted(w)]
        if lang == "en":
            return "equal-weight mean of " + ", ".join(parts[:-1]) + " and " + parts[-1]
        return "等权平均：" + "、".join(parts[:-1]) + "与" + parts[-1]
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
    return served(p50, choice, row_scale(values, origin, h), nonnegative)
