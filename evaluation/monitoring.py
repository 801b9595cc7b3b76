"""Predictions against outcomes, and drift: pure functions behind ``talentloop monitor``.

- :func:`alert_outcomes`: per scored month whose horizon has passed, the alerts raised against who actually
  left voluntarily within the horizon: precision (share of alerts followed by an exit), recall (share of leavers
  who had been alerted), the base rate;
- :func:`band_calibration`: per risk band (the console's bands: very high from twice the alert threshold, high
  from it, medium from half of it, low below) the mean predicted risk against the observed exit rate;
- :func:`psi` / :func:`feature_drift`: the population stability index of every feature between the training
  window and the latest month (quantile bins of the training window for numbers, categories otherwise;
  ``PSI = Σ (a − e) ln(a / e)``); the reference is the window's latest month with the latest month's calendar
  month (:func:`seasonal_reference`), so calendar cycles (review and pay rounds) are not read as drift;
  :data:`PSI_RETRAIN` and above marks the model as needing retraining;
- :func:`forecast_outcomes`: forecasts of the skill-demand model against the demand that arrived.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

PSI_BINS = 10
PSI_WATCH = 0.1  # conventional: below 0.1 stable, 0.1-0.25 a moderate shift
PSI_RETRAIN = 0.25  # a major shift: the model needs retraining
PRECISION_FALL = 0.7  # recent precision over base rate below this share of the reference's: alerts lost their value
RECENT_MONTHS = 3
_EPS = 1e-4


def psi(expected: pd.Series, actual: pd.Series, bins: int = PSI_BINS) -> float:
    """Population stability index of ``actual`` against ``expected`` (missing values are their own bin)."""
    e, a = expected.reset_index(drop=True), actual.reset_index(drop=True)
    numeric = pd.api.types.is_numeric_dtype(e) and not pd.api.types.is_bool_dtype(e) and e.nunique() > bins
    if numeric:
        edges = np.unique(np.nanquantile(e.to_numpy(dtype=float), np.linspace(0, 1, bins + 1)[1:-1]))
        def cut(s: pd.Series) -> pd.Series:
            v = s.to_numpy(dtype=float)
            return pd.Series(np.where(np.isnan(v), -1, np.searchsorted(edges, v, side="right")))
        e_bin, a_bin = cut(e), cut(a)
    else:
        e_bin, a_bin = e.astype("string").fillna("(missing)"), a.astype("string").fillna("(missing)")
    cats = sorted(set(e_bin.unique()) | set(a_bin.unique()), key=str)
    pe = e_bin.value_counts(normalize=True).reindex(cats, fill_value=0).to_numpy() + _EPS
    pa = a_bin.value_counts(normalize=True).reindex(cats, fill_value=0).to_numpy() + _EPS
    return float(np.sum((pa - pe) * np.log(pa / pe)))


def seasonal_reference(window: pd.DataFrame, latest: pd.Timestamp, time_col: str = "event_timestamp") -> pd.DataFrame:
    """The rows of the training ``window`` from the latest month's calendar month a year or more before (the most
    recent such month), or the whole window when it holds none: reviews and pay rounds follow the calendar, so
    "months since the last review" of a December differs from the year's average every year, which is not drift;
    and the most recent year, because the first months of a history have not filled their 12-month windows."""
    ts = pd.to_datetime(window[time_col], utc=True)
    same = ts[ts.dt.month == pd.Timestamp(latest).month]
    return window[ts == same.max()] if len(same) else window


def feature_drift(train: pd.DataFrame, latest: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``feature, psi, status`` (``stable`` / ``watch`` / ``retrain``), largest shift first."""
    if train.empty or latest.empty:
        raise ValueError("drift needs rows in both the training window and the latest month")
    rows = [{"feature": c, "psi": psi(train[c], latest[c])} for c in columns if c in train.columns]
    out = pd.DataFrame(rows).sort_values("psi", ascending=False, kind="stable").reset_index(drop=True)
    out["status"] = np.where(out["psi"] >= PSI_RETRAIN, "retrain", np.where(out["psi"] >= PSI_WATCH, "watch", "stable"))
    return out


