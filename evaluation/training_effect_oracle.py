"""The training-effect estimates against the simulator's true course effects (only evaluation/ reads the truth).

What is compared, so that it is apples to apples. The simulator's ``course_effects.effect`` is the gain in
*true skill level* on completion for someone below the course's target level; someone already at or above it
gains ``DIMINISHED`` (0.3) of it, and the level is capped at 5 (features/simulator/learning.py). The estimator
measures something else: the change in the next *competency rating*, a whole number
``clip(round(true level + reviewer leniency + N(0, 0.4)), 1, 5)`` (features/simulator/reviews.py), averaged over
the people who took the course (the effect on the treated). So the truth each estimate is compared with is, per
(course, skill), the mean over the very takers the estimate used of

    true rating effect = E[rating | level at the later review] − E[rating | that level minus the gain],
    gain = min(level before + effect × (1 or 0.3), 5) − level before,

with ``E[rating | x] = 1 + Σ_{k=1..4} Φ((x + leniency − k − 0.5) / 0.4)`` (the rounding and the 1-5 clip
integrated over the rating noise, with the later reviewer's true leniency). ``true_gain`` (the same in skill
levels, without the rating's clip) and the raw ``effect`` parameter are reported beside it: the raw parameter
is not what any estimate from ratings can recover (takers at the target level gain less than it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm, spearmanr

from evaluation import truth

DIMINISHED = 0.3  # features/simulator/learning.py
RATING_NOISE = 0.4  # features/simulator/reviews.py


def _month(dates: pd.Series) -> np.ndarray:
    d = pd.to_datetime(dates)
    return (d.dt.year * 12 + d.dt.month - 1).to_numpy(np.int64)


def expected_rating(x: np.ndarray) -> np.ndarray:
    """E[clip(round(x + N(0, RATING_NOISE)), 1, 5)]."""
    return 1.0 + sum(norm.cdf((x - k - 0.5) / RATING_NOISE) for k in range(1, 5))


def true_row_effects(takers: pd.DataFrame, truth_dir: Path, course_skills: pd.DataFrame,
                     reviews: pd.DataFrame) -> pd.DataFrame:
    """Per taker row (employee_id, skill_id, course_id, completed_at, date1, m1): the true gain in skill level and
    in expected rating points."""
    effects = truth.read(truth_dir, "course_effects")[["course_id", "skill_id", "effect"]]
    levels = truth.read(truth_dir, "skill_levels")
    levels = levels.assign(mi=_month(levels["month"])).astype({"employee_id": str, "skill_id": str})
    level = levels.set_index(["employee_id", "skill_id", "mi"])["true_level"].astype(float)
    lenient = truth.read(truth_dir, "latent").astype({"employee_id": str}).set_index("employee_id")["manager_leniency"]
    t = takers.merge(effects, on=["course_id", "skill_id"], how="left")
    t = t.merge(course_skills[["course_id", "skill_id", "target_level"]].astype({"course_id": str, "skill_id": str}),
                on=["course_id", "skill_id"], how="left")
    rv = reviews[["employee_id", "review_date", "reviewer_id"]].astype({"employee_id": str})
    t = t.merge(rv.rename(columns={"review_date": "date1"}).drop_duplicates(["employee_id", "date1"]),
                on=["employee_id", "date1"], how="left")
    before = level.reindex(pd.MultiIndex.from_arrays([t["employee_id"], t["skill_id"],
                                                      _month(t["completed_at"])])).to_numpy()
    after = level.reindex(pd.MultiIndex.from_arrays([t["employee_id"], t["skill_id"], t["m1"]])).to_numpy()
    share = np.where(before < t["target_level"].to_numpy(float), 1.0, DIMINISHED)
    gain = np.minimum(before + t["effect"].to_numpy(float) * share, 5.0) - before
    len_ = lenient.reindex(t["reviewer_id"].astype(str)).fillna(0.0).to_numpy()
    t["true_gain"] = gain
    t["true_rating_effect"] = expected_rating(after + len_) - expected_rating(after - gain + len_)
    return t


def compare(skills: pd.DataFrame, takers: pd.DataFrame, truth_dir: Path, course_skills: pd.DataFrame,
            reviews: pd.DataFrame) -> pd.DataFrame:
    """Each (course, skill) estimate beside its truth: true_rating_effect, true_gain, effect parameter, covered."""
    rows = true_row_effects(takers, truth_dir, course_skills, reviews)
    per = rows.groupby(["course_id", "skill_id"]).agg(
        true_rating_effect=("true_rating_effect", "mean"), true_gain=("true_gain", "mean"),
        effect_parameter=("effect", "first")).reset_index()
    out = skills.merge(per, on=["course_id", "skill_id"], how="inner")
    out["covered"] = (out["ci_low"] <= out["true_rating_effect"]) & (out["true_rating_effect"] <= out["ci_high"])
    return out


def summary(compared: pd.DataFrame, min_takers: int = 30) -> dict[str, float]:
    """Coverage and Spearman correlation over the (course, skill) pairs with at least ``min_takers`` takers."""
    m = compared[compared["takers"] >= min_takers]
    if len(m) < 3:
        raise ValueError(f"fewer than 3 course-skill pairs have {min_takers} or more takers; nothing to compare")
    out: dict[str, float] = {"pairs": float(len(m)), "courses": float(m["course_id"].nunique())}
    for name in ("true_rating_effect", "true_gain", "effect_parameter"):
        out[f"coverage_{name}"] = float(((m["ci_low"] <= m[name]) & (m[name] <= m["ci_high"])).mean())
        out[f"spearman_{name}"] = float(spearmanr(m["effect"], m[name]).statistic)
    out["spearman_naive"] = float(spearmanr(m["naive"], m["true_rating_effect"]).statistic)
    # one row per course: the skill with the most takers (a course counted once, however many skills it teaches)
    one = m.sort_values(["takers", "skill_id"], ascending=[False, True]).drop_duplicates("course_id")
    t = one["true_rating_effect"]
    out["coverage_per_course"] = float(((one["ci_low"] <= t) & (t <= one["ci_high"])).mean())
    out["spearman_per_course"] = float(spearmanr(one["effect"], t).statistic) if len(one) >= 3 else float("nan")
    out["mean_error"] = float((m["effect"] - m["true_rating_effect"]).mean())
    out["mean_ci_width"] = float((m["ci_high"] - m["ci_low"]).mean())
    return out
