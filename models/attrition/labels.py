"""Labels for the attrition model, built from employment events only.

A snapshot is an (employee, T) pair with T the first instant of a month and the employee active at T
(hired before T, not gone before T). The model is a discrete-time hazard: one training row per snapshot
and month ahead k = 0..K-1, labelled 1 when the employee left *voluntarily* during month T+k.

Censoring, never negatives:
- an involuntary exit ends the person's observation: the month it happens in and every later month are
  dropped (we do not know whether they would have left voluntarily);
- a month that is not fully observed (it ends after ``data_end``) is dropped.

``horizon_labels`` gives the evaluation label "voluntary exit within h months of T", with the same
censoring: a snapshot whose h-month window runs past ``data_end`` or that hits an involuntary exit
before any voluntary one is excluded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

KEYS = ["employee_id", "event_timestamp"]


def month_start(ts: pd.Series | pd.DatetimeIndex) -> pd.Series:
    """The first instant (UTC) of each timestamp's month."""
    s = pd.to_datetime(pd.Series(ts))
    if s.dt.tz is None:
        s = s.dt.tz_localize("UTC")
    return s.dt.tz_convert("UTC").dt.to_period("M").dt.to_timestamp().dt.tz_localize("UTC")


def month_index(ts: pd.Series) -> np.ndarray:
    """Months since year 0 (so differences are whole months)."""
    s = pd.to_datetime(ts)
    return (s.dt.year * 12 + s.dt.month - 1).to_numpy(dtype=np.int64)


def exits(events: pd.DataFrame) -> pd.DataFrame:
    """First termination per employee: ``employee_id, exit_month (int), voluntary (bool)``."""
    term = events.loc[events["event_type"] == "termination", ["employee_id", "effective_date", "termination_type"]]
    term = term.sort_values(["employee_id", "effective_date"], kind="stable").drop_duplicates("employee_id")
    return pd.DataFrame({
        "employee_id": term["employee_id"].astype(str).to_numpy(),
        "exit_month": month_index(term["effective_date"]),
        "voluntary": (term["termination_type"] == "voluntary").to_numpy(dtype=bool),
    })


def data_end(events: pd.DataFrame) -> pd.Timestamp:
    """First instant of the month after the last observed event: months before it are fully observed."""
    last = pd.to_datetime(events["effective_date"]).max()
    return (pd.Timestamp(last).to_period("M") + 1).to_timestamp().tz_localize("UTC")


