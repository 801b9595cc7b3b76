"""Readiness for the next job: the course ranker's picks with the next job as the target.

The ranker scores (employee, course) rows of its feature service (``course_ranker_v1``): the employee's
snapshot, the course's facts, how peers in a job take it, and the pair features of the on-demand view
(``employee_course_match``: the gap each course covers, capped by what it teaches up to). Here the snapshot's
skill arrays are those of the **next** job (its required skills, the employee's gaps to them and the required
levels) and the peers are those of the next job, so the ranker ranks the courses that close the gaps to the next
job. Candidates are the courses teaching a skill with a gap (``CandidateIndex``), minus those completed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from models.course_ranker.candidates import CandidateIndex


def next_job_frame(employee: Mapping[str, Any], next_job_id: str, skill_ids: list[str], gaps: list[float],
                   required: list[int], completed: list[str], courses: pd.DataFrame, job_courses: pd.DataFrame,
                   index: CandidateIndex, match_udf: Callable[[dict[str, list]], dict[str, list]]) -> pd.DataFrame:
    """The ranker's rows for one employee's next-job candidates (empty when no gap has a course)."""
    gap_of = {s: g for s, g in zip(skill_ids, gaps, strict=False) if g is not None and g == g}
    ids = index.candidates(gap_of, completed)
    ids = [c for c in ids if c in courses.index]
    if not ids:
        return pd.DataFrame()
    rows = courses.loc[ids].reset_index()
    for col in ("course_skill_ids", "course_target_levels"):  # Parquet gives arrays; the match UDF takes lists
        rows[col] = [list(v) if v is not None else [] for v in rows[col]]
    peers = job_courses[job_courses["job_id"] == next_job_id].set_index("course_id")
    for col in ("peers_taken_12m", "peers_completed_total"):
        rows[col] = [peers[col].get(c, 0) if col in peers else 0 for c in ids]
    n = len(rows)
    for key, value in employee.items():
        rows[key] = [value] * n
    rows["employee_id"] = employee["employee_id"]
    rows["skill_ids"] = [list(skill_ids)] * n
    rows["skill_gaps"] = [[float("nan") if g is None else float(g) for g in gaps]] * n
    rows["skill_required_levels"] = [list(required)] * n
    rows["completed_course_ids"] = [list(completed)] * n
    inputs = {c: rows[c].tolist() for c in ("course_key", "skill_ids", "skill_gaps", "course_skill_ids",
                                            "completed_course_ids", "skill_required_levels", "course_target_levels",
                                            "level", "job_level", "format", "online_share_12m",
                                            "workshop_share_12m", "mentoring_share_12m")}
    for col, values in match_udf(inputs).items():
        rows[col] = values
    return rows


def pick(ranker, frame: pd.DataFrame, k: int = 3) -> list[dict]:
    """The ranker's top ``k`` for one employee's frame: course id, the next-job skills it closes, hours."""
    if frame.empty:
        return []
    chosen = ranker.recommend(frame, k=k)
    return [{"course_id": str(r.course_id), "skills": list(r.skills_addressed), "hours": float(np.nan_to_num(r.hours)),
             "format": str(r.format)} for r in chosen.itertuples()]
