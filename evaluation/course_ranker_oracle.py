"""The course ranker's oracle: the true gain of recommending a course, from the simulator's truth folder.

Only ``evaluation/`` reads the truth. The true expected gain of recommending course c to employee e at
origin T (a month start) is

    gain(e, c, T) = Σ_{s ∈ skills(c)} min( effect(c, s) · m(e, c, s),  max(0, required(job_e, s) − level(e, s)) )

- ``effect(c, s)``: the course's true gain in skill s on completion (``course_effects.parquet``);
- ``m = 1`` when the employee's true level is below the course's target level for s, else ``diminished``
  (the simulator's documented rule: a course teaches little to someone already at its target);
- ``level(e, s)``: the employee's true level at T: the truth month of T (the state on its first day,
  after the previous month's completions) or the latest month before it (``skill_levels.parquet``);
- ``required(job_e, s)``: the level the employee's job at T requires (0 for skills the job does not
  need, so a course only counts for the part of its effect that closes a gap in the current job).

It is the gain *if the course is completed*: completion odds (hours, format preference) are not in it.
The oracle ranks each employee's candidates by this gain; a model's uplift capture is the gain of its
top k divided by the oracle's (``evaluation.metrics.ranking.uplift_capture_at_k``), so the oracle scores 1.

The oracle also knows every employee's *true* level, which no model can observe (ratings are noisy whole
numbers). :func:`observable_oracle` ranks by the same formula with the true effects but the levels a model
sees (latest rating or assessment): its uplift capture is the ceiling for any ranker that estimates course
effects perfectly from observable data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from evaluation import truth
from evaluation.metrics.ranking import mean_gain_at_k, uplift_capture_at_k

DEFAULT_DIMINISHED = 0.3  # the simulator's documented share of the effect gained at or above the target


def load_truth(truth_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(course effects: course_id, skill_id, effect; skill levels: employee_id, month, skill_id, true_level)."""
    effects = truth.read(truth_dir, "course_effects")[["course_id", "skill_id", "effect"]]
    levels = truth.read(truth_dir, "skill_levels")[["employee_id", "month", "skill_id", "true_level"]]
    levels = levels.assign(month=pd.to_datetime(levels["month"]).dt.to_period("M"))
    return effects, levels


def true_gains(
    pairs: pd.DataFrame,
    truth_dir: Path,
    requirements: pd.DataFrame,
    course_skills: pd.DataFrame,
    diminished: float = DEFAULT_DIMINISHED,
    time_col: str = "event_timestamp",
) -> pd.Series:
    """True gain for each (employee_id, course_id, job_id, ``time_col``) row of ``pairs``, aligned to its index."""
    effects, levels = load_truth(truth_dir)
    return gains_from_truth(pairs, effects, levels, requirements, course_skills, diminished, time_col)


