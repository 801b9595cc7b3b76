"""Regrettable attrition: the impact of losing a person, and the expected loss of an attrition risk.

``impact = replacement_cost × max(0.25, 1 + w_perf × (rating − 3) / 2 + w_pool × pool_member + w_pot × potential)``

- ``replacement_cost = replacement_cost_multiple × base_pay`` (``TALENTLOOP_REPLACEMENT_COST_MULTIPLE``, 0.5 by
  default, the same figure that prices the pay lever; docs/wording.md);
- ``rating`` is the latest overall rating (1-5; a missing rating counts as 3, the middle), so a 5 adds
  ``w_perf`` and a 1 takes it away;
- ``pool_member`` is 1 in the unit's talent pool (核心人才库) that month;
- ``potential`` is the high-potential model's probability of a promotion or a rating level up within 12 months.

The weights come from ``talent_pool.yaml`` (``impact:``; defaults 0.5, 1.0, 1.0). ``expected_loss = risk ×
impact``. A loss is *regrettable* when the person is in the pool, marked high potential, or rated 4 or 5.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.build.talent_pool import ImpactWeights

MIN_MULTIPLIER = 0.25


def impact_multiplier(rating: pd.Series, pool_member: pd.Series, potential: pd.Series,
                      weights: ImpactWeights) -> np.ndarray:
    r = pd.to_numeric(rating, errors="coerce").fillna(3.0).clip(1, 5).to_numpy(float)
    pool = pd.to_numeric(pool_member, errors="coerce").fillna(0).to_numpy(float)
    pot = pd.to_numeric(potential, errors="coerce").fillna(0.0).to_numpy(float)
    m = 1 + weights.performance_weight * (r - 3) / 2 + weights.pool_weight * pool + weights.potential_weight * pot
    return np.maximum(MIN_MULTIPLIER, m)


def impact_of_loss(base_pay: pd.Series, rating: pd.Series, pool_member: pd.Series, potential: pd.Series,
                   weights: ImpactWeights, replacement_cost_multiple: float) -> np.ndarray:
    """Impact of loss in pay currency (NaN where pay is unknown)."""
    pay = pd.to_numeric(base_pay, errors="coerce").to_numpy(float)
    return replacement_cost_multiple * pay * impact_multiplier(rating, pool_member, potential, weights)


def regrettable(rating: pd.Series, pool_member: pd.Series, high_potential: pd.Series | np.ndarray) -> np.ndarray:
    def num(v: pd.Series | np.ndarray) -> np.ndarray:
        return pd.to_numeric(pd.Series(np.asarray(v)), errors="coerce").fillna(0).to_numpy(float)

    return (num(pool_member) == 1) | (num(high_potential) == 1) | (num(rating) >= 4)


def top_share_in_pool(alerts: pd.DataFrame, by: str, share: float = 0.10) -> float | None:
    """Share of pool members among the top ``share`` of ``alerts`` ranked by column ``by`` (None when empty)."""
    ranked = alerts.dropna(subset=[by]).sort_values([by, "employee_id"], ascending=[False, True])
    n = int(np.ceil(share * len(ranked)))
    if n == 0:
        return None
    return float((ranked.head(n)["talent_pool_member"] == 1).mean())
