"""Statistical forecasts the served model may choose per horizon: naive, seasonal naive, drift and AutoETS.

They take a series × months matrix ``values`` (NaN where a series has no value) and, per series, its
origin ``origin`` (the first month not seen: the column after its last value); each sees only columns
< origin. The backtest (:mod:`evaluation.forecast_baselines`) and the served forecast
(:meth:`DemandForecaster.predict`) compute them here, so a method chosen on the backtest is the method
served.

- ``naive``: the last value.
- ``seasonal_naive``: the value of the same month one season earlier (``y[m - season * ceil(h / season)]``),
  the last value when the series is too short.
- ``drift``: statsforecast's ``RandomWalkWithDrift`` in closed form, the last value plus ``h`` times the
  mean monthly change over the whole history (``(y_last - y_first) / (n - 1)``); vectorised.
- ``auto_ets``: statsforecast's ``AutoETS(season_length=season)`` per series (~40-250 ms a series).
- ``ets_damped``: statsforecast's ``AutoETS(damped=True)`` without a season (a damped additive or
  multiplicative trend; the forecast levels off instead of extrapolating a trend for a year).
- ``arima``: statsforecast's ``AutoARIMA`` without a season (orders chosen per series by AICc).

``ets_damped`` and ``arima`` cost 20-60 ms a series at each forecast: the served forecast uses them on
small panels only (:data:`STATISTICAL`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

METHODS = ("naive", "seasonal_naive", "drift", "auto_ets", "ets_damped", "arima")
STATISTICAL = ("auto_ets", "ets_damped", "arima")  # fitted per series: seconds per thousand series
# damped ETS and ARIMA are refitted at every backtest origin (20-60 ms a series each): served candidates on
# panels of at most this many series
REFITTED_MAX_SERIES = 100


def _last(values: np.ndarray, origin: np.ndarray) -> np.ndarray:
    rows = np.arange(values.shape[0])
    col = np.clip(origin - 1, 0, values.shape[1] - 1)
    return np.where(origin >= 1, values[rows, col], np.nan)


def naive(values: np.ndarray, origin: np.ndarray, horizons: Sequence[int]) -> np.ndarray:
    """The last value, series × horizons."""
    return np.repeat(_last(values, origin)[:, None], len(horizons), axis=1)


def seasonal_naive(values: np.ndarray, origin: np.ndarray, horizons: Sequence[int], season: int = 12
                   ) -> np.ndarray:
    """Same month one season back (the last value where that month is not held), series × horizons."""
    rows = np.arange(values.shape[0])
    last = _last(values, origin)
    out = np.empty((values.shape[0], len(horizons)))
    for j, h in enumerate(horizons):
        col = origin + h - 1 - season * int(np.ceil(h / season))
        ok = (col >= 0) & (col < origin)
        v = np.full(values.shape[0], np.nan)
        v[ok] = values[rows[ok], col[ok]]
        out[:, j] = np.where(np.isnan(v), last, v)
    return out


def drift(values: np.ndarray, origin: np.ndarray, horizons: Sequence[int]) -> np.ndarray:
    """Random walk with drift: last + h × (last − first) / (n − 1) over each series' seen months."""
    seen = ~np.isnan(values) & (np.arange(values.shape[1])[None, :] < origin[:, None])
    n = seen.sum(axis=1)
    first_col = np.argmax(seen, axis=1)
    first = values[np.arange(values.shape[0]), first_col]
    last = _last(values, origin)
    slope = np.where(n > 1, (last - first) / np.maximum(n - 1, 1), 0.0)
    return last[:, None] + slope[:, None] * np.asarray(horizons, dtype=float)[None, :]


def auto_ets(values: np.ndarray, origin: np.ndarray, horizons: Sequence[int], season: int = 12,
             level: int = 80) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """AutoETS per series fitted on its seen months: (P50, lower, upper) of the ``level``% interval, each
    series × horizons; the last value (and no interval) for series with fewer than 3 months."""
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    n_series, hs = values.shape[0], list(horizons)
    p50 = naive(values, origin, hs)
    lo, hi = np.full_like(p50, np.nan), np.full_like(p50, np.nan)
    cols = np.arange(values.shape[1])
    seen = ~np.isnan(values) & (cols[None, :] < origin[:, None])
    fit = np.flatnonzero(seen.sum(axis=1) >= 3)
    if not len(fit):
        return p50, lo, hi
    s, t = np.nonzero(seen[fit])
    data = pd.DataFrame({"unique_id": fit[s], "ds": pd.Timestamp("2000-01-01") + pd.to_timedelta(t, "D"),
                         "y": values[fit[s], t]})
    # days stand in for months: each series' months are consecutive and the season is counted in steps
    sf = StatsForecast(models=[AutoETS(season_length=season)], freq="D", n_jobs=1)
    fc = sf.forecast(df=data, h=max(hs), level=[level])
    step = fc.groupby("unique_id").cumcount().to_numpy() + 1
    uid = fc["unique_id"].to_numpy().astype(int)
    # a series' forecast starts after its last seen month; origin - 1 is that month
    last_col = np.zeros(n_series, dtype=int)
    last_col[fit] = values.shape[1] - 1 - np.argmax(seen[fit][:, ::-1], axis=1)
    lead = origin[uid] - 1 - last_col[uid]  # months between the last value and the origin (0 normally)
    for j, h in enumerate(hs):
        at = step == h + lead
        p50[uid[at], j] = fc["AutoETS"].to_numpy()[at]
        lo[uid[at], j] = fc[f"AutoETS-lo-{level}"].to_numpy()[at]
        hi[uid[at], j] = fc[f"AutoETS-hi-{level}"].to_numpy()[at]
    return p50, lo, hi


