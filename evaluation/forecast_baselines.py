"""Baseline forecasts on the same rolling origins as a backtest: seasonal naive, naive, drift and AutoETS.

Each baseline sees, at an origin T (the first month not seen), only months < T of each series:

- ``seasonal_naive``: the value of the same month one season earlier (``y[m - season * ceil(h / season)]``).
- ``naive``: the last value, ``y[T - 1]``, for every horizon.
- ``drift``: the random walk with drift (statsforecast's ``RandomWalkWithDrift``), the last value plus ``h``
  times the mean monthly change of the series' history (:func:`models.skill_demand.baselines.drift`).
- ``auto_ets``: statsforecast's ``AutoETS(season_length=season)`` fitted per series at each origin, with its
  80% prediction interval (``p10`` / ``p90``). It costs ~40 ms per series and origin on this machine, so
  it runs on a fixed random sample of at most ``ets_max_series`` series (``None``: all); compare it with
  the other models on the same rows (the ``model == "auto_ets"`` rows name them).
- ``ets_damped`` and ``arima``: statsforecast's damped-trend ``AutoETS`` and ``AutoARIMA`` (no season),
  refitted on every series at every origin (:func:`models.skill_demand.baselines.forecast`, the code
  that serves them): 20-60 ms per series and origin, for small panels. Not in the default ``models``.

The output has the backtest's columns: id columns, ``origin``, target month, ``horizon``, ``model`` and
``p50`` (plus ``p10`` / ``p90`` for AutoETS, NaN otherwise).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.skill_demand.series import series_key

BASELINES = ("seasonal_naive", "naive", "drift", "auto_ets")
STATISTICAL = ("ets_damped", "arima")  # served candidates on small panels, refitted at every origin


@dataclass(frozen=True)
class _Grid:
    """The history as a series × months matrix (NaN where a series has no row), keyed by series."""

    keys: pd.Index  # sorted series keys (``series_key`` of the id columns)
    first: int  # month index (year * 12 + month - 1) of column 0
    values: np.ndarray  # series × months

    def codes(self, df: pd.DataFrame, ids: Sequence[str]) -> np.ndarray:
        """Row of each of ``df``'s series in the grid (-1 for series the history does not hold)."""
        return self.keys.get_indexer(series_key(df, ids))

    def at(self, code: np.ndarray, month: np.ndarray) -> np.ndarray:
        """``values[code, month - first]``, NaN outside the grid."""
        col = np.asarray(month) - self.first
        ok = (code >= 0) & (col >= 0) & (col < self.values.shape[1])
        out = np.full(len(code), np.nan)
        out[ok] = self.values[code[ok], col[ok]]
        return out


def _grid(history: pd.DataFrame, ids: Sequence[str], time_col: str, target_col: str) -> _Grid:
    key = series_key(history, ids)
    keys = pd.Index(np.sort(key.unique()))
    month = _month_index(history[time_col]).to_numpy()
    first = int(month.min())
    row, col = keys.get_indexer(key), month - first
    n_months = int(col.max()) + 1
    if np.bincount(row * n_months + col).max() > 1:
        raise ValueError(f"history has duplicate ({', '.join(ids)}, {time_col}) rows")
    values = np.full((len(keys), n_months), np.nan)
    values[row, col] = history[target_col].to_numpy(dtype=float)
    return _Grid(keys, first, values)


