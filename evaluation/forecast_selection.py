"""The served forecast on a backtest, chosen per horizon on earlier origins and scored on later ones.

A backtest gives, per horizon, ``W`` rolling origins; every method is scored on the last ``n_report``
of them (the **report origins**). At a report origin ``o`` and horizon ``h`` the served forecast (model
``served``) is that of the method :func:`models.skill_demand.selection.select` picks, with its conformal
interval, on the backtest rows of horizon ``h`` whose target month is before ``o``: only values realised
by the origin choose the method (at h = 12 the first report origin is chosen on the origins 12 or more
months earlier). Where fewer than 10 such rows exist (horizons longer than the backtest's span of
origins), the method is chosen on the origins before the report origins: their target months never are
a report row's, but may fall after the report origin.

The final model is selected on every origin (:func:`selection_frame` over the whole backtest).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from evaluation.forecast_baselines import _grid, _month_index
from models.skill_demand import selection

SERVED = "served"


def selection_frame(forecasts: pd.DataFrame, history: pd.DataFrame, ids: Sequence[str], time_col: str,
                    target_col: str) -> pd.DataFrame:
    """Backtest rows with what selection needs: ``series`` (code), ``origin`` (month index), ``horizon``,
    ``model``, ``p50``, the actual ``y`` and the row ``scale``; rows without an actual value are dropped."""
    grid = _grid(history, list(ids), time_col, target_col)
    code = grid.codes(forecasts, list(ids))
    origin = _month_index(forecasts["origin"]).to_numpy()
    y = grid.at(code, _month_index(forecasts[time_col]).to_numpy())
    scale = np.full(len(forecasts), np.nan)
    horizon = forecasts["horizon"].to_numpy()
    for o in np.unique(origin):
        at_o = (origin == o) & (code >= 0)
        hs = np.unique(horizon[at_o])
        scales = selection.horizon_scales(grid.values, np.full(len(grid.keys), o - grid.first), hs)
        for h in hs:
            at = np.flatnonzero(at_o & (horizon == h))
            scale[at] = scales[int(h)][code[at]]
    out = pd.DataFrame({"series": code, "origin": origin, "horizon": forecasts["horizon"].to_numpy(),
                        "model": forecasts["model"].to_numpy(), "p50": forecasts["p50"].to_numpy(dtype=float),
                        "y": y, "scale": scale})
    return out[(code >= 0) & ~np.isnan(y) & ~np.isnan(out["p50"].to_numpy())]


def report_origins(forecasts: pd.DataFrame, n_report: int) -> pd.Series:
    """Whether each row's origin is among the last ``n_report`` origins of its horizon."""
    origin = pd.to_datetime(forecasts["origin"])
    rank = origin.groupby(forecasts["horizon"]).rank(method="dense", ascending=False)
    return rank <= n_report


def served_backtest(forecasts: pd.DataFrame, history: pd.DataFrame, ids: Sequence[str], time_col: str,
                    target_col: str, n_report: int, nonnegative: bool = True, frame: pd.DataFrame | None = None
                    ) -> tuple[pd.DataFrame, dict[int, dict[str, Any]]]:
    """The served forecast (model ``served``, with ``method``) on the report origins. At each report origin
    ``o`` and horizon ``h`` the method is selected (:func:`models.skill_demand.selection.choose`) on the
    backtest rows of ``h`` whose target month is before ``o`` (realised by then). ``frame`` is
    :func:`selection_frame` of ``forecasts`` when the caller has it. Returns the served rows and the
    selection at the first report origin per horizon."""
    forecasts = forecasts.reset_index(drop=True)
    is_report = report_origins(forecasts, n_report).to_numpy()
    if frame is None:
        frame = selection_frame(forecasts, history, ids, time_col, target_col)
    tables = selection.horizon_tables(frame)
    grid = _grid(history, list(ids), time_col, target_col)
    month = _month_index(forecasts["origin"]).to_numpy()
    codes = np.full(len(forecasts), -1)
    codes[is_report] = grid.codes(forecasts[is_report], list(ids))  # once: series keys are costly to build
    frames, first_choice = [], {}
    for (h, o), rows in forecasts[is_report].groupby(["horizon", month[is_report]]):
        if int(h) not in tables:
            continue
        wide, methods = tables[int(h)]
        origin = wide.index.get_level_values("origin").to_numpy()
        known = wide[origin + h - 1 < o]
        if len(known) < selection.MIN_ROWS:
            # too few realised rows: the origins before the report origins (their targets may follow ``o``)
            seen = np.unique(origin)
            known = wide[origin < seen[-n_report]] if len(seen) > n_report else wide.iloc[:0]
        if len(known) < selection.MIN_ROWS:
            continue
        choice = selection.choose(known, methods, known.index.get_level_values("origin").to_numpy(), int(h))
        first_choice.setdefault(int(h), choice)
        plan = rows.drop_duplicates([*ids])[[*ids, "origin", time_col, "horizon"]]
        wide_o = rows.pivot_table(index=list(ids), columns="model", values="p50", aggfunc="first")
        wide_o = wide_o.reindex(pd.MultiIndex.from_frame(plan[list(ids)]) if len(ids) > 1 else plan[ids[0]])
        ok = wide_o.reindex(columns=list(choice["weights"])).notna().all(axis=1).to_numpy()
        plan, wide_o = plan[ok], wide_o[ok]
        code = codes[plan.index.to_numpy()]
        scale = selection.row_scale(grid.values, np.full(len(grid.keys), o - grid.first), int(h))[code]
        p10, p50, p90 = selection.served({m: wide_o[m].to_numpy() for m in choice["weights"]}, choice, scale,
                                         nonnegative)
        frames.append(plan.assign(model=SERVED, method=choice["method"], p10=p10, p50=p50, p90=p90))
    columns = [*ids, "origin", time_col, "horizon", "model", "method", "p10", "p50", "p90"]
    served = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    return served, first_choice


SIZE_GROUPS = ("smallest half", "next 40%", "largest 10%")


def coverage_by_size(served: pd.DataFrame, history: pd.DataFrame, ids: Sequence[str], time_col: str,
                     target_col: str) -> pd.DataFrame:
    """80% coverage of the served rows per horizon (rows) and series size (columns, :data:`SIZE_GROUPS`: the
    series ranked by their mean level over the history). Pooled coverage can hide an interval that is right for
    the many small series and far too narrow for the few large ones (a team against the whole company)."""
    ids = list(ids)
    actual = history[[*ids, time_col, target_col]]
    rows = served.merge(actual, on=[*ids, time_col], how="inner")
    if rows.empty:
        return pd.DataFrame(columns=list(SIZE_GROUPS))
    level = history.groupby(ids)[target_col].mean().rank(method="first", pct=True).rename("_size").reset_index()
    rows = rows.merge(level, on=ids)
    rows["_group"] = pd.cut(rows["_size"], [0.0, 0.5, 0.9, 1.0], labels=list(SIZE_GROUPS), include_lowest=True)
    y = rows[target_col].to_numpy(dtype=float)
    rows["_covered"] = (rows["p10"].to_numpy(dtype=float) <= y) & (y <= rows["p90"].to_numpy(dtype=float))
    return rows.pivot_table(index="horizon", columns="_group", values="_covered", aggfunc="mean",
                            observed=False).reindex(columns=list(SIZE_GROUPS))