_FITTED: dict[tuple[str, str], np.ndarray] = {}  # the last few fits: serving asks one horizon at a time
MAX_HORIZON = 24


def _statsforecast(kind: str, values: np.ndarray, origin: np.ndarray, horizons: Sequence[int]) -> np.ndarray:
    """P50 of ``ets_damped`` or ``arima`` fitted per series on its seen months, series × horizons; the last
    value for series with fewer than 6 months. One fit gives every horizon up to :data:`MAX_HORIZON`, and the
    last 4 fits are kept, so serving 12 horizons one by one fits each series once."""
    import hashlib

    values, origin = np.ascontiguousarray(values, dtype=float), np.ascontiguousarray(origin, dtype=np.int64)
    key = (kind, hashlib.blake2b(values.tobytes() + origin.tobytes() + str(values.shape).encode()).hexdigest())
    if key not in _FITTED:
        if len(_FITTED) >= 4:
            _FITTED.pop(next(iter(_FITTED)))
        _FITTED[key] = _fit_statsforecast(kind, values, origin, MAX_HORIZON)
    hs = np.asarray(list(horizons), dtype=int)
    if hs.min(initial=1) < 1 or hs.max(initial=1) > MAX_HORIZON:
        raise ValueError(f"horizons must be within 1-{MAX_HORIZON}, got {sorted(set(hs.tolist()))}")
    return _FITTED[key][:, hs - 1].copy()


def _fit_statsforecast(kind: str, values: np.ndarray, origin: np.ndarray, h_max: int) -> np.ndarray:
    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA, AutoETS

    hs = list(range(1, h_max + 1))
    p50 = naive(values, origin, hs)
    cols = np.arange(values.shape[1])
    seen = ~np.isnan(values) & (cols[None, :] < origin[:, None])
    # a series' months must be consecutive for these models: its seen months up to its origin, gaps refused
    first = np.argmax(seen, axis=1)
    span = origin - first
    fit = np.flatnonzero((seen.sum(axis=1) >= 6) & (seen.sum(axis=1) == span))
    if not len(fit):
        return p50
    s, t = np.nonzero(seen[fit])
    data = pd.DataFrame({"unique_id": fit[s], "ds": pd.Timestamp("2000-01-01") + pd.to_timedelta(t, "D"),
                         "y": values[fit[s], t]})
    model = AutoETS(season_length=1, damped=True) if kind == "ets_damped" else AutoARIMA(season_length=1)
    with np.errstate(all="ignore"):
        fc = StatsForecast(models=[model], freq="D", n_jobs=1).forecast(df=data, h=max(hs))
    step = fc.groupby("unique_id").cumcount().to_numpy() + 1
    uid = fc["unique_id"].to_numpy().astype(int)
    value = fc[fc.columns[-1]].to_numpy(dtype=float)
    for j, h in enumerate(hs):
        at = (step == h) & np.isfinite(value)
        p50[uid[at], j] = value[at]
    return p50


def forecast(method: str, values: np.ndarray, origin: np.ndarray, horizons: Sequence[int], season: int = 12
             ) -> np.ndarray:
    """The P50 of ``method`` (one of :data:`METHODS`), series × horizons."""
    if method == "naive":
        return naive(values, origin, horizons)
    if method == "seasonal_naive":
        return seasonal_naive(values, origin, horizons, season)
    if method == "drift":
        return drift(values, origin, horizons)
    if method == "auto_ets":
        return auto_ets(values, origin, horizons, season)[0]
    if method in ("ets_damped", "arima"):
        return _statsforecast(method, values, origin, horizons)
    raise ValueError(f"unknown method {method!r}; methods are {list(METHODS)}")


def change_bound(values: np.ndarray, origin: np.ndarray, h: int) -> np.ndarray:
    """Per series, the largest |y[t + h] − y[t]| among its seen months before ``origin`` (0 with too few
    months): a forecast ``h`` months ahead should not move further from the last value than the series
    ever moved in ``h`` months."""
    cols = np.arange(values.shape[1])
    v = np.where(cols[None, :] < origin[:, None], values, np.nan)
    if v.shape[1] <= h:
        return np.zeros(values.shape[0])
    moves = np.abs(v[:, h:] - v[:, :-h])
    with np.errstate(all="ignore"):
        bound = np.nanmax(np.where(np.isnan(moves), -np.inf, moves), axis=1)
    return np.where(np.isfinite(bound), bound, 0.0)
