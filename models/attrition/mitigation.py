"""Fairness mitigations for the attrition model that use no protected attribute at prediction time.

Two, each a plain transform of the training inputs (the choice of what to transform is made by
``evaluation.fairness_mitigation``, which may read protected attributes for training only):

- ``drop_proxies``: train without the features named as proxies of a protected attribute (the audit's proxy
  check). The registered model never sees them, so they cannot carry a group's gap at scoring time.
- ``reweigh``: Kamiran & Calders' reweighing. Each training row's weight is multiplied by
  ``P(group) × P(label) / P(group, label)`` (weighted by the rows' existing sampling weights), so in the weighted
  training data the outcome is independent of the group: the model no longer learns that a group's base rate
  differs. Groups are used for the weights only; the model's inputs are unchanged.

``docs/fairness.md`` shows what each does to ROC-AUC, calibration and the impact ratios on the demo company.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MITIGATIONS = {
    "drop_proxies": "train without the features flagged as proxies of a protected attribute",
    "reweigh": "reweigh training rows so that the outcome is independent of sex x age band (Kamiran & Calders)",
}


def check(name: str | None) -> str | None:
    """``name`` if it is a mitigation (or None); ValueError naming the choices otherwise."""
    if name is not None and name not in MITIGATIONS:
        raise ValueError(f"--mitigation must be one of {', '.join(MITIGATIONS)}, got {name!r}")
    return name


def drop_features(columns: list[str], drop: list[str]) -> list[str]:
    """``columns`` without ``drop`` (order kept); ValueError when nothing would be left."""
    kept = [c for c in columns if c not in set(drop)]
    if not kept:
        raise ValueError("drop_proxies would leave the model without features")
    return kept


def reweigh(rows: pd.DataFrame, groups: pd.Series, label: str = "label", weight: str = "weight") -> pd.DataFrame:
    """``rows`` with ``weight`` multiplied by ``P(g) P(y) / P(g, y)`` (``groups`` aligned with ``rows``)."""
    if len(groups) != len(rows):
        raise ValueError("groups must have one value per training row")
    w = rows[weight].to_numpy(dtype=float) if weight in rows.columns else np.ones(len(rows))
    y = rows[label].to_numpy()
    g = pd.Series(groups.to_numpy(), dtype="string").fillna("(missing)").to_numpy()
    frame = pd.DataFrame({"g": g, "y": y, "w": w})
    total = w.sum()
    p_g = frame.groupby("g")["w"].sum() / total
    p_y = frame.groupby("y")["w"].sum() / total
    p_gy = frame.groupby(["g", "y"])["w"].sum() / total
    factor = (p_g.reindex(g).to_numpy() * p_y.reindex(y).to_numpy()
              / p_gy.reindex(pd.MultiIndex.from_arrays([g, y])).to_numpy())
    return rows.assign(**{weight: w * factor})
