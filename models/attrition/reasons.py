"""How attrition features are named and worded for HR partners (English and Chinese), and the what-if levers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.explanation import Driver
from models.wording.attrition import DRIVERS as WORDED_DRIVERS

# The driver sentences live in the wording layer (models.wording.attrition); re-exported here for callers.
DRIVERS: dict[str, Driver] = WORDED_DRIVERS

# A lever is shown only when the model expects it to lower the risk at least this much (0.5 percentage points).
MIN_LEVER_CHANGE = 0.005
# Months in the current level (or since joining) before a promotion is a lever that can be pulled.
PROMOTION_AFTER_MONTHS = 12
KIND = {"en": "model-based what-if, not causal", "zh": "基于模型的假设推演，非因果效应"}


@dataclass(frozen=True)
class Lever:
    """An actionable change, re-scored by the model. A what-if on the model, not a causal effect."""

    description: Mapping[str, str]
    needs: tuple[str, ...]
    apply: Callable[[pd.DataFrame], pd.DataFrame]
    applies: Callable[[pd.DataFrame], np.ndarray]


def _set(**values: Callable[[pd.DataFrame], object]) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def apply(df: pd.DataFrame) -> pd.DataFrame:
        out = df.copy()
        for col, fn in values.items():
            if col in out.columns:
                out[col] = fn(out)
        return out

    return apply


def _num(d: pd.DataFrame, col: str) -> pd.Series:
    return pd.to_numeric(d[col], errors="coerce")


# Levers that can still be pulled for the person: a raise only below the midpoint, a promotion only below the
# top level and after PROMOTION_AFTER_MONTHS in the level. "Keep the current manager" is no lever: a past
# manager change cannot be undone, and without one there is nothing to change.
LEVERS: dict[str, Lever] = {
    "pay_to_band_midpoint": Lever(
        {"en": "Raise pay to the band midpoint", "zh": "将薪酬调整至带宽中位值"},
        ("pay_vs_band_mid",),
        _set(pay_vs_band_mid=lambda d: 0.0, pay_band_position=lambda d: 0.5, months_since_pay_change=lambda d: 0.0),
        lambda d: (_num(d, "pay_vs_band_mid") < -0.01).fillna(False).to_numpy(),  # more than 1% below
    ),
    "promotion": Lever(
        {"en": "Promote to the next level", "zh": "晋升至下一职级"},
        ("months_since_promotion", "job_level"),
        _set(months_since_promotion=lambda d: 0.0, job_level=lambda d: pd.to_numeric(d["job_level"]) + 1),
        lambda d: ((_num(d, "job_level") < 5) & (_num(d, "months_since_promotion") >= PROMOTION_AFTER_MONTHS)
                   ).fillna(False).to_numpy(),
    ),
    "complete_a_course": Lever(
        {"en": "Complete a course that closes a skill gap", "zh": "完成一门弥补技能差距的课程"},
        ("completions_3m",),
        _set(completions_3m=lambda d: pd.to_numeric(d["completions_3m"]) + 1,
             completions_12m=lambda d: pd.to_numeric(d["completions_12m"]) + 1,
             training_hours_3m=lambda d: pd.to_numeric(d["training_hours_3m"]) + 8,
             training_hours_12m=lambda d: pd.to_numeric(d["training_hours_12m"]) + 8),
        lambda d: np.ones(len(d), dtype=bool),
    ),
}
