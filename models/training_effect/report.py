"""The training effect and ROI report: per course and skill, per course on the next review, with costs.

- ``skills``: per (course, skill) the effect of completing the course on the next competency rating of that skill
  (rating points, ATT with its 95 % interval and the number of takers), and the **cost per point** = the course's
  cost per participant / the effect, given only when the interval is above zero (otherwise no improvement was
  measured and the cost per point is left empty, not infinite).
- ``courses``: per course the effect on the next review's overall rating, the effect on leaving voluntarily within
  a year of that review (``exit_effect``, a change in probability) and the **return on investment**:
  ``value = effect × rating_point_value × pay − exit_effect × replacement_cost_multiple × pay`` (pay: the takers'
  mean yearly base pay; the retention part left out, ``retention_value`` empty, when too few takers' next year
  is known yet); ``ROI = (value − cost) / cost`` with an interval from both effects' standard errors (taken as
  independent) (``replacement_cost_multiple`` is the workspace setting that also prices the attrition levers;
  ``rating_point_value``, the yearly value of one point of
  overall rating as a share of base pay, is a workspace setting: ``TALENTLOOP_RATING_POINT_VALUE``, 0.05 by
  default, an assumption to be set by the business, see docs/training-effect.md).

``org_unit``: only the people of that unit's subtree at the earlier review, takers and non-takers alike (trained
against comparable untrained colleagues of the same unit).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.training_effect import estimator, panel

TABLES = ("competency_ratings", "reviews", "enrollments", "courses", "course_skills", "employment_events", "jobs",
          "employees", "job_skill_requirements", "skills", "org_units")


EXIT_MIN = 30  # takers whose next year is known, at least, for an effect on exits (a rare outcome)


@dataclass(frozen=True)
class Report:
    """Both tables of the report and how they were made."""

    skills: pd.DataFrame
    courses: pd.DataFrame
    org_unit: str | None
    min_takers: int
    rating_point_value: float
    rows: int  # panel rows (skill panel) the estimate used
    takers_rows: pd.DataFrame  # the skill panel's treated rows (employee, skill, course, dates): for evaluation


def subtree(org_units: pd.DataFrame, root: str) -> set[str]:
    """``root`` and every unit below it."""
    parent = dict(zip(org_units["org_unit_id"].astype(str), org_units["parent_id"].astype(object), strict=True))
    children: dict[str, list[str]] = {}
    for u, p in parent.items():
        if isinstance(p, str):
            children.setdefault(p, []).append(u)
    out, todo = set(), [root]
    while todo:
        u = todo.pop()
        if u not in out:
            out.add(u)
            todo.extend(children.get(u, []))
    return out


def _restrict(p: pd.DataFrame, units: set[str] | None) -> pd.DataFrame:
    return p if units is None else p[p["org_unit_id"].astype(str).isin(units)].reset_index(drop=True)


def _skill_table(p: pd.DataFrame, tables: dict[str, pd.DataFrame], min_takers: int) -> pd.DataFrame:
    ef = estimator.effects_frame(estimator.estimate(p, panel.design(p), min_takers=min_takers))
    ef = ef.rename(columns={"group": "skill_id"})
    courses = tables["courses"][["course_id", "title_en", "title_zh", "format", "hours", "cost"]].astype(
        {"course_id": str})
    skills = tables["skills"][["skill_id", "name_en", "name_zh"]].astype({"skill_id": str}).rename(
        columns={"name_en": "skill_en", "name_zh": "skill_zh"})
    ef = ef.merge(courses, on="course_id", how="left").merge(skills, on="skill_id", how="left")
    measured = ef["ci_low"] > 0
    ef["cost_per_point"] = np.where(measured & (ef["cost"] > 0), ef["cost"] / ef["effect"].where(measured), np.nan)
    return ef.sort_values(["effect", "course_id"], ascending=[False, True]).reset_index(drop=True)


def _exit_effects(p: pd.DataFrame, min_takers: int) -> pd.DataFrame:
    known = p[p["left_within_year"].notna()].reset_index(drop=True)
    known = known.assign(y=known["left_within_year"])
    ef = estimator.effects_frame(estimator.estimate(known, panel.design(known), min_takers=max(min_takers, EXIT_MIN),
                                                    pooled_floor=True))
    ef = ef[["course_id", "effect", "ci_low", "ci_high", "std_error", "takers"]]
    return ef.rename(columns={c: f"exit_{c}" for c in ef.columns if c != "course_id"})


def _course_table(p: pd.DataFrame, tables: dict[str, pd.DataFrame], min_takers: int,
                  rating_point_value: float, replacement_cost_multiple: float) -> pd.DataFrame:
    ef = estimator.effects_frame(estimator.estimate(p, panel.design(p), min_takers=min_takers)).drop(columns="group")
    pay = p[p["course_id"].notna()].groupby("course_id")["base_pay"].mean().rename("takers_mean_pay")
    courses = tables["courses"][["course_id", "title_en", "title_zh", "format", "hours", "cost"]].astype(
        {"course_id": str})
    ef = ef.merge(courses, on="course_id", how="left").merge(pay, left_on="course_id", right_index=True, how="left")
    ef = ef.merge(_exit_effects(p, min_takers), on="course_id", how="left")
    # an empty exit table merges in as object columns: make them numbers (NaN where not estimated)
    exit_cols = [c for c in ef.columns if c.startswith("exit_") and c != "exit_takers"]
    ef[exit_cols] = ef[exit_cols].apply(pd.to_numeric, errors="coerce")
    per_point = rating_point_value * ef["takers_mean_pay"]
    per_exit = replacement_cost_multiple * ef["takers_mean_pay"]
    ef["retention_value"] = -ef["exit_effect"] * per_exit  # NaN when the exits cannot be estimated yet
    ef["value_per_taker"] = ef["effect"] * per_point + ef["retention_value"].fillna(0.0)
    se = np.sqrt((ef["std_error"] * per_point) ** 2 + (ef["exit_std_error"].fillna(0.0) * per_exit) ** 2)
    cost = ef["cost"].where(ef["cost"] > 0)
    ef["roi"] = (ef["value_per_taker"] - cost) / cost
    ef["roi_low"] = (ef["value_per_taker"] - estimator.Z95 * se - cost) / cost
    ef["roi_high"] = (ef["value_per_taker"] + estimator.Z95 * se - cost) / cost
    return ef.sort_values(["effect", "course_id"], ascending=[False, True]).reset_index(drop=True)


def build(tables: dict[str, pd.DataFrame], org_unit: str | None = None, min_takers: int = 10,
          rating_point_value: float = 0.05, replacement_cost_multiple: float = 0.5) -> Report:
    """The report from the clean tables (``TABLES``); raises ValueError for an org unit that does not exist."""
    units = None
    if org_unit is not None:
        known = set(tables["org_units"]["org_unit_id"].astype(str))
        if org_unit not in known:
            raise ValueError(f"org unit {org_unit!r} is not in the org_units table")
        units = subtree(tables["org_units"], org_unit)
    sp = _restrict(panel.skill_panel(tables), units)
    rp = _restrict(panel.review_panel(tables), units)
    takers = sp.loc[sp["course_id"].notna(), ["employee_id", "skill_id", "course_id", "completed_at", "date0",
                                              "date1", "m0", "m1"]].reset_index(drop=True)
    return Report(_skill_table(sp, tables, min_takers), _course_table(rp, tables, min_takers, rating_point_value,
                                                              replacement_cost_multiple),
                  org_unit, min_takers, rating_point_value, len(sp), takers)