def snapshots(employees: pd.DataFrame, events: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Every (employee, T) with T a month start in [start, end) and the employee active at T."""
    months = pd.date_range(pd.Timestamp(start).tz_convert("UTC") if pd.Timestamp(start).tzinfo else
                           pd.Timestamp(start).tz_localize("UTC"), end, freq="MS", inclusive="left")
    if len(months) == 0:
        return pd.DataFrame({"employee_id": pd.Series(dtype=str), "event_timestamp": pd.Series(dtype="datetime64[us, UTC]")})
    ex = exits(events).set_index("employee_id")
    emp = employees[["employee_id", "hire_date"]].copy()
    emp["employee_id"] = emp["employee_id"].astype(str)
    hire = pd.to_datetime(emp["hire_date"]).dt.tz_localize("UTC") if pd.to_datetime(emp["hire_date"]).dt.tz is None \
        else pd.to_datetime(emp["hire_date"])
    exit_month = ex["exit_month"].reindex(emp["employee_id"]).to_numpy(dtype=float)
    m_idx = month_index(pd.Series(months))
    naive_months = months.tz_localize(None).to_numpy()  # datetime64, not an object array of Timestamps
    grid_emp = np.repeat(np.arange(len(emp)), len(months))
    grid_m = np.tile(np.arange(len(months)), len(emp))
    hired_before = hire.dt.tz_localize(None).to_numpy()[grid_emp] < naive_months[grid_m]
    not_gone = ~(exit_month[grid_emp] < m_idx[grid_m])  # NaN (never left) compares False -> active
    keep = hired_before & not_gone
    out = pd.DataFrame({
        "employee_id": emp["employee_id"].to_numpy()[grid_emp[keep]],
        "event_timestamp": naive_months[grid_m[keep]],
    })
    out["event_timestamp"] = out["event_timestamp"].dt.tz_localize("UTC").astype("datetime64[us, UTC]")
    return out


def hazard_rows(snaps: pd.DataFrame, events: pd.DataFrame, end: pd.Timestamp, max_k: int = 12) -> pd.DataFrame:
    """Discrete-time hazard rows: ``employee_id, event_timestamp, months_ahead, label``."""
    ex = exits(events).set_index("employee_id")
    t_idx = month_index(snaps["event_timestamp"].dt.tz_convert(None))
    end_idx = month_index(pd.Series([pd.Timestamp(end).tz_convert(None)]))[0]
    exit_m = ex["exit_month"].reindex(snaps["employee_id"].astype(str)).to_numpy(dtype=float)
    vol = ex["voluntary"].reindex(snaps["employee_id"].astype(str)).to_numpy(dtype=object)
    frames = []
    for k in range(max_k):
        m = t_idx + k
        observed = m + 1 <= end_idx
        alive = ~(exit_m < m)  # still employed at the start of month T+k
        exits_now = exit_m == m
        involuntary_now = exits_now & (vol == False)  # noqa: E712 (object array of bools / None)
        keep = observed & alive & ~involuntary_now
        if not keep.any():
            continue
        part = snaps.loc[keep, KEYS].reset_index(drop=True)  # row selection keeps the tz-aware dtype
        part["months_ahead"] = np.int64(k)
        part["label"] = (exits_now & (vol == True))[keep].astype(np.int8)  # noqa: E712
        frames.append(part)
    if not frames:
        raise ValueError("no fully observed hazard months: the data window is shorter than one month")
    out = pd.concat(frames, ignore_index=True)
    out["event_timestamp"] = out["event_timestamp"].astype("datetime64[us, UTC]")
    return out


def horizon_labels(snaps: pd.DataFrame, events: pd.DataFrame, end: pd.Timestamp, h: int) -> pd.DataFrame:
    """``employee_id, event_timestamp, label``: voluntary exit within h months of T, censored rows dropped."""
    if not 1 <= h <= 12:
        raise ValueError(f"horizon h must be 1-12 months, got {h}")
    ex = exits(events).set_index("employee_id")
    t_idx = month_index(snaps["event_timestamp"].dt.tz_convert(None))
    end_idx = month_index(pd.Series([pd.Timestamp(end).tz_convert(None)]))[0]
    exit_m = ex["exit_month"].reindex(snaps["employee_id"].astype(str)).to_numpy(dtype=float)
    vol = ex["voluntary"].reindex(snaps["employee_id"].astype(str)).to_numpy(dtype=object)
    in_window = (exit_m >= t_idx) & (exit_m < t_idx + h)
    label = in_window & (vol == True)  # noqa: E712
    involuntary = in_window & (vol == False)  # noqa: E712
    window_observed = t_idx + h <= end_idx
    keep = ~involuntary & window_observed  # keeping early-seen exits of unfinished windows would bias upwards
    out = snaps.loc[keep, KEYS].reset_index(drop=True)
    out["label"] = label[keep].astype(np.int8)
    return out


def sample_negatives(rows: pd.DataFrame, rate: float, seed: int = 0) -> pd.DataFrame:
    """Keep every positive row and a ``rate`` share of negatives, weighted ``1 / rate`` (column ``weight``).

    Exits are rare (about 1-2% of employee-months), so this cuts training rows ~1/rate without biasing
    probabilities: every fit, calibration and quantile downstream uses the weights.
    """
    if not 0 < rate <= 1:
        raise ValueError(f"negative sampling rate must be in (0, 1], got {rate}")
    rng = np.random.default_rng(seed)
    keep = (rows["label"].to_numpy() == 1) | (rng.random(len(rows)) < rate)
    out = rows.loc[keep].reset_index(drop=True)
    out["weight"] = np.where(out["label"].to_numpy() == 1, 1.0, 1.0 / rate)
    return out
