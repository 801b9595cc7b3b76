"""Candidate generation: which courses are worth ranking for an employee at month T.

A course is a candidate when it teaches a skill the employee lacks, for their job or for the next job on
their career path (``jobs.next_job_id``), or when it is mandatory; courses already completed are never
candidates. The level an employee has in a skill is their latest competency rating before T, or, for a
new hire without a review yet, their pre-hire assessment score. A required skill with neither is not
counted as a gap (there is no evidence either way).

Everything here is a pure function of frames: the training job feeds it clean tables, tests feed it
hand-made rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

GAP_COLUMNS = ["employee_id", "job_id", "skill_id", "required_level", "level", "gap", "scope"]
PAIR_COLUMNS = ["employee_id", "course_id", "n_gap_skills", "is_mandatory"]


def candidate_courses(
    gaps: Mapping[str, float],
    course_skills: pd.DataFrame,
    completed: Iterable[str] = (),
    mandatory: Iterable[str] = (),
) -> pd.DataFrame:
    """Candidates for one employee: ``gaps`` maps skill id → gap (required − level, > 0 counts).

    Returns (course_id, n_gap_skills, is_mandatory) sorted by course id.
    """
    long = pd.DataFrame({"employee_id": "_", "skill_id": list(gaps), "gap": list(gaps.values())})
    done = pd.DataFrame({"employee_id": "_", "course_id": list(completed)})
    pairs = candidate_pairs(long, course_skills, done, mandatory, employees=["_"])
    return pairs.drop(columns="employee_id").reset_index(drop=True)


class CandidateIndex:
    """:func:`candidate_courses` for one employee at request time: the catalog indexed by skill once.

    ``candidates(gaps, completed)`` returns the course ids of
    ``candidate_courses(gaps, course_skills, completed, mandatory)``, in the same (sorted) order, in
    microseconds instead of a few pandas merges.
    """

    def __init__(self, course_skills: pd.DataFrame, mandatory: Iterable[str] = ()):
        pairs = _keys(course_skills[["course_id", "skill_id"]], ("course_id", "skill_id")).drop_duplicates()
        by_skill: dict[object, set[object]] = {}
        for course, skill in zip(pairs["course_id"], pairs["skill_id"], strict=True):
            by_skill.setdefault(skill, set()).add(course)
        self.by_skill = {s: frozenset(c) for s, c in by_skill.items()}
        available = set(pairs["course_id"])
        self.mandatory = frozenset(c for c in mandatory if c in available)

    def candidates(self, gaps: Mapping[str, float], completed: Iterable[str] = ()) -> list[str]:
        """Courses teaching a skill with a gap (> 0), plus mandatory ones, minus ``completed``; sorted."""
        found = set(self.mandatory)
        for skill, gap in gaps.items():
            if _positive(gap):
                found.update(self.by_skill.get(skill, ()))
        found.difference_update(completed)
        return sorted(found)


def _positive(gap: object) -> bool:
    """``gap > 0`` the way :func:`candidate_pairs` reads it (numbers or numeric text; missing is no gap)."""
    try:
        return float(gap) > 0  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def candidate_pairs(
    gaps: pd.DataFrame,
    course_skills: pd.DataFrame,
    completed: pd.DataFrame,
    mandatory: Iterable[str] = (),
    employees: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Candidate (employee, course) pairs for many employees at once.

    ``gaps``: long (employee_id, skill_id, gap); a skill may appear twice (job and next job), the larger gap
    counts. ``course_skills``: (course_id, skill_id) of the courses available at T. ``completed``:
    (employee_id, course_id) completed before T. ``mandatory``: course ids every employee must take.
    ``employees``: everyone to consider for mandatory courses (defaults to the employees in ``gaps``).
    """
    for name, frame, cols in (("gaps", gaps, ("employee_id", "skill_id", "gap")),
                              ("course_skills", course_skills, ("course_id", "skill_id")),
                              ("completed", completed, ("employee_id", "course_id"))):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise ValueError(f"{name} is missing column(s) {missing}")
    gaps = _keys(gaps, ("employee_id", "skill_id"))
    course_skills = _keys(course_skills, ("course_id", "skill_id"))
    completed = _keys(completed, ("employee_id", "course_id"))
    lacking = gaps.loc[pd.to_numeric(gaps["gap"], errors="coerce").fillna(0) > 0, ["employee_id", "skill_id"]]
    lacking = lacking.drop_duplicates()
    by_gap = lacking.merge(course_skills[["course_id", "skill_id"]].drop_duplicates(), on="skill_id")
    by_gap = by_gap.groupby(["employee_id", "course_id"], as_index=False).size()
    by_gap = by_gap.rename(columns={"size": "n_gap_skills"})
    people = pd.Index(gaps["employee_id"].unique() if employees is None else list(employees)).unique()
    available = set(course_skills["course_id"])
    must = sorted({c for c in mandatory if c in available})
    by_rule = pd.DataFrame({
        "employee_id": np.repeat(people.to_numpy(dtype=object), len(must)),
        "course_id": np.tile(np.asarray(must, dtype=object), len(people)),
    })
    pairs = by_gap.merge(by_rule.assign(is_mandatory=True), on=["employee_id", "course_id"], how="outer")
    pairs["n_gap_skills"] = pairs["n_gap_skills"].fillna(0).astype(int)
    pairs["is_mandatory"] = pairs["course_id"].isin(must)
    done = completed[["employee_id", "course_id"]].drop_duplicates().assign(_done=True)
    pairs = pairs.merge(done, on=["employee_id", "course_id"], how="left")
    pairs = pairs[pairs["_done"].isna()].drop(columns="_done")
    return pairs.sort_values(["employee_id", "course_id"]).reset_index(drop=True)[PAIR_COLUMNS]


