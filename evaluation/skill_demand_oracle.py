"""The skill-demand oracle: the expectation of the forecast target itself, from the simulator, scored like any forecast.

The target ``demand_slots`` is the planner's capability need (``features.build.unit_skill``): planned heads ×
job skill requirements where the headcount plan covers the team and month, plus the open requisitions that ask
for a skill beyond their job's requirements (else actual heads × requirements plus every open requisition's
skills). The simulator writes, per team × skill × snapshot month (``_truth/skill_demand.parquet``,
``expected_demand``), the expectation of exactly that quantity under its generating process: the plan part is
exact (the plan is fixed in advance), the requisition part is the expected number of requisitions open at the
start of the month that ask for the new technology (expected exits and plan growth per month × the probability
a requisition is still open × the adoption ramp), and units without a plan count their head's management job
(``features.simulator.dynamics._record_need``). Teams are aggregated up the org tree (parents sum their
subtree) so every unit of the feature store is covered.

A truth month is the snapshot month ``T`` itself (the state at the start of the month), so ``lag_months=0``.

The oracle knows what the forecaster knows in advance and, beyond it, only the generating process: given the
plan *as delivered* (``known``: ``planned_slots`` of the target month, the same value the forecaster gets as
``planned_slots_ahead_h``; it differs from the simulator's plan where ingest quarantined a dirty plan or
requirement row), its forecast is that plan's part plus the truth's expectation of the rest
(``expected_demand − expected_planned``: the expected requisitions asking for the new technology and the heads
of units without a plan). Its error is then the requisitions' own randomness and the few dirty rows of other
feeds. Only this module, in ``evaluation/``, reads the truth folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

TRUTH_FILE = "skill_demand.parquet"


def read_expected_demand(truth_dir: Path) -> pd.DataFrame:
    """``org_unit_id, skill_id, month, expected_demand, expected_planned`` as written by the simulator."""
    path = Path(truth_dir) / TRUTH_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: pass the truth folder written by `talentloop simulate`")
    cols = ["org_unit_id", "skill_id", "month", "expected_demand", "expected_planned"]
    if "expected_planned" not in pq.read_schema(path).names:
        raise ValueError(f"{path} has no column 'expected_planned': simulate the company again with this version")
    df = pd.read_parquet(path, columns=cols)
    df["org_unit_id"] = df["org_unit_id"].astype(str)
    df["skill_id"] = df["skill_id"].astype(str)
    df["month"] = pd.to_datetime(df["month"]).dt.to_period("M").dt.to_timestamp()
    return df


def aggregate_up(demand: pd.DataFrame, org_units: pd.DataFrame) -> pd.DataFrame:
    """Add every ancestor unit: its expected demand is the sum over the teams of its subtree."""
    parent = dict(zip(org_units["org_unit_id"].astype(str), org_units["parent_id"], strict=True))
    rows = [demand]
    current = demand
    for _ in range(len(parent)):
        up = current.assign(org_unit_id=current["org_unit_id"].map(parent))
        up = up[up["org_unit_id"].notna()]
        if up.empty:
            break
        up = up.assign(org_unit_id=up["org_unit_id"].astype(str))
        rows.append(up)
        current = up
    out = pd.concat(rows, ignore_index=True)
    values = [c for c in ("expected_demand", "expected_planned") if c in out.columns]
    return out.groupby(["org_unit_id", "skill_id", "month"], as_index=False)[values].sum()


def oracle_forecasts(
    plan: pd.DataFrame,
    truth_dir: Path,
    org_units: pd.DataFrame,
    lag_months: int = 0,
    ids: Sequence[str] = ("org_unit_id", "skill_id"),
    time_col: str = "month",
    known: pd.DataFrame | None = None,
    known_col: str = "planned_slots",
) -> pd.DataFrame:
    """The oracle's forecast for every backtest row of ``plan`` (id columns, ``origin``, target month,
    ``horizon``): ``model = "oracle"`` and ``p50`` = expected demand (0 where the truth has no row for a
    month it covers: the simulator records only positive demand; NaN for months it does not cover). With
    ``known`` (id columns, ``time_col`` and ``known_col``: the plan's part as delivered, known in advance), the
    plan's part of the expectation is that value where it is present."""
    truth = aggregate_up(read_expected_demand(truth_dir), org_units)
    truth[time_col] = truth["month"] + pd.DateOffset(months=lag_months)
    if time_col != "month":
        truth = truth.drop(columns="month")
    rows = plan[[*ids, "origin", time_col, "horizon"]].copy()
    rows[time_col] = pd.to_datetime(rows[time_col])
    out = rows.merge(truth, on=[*ids, time_col], how="left")
    covered = rows[time_col].between(truth[time_col].min(), truth[time_col].max()).to_numpy()
    # the simulator records positive demand only: inside its months a missing row means 0, outside unknown
    expected = out["expected_demand"].fillna(0.0)
    if known is not None:
        delivered = known[[*ids, time_col, known_col]].copy()
        delivered[time_col] = pd.to_datetime(delivered[time_col])
        for c in ids:
            delivered[c] = delivered[c].astype(str)
        plan_now = out[[*ids, time_col]].astype({c: str for c in ids}).merge(delivered, on=[*ids, time_col],
                                                                                how="left")[known_col]
        plan_now = pd.to_numeric(plan_now, errors="coerce").to_numpy(dtype=float)
        has = ~np.isnan(plan_now)
        expected = expected.to_numpy() - np.where(has, out["expected_planned"].fillna(0.0).to_numpy(), 0.0)
        expected = expected + np.where(has, plan_now, 0.0)
    out["p50"] = np.where(covered, expected, np.nan)
    out["p10"] = np.nan
    out["p90"] = np.nan
    return out.drop(columns=["expected_demand", "expected_planned"]).assign(model="oracle")


def best_alignment(
    observed: pd.DataFrame, truth_dir: Path, org_units: pd.DataFrame, target_col: str = "demand_slots",
    lags: Sequence[int] = (0, 1, 2),
) -> dict[int, float]:
    """Mean |observed − expected| for each candidate lag between truth months and snapshot months."""
    truth = aggregate_up(read_expected_demand(truth_dir), org_units)
    obs = observed[["org_unit_id", "skill_id", "month", target_col]].copy()
    obs["org_unit_id"] = obs["org_unit_id"].astype(str)
    obs["skill_id"] = obs["skill_id"].astype(str)
    out = {}
    for lag in lags:
        shifted = truth.assign(month=truth["month"] + pd.DateOffset(months=lag))
        m = obs.merge(shifted, on=["org_unit_id", "skill_id", "month"], how="inner")
        out[int(lag)] = float((m[target_col] - m["expected_demand"]).abs().mean()) if len(m) else float("nan")
    return out
