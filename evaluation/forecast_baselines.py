"""Baseline forecasts on the same rolling origins as a backtest: seasonal naive, naive and AutoETS.

Each baseline sees, at an origin T (the first month not seen), only months < T of each series:

- ``seasonal_naive``: the value of the same month one season earlier (``y[m - season * ceil(h / season)]``).
- ``naive``: the last value, ``y[T - 1]``, for every horizon.
- ``auto_ets``: statsforecast's ``AutoETS(season_length=season)`` fitted per series at each origin, with its
  80% prediction interval (``p10`` / ``p90``). It costs ~40 ms per series and origin on this machine, so
  it runs on a fixed random sample of at most ``ets_max_series`` series (``None``: all); compare it with
  the other models on the same rows (the ``model == "auto_ets"`` rows name them).

The output has the backtest's columns: id columns, ``origin``, target month, ``horizon``, ``model`` and
``p50`` (plus ``p10`` / ``p90`` for AutoETS, NaN otherwise).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

BASELINES = ("seasonal_naive", "naive", "auto_ets")


def _key(df: pd.DataFrame, ids: Sequence[str]) -> pd.Series:
    return df[ids[0]].astype(str) if len(ids) == 1 else df[list(ids)].astype(str).agg("|".join, axis=1)


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
    e.g. the backtest frame of ``DemandForecaster.cross_validation``; ``history`` is the long series."""
    ids = [id_col] if isinstance(id_col, str) else list(id_col)
    unknown = sorted(set(models) - set(BASELINES))
    if unknown:
        raise ValueError(f"unknown baseline(s) {unknown}; baselines are {list(BASELINES)}")
    missing = [c for c in [*ids, "origin", time_col, "horizon"] if c not in plan.columns]
    if missing:
        raise ValueError(f"plan is missing column(s) {missing}")
    hist = history[[*ids, time_col, target_col]].copy()
    hist["_key"] = _key(hist, ids)
    hist["_m"] = _month_index(hist[time_col])
    rows = plan[[*ids, "origin", time_col, "horizon"]].copy()
    rows["_key"] = _key(rows, ids)
    rows["_o"] = _month_index(rows["origin"])
    rows["_m"] = _month_index(rows[time_col])
    lookup = hist.set_index(["_key", "_m"])[target_col]
    frames = []
    if "seasonal_naive" in models:
        back = season * np.ceil(rows["horizon"].to_numpy() / season).astype(int)
        frames.append(_lookup(rows, lookup, rows["_m"].to_numpy() - back, "seasonal_naive"))
    if "naive" in models:
        frames.append(_lookup(rows, lookup, rows["_o"].to_numpy() - 1, "naive"))
    if "auto_ets" in models:
        keys = np.sort(rows["_key"].unique())
        if ets_max_series is not None and len(keys) > ets_max_series:
            keys = np.random.default_rng(seed).choice(keys, ets_max_series, replace=False)
        frames.append(_auto_ets(hist, rows[rows["_key"].isin(keys)], season, target_col))
    out = pd.concat(frames, ignore_index=True)
    return out.drop(columns=["_key", "_o", "_m"])


def _month_index(s: pd.Series) -> pd.Series:
    ts = pd.to_datetime(s)
    return ts.dt.year * 12 + ts.dt.month - 1


def _lookup(rows: pd.DataFrame, lookup: pd.Series, month: np.ndarray, name: str) -> pd.DataFrame:
    out = rows.copy()
    idx = pd.MultiIndex.from_arrays([rows["_key"].to_numpy(), month])
    out["model"] = name
    out["p50"] = lookup.reindex(idx).to_numpy()
    out["p10"] = np.nan
    out["p90"] = np.nan
    return out