def baseline_backtest(
    history: pd.DataFrame,
    plan: pd.DataFrame,
    id_col: str | Sequence[str] = "series_id",
    time_col: str = "month",
    target_col: str = "value",
    season: int = 12,
    models: Sequence[str] = BASELINES,
    ets_max_series: int | None = 300,
    seed: int = 0,
) -> pd.DataFrame:
    """Baseline forecasts for every row of ``plan`` (id columns, ``origin``, ``time_col``, ``horizon``),
    e.g. the backtest frame of ``DemandForecaster.cross_validation``; ``history`` is the long series.

    The history is looked up as a series × months matrix (no per-row keys or copies of the plan), so
    millions of backtest rows cost seconds and a few arrays of their length."""
    ids = [id_col] if isinstance(id_col, str) else list(id_col)
    unknown = sorted(set(models) - set(BASELINES) - set(STATISTICAL))
    if unknown:
        raise ValueError(f"unknown baseline(s) {unknown}; baselines are {list(BASELINES + STATISTICAL)}")
    missing = [c for c in [*ids, "origin", time_col, "horizon"] if c not in plan.columns]
    if missing:
        raise ValueError(f"plan is missing column(s) {missing}")
    grid = _grid(history, ids, time_col, target_col)
    rows = plan[[*ids, "origin", time_col, "horizon"]].reset_index(drop=True)
    code = grid.codes(rows, ids)
    origin = _month_index(rows["origin"]).to_numpy()
    month = _month_index(rows[time_col]).to_numpy()
    frames = []
    if "seasonal_naive" in models:
        back = season * np.ceil(rows["horizon"].to_numpy() / season).astype(int)
        frames.append(_forecast(rows, "seasonal_naive", grid.at(code, month - back)))
    if "naive" in models:
        frames.append(_forecast(rows, "naive", grid.at(code, origin - 1)))
    if "drift" in models:
        frames.append(_forecast(rows, "drift", _drift(grid, code, origin, rows["horizon"].to_numpy())))
    if "auto_ets" in models:
        codes = np.unique(code[code >= 0])
        if ets_max_series is not None and len(codes) > ets_max_series:
            # the same sample as drawing from the sorted keys: codes are positions in the sorted keys
            codes = np.random.default_rng(seed).choice(codes, ets_max_series, replace=False)
        sample = np.isin(code, codes)
        frames.append(_auto_ets(grid, rows[sample], code[sample], origin[sample], month[sample], season))
    for name in (m for m in STATISTICAL if m in models):
        frames.append(_forecast(rows, name, _refitted(grid, code, origin, rows["horizon"].to_numpy(), name)))
    return pd.concat(frames, ignore_index=True)


def _refitted(grid: _Grid, code: np.ndarray, origin: np.ndarray, horizon: np.ndarray, method: str) -> np.ndarray:
    """``method`` fitted at every origin on every series the origin forecasts, on the months before it."""
    from models.skill_demand.baselines import forecast

    out = np.full(len(code), np.nan)
    for o in np.unique(origin):
        at = np.flatnonzero((origin == o) & (code >= 0))
        series = np.unique(code[at])
        hs = np.unique(horizon[at])
        fc = forecast(method, grid.values[series], np.full(len(series), o - grid.first), hs)
        out[at] = fc[np.searchsorted(series, code[at]), np.searchsorted(hs, horizon[at])]
    return out


def _drift(grid: _Grid, code: np.ndarray, origin: np.ndarray, horizon: np.ndarray) -> np.ndarray:
    """Random walk with drift per row, from the months before the row's origin."""
    from models.skill_demand.baselines import drift

    out = np.full(len(code), np.nan)
    for o in np.unique(origin):
        at = np.flatnonzero((origin == o) & (code >= 0))
        hs = np.unique(horizon[at])
        col = np.full(len(grid.keys), o - grid.first)
        fc = drift(grid.values, col, hs)
        out[at] = fc[code[at], np.searchsorted(hs, horizon[at])]
    return out


def _month_index(s: pd.Series) -> pd.Series:
    ts = pd.to_datetime(s)
    return ts.dt.year * 12 + ts.dt.month - 1


def _forecast(rows: pd.DataFrame, name: str, p50: np.ndarray, p10: np.ndarray | None = None,
              p90: np.ndarray | None = None) -> pd.DataFrame:
    nan = np.full(len(rows), np.nan)
    return rows.assign(model=name, p50=p50, p10=nan if p10 is None else p10, p90=nan if p90 is None else p90)


