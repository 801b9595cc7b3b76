"""Supply of a skill per org unit, projected months ahead, and the gap to forecast demand.

For each series (org unit × skill) at its latest month and each horizon h (months ahead)::

    supply(h) = holders − expected_leavers(h) + expected_completions(h)

- ``holders``: ``holders_at_required`` (people in the unit holding the skill at the required level).
- ``expected_leavers(h)``: when an ``exit_probabilities`` frame is given, either the sum of per-employee
  probabilities of leaving within h months over the holders (rows carry ``employee_id`` and every id
  column, one row per holder, skill and horizon), or, without ``employee_id``, a per-unit probability
  (rows keyed by a subset of the id columns, e.g. ``org_unit_id``) multiplied by the holders. Otherwise
  the unit's historical rate: ``holders × (1 − (1 − r)^(h/12))`` with ``r = vol_attrition_rate_12m``
  (or ``vol_exits_12m / headcount`` when the rate column is absent).
- ``expected_completions(h)``: ``in_training × completion_rate × min(1, h / months_to_complete)``: the
  people now in a course teaching the skill who complete it within h months. New enrolments after
  the origin are not projected.

The gap is ``demand − supply`` per quantile of demand; supply is an expectation, so the gap interval
carries demand's uncertainty only (the binomial spread of leavers is small next to it and not added).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

HOLDERS = "holders_at_required"
IN_TRAINING = "in_training"
RATE = "vol_attrition_rate_12m"
EXITS = "vol_exits_12m"
HEADCOUNT = "headcount"
EXIT_PROBABILITY = "exit_probability"


def has_supply_columns(df: pd.DataFrame) -> bool:
    """True when ``df`` carries what supply needs: holders, people in training and an exit rate."""
    cols = set(df.columns)
    return {HOLDERS, IN_TRAINING} <= cols and (RATE in cols or {EXITS, HEADCOUNT} <= cols)


def latest_state(df: pd.DataFrame, ids: Sequence[str], time_col: str = "month") -> pd.DataFrame:
    """The latest row per series with the supply columns and the monthly-compounded annual exit rate."""
    if not has_supply_columns(df):
        raise ValueError(f"supply needs columns {HOLDERS!r}, {IN_TRAINING!r} and {RATE!r} "
                         f"(or {EXITS!r} and {HEADCOUNT!r}); got {list(df.columns)}")
    last = df.sort_values(time_col, kind="mergesort").drop_duplicates(list(ids), keep="last")
    out = last[list(ids)].astype(str).reset_index(drop=True)
    out[HOLDERS] = pd.to_numeric(last[HOLDERS], errors="raise").to_numpy(dtype=float)
    out[IN_TRAINING] = pd.to_numeric(last[IN_TRAINING], errors="raise").to_numpy(dtype=float)
    if RATE in last.columns:
        rate = pd.to_numeric(last[RATE], errors="raise").to_numpy(dtype=float)
    else:
        heads = pd.to_numeric(last[HEADCOUNT], errors="raise").to_numpy(dtype=float)
        exits = pd.to_numeric(last[EXITS], errors="raise").to_numpy(dtype=float)
        rate = np.divide(exits, heads, out=np.zeros_like(exits), where=heads > 0)
    out["annual_exit_rate"] = np.clip(np.nan_to_num(rate, nan=0.0), 0.0, 1.0)
    for c in (HOLDERS, IN_TRAINING):
        if (out[c] < 0).any() or out[c].isna().any():
            raise ValueError(f"column {c!r} must be a non-negative number in the latest month of every series")
    return out


def _leavers_from_probabilities(
    state: pd.DataFrame, horizons: Sequence[int], ids: Sequence[str], probs: pd.DataFrame
) -> pd.DataFrame:
    missing = [c for c in ("horizon", EXIT_PROBABILITY) if c not in probs.columns]
    if missing:
        raise ValueError(f"exit_probabilities is missing column(s) {missing}")
    p = pd.to_numeric(probs[EXIT_PROBABILITY], errors="raise")
    if ((p < 0) | (p > 1) | p.isna()).any():
        raise ValueError(f"exit_probabilities[{EXIT_PROBABILITY!r}] must lie in [0, 1]")
    probs = probs.assign(**{EXIT_PROBABILITY: p.astype(float), "horizon": probs["horizon"].astype(int)})
    keys = [c for c in ids if c in probs.columns]
    if "employee_id" in probs.columns:
        if keys != list(ids):
            raise ValueError(f"per-employee exit_probabilities need every id column {list(ids)} "
                             "(one row per holder, skill and horizon)")
        probs = probs.assign(**{c: probs[c].astype(str) for c in keys})
        summed = probs.groupby([*keys, "horizon"], as_index=False)[EXIT_PROBABILITY].sum()
        grid = state[list(ids)].merge(pd.DataFrame({"horizon": list(horizons)}), how="cross")
        out = grid.merge(summed, on=[*ids, "horizon"], how="left").fillna({EXIT_PROBABILITY: 0.0})
        return out.rename(columns={EXIT_PROBABILITY: "expected_leavers"})
    if not keys:
        raise ValueError(f"exit_probabilities must carry employee_id or at least one id column of {list(ids)}")
    probs = probs.assign(**{c: probs[c].astype(str) for c in keys})
    if probs.duplicated([*keys, "horizon"]).any():
        raise ValueError(f"exit_probabilities has duplicate ({', '.join(keys)}, horizon) rows")
    grid = state[[*ids, HOLDERS]].merge(pd.DataFrame({"horizon": list(horizons)}), how="cross")
    out = grid.merge(probs[[*keys, "horizon", EXIT_PROBABILITY]], on=[*keys, "horizon"], how="left")
    if out[EXIT_PROBABILITY].isna().any():
        gap = out.loc[out[EXIT_PROBABILITY].isna(), [*keys, "horizon"]].iloc[0].to_dict()
        raise ValueError(f"exit_probabilities has no row for {gap}")
    out["expected_leavers"] = out[HOLDERS] * out[EXIT_PROBABILITY]
    return out[[*ids, "horizon", "expected_leavers"]]


def holder_exit_probabilities(holders: pd.DataFrame, risks: pd.DataFrame, closure: pd.DataFrame,
                              horizon: int) -> pd.DataFrame:
    """Per-employee ``exit_probabilities`` rows from the attrition model's stored scores, for
    :func:`project_supply`: one row per holder (``holders``: ``employee_id, org_unit_id, skill_id``, the people
    holding a skill at their job's required level), per unit whose subtree holds them (``closure``:
    ``ancestor_id, org_unit_id``), with ``exit_probability`` = the person's P(voluntary exit within ``horizon``
    months) (``risks``: ``employee_id, risk``). Holders without a score (hired after the scoring month) get no
    row: their expected leaving counts 0."""
    risk = risks.dropna(subset=["risk"]).assign(employee_id=lambda d: d["employee_id"].astype(str))
    risk = risk.drop_duplicates("employee_id").set_index("employee_id")["risk"].clip(0.0, 1.0)
    rows = holders.assign(employee_id=holders["employee_id"].astype(str),
                          org_unit_id=holders["org_unit_id"].astype(str))
    rows = rows.assign(**{EXIT_PROBABILITY: rows["employee_id"].map(risk)}).dropna(subset=[EXIT_PROBABILITY])
    up = rows.merge(closure.astype(str), on="org_unit_id").drop(columns="org_unit_id")
    up = up.rename(columns={"ancestor_id": "org_unit_id"})
    return up[["employee_id", "org_unit_id", "skill_id", EXIT_PROBABILITY]].assign(horizon=int(horizon))


def project_supply(
    state: pd.DataFrame,
    horizons: Sequence[int],
    ids: Sequence[str],
    exit_probabilities: pd.DataFrame | None = None,
    completion_rate: float = 0.7,
    months_to_complete: float = 3.0,
) -> pd.DataFrame:
    """Supply per series and horizon from :func:`latest_state` (see the module docstring)."""
    if not 0 <= completion_rate <= 1:
        raise ValueError(f"completion_rate must lie in [0, 1], got {completion_rate}")
    if months_to_complete <= 0:
        raise ValueError(f"months_to_complete must be positive, got {months_to_complete}")
    hs = [int(h) for h in horizons]
    if any(h < 1 for h in hs):
        raise ValueError(f"horizons must be positive, got {list(horizons)}")
    out = state.merge(pd.DataFrame({"horizon": hs}), how="cross")
    if exit_probabilities is None:
        survive = (1.0 - out["annual_exit_rate"]) ** (out["horizon"] / 12.0)
        out["expected_leavers"] = out[HOLDERS] * (1.0 - survive)
    else:
        leavers = _leavers_from_probabilities(state, hs, ids, exit_probabilities)
        out = out.merge(leavers, on=[*ids, "horizon"], how="left")
    share = np.minimum(1.0, out["horizon"] / months_to_complete)
    out["expected_completions"] = out[IN_TRAINING] * completion_rate * share
    out["supply"] = (out[HOLDERS] - out["expected_leavers"] + out["expected_completions"]).clip(lower=0.0)
    return out[[*ids, "horizon", HOLDERS, "expected_leavers", "expected_completions", "supply"]]


def demand_supply_gap(
    forecast: pd.DataFrame, supply: pd.DataFrame, ids: Sequence[str], quantiles: Sequence[float]
) -> pd.DataFrame:
    """Forecast rows joined with supply; ``gap_pXX = demand pXX − supply`` for every quantile."""
    out = forecast.merge(supply, on=[*ids, "horizon"], how="left", validate="one_to_one")
    for q in quantiles:
        name = f"p{round(q * 100):02d}"
        out[f"gap_{name}"] = out[name] - out["supply"]
    return out
