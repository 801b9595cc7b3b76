"""The monthly exit hazards: voluntary (logistic in observable drivers plus a latent outside pull) and
involuntary (sustained low performance)."""

from __future__ import annotations

import numpy as np

from features.simulator.state import Calendar, Workforce
from features.simulator.taxonomy import Taxonomy

# logit of the monthly voluntary-exit probability = sum of these terms (documented in docs/simulator.md)
COEF = {
    "intercept": -5.8,
    "pay_below_mid": 2.0,  # × (0.5 − pay position in band, clipped to [−0.5, 1.5])
    "months_since_promotion": 0.022,  # per month, capped at 48
    "engagement": -0.5,  # × latent engagement (≈ N(0, 1))
    "manager_change_6m": 0.8,  # manager changed in the last 6 months
    "team_attrition_6m": 3.0,  # × voluntary exits of the team in the last 6 months / team size (capped 0.5)
    "weak_review_6m": 0.7,  # overall rating ≤ 2 in the last 6 months
    "training_12m": -0.45,  # completed a non-mandatory course in the last 12 months
    "tenure_year1": 1.0,
    "tenure_year2": 0.4,
    "outside_pull": 1.0,  # × latent outside-offer pull
}
VOLUNTARY_REASONS = ("compensation", "career_growth", "manager", "better_offer", "relocation", "personal")
INVOLUNTARY_REASONS = ("performance", "restructuring", "misconduct")
P_INVOLUNTARY_BASE = 0.0008
P_INVOLUNTARY_LOW = 0.12  # monthly, after two consecutive overall ratings ≤ 2
P_INVOLUNTARY_ONE = 0.06  # monthly, after a rating of 1


def hazard_terms(wf: Workforce, idx: np.ndarray, m: int, cal: Calendar, tax: Taxonomy,
                 team_rate: np.ndarray) -> dict[str, np.ndarray]:
    """Each additive term of the voluntary-exit logit for employees ``idx`` at the start of month ``m``."""
    a = wf.arrays
    job = a["job"][idx]
    lo = tax.jobs["pay_band_min"].to_numpy()[job]
    hi = tax.jobs["pay_band_max"].to_numpy()[job]
    position = np.clip((a["pay"][idx] - lo) / (hi - lo), -0.5, 1.5)
    tenure_m = (cal.first_day(m) - a["hire_day"][idx]) / 30.44
    since_promo = np.minimum(np.minimum(m - a["last_promo_m"][idx], tenure_m), 48)
    return {
        "intercept": np.full(len(idx), COEF["intercept"]),
        "pay": COEF["pay_below_mid"] * (0.5 - position),
        "promotion": COEF["months_since_promotion"] * since_promo,
        "engagement": COEF["engagement"] * a["engagement"][idx],
        "manager": COEF["manager_change_6m"] * (m - a["last_mgr_change_m"][idx] <= 6),
        "team": COEF["team_attrition_6m"] * np.minimum(team_rate[a["unit"][idx]], 0.5),
        "review": COEF["weak_review_6m"] * (m - a["last_weak_m"][idx] <= 6),
        "training": COEF["training_12m"] * (m - a["last_train_m"][idx] <= 12),
        "tenure": np.where(tenure_m < 12, COEF["tenure_year1"], np.where(tenure_m < 24, COEF["tenure_year2"], 0.0)),
        "pull": COEF["outside_pull"] * a["pull"][idx],
    }


def voluntary_hazard(terms: dict[str, np.ndarray]) -> np.ndarray:
    """Monthly voluntary-exit probability from the logit terms."""
    return 1.0 / (1.0 + np.exp(-sum(terms.values())))


def involuntary_probability(wf: Workforce, idx: np.ndarray) -> np.ndarray:
    last, prev = wf.arrays["last_rating"][idx], wf.arrays["prev_rating"][idx]
    low = (last >= 1) & (last <= 2) & (prev >= 1) & (prev <= 2)
    return np.where(low, P_INVOLUNTARY_LOW, np.where(last == 1, P_INVOLUNTARY_ONE, P_INVOLUNTARY_BASE))


def voluntary_reason(terms: dict[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Stated reason: the strongest of the pay, promotion, manager and pull terms, sometimes another."""
    drivers = np.stack([terms["pay"], terms["promotion"] - 0.5, terms["manager"], terms["pull"] + 0.3])
    reason = np.argmax(drivers + rng.gumbel(0, 0.4, drivers.shape), axis=0)
    other = rng.random(len(reason))
    return np.where(other < 0.12, 4, np.where(other < 0.25, 5, reason)).astype(np.int8)