def gains_from_truth(
    pairs: pd.DataFrame,
    effects: pd.DataFrame,
    levels: pd.DataFrame,
    requirements: pd.DataFrame,
    course_skills: pd.DataFrame,
    diminished: float = DEFAULT_DIMINISHED,
    time_col: str = "event_timestamp",
) -> pd.Series:
    """:func:`true_gains` from frames already in memory (``levels.month`` as a monthly period)."""
    if not 0 <= diminished <= 1:
        raise ValueError(f"diminished must be in [0, 1], got {diminished!r}")
    for col in ("employee_id", "course_id", "job_id", time_col):
        if col not in pairs.columns:
            raise ValueError(f"pairs is missing column {col!r}")
    p = pairs[["employee_id", "course_id", "job_id", time_col]].astype(
        {"employee_id": object, "course_id": object, "job_id": object}).copy()
    p["_row"] = np.arange(len(p))
    t = pd.to_datetime(p[time_col])
    if getattr(t.dt, "tz", None) is not None:
        t = t.dt.tz_convert("UTC").dt.tz_localize(None)
    p["_month"] = t.dt.to_period("M")  # truth levels of month m are the state at its first day
    eff = effects.astype({"course_id": object, "skill_id": object}).merge(
        course_skills[["course_id", "skill_id", "target_level"]].astype({"course_id": object, "skill_id": object}),
        on=["course_id", "skill_id"], how="left")
    x = p.merge(eff, on="course_id")
    req = requirements[["job_id", "skill_id", "required_level"]].astype({"job_id": object, "skill_id": object})
    x = x.merge(req, on=["job_id", "skill_id"], how="left")
    lv = levels.astype({"employee_id": object, "skill_id": object})
    wanted = x[["employee_id", "skill_id", "_month"]].drop_duplicates()
    lv = lv.merge(wanted[["employee_id", "skill_id"]].drop_duplicates(), on=["employee_id", "skill_id"])
    lv = lv.sort_values("month")
    wanted = wanted.sort_values("_month")
    asof = pd.merge_asof(wanted.assign(_key=wanted["_month"].astype("int64")),
                         lv.assign(_key=lv["month"].astype("int64"))[["employee_id", "skill_id", "_key", "true_level"]],
                         on="_key", by=["employee_id", "skill_id"])
    x = x.merge(asof[["employee_id", "skill_id", "_month", "true_level"]], on=["employee_id", "skill_id", "_month"],
                how="left")
    level = x["true_level"].astype(float)
    required = x["required_level"].astype(float).fillna(0.0)
    target = x["target_level"].astype(float).fillna(np.inf)
    scale = np.where(level < target, 1.0, diminished)
    gap = (required - level).clip(lower=0).fillna(0.0)
    x["gain"] = np.minimum(x["effect"].astype(float) * scale, gap)
    per_row = x.groupby("_row")["gain"].sum()
    out = pd.Series(0.0, index=pd.RangeIndex(len(p)))
    out.loc[per_row.index] = per_row.to_numpy()
    out.index = pairs.index
    return out.rename("gain")


def observable_oracle(
    pairs: pd.DataFrame,
    truth_dir: Path,
    observed_levels: pd.DataFrame,
    requirements: pd.DataFrame,
    course_skills: pd.DataFrame,
    diminished: float = DEFAULT_DIMINISHED,
    time_col: str = "event_timestamp",
) -> pd.Series:
    """Scores from true effects and observed levels (employee_id, skill_id, level) at each row's origin."""
    effects, _ = load_truth(truth_dir)
    months = pd.to_datetime(pairs[time_col])
    if getattr(months.dt, "tz", None) is not None:
        months = months.dt.tz_convert("UTC").dt.tz_localize(None)
    month = months.dt.to_period("M").min()
    if months.dt.to_period("M").nunique() > 1:
        raise ValueError("observable_oracle takes the candidates of one origin; call it once per origin")
    levels = observed_levels.rename(columns={"level": "true_level"}).assign(month=month)
    return gains_from_truth(pairs, effects, levels, requirements, course_skills, diminished, time_col)


def uplift_report(
    scored: pd.DataFrame,
    score_cols: list[str],
    k: int = 10,
    user_col: str = "employee_id",
    item_col: str = "course_id",
    gain_col: str = "gain",
) -> dict[str, float]:
    """Uplift capture and mean top-k true gain for each score column, plus the oracle's mean gain."""
    truth = scored[[user_col, item_col, gain_col]].rename(columns={user_col: "user_id", item_col: "item_id"})
    out: dict[str, float] = {}
    for col in score_cols:
        pred = scored[[user_col, item_col, col]].rename(columns={user_col: "user_id", item_col: "item_id",
                                                                 col: "score"})
        out[f"{col}_uplift_capture@{k}"] = uplift_capture_at_k(pred, truth, k=k)
        out[f"{col}_mean_gain@{k}"] = mean_gain_at_k(pred, truth, k=k)
    oracle = truth.assign(score=truth[gain_col])[["user_id", "item_id", "score"]]
    out[f"oracle_mean_gain@{k}"] = mean_gain_at_k(oracle, truth, k=k)
    out[f"oracle_uplift_capture@{k}"] = uplift_capture_at_k(oracle, truth, k=k)
    return out