def _keys(df: pd.DataFrame, cols: Iterable[str]) -> pd.DataFrame:
    """Key columns as plain Python objects, so empty frames and string dtypes merge alike."""
    return df.astype({c: object for c in cols})


def state_at(events: pd.DataFrame, at: pd.Timestamp) -> pd.DataFrame:
    """Employees active at ``at`` with their job and org unit (events strictly before ``at``)."""
    past = events[events["effective_date"] < at].sort_values(["employee_id", "effective_date", "event_id"])
    last = past.groupby("employee_id", sort=False).tail(1)
    last = last[last["event_type"] != "termination"]
    return last[["employee_id", "job_id", "org_unit_id"]].reset_index(drop=True)


def skill_levels_at(
    ratings: pd.DataFrame,
    at: pd.Timestamp,
    assessments: pd.DataFrame | None = None,
    candidates: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """(employee_id, skill_id, level): latest competency rating before ``at``, else the pre-hire assessment."""
    past = ratings[ratings["review_date"] < at].sort_values(["employee_id", "skill_id", "review_date"])
    rated = past.groupby(["employee_id", "skill_id"], as_index=False).tail(1)
    rated = rated[["employee_id", "skill_id", "rating"]].rename(columns={"rating": "level"})
    if assessments is None or candidates is None or assessments.empty or candidates.empty:
        return rated.reset_index(drop=True).astype({"level": float})
    hired = candidates.dropna(subset=["hired_employee_id"])[["candidate_id", "hired_employee_id"]]
    pre = assessments[assessments["assessed_at"] < at].merge(hired, on="candidate_id")
    pre = pre.sort_values("assessed_at").groupby(["hired_employee_id", "skill_id"], as_index=False).tail(1)
    pre = pre.rename(columns={"hired_employee_id": "employee_id", "score": "level"})[["employee_id", "skill_id", "level"]]
    pre = pre.merge(rated[["employee_id", "skill_id"]], on=["employee_id", "skill_id"], how="left", indicator=True)
    pre = pre[pre["_merge"] == "left_only"].drop(columns="_merge")
    out = pd.concat([rated, pre], ignore_index=True)
    return out.astype({"level": float})


def employee_gaps_at(
    at: pd.Timestamp,
    events: pd.DataFrame,
    jobs: pd.DataFrame,
    requirements: pd.DataFrame,
    ratings: pd.DataFrame,
    assessments: pd.DataFrame | None = None,
    candidates: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Gap per required skill of the current job (scope ``job``) and the next job (scope ``next_job``).

    ``gap = max(0, required_level − level)``; NaN where the employee has no rating or assessment.
    """
    active = state_at(events, at)
    nxt = jobs[["job_id", "next_job_id"]].dropna(subset=["next_job_id"])
    req = requirements[["job_id", "skill_id", "required_level"]]
    own = active.merge(req, on="job_id").assign(scope="job")
    ahead = active.merge(nxt, on="job_id").merge(
        req.rename(columns={"job_id": "next_job_id"}), on="next_job_id").drop(columns="next_job_id")
    ahead = ahead.assign(scope="next_job")
    need = pd.concat([own, ahead], ignore_index=True)
    levels = skill_levels_at(ratings, at, assessments, candidates)
    need = need.merge(levels, on=["employee_id", "skill_id"], how="left")
    need["required_level"] = need["required_level"].astype(float)
    need["gap"] = (need["required_level"] - need["level"]).clip(lower=0)
    return need[GAP_COLUMNS].reset_index(drop=True)


def gap_skills(skill_ids: Iterable[str], skill_gaps: Iterable[float]) -> dict[str, float]:
    """An employee's skills with a gap (> 0; unknown levels have none) → the gap."""
    return {s: g for s, g in zip(skill_ids, skill_gaps, strict=True) if g and g > 0}


def addressed_skills(gap: Mapping[str, float], taught: Iterable[str]) -> list[str]:
    """The gap skills (of :func:`gap_skills`) a course teaches, largest gap first."""
    hit = [s for s in taught if s in gap]
    return sorted(hit, key=lambda s: (-gap[s], s)) if len(hit) > 1 else hit