def alert_outcomes(labelled: pd.DataFrame) -> pd.DataFrame:
    """Per month of ``labelled`` (``as_of``, ``alerted`` 0/1, ``label`` 0/1: left voluntarily within the horizon;
    only months whose horizon has passed): scored, alerts, leavers, alerts followed by an exit, precision, recall,
    base rate and the lift of precision over the base rate."""
    if labelled.empty:
        return pd.DataFrame(columns=["as_of", "scored", "alerts", "leavers", "hits", "precision", "recall",
                                     "base_rate", "lift"])
    g = labelled.assign(hit=labelled["alerted"] * labelled["label"]).groupby("as_of", sort=True)
    out = pd.DataFrame({"scored": g.size(), "alerts": g["alerted"].sum(), "leavers": g["label"].sum(),
                        "hits": g["hit"].sum()}).reset_index()
    out["precision"] = out["hits"] / out["alerts"].where(out["alerts"] > 0)
    out["recall"] = out["hits"] / out["leavers"].where(out["leavers"] > 0)
    out["base_rate"] = out["leavers"] / out["scored"]
    out["lift"] = out["precision"] / out["base_rate"].where(out["base_rate"] > 0)
    return out


def pooled(outcomes: pd.DataFrame) -> dict[str, float | None]:
    """Precision and recall over every month of :func:`alert_outcomes` pooled."""
    alerts, leavers, hits, scored = (float(outcomes[c].sum()) for c in ("alerts", "leavers", "hits", "scored"))
    precision = hits / alerts if alerts else None
    base = leavers / scored if scored else None
    return {"precision": precision, "recall": hits / leavers if leavers else None, "base_rate": base,
            "lift": precision / base if precision is not None and base else None, "months": len(outcomes)}


def bands(min_risk: float) -> dict[str, float]:
    """Lower edge of each risk band (the console's bands)."""
    return {"very_high": 2 * min_risk, "high": min_risk, "medium": min_risk / 2, "low": 0.0}


def band_of(risk: np.ndarray, min_risk: float) -> np.ndarray:
    edges = bands(min_risk)
    return np.select([risk >= edges["very_high"], risk >= edges["high"], risk >= edges["medium"]],
                     ["very_high", "high", "medium"], "low")


def band_calibration(labelled: pd.DataFrame, min_risk: float) -> pd.DataFrame:
    """``band, n, mean_risk, observed_rate`` over ``labelled`` (``risk``, ``label``), highest band first."""
    frame = labelled.assign(band=band_of(labelled["risk"].to_numpy(dtype=float), min_risk))
    out = frame.groupby("band").agg(n=("label", "size"), mean_risk=("risk", "mean"), observed_rate=("label", "mean"))
    return out.reindex([b for b in bands(min_risk) if b in out.index]).reset_index()


def backtest_precision(units: pd.DataFrame, min_risk: float, horizon: int) -> float | None:
    """Precision of ``score >= min_risk`` on a training run's out-of-sample evaluation units at ``horizon``."""
    at = units[units["horizon"] == horizon]
    alerted = at["score"] >= min_risk
    return float(at.loc[alerted, "y_true"].mean()) if alerted.any() else None


def backtest_lift(units: pd.DataFrame, min_risk: float, horizon: int) -> float | None:
    """Precision of the backtest's alerts over its base rate (the exit rate of everyone scored)."""
    at = units[units["horizon"] == horizon]
    precision = backtest_precision(units, min_risk, horizon)
    base = float(at["y_true"].mean()) if len(at) else 0.0
    return precision / base if precision is not None and base > 0 else None


def precision_falling(outcomes: pd.DataFrame, reference_lift: float | None, recent: int = RECENT_MONTHS) -> bool:
    """True when the precision of the latest ``recent`` evaluable months, as a multiple of their base rate (the
    lift: what an alert adds to knowing the exit rate), is below ``PRECISION_FALL`` times ``reference_lift``.
    Precision alone rises and falls with the exit rate; its lift over the base rate is the alerts' value."""
    if reference_lift is None or outcomes.empty:
        return False
    latest = pooled(outcomes.tail(recent))["lift"]
    return latest is not None and latest < PRECISION_FALL * reference_lift


def forecast_outcomes(forecast: pd.DataFrame, actual: pd.DataFrame, keys: Sequence[str],
                      target: str) -> pd.DataFrame:
    """Per horizon: forecasts (``p10``, ``p50``, ``p90`` and ``horizon`` by ``keys``) against the ``target`` that
    arrived: number of series, WAPE of the median, bias and the share inside the 80% interval."""
    joined = forecast.merge(actual[[*keys, target]], on=list(keys), how="inner")
    if joined.empty:
        return pd.DataFrame(columns=["horizon", "series", "wape", "bias", "coverage_80"])
    rows = []
    for h, g in joined.groupby("horizon", sort=True):
        y, p = g[target].to_numpy(dtype=float), g["p50"].to_numpy(dtype=float)
        denom = np.abs(y).sum()
        rows.append({"horizon": int(h), "series": len(g), "wape": float(np.abs(y - p).sum() / denom) if denom else None,
                     "bias": float((p - y).sum() / denom) if denom else None,
                     "coverage_80": float(((y >= g["p10"]) & (y <= g["p90"])).mean())})
    return pd.DataFrame(rows)