def _auto_ets(grid: _Grid, rows: pd.DataFrame, code: np.ndarray, origin: np.ndarray, month: np.ndarray,
              season: int) -> pd.DataFrame:
    """AutoETS per series with its 80% interval. Each series' model (its form and parameters) is chosen and
    fitted once, on the months before its earliest origin in ``rows``; at every origin it is run forward
    over the months before that origin (statsforecast's ``forward``: states re-filtered, parameters
    kept) and forecasts from there. Fitting at every origin cost ~40 ms a series and origin; this costs
    one fit a series."""
    from statsforecast.models import AutoETS

    p10, p50, p90 = (np.full(len(rows), np.nan) for _ in range(3))
    order = np.lexsort((origin, code))
    bounds = np.flatnonzero(np.diff(code[order])) + 1
    for at_series in np.split(order, bounds):
        if not len(at_series):
            continue
        c = int(code[at_series[0]])
        series = grid.values[c]
        model = None
        for o in np.unique(origin[at_series]):
            at = at_series[origin[at_series] == o]
            before = series[: max(int(o) - grid.first, 0)]
            seen = np.flatnonzero(~np.isnan(before))
            if len(seen) < 3:
                continue
            y = before[seen]
            step = month[at] - (grid.first + seen[-1]) - 1  # steps after the last seen month (h - 1 normally)
            try:
                if model is None:
                    model = AutoETS(season_length=season).fit(y)
                fc = model.forward(y, h=int(step.max()) + 1, level=[80])
            except Exception:  # noqa: BLE001 - statsforecast refuses some short or constant series: no forecast
                continue
            p50[at] = fc["mean"][step]
            p10[at] = fc["lo-80"][step]
            p90[at] = fc["hi-80"][step]
    return _forecast(rows, "auto_ets", p50, p10, p90)


