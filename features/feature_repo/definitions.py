"""Every feature TalentLoop serves, declared once: entities → sources → feature views → on-demand view →
one feature service per model version.

The offline files live in the workspace, so sources need a folder: :func:`repo_objects` builds the whole
repo for a feature folder (nothing is read or written). Models take their input columns from a feature
service (``features.store.feature_columns``), never from a second list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from feast import Entity, FeatureService, FeatureView, Field, FileSource, ValueType
from feast.on_demand_feature_view import OnDemandFeatureView
from feast.types import Array, Bool, Float32, Float64, Int64, String

from features.build import feature_path
from features.feature_repo.services import (
    ATTRITION_SERVICE,
    COURSE_RANKER_CONTEXT_SERVICE,
    COURSE_RANKER_SERVICE,
    EMPLOYEE_CONTEXT_SERVICE,
    POTENTIAL_SERVICE,
    SKILL_DEMAND_SERVICE,
    TALENT_POOL_SERVICE,
)

MONTHLY_TTL = timedelta(days=45)  # a monthly snapshot stays valid until the next one (plus slack)

employee = Entity(name="employee", join_keys=["employee_id"], value_type=ValueType.STRING,
                  description="A person employed by the company.")
course = Entity(name="course", join_keys=["course_id"], value_type=ValueType.STRING,
                description="A course of the learning catalog.")
org_unit = Entity(name="org_unit", join_keys=["org_unit_id"], value_type=ValueType.STRING,
                  description="A unit of the organisation tree (company, division, department, team).")
skill = Entity(name="skill", join_keys=["skill_id"], value_type=ValueType.STRING,
               description="A skill of the taxonomy.")
job = Entity(name="job", join_keys=["job_id"], value_type=ValueType.STRING, description="A job (role and level).")

ENTITIES = (employee, course, org_unit, skill, job)


def _f(name: str, dtype: Any, description: str) -> Field:
    return Field(name=name, dtype=dtype, description=description)


EMPLOYEE_CONTEXT = [
    _f("org_unit_id", String, "Org unit at T (lookup key, not a model input)."),
    _f("job_id", String, "Job at T (lookup key, not a model input)."),
    _f("manager_id", String, "Manager at T (shown in alerts, not a model input)."),
    _f("base_pay", Float32, "Base pay at T (prices the pay lever, not a model input)."),
]
EMPLOYEE_NUMERIC = [
    _f("job_family", String, "Job family of the current job."),
    _f("job_level", Int64, "Level of the current job, 1-5."),
    _f("tenure_months", Float32, "Months since hire."),
    _f("months_since_promotion", Float32, "Months since the last promotion (since hire if never)."),
    _f("months_since_pay_change", Float32, "Months since base pay last changed (since hire if never)."),
    _f("months_since_manager_change", Float32,
       "Months since the manager last changed (null when unchanged since the hire: a hire is no manager change)."),
    _f("new_hire", Int64, "1 when hired less than 3 months before T, else 0."),
    _f("manager_changes_12m", Int64, "Manager changes in the 12 months before T."),
    _f("transfers_12m", Int64, "Transfers in the 12 months before T."),
    _f("pay_vs_band_mid", Float32, "Base pay / band midpoint - 1."),
    _f("pay_band_position", Float32, "(pay - band min) / (band max - band min)."),
    _f("last_rating", Int64, "Overall rating of the last review."),
    _f("prev_rating", Int64, "Overall rating of the review before the last."),
    _f("rating_trend", Int64, "Last rating - previous rating."),
    _f("last_kpi_attainment", Float32, "KPI attainment at the last review."),
    _f("months_since_review", Float32, "Months since the last review (null when never reviewed)."),
    _f("n_required_skills", Int64, "Skills the current job requires."),
    _f("n_skills_below_required", Int64, "Required skills with a known level below the requirement."),
    _f("mean_skill_gap", Float32, "Mean gap over required skills with a known level."),
    _f("max_skill_gap", Float32, "Largest gap over required skills with a known level."),
    _f("training_hours_3m", Float32, "Hours of courses completed in the 3 months before T."),
    _f("training_hours_12m", Float32, "Hours of courses completed in the 12 months before T."),
    _f("training_points_3m", Int64, "Training points earned in the 3 months before T."),
    _f("training_points_12m", Int64, "Training points earned in the 12 months before T."),
    _f("completions_3m", Int64, "Courses completed in the 3 months before T."),
    _f("completions_12m", Int64, "Courses completed in the 12 months before T."),
    _f("enrollments_in_progress", Int64, "Enrollments started and not finished at T."),
    _f("team_size", Int64, "Active employees in the same org unit at T."),
    _f("team_vol_exits_6m", Int64, "Voluntary exits from the same org unit in the 6 months before T."),
    _f("team_vol_attrition_6m", Float32, "team_vol_exits_6m / team_size."),
    _f("assessment_mean_score", Float32, "Mean pre-hire assessment score (null when none)."),
    _f("unit_open_requisitions", Int64, "Open requisitions of the same org unit at T."),
    _f("online_share_12m", Float32, "Share of online courses among completions in the last 12 months."),
    _f("workshop_share_12m", Float32, "Share of workshops among completions in the last 12 months."),
    _f("mentoring_share_12m", Float32, "Share of mentoring among completions in the last 12 months."),
]
# HR-feed features the attrition model reads and the course ranker does not (an export with pay but no pay bands)
ATTRITION_NUMERIC = [
    _f("pay_vs_job_median", Float32,
       "Base pay / median base pay of the employees in the same job at T, minus 1 (0 when alone in the job)."),
    _f("pay_vs_job_typical", Float32,
       "Base pay / the job's typical pay up to T, minus 1: the mean over everyone who held the job at a snapshot up "
       "to T of their mean pay in it (a pay position without pay bands)."),
    _f("last_pay_change_pct", Float32,
       "Relative size of the last pay change before T (a pay-change event, not a promotion): pay after / pay "
       "before - 1; null when pay has not changed since the hire."),
]
EMPLOYEE_ARRAYS = [
    _f("skill_ids", Array(String), "Skills the current job requires (sorted)."),
    _f("skill_gaps", Array(Float32), "Gap per required skill, same order (NaN when the level is unknown)."),
    _f("skill_required_levels", Array(Int64), "Required level per skill, same order."),
    _f("completed_course_ids", Array(String), "Courses completed before T (sorted)."),
]
TALENT_POOL = [
    _f("pool_unit_id", String, "Unit the talent pool ranks this person within (talent_pool.yaml unit_level)."),
    _f("pool_unit_headcount", Int64, "Active employees of that unit at T."),
    _f("pool_rank", Int64, "Rank among the unit's eligible people by last rating, then KPI (null when not eligible)."),
    _f("talent_pool_member", Int64, "1 when in the unit's talent pool (人才库) at T, else 0."),
    _f("next_job_id", String, "Next job on the career path (null at the top)."),
    _f("n_next_job_skills", Int64, "Skills the next job requires."),
    _f("next_job_mean_gap", Float32, "Mean gap to the next job's required levels over skills with a known level."),
    _f("next_job_readiness", Float32, "Share of the next job's required skills already at the required level."),
    _f("next_job_skill_ids", Array(String), "The next job's required skills (sorted)."),
    _f("next_job_skill_gaps", Array(Float32), "Gap per next-job skill, same order (NaN when the level is unknown)."),
]
COURSE_SCALARS = [
    _f("format", String, "Delivery format."),
    _f("hours", Float32, "Learning hours."),
    _f("level", Int64, "Course level, 1-5."),
    _f("cost", Float32, "Cost per participant."),
    _f("points", Int64, "Training points awarded on completion."),
    _f("mandatory", Bool, "Mandatory for every employee."),
    _f("course_age_months", Float32, "Months since the course entered the catalog."),
    _f("takers_12m", Int64, "Enrollments in the 12 months before T."),
    _f("takers_total", Int64, "Enrollments before T."),
    _f("completion_rate", Float32, "Completions / enrollments before T."),
    _f("avg_rating_change", Float32,
       "Takers' mean change in the target skills' rating, last review before enrolment to first after completion."),
    _f("avg_exam_score", Float32, "Mean exam score of completions before T."),
]
COURSE_ARRAYS = [
    _f("course_key", String, "The course id again, as an input of request-time pair features (not a model input)."),
    _f("course_skill_ids", Array(String), "Skills the course teaches (sorted)."),
    _f("course_target_levels", Array(Int64), "Target level per skill, same order."),
]
JOB_COURSE = [
    _f("peers_taken_12m", Int64, "Enrollments by people in the same job in the 12 months before T."),
    _f("peers_completed_total", Int64, "Completions by people in the same job before T."),
]
ORG_UNIT = [
    _f("headcount", Int64, "Active employees in the unit's subtree at T."),
    _f("vol_exits_12m", Int64, "Voluntary exits from the subtree in the 12 months before T."),
    _f("vol_attrition_rate_12m", Float32, "vol_exits_12m / headcount."),
    _f("open_requisitions", Int64, "Requisitions open at T in the subtree."),
    _f("planned_headcount", Int64, "Planned headcount for month T (subtree)."),
]
UNIT_SKILL = [
    _f("demand_slots", Int64, "Capability need at T: planned heads x job skill requirements plus open requisitions "
                              "asking for a skill beyond their job's (teams with a plan for T), else actual heads x "
                              "requirements plus every open requisition's skills; summed over the subtree."),
    _f("head_slots", Int64, "Required-skill slots of the actual headcount at T."),
    _f("holders_at_required", Int64, "Employees whose known level reaches their job's required level."),
    _f("open_req_slots", Int64, "Open requisitions at T asking for the skill."),
    _f("in_training", Int64, "Employees in a course teaching the skill at T."),
    _f("vol_exits_12m", Int64, "Voluntary exits from the unit in the 12 months before T."),
    _f("planned_slots", Int64, "Planned heads x job skill requirements for month T (teams with a plan; empty if none)."),
    *(_f(f"planned_slots_ahead_{k}", Int64, f"planned_slots for month T + {k} (the plan is known in advance).")
      for k in range(1, 13)),
]
# On-demand outputs: Feast compares them with fields inferred from a trial run of the UDF, which carry no
# description, so the descriptions live in MATCH_DOC.
MATCH_DOC = {
    "gap_match": "Sum of the employee's gaps on the skills the course teaches, each capped by the course's target "
                 "level (what the course teaches up to).",
    "max_gap_covered": "Largest of those gaps.",
    "n_gap_skills_covered": "Course skills on which the employee has a gap.",
    "level_fit": "Course level - the employee's job level.",
    "format_affinity": "The employee's share of recent completions in this course's format (NaN when none).",
    "already_completed": "The employee completed this course before.",
}
MATCH = [
    Field(name="gap_match", dtype=Float64),
    Field(name="max_gap_covered", dtype=Float64),
    Field(name="n_gap_skills_covered", dtype=Int64),
    Field(name="level_fit", dtype=Int64),
    Field(name="format_affinity", dtype=Float64),
    Field(name="already_completed", dtype=Bool),
]
_FORMAT_SHARE = {"online": "online_share_12m", "workshop": "workshop_share_12m", "mentoring": "mentoring_share_12m"}


def _source(feature_dir: Path, table: str) -> FileSource:
    return FileSource(name=f"{table}_source", path=str(feature_path(feature_dir, table)),
                      timestamp_field="event_timestamp", description=f"Monthly snapshots: {table}.parquet")


def _match_row(skill_ids: list[str] | None, gaps: list[float] | None, course_skills: list[str] | None,
               done: list[str] | None, course_id: str, required: list[int] | None = None,
               targets: list[int] | None = None) -> tuple[float, float, int, bool]:
    """Gap covered per course skill: the employee's gap, capped by what the course teaches up to (its target
    level): ``min(gap, max(0, target - (required - gap)))``, so a level-3 course closes nothing of a 3 → 4 gap."""
    gap_of = {s: g for s, g in zip(skill_ids or [], gaps or [], strict=False) if g is not None and g == g}
    need_of = {s: q for s, q in zip(skill_ids or [], required if required is not None else [], strict=False)
               if q is not None and q == q}
    target_of = {s: t for s, t in zip(course_skills or [], targets if targets is not None else [], strict=False)
                 if t is not None and t == t}
    covered = []
    for s in course_skills or []:
        g = gap_of.get(s, 0.0)
        if g > 0 and s in need_of and s in target_of:
            g = min(g, max(0.0, float(target_of[s]) - (float(need_of[s]) - g)))
        covered.append(g)
    return (float(sum(covered)), float(max(covered, default=0.0)), sum(1 for g in covered if g > 0),
            course_id in (done or []))


_LISTS = (list, tuple, np.ndarray)


def _segments(values: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """(length of each row's list, a missing list (None, NaN) counting 0; every row's items, one after
    another, as an object array)."""
    lists = [v if type(v) in _LISTS else () for v in values]
    lengths = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    filled = [v for v in lists if len(v)]
    if filled and all(type(v) is np.ndarray for v in filled):  # as a pandas-mode view gets them from Arrow
        return lengths, np.concatenate(filled)
    items = np.empty(int(lengths.sum()), dtype=object)
    items[:] = list(chain.from_iterable(filled))
    return lengths, items


def _firsts(lengths: np.ndarray, used: np.ndarray) -> np.ndarray:
    """Mask of the first ``used[i]`` items of each row's ``lengths[i]`` items (the rows' items one after another)."""
    within = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return within < np.repeat(used, lengths)


def _numbers(items: np.ndarray) -> np.ndarray:
    return pd.to_numeric(pd.Series(items, dtype=object), errors="coerce").to_numpy(dtype=float)


class _Lookup:
    """``{(row, key): value}`` as ``_match_row`` builds each row's dict: the zip of a key list and a value list
    (the shorter wins), missing values left out, a repeated key keeping its last value."""

    def __init__(self, rows: np.ndarray, codes: np.ndarray, n_keys: np.ndarray, values: Sequence[Any], k: int):
        n_values, flat = _segments(values)
        used = np.minimum(n_keys, n_values)
        val = _numbers(flat[_firsts(n_values, used)])
        take = _firsts(n_keys, used)
        key = rows[take] * k + codes[take]
        ok = ~np.isnan(val)
        key, val = key[ok], val[ok]
        order = np.argsort(key, kind="stable")
        key, val = key[order], val[order]
        last = np.r_[key[1:] != key[:-1], True] if len(key) else np.zeros(0, bool)
        self.keys, self.values = key[last], val[last]

    def get(self, query: np.ndarray) -> np.ndarray:
        """The value of each (row, key) of ``query`` (``row * k + code``), NaN when absent."""
        if not len(self.keys):
            return np.full(len(query), np.nan)
        pos = np.minimum(np.searchsorted(self.keys, query), len(self.keys) - 1)
        return np.where(self.keys[pos] == query, self.values[pos], np.nan)


def match_features(inputs: Mapping[str, Sequence[Any]]) -> dict[str, np.ndarray]:
    """The pair features of every row at once, exactly as :func:`_match_row` computes them row by row:
    ``gap_match`` … ``already_completed`` as arrays (``level_fit`` float, NaN when a level is missing)."""
    n = len(inputs["course_key"])
    n_emp, emp_skills = _segments(inputs["skill_ids"])
    n_cs, course_skills = _segments(inputs["course_skill_ids"])
    codes, uniques = pd.factorize(np.concatenate([emp_skills, course_skills]), use_na_sentinel=False)
    k = max(len(uniques), 1)
    emp_rows, rows = np.repeat(np.arange(n), n_emp), np.repeat(np.arange(n), n_cs)
    emp_codes, cs_codes = codes[:len(emp_skills)], codes[len(emp_skills):]
    query = rows * k + cs_codes
    gap = _Lookup(emp_rows, emp_codes, n_emp, inputs["skill_gaps"], k).get(query)
    need = _Lookup(emp_rows, emp_codes, n_emp, inputs["skill_required_levels"], k).get(query)
    target = _Lookup(rows, cs_codes, n_cs, inputs["course_target_levels"], k).get(query)
    g = np.nan_to_num(gap, nan=0.0)
    capped = (g > 0) & ~np.isnan(need) & ~np.isnan(target)
    g[capped] = np.minimum(g[capped], np.maximum(0.0, target[capped] - (need[capped] - g[capped])))
    top = np.full(n, -np.inf)
    np.maximum.at(top, rows, g)
    top[n_cs == 0] = 0.0
    fmt = pd.Series(np.asarray(inputs["format"], dtype=object))
    share = np.full(n, np.nan)
    for value, column in _FORMAT_SHARE.items():
        here = (fmt == value).to_numpy()
        share[here] = _numbers(np.asarray(inputs[column], dtype=object))[here]
    level, job_level = _numbers(np.asarray(inputs["level"], dtype=object)), _numbers(np.asarray(inputs["job_level"], dtype=object))
    return {"gap_match": np.bincount(rows, weights=g, minlength=n).astype(float), "max_gap_covered": top,
            "n_gap_skills_covered": np.bincount(rows, weights=g > 0, minlength=n).astype(np.int64),
            "level_fit": np.trunc(level) - np.trunc(job_level), "format_affinity": share,
            "already_completed": _completed(inputs["course_key"], inputs["completed_course_ids"])}


def _completed(course_keys: Sequence[Any], done: Sequence[Any]) -> np.ndarray:
    """Whether each row's course is in that row's completed list."""
    n_done, flat = _segments(done)
    courses = np.asarray(course_keys, dtype=object)
    codes, uniques = pd.factorize(np.concatenate([courses, flat]), use_na_sentinel=False)
    k = max(len(uniques), 1)
    done_keys = np.sort(np.repeat(np.arange(len(courses)), n_done) * k + codes[len(courses):])
    query = np.arange(len(courses)) * k + codes[:len(courses)]
    if not len(done_keys):
        return np.zeros(len(courses), dtype=bool)
    return done_keys[np.minimum(np.searchsorted(done_keys, query), len(done_keys) - 1)] == query


def employee_course_match_frame(inputs: pd.DataFrame) -> pd.DataFrame:
    """The on-demand view's transformation (pandas mode: whole columns at once, :func:`match_features`):
    pair features of (employee, course) from both views' values, one row per input row."""
    out = match_features(inputs)
    level_fit = pd.array(np.where(np.isnan(out["level_fit"]), 0, out["level_fit"]).astype(np.int64), dtype="Int64")
    level_fit[np.isnan(out["level_fit"])] = pd.NA
    return pd.DataFrame({**out, "level_fit": level_fit}, index=inputs.index)[[f.name for f in MATCH]]


