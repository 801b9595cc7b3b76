"""Risk bands of the attrition model and how often people in each band actually left (out of sample).

Bands are cut at fixed multiples of the alert threshold ``t`` (risk at the policy horizon): low (< t/2),
moderate (t/2 to t), high (t to 2t: alerted), very high (≥ 2t). The observed exit rate of a band is the share
of the backtest's out-of-sample snapshots in that band that left within the horizon, so an alert can say
"about 1 in 5 people in this band left within 3 months".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BANDS = ("low", "moderate", "high", "very_high")
MULTIPLES = (0.5, 1.0, 2.0)  # band edges as multiples of the alert threshold


def band_edges(min_risk: float) -> list[float]:
    return [m * min_risk for m in MULTIPLES]


def band_of(risk: float, edges: list[float]) -> str:
    return BANDS[int(np.searchsorted(edges, risk, side="right"))]


def risk_bands(preds: pd.DataFrame, horizon: int, min_risk: float) -> dict:
    """``{"horizon", "edges", "bands": {band: {"n", "exits", "exit_rate"}}}`` from backtest predictions
    (``horizon``, ``p_model``, ``label`` columns)."""
    at = preds.loc[preds["horizon"] == horizon, ["p_model", "label"]]
    edges = band_edges(min_risk)
    which = np.searchsorted(edges, at["p_model"].to_numpy(), side="right")
    bands = {}
    for i, name in enumerate(BANDS):
        labels = at["label"].to_numpy()[which == i]
        n = int(len(labels))
        bands[name] = {"n": n, "exits": int(labels.sum()), "exit_rate": float(labels.mean()) if n else None}
    return {"horizon": int(horizon), "edges": edges, "bands": bands}