def _from_index(m: pd.Series) -> pd.Series:
    m = m.astype(int).reset_index(drop=True)
    return pd.to_datetime(pd.DataFrame({"year": m // 12, "month": m % 12 + 1, "day": 1}))


def score(
    forecasts: pd.DataFrame,
    history: pd.DataFrame,
    id_col: str | Sequence[str] = "series_id",
    time_col: str = "month",
    target_col: str = "value",
    season: int = 1,
    reference: str = "lightgbm",
) -> pd.DataFrame:
    """Metrics per (model, horizon) on backtest rows (``model``, id columns, ``origin``, target month,
    ``horizon``, ``p50`` and optionally ``p10`` / ``p90``).

    Every model except AutoETS is scored on the rows where all of them have a forecast; AutoETS on its
    sample, with ``<reference>_on_auto_ets_rows`` the reference model on the same rows. ``mase`` is pooled
    per origin (mean |error| over the mean ``season``-step naive error of the training months before
    that origin) and averaged over origins (origins where no training series ever changes are left out,
    MASE being undefined there); ``wape`` is sum |error| / sum |y|; ``wql`` and
    ``coverage_80`` need ``p10`` / ``p90``.
    """
    from evaluation.metrics.forecasting import interval_coverage, smape, weighted_quantile_loss

    ids = [id_col] if isinstance(id_col, str) else list(id_col)
    grid = _grid(history, ids, time_col, target_col)
    code = grid.codes(forecasts, ids)
    y = grid.at(code, _month_index(forecasts[time_col]).to_numpy())  # NaN: no actual value, not scored
    origin = _month_index(forecasts["origin"]).to_numpy()
    horizon = forecasts["horizon"].to_numpy().astype(np.int64)
    nan = np.full(len(forecasts), np.nan)
    p10, p50, p90 = (forecasts[q].to_numpy(dtype=float) if q in forecasts else nan for q in ("p10", "p50", "p90"))
    model, names = pd.factorize(forecasts["model"])
    names = [*names, f"{reference}_on_auto_ets_rows"]
    # rows are selected by index (no copies of the forecasts): one integer per (series, origin, horizon)
    key = (code * (origin.max(initial=0) - origin.min(initial=0) + 1) + origin - origin.min(initial=0)) * (
        horizon.max(initial=0) + 1) + horizon
    has_y = ~np.isnan(y)
    is_ets = model == (names.index("auto_ets") if "auto_ets" in names else -1)
    main = np.flatnonzero(has_y & ~is_ets)
    with_p50 = main[~np.isnan(p50[main])]
    keys, count = np.unique(key[with_p50], return_counts=True)
    main = main[np.isin(key[main], keys[count == len(np.unique(model[main]))])]
    ets = np.flatnonzero(has_y & is_ets & ~np.isnan(p50))
    ref = np.flatnonzero(has_y & (model == (names.index(reference) if reference in names[:-1] else -1)))
    ref = ref[np.isin(key[ref], key[ets])]
    rows_at = np.concatenate([main, ets, ref])
    label = np.concatenate([model[main], model[ets], np.full(len(ref), len(names) - 1)])
    naive = _NaiveErrors(grid, season)
    rows = []
    for name in sorted(set(np.asarray(names)[np.unique(label)])):
        of_model = rows_at[label == names.index(name)]
        for h in np.unique(horizon[of_model]):
            g = of_model[horizon[of_model] == h]
            mases = []
            for o in np.unique(origin[g]):
                block = g[origin[g] == o]
                total, n_errors, enough = naive[int(o)]
                series = np.unique(code[block])
                series = series[enough[series]]
                naive_error = total[series].sum()
                block = block[np.isin(code[block], series)]
                if len(block) and naive_error > 0:  # origins whose training months never change are left out
                    mae = float(np.abs(y[block] - p50[block]).mean())
                    mases.append(mae / (naive_error / n_errors[series].sum()))
            yv, q10, q50, q90 = y[g], p10[g], p50[g], p90[g]
            # wql is undefined when every y is 0
            has_interval = not (np.isnan(q10).any() or np.isnan(q90).any()) and bool(np.abs(yv).sum() > 0)
            rows.append({
                "model": name, "horizon": int(h), "rows": len(g),
                "mase": float(np.mean(mases)) if mases else np.nan,
                "smape": smape(yv, q50),
                "wape": float(np.abs(yv - q50).sum() / max(np.abs(yv).sum(), 1e-12)),
                "wql": weighted_quantile_loss(yv, {0.1: q10, 0.5: q50, 0.9: q90}) if has_interval else np.nan,
                "coverage_80": interval_coverage(yv, q10, q90) if has_interval else np.nan,
            })
    return pd.DataFrame(rows)


class _NaiveErrors:
    """Per origin (a month index): each series' sum and count of |y_t - y_{t - season}| over its rows
    before the origin (t counted in rows, as a sorted long frame would), and whether it has more than
    ``season`` such rows (MASE needs at least one naive error)."""

    def __init__(self, grid: _Grid, season: int):
        self.grid, self.season, self.cache = grid, season, {}
        seen = ~np.isnan(grid.values)
        self.s, self.t = np.nonzero(seen)  # row-major: sorted by series, then month
        v = grid.values[self.s, self.t]
        err = np.full(len(v), np.nan)
        same = np.zeros(len(v), dtype=bool)
        same[season:] = self.s[season:] == self.s[:-season]
        err[season:] = np.where(same[season:], np.abs(v[season:] - v[:-season]), np.nan)
        self.err = err

    def __getitem__(self, origin: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if origin not in self.cache:
            n = len(self.grid.keys)
            before = self.t < origin - self.grid.first
            s, e = self.s[before], self.err[before]
            ok = ~np.isnan(e)
            total = np.bincount(s[ok], weights=e[ok], minlength=n)
            count = np.bincount(s[ok], minlength=n)
            enough = np.bincount(s, minlength=n) > self.season
            self.cache[origin] = (total, count, enough)
        return self.cache[origin]