def employee_course_match_udf(inputs: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The same pair features from one list per input, one item per row (as a python-mode view is called;
    readiness lists call it with the next job's candidates)."""
    out = match_features(inputs)
    level_fit = [None if v != v else int(v) for v in out["level_fit"].tolist()]
    return {"gap_match": out["gap_match"].tolist(), "max_gap_covered": out["max_gap_covered"].tolist(),
            "n_gap_skills_covered": out["n_gap_skills_covered"].tolist(), "level_fit": level_fit,
            "format_affinity": out["format_affinity"].tolist(), "already_completed": out["already_completed"].tolist()}


def employee_course_match_rows(inputs: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The same pair features row by row with :func:`_match_row` (lists in, lists out): for one employee's few
    hundred candidates at request time this is about 1 ms faster than building the column arrays."""
    out: dict[str, list[Any]] = {f.name: [] for f in MATCH}
    for i, course_id in enumerate(inputs["course_key"]):
        gap, top, n, done = _match_row(inputs["skill_ids"][i], inputs["skill_gaps"][i],
                                       inputs["course_skill_ids"][i], inputs["completed_course_ids"][i], course_id,
                                       inputs["skill_required_levels"][i], inputs["course_target_levels"][i])
        level, job_level = inputs["level"][i], inputs["job_level"][i]
        share_col = _FORMAT_SHARE.get(inputs["format"][i])
        share = inputs[share_col][i] if share_col else None
        out["gap_match"].append(gap)
        out["max_gap_covered"].append(top)
        out["n_gap_skills_covered"].append(n)
        out["level_fit"].append(None if level is None or job_level is None or pd.isna(level) or pd.isna(job_level)
                                else int(level) - int(job_level))
        out["format_affinity"].append(float("nan") if share is None or pd.isna(share) else float(share))
        out["already_completed"].append(done)
    return out


# Feast may rebuild a UDF from its source text in an empty namespace; the stored source is a shim that
# imports the real function, so helpers and constants of this module stay available.
_UDF_SOURCE = (
    "def employee_course_match_frame(inputs):\n"
    "    from features.feature_repo.definitions import employee_course_match_frame as udf\n"
    "    return udf(inputs)\n"
)


def repo_objects(feature_dir: Path) -> dict[str, Any]:
    """All Feast objects of the repo, by name, for the feature files in ``feature_dir``."""
    employee_monthly = FeatureView(
        name="employee_monthly", entities=[employee], ttl=MONTHLY_TTL,
        schema=EMPLOYEE_CONTEXT + EMPLOYEE_NUMERIC + ATTRITION_NUMERIC + EMPLOYEE_ARRAYS, source=_source(feature_dir, "employee_monthly"),
        description="Point-in-time monthly snapshot per active employee.", online=True)
    course_stats = FeatureView(
        name="course_stats", entities=[course], ttl=MONTHLY_TTL, schema=COURSE_SCALARS + COURSE_ARRAYS,
        source=_source(feature_dir, "course_stats"), description="Monthly course catalog facts and outcomes.")
    job_course_stats = FeatureView(
        name="job_course_stats", entities=[job, course], ttl=MONTHLY_TTL, schema=JOB_COURSE,
        source=_source(feature_dir, "job_course_stats"), description="How peers in a job take a course.")
    org_unit_monthly = FeatureView(
        name="org_unit_monthly", entities=[org_unit], ttl=MONTHLY_TTL, schema=ORG_UNIT,
        source=_source(feature_dir, "org_unit_monthly"), description="Monthly org unit (subtree) figures.")
    talent_pool_monthly = FeatureView(
        name="talent_pool_monthly", entities=[employee], ttl=MONTHLY_TTL, schema=TALENT_POOL,
        source=_source(feature_dir, "talent_pool_monthly"),
        description="Monthly talent pool membership (workspace talent_pool.yaml) and readiness for the next job.")
    unit_skill_monthly = FeatureView(
        name="unit_skill_monthly", entities=[org_unit, skill], ttl=MONTHLY_TTL, schema=UNIT_SKILL,
        source=_source(feature_dir, "unit_skill_monthly"), description="Monthly skill demand and supply per unit.")

    match_inputs = [f.name for f in EMPLOYEE_ARRAYS] + ["job_level"] + list(_FORMAT_SHARE.values())
    # Built with the class, not the decorator: the decorator renames the UDF's module to __main__ so that
    # dill pickles it by value; by reference (this importable module) is what a service needs. Pandas mode:
    # for a python-mode view Feast turns every column of a historical retrieval into Python objects
    # (pyarrow ``to_pydict``) and back, which took most of the course ranker's point-in-time read.
    employee_course_match = OnDemandFeatureView(
        name="employee_course_match",
        sources=[employee_monthly[match_inputs],
                 course_stats[["format", "level", "course_skill_ids", "course_target_levels", "course_key"]]],
        schema=MATCH, mode="pandas", udf=employee_course_match_frame, udf_string=_UDF_SOURCE,
        description="Request-time pair features of an employee and a course: "
                    + "; ".join(f"{k}: {v}" for k, v in MATCH_DOC.items()),
    )

    numeric = [f.name for f in EMPLOYEE_NUMERIC]
    course_scalars = [f.name for f in COURSE_SCALARS]
    services = [
        FeatureService(name=ATTRITION_SERVICE,
                       features=[employee_monthly[numeric + [f.name for f in ATTRITION_NUMERIC]]],
                       description="Attrition risk: employee snapshot (no ids, no arrays)."),
        FeatureService(name=COURSE_RANKER_SERVICE,
                       features=[employee_monthly[numeric], course_stats[course_scalars], job_course_stats,
                                 employee_course_match],
                       description="Course ranker: employee, course, peers-in-job and pair features."),
        FeatureService(name=COURSE_RANKER_CONTEXT_SERVICE,
                       features=[employee_monthly[["skill_ids", "skill_gaps", "skill_required_levels"]],
                                 course_stats[["course_skill_ids", "course_target_levels"]]],
                       description="Skill lists the ranker's reasons name (which gap a course closes); not model "
                                   "inputs."),
        FeatureService(name=SKILL_DEMAND_SERVICE,
                       features=[unit_skill_monthly, org_unit_monthly[["headcount", "vol_attrition_rate_12m",
                                                                       "open_requisitions", "planned_headcount"]]],
                       description="Skill demand: unit × skill series plus unit figures."),
        FeatureService(name=TALENT_POOL_SERVICE, features=[talent_pool_monthly],
                       description="Talent pool membership and next-job readiness (not model inputs of attrition)."),
        FeatureService(name=POTENTIAL_SERVICE,
                       features=[employee_monthly[numeric],
                                 talent_pool_monthly[["n_next_job_skills", "next_job_mean_gap", "next_job_readiness"]]],
                       description="High-potential model: employee snapshot plus gaps to the next job's requirements."),
        FeatureService(name=EMPLOYEE_CONTEXT_SERVICE, features=[employee_monthly[[f.name for f in EMPLOYEE_CONTEXT]]],
                       description="Lookup keys of an employee at T (org unit, job) for access checks and pair reads."),
    ]
    objects: dict[str, Any] = {e.name: e for e in ENTITIES}
    for obj in (employee_monthly, course_stats, job_course_stats, org_unit_monthly, unit_skill_monthly, talent_pool_monthly,
                employee_course_match, *services):
        objects[obj.name] = obj
    return objects