def _auto_ets(hist: pd.DataFrame, rows: pd.DataFrame, season: int, target_col: str) -> pd.DataFrame:
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    frames = []
    for origin, block in rows.groupby("_o"):
        h = int(block["horizon"].max())
        train = hist[(hist["_m"] < origin) & hist["_key"].isin(block["_key"].unique())]
        data = pd.DataFrame({"unique_id": train["_key"].to_numpy(),
                             "ds": _from_index(train["_m"]).to_numpy(),
                             "y": train[target_col].to_numpy(dtype=float)})
        sf = StatsForecast(models=[AutoETS(season_length=season)], freq="MS", n_jobs=1)
        fc = sf.forecast(df=data, h=h, level=[80])
        fc = fc.rename(columns={"AutoETS": "p50", "AutoETS-lo-80": "p10", "AutoETS-hi-80": "p90"})
        fc["_key"] = fc["unique_id"].astype(str)
        fc["_m"] = _month_index(fc["ds"]).to_numpy()
        merged = block.merge(fc[["_key", "_m", "p10", "p50", "p90"]], on=["_key", "_m"], how="left")
        frames.append(merged.assign(model="auto_ets"))
    return pd.concat(frames, ignore_index=True)


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
    from evaluation.metrics.forecasting import interval_coverage, pooled_mase, smape, weighted_quantile_loss

    ids = [id_col] if isinstance(id_col, str) else list(id_col)
    keys = [*ids, "origin", "horizon"]
    actual = history[[*ids, time_col, target_col]].rename(columns={target_col: "y"})
    actual = actual.assign(**{c: actual[c].astype(str) for c in ids})
    f = forecasts.assign(**{c: forecasts[c].astype(str) for c in ids})
    f = f.merge(actual, on=[*ids, time_col], how="inner")
    main = f[f["model"] != "auto_ets"]
    complete = main.groupby(keys)["p50"].count() == main["model"].nunique()
    main = main.merge(complete[complete].index.to_frame(index=False), on=keys)
    ets = f[(f["model"] == "auto_ets") & f["p50"].notna()]
    ref = f[f["model"] == reference].merge(ets[keys], on=keys).assign(model=f"{reference}_on_auto_ets_rows")
    scored = pd.concat([main, ets, ref], ignore_index=True)
    series = actual.assign(series_id=_key(actual, ids))[["series_id", time_col, "y"]].sort_values(
        ["series_id", time_col], kind="mergesort")
    scored = scored.assign(series_id=_key(scored, ids), y_hat=scored["p50"])
    trains = {}
    for origin, block in scored.groupby("origin"):
        train = series[(series[time_col] < origin) & series["series_id"].isin(block["series_id"].unique())]
        enough = train.groupby("series_id").size()
        trains[origin] = train[train["series_id"].isin(enough.index[enough > season])]
    rows = []
    for (model, h), g in scored.groupby(["model", "horizon"], sort=True):
        mases = []
        for origin, block in g.groupby("origin"):
            train = trains[origin]
            block = block[block["series_id"].isin(train["series_id"].unique())]
            train = train[train["series_id"].isin(block["series_id"].unique())]
            naive_error = train.groupby("series_id")["y"].diff(season).abs().sum()
            if len(block) and naive_error > 0:  # origins whose training months never change are left out
                mases.append(pooled_mase(block[["series_id", time_col, "y", "y_hat"]], train,
                                         season=season, col_time=time_col))
        has_interval = "p10" in g and g["p10"].notna().all() and g["p90"].notna().all()
        y, p50 = g["y"].to_numpy(float), g["p50"].to_numpy(float)
        has_interval = has_interval and bool(np.abs(y).sum() > 0)  # wql is undefined when every y is 0
        rows.append({
            "model": model, "horizon": int(h), "rows": len(g),
            "mase": float(np.mean(mases)) if mases else np.nan,
            "smape": smape(y, p50),
            "wape": float(np.abs(y - p50).sum() / max(np.abs(y).sum(), 1e-12)),
            "wql": weighted_quantile_loss(y, {0.1: g["p10"], 0.5: p50, 0.9: g["p90"]}) if has_interval else np.nan,
            "coverage_80": interval_coverage(y, g["p10"], g["p90"]) if has_interval else np.nan,
        })
    return pd.DataFrame(rows)
