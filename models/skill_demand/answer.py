"""The skill-demand answer for a set of series at one horizon: each series' demand interval, the method that
made it, supply and gap (when the history carries the supply columns) and the drivers of its P50, in one call.

Series are ranked by gap (by P50 demand when there is no supply), largest first, and only the first ``limit``
are explained (TreeSHAP is the expensive part). Every part is computed for the request (``live``): the
forecaster needs each series' monthly history, which batch scoring does not store per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import pandas as pd

from models.explanation import Explanation


@dataclass(frozen=True)
class Interval:
    p10: float | None
    p50: float | None
    p90: float | None


@dataclass(frozen=True)
class Supply:
    supply: float | None  # holders - expected leavers + expected completions
    holders: float | None
    expected_leavers: float | None
    expected_completions: float | None


@dataclass(frozen=True)
class SeriesForecast:
    org_unit_id: str
    skill_id: str
    month: str | None  # the target month, YYYY-MM-DD
    demand: Interval
    method: str | None  # the method serving this horizon (lightgbm, a baseline or an ensemble)
    method_text: str | None  # the same in words, in the answer's language
    supply: Supply | None  # None when the history has no supply columns
    gap: Interval | None  # demand - supply (None without supply)
    explanation: Explanation


@dataclass(frozen=True)
class DemandAnswer:
    horizon: int
    items: list[SeriesForecast]
    features_as_of: datetime | None  # the last month of the history used (None: no series)
    source: Literal["live"] = "live"


def forecast(model, history: pd.DataFrame, horizon: int, lang: str = "en", limit: int = 100,
             exit_probabilities: pd.DataFrame | None = None) -> DemandAnswer:
    """Forecast and explain the series of ``history`` (long format, ``model``'s id and time columns) at
    ``horizon`` with ``model`` (a ``DemandForecaster``); the ``limit`` largest gaps, explained. Expected leavers
    come from ``exit_probabilities`` (per-employee rows, :func:`models.skill_demand.supply.holder_exit_probabilities`)
    when given, else from each unit's 12-month voluntary attrition rate."""
    if history.empty:
        return DemandAnswer(horizon, [], None)
    predicted = model.predict_frame(history, horizons=[horizon],
                                    exit_probabilities=exit_probabilities).reset_index(drop=True)
    gap_col = "gap_p50" if "gap_p50" in predicted else "p50"
    predicted = predicted.sort_values(gap_col, ascending=False, kind="mergesort").head(limit)
    shown = history.merge(predicted[["org_unit_id", "skill_id"]], on=["org_unit_id", "skill_id"])
    keys, explained = model.explain_series(shown, horizon=horizon, lang=lang)
    by_series = {(str(u), str(k)): e for u, k, e in zip(keys["org_unit_id"], keys["skill_id"], explained,
                                                        strict=True)}
    has_supply, has_gap = "supply" in predicted, "gap_p50" in predicted
    method_text = model.method_text(horizon, lang) if hasattr(model, "method_text") else None
    items = []
    for r in predicted.to_dict(orient="records"):
        month = r.get(model.time_col)
        items.append(SeriesForecast(
            org_unit_id=str(r["org_unit_id"]), skill_id=str(r["skill_id"]),
            month=str(month)[:10] if month is not None else None,
            demand=Interval(_num(r.get("p10")), _num(r.get("p50")), _num(r.get("p90"))),
            method=str(r["method"]) if r.get("method") is not None else None,
            method_text=method_text if r.get("method") is not None else None,
            supply=Supply(_num(r.get("supply")), _num(r.get("holders_at_required")), _num(r.get("expected_leavers")),
                          _num(r.get("expected_completions"))) if has_supply else None,
            gap=Interval(_num(r.get("gap_p10")), _num(r.get("gap_p50")), _num(r.get("gap_p90"))) if has_gap else None,
            explanation=by_series[(str(r["org_unit_id"]), str(r["skill_id"]))]))
    as_of = history[model.time_col].max().to_pydatetime().replace(tzinfo=UTC)
    return DemandAnswer(horizon, items, as_of)


def _num(v: object) -> float | None:
    """A number, or None for a missing one (NaN, None, text)."""
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if f != f else f
