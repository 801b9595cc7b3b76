"""One person's attrition answer at a horizon: the 1-12 month risk curve, the explanation and the what-if
levers, each with where it came from.

Batch scoring (``talentloop score attrition``) stores the curve, and the explanation and levers at the model's
alert horizon (:class:`models.attrition.alerts.StoredScore`). When that score was made from the very inputs of
the request (same model version, same feature month: :meth:`StoredScore.made_from`), a part it holds is
``precomputed``; every other part is computed for the request (``live``) from the same inputs, so the numbers
are the same either way and only the cost differs. The input frame is built only when something is live.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Literal

import pandas as pd

from models.attrition import HORIZONS
from models.attrition.alerts import StoredScore
from models.attrition.costs import price_levers
from models.attrition.reasons import DRIVERS
from models.explanation import Explanation

Source = Literal["precomputed", "live"]


@dataclass(frozen=True)
class RiskAnswer:
    curve: tuple[float, ...]  # P(exit within h months) for h in HORIZONS
    risk_source: Source
    explanation: Explanation  # in the requested language
    explanation_source: Source
    complete: bool  # the explanation lists every input (base_value + contributions == raw_score)
    levers: list[dict]  # priced what-ifs at the horizon ([] when not asked for or none is worth showing)
    levers_source: Source | None  # None when levers were not asked for

    def risk(self, horizon: int) -> float:
        return self.curve[HORIZONS.index(horizon)]


def answer(model, rows: Callable[[], pd.DataFrame], stored: StoredScore | None, horizon: int, lang: str = "en",
           top: int | None = 5, levers: bool = True, base_pay: Callable[[], object] = lambda: None,
           replacement_cost_multiple: float = 1.0) -> RiskAnswer:
    """Score and explain one person with ``model`` (an ``AttritionModel``).

    ``rows``: the person's input frame (one row), called at most once and only when something is computed.
    ``stored``: their batch score when it was made from these inputs, else None. ``top``: drivers in the
    explanation (None: every input, always live). ``base_pay``: the person's base pay, read only when a pay
    lever needs pricing.
    """
    frame = cache(rows)
    if stored is not None:
        curve, risk_source = tuple(float(stored.risk(h)) for h in HORIZONS), "precomputed"
    else:
        curve, risk_source = tuple(float(r) for r in model.predict_risk(frame(), HORIZONS)[0]), "live"
    kept = stored.explained if stored is not None and stored.horizon == horizon else None
    if kept is not None and top is not None:
        explanation, explanation_source = kept.explanation.in_lang(lang, DRIVERS), "precomputed"
    else:
        n = len(model.feature_columns_) if top is None else top
        explanation, explanation_source = model.explain(frame(), horizon=horizon, lang=lang, top=n)[0], "live"
    what_if, levers_source = [], None
    if levers and kept is not None and kept.levers is not None:
        what_if, levers_source = list(kept.levers), "precomputed"
    elif levers:
        what_if, levers_source = _priced(model.levers(frame(), horizon)[0], frame(), horizon, base_pay,
                                         replacement_cost_multiple), "live"
    return RiskAnswer(curve, risk_source, explanation, explanation_source, top is None, what_if, levers_source)


def _priced(levers: list[dict], frame: pd.DataFrame, horizon: int, base_pay: Callable[[], object],
            multiple: float) -> list[dict]:
    """Live levers with the pay lever priced (base pay read only when there is one)."""
    if not any(lv["lever"] == "pay_to_band_midpoint" for lv in levers):
        return levers
    return price_levers(levers, base_pay(), frame["pay_vs_band_mid"].iloc[0], horizon, multiple)
