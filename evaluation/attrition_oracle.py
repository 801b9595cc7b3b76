"""The oracle for attrition: the simulator's true monthly hazard composed to the horizon.

For a snapshot (employee, T) and horizon h: P = 1 - prod_{k<h} (1 - hazard(employee, T + k)), over the
months of the window. The truth records a hazard only while the person is employed, so after an exit the
last recorded hazard is carried forward (counting those months as zero would make leavers look safe). This
is the best any model could do knowing the generating process, including the unobserved outside pull.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.truth import read


def oracle_risk(truth_dir: Path, rows: pd.DataFrame, horizons: tuple[int, ...]) -> np.ndarray:
    """rows: ``employee_id, event_timestamp``; returns rows × len(horizons) true probabilities."""
    hz = read(truth_dir, "attrition_hazard")[["employee_id", "month", "hazard"]].copy()
    hz["employee_id"] = hz["employee_id"].astype(str)
    hz["m"] = _month_index(hz["month"])
    table = hz.set_index(["employee_id", "m"])["hazard"]
    t = _month_index(rows["event_timestamp"])
    ids = rows["employee_id"].astype(str).to_numpy()
    H = max(horizons)
    q = np.full((len(rows), H), np.nan)
    for k in range(H):
        idx = pd.MultiIndex.from_arrays([ids, t + k])
        q[:, k] = table.reindex(idx).to_numpy()
    q = pd.DataFrame(q).ffill(axis=1).fillna(0.0).to_numpy()
    surv = np.cumprod(1 - q, axis=1)
    return np.column_stack([1 - surv[:, h - 1] for h in horizons])


def _month_index(s: pd.Series) -> np.ndarray:
    d = pd.to_datetime(s)
    if getattr(d.dt, "tz", None) is not None:
        d = d.dt.tz_convert(None)
    return (d.dt.year * 12 + d.dt.month - 1).to_numpy(dtype=np.int64)
