"""Graded relevance labels for (employee, course, T) candidates, from what happened after T.

For a candidate at origin T (a month start) and a label window of ``window_months`` (default 6):

- 0: the employee did not enrol in the course in ``[T, T + window)``;
- 1: enrolled in that window;
- 2: enrolled and completed before ``T + window + outcome_months``;
- 3: completed, and at the first review after completion (before the same horizon) the rating of at least
  one skill the course targets rose above the employee's last rating before the enrolment.

Only data before the horizon ``T + window + outcome_months`` is read, so an origin's labels are final once
that horizon has passed; the training job keeps a gap of that length between training origins and the
evaluation origins.

Enrollment bias. These are observational labels: we only see outcomes for the people who enrolled, and
they enrolled because they chose to, a manager assigned them, the course was mandatory, or an earlier
recommender suggested it. What this costs and how it is handled:

- a 0 means "not taken", not "would not help": a good course few people in a segment chose stays under-
  ranked for that segment (popularity bias). Features that describe *why* a course helps (the size of the
  gap it covers, takers' later rating change, level fit) rather than who took it, and monotone constraints
  on the gap features, let the model generalise the "improved" signal to people who did not enrol;
- people who enrol may be the ones who would have improved anyway (selection on motivation); the label-3
  signal is within-person (before vs after the course), which removes stable differences between people
  but not a trend they were already on;
- mandatory enrollments carry no choice signal: mandatory courses are candidates for everyone and are
  placed by ``recommend(..., mandatory_first=True)``, not by their learned score;
- on simulated data the job measures the remaining cost directly: the uplift the model's top 10 captures
  against the oracle that knows every course's true effect.
"""

from __future__ import annotations

import pandas as pd

LABEL_NAMES = {0: "not taken", 1: "enrolled", 2: "completed", 3: "completed and improved"}


def graded_labels(
    pairs: pd.DataFrame,
    enrollments: pd.DataFrame,
    ratings: pd.DataFrame,
    course_skills: pd.DataFrame,
    window_months: int = 6,
    outcome_months: int = 6,
    time_col: str = "event_timestamp",
) -> pd.Series:
    """Label 0-3 for each row of ``pairs`` (employee_id, course_id, ``time_col``), aligned to its index."""
    if window_months < 1:
        raise ValueError(f"window_months must be >= 1, got {window_months}")
    if outcome_months < 0:
        raise ValueError(f"outcome_months must be >= 0, got {outcome_months}")
    for col in ("employee_id", "course_id", time_col):
        if col not in pairs.columns:
            raise ValueError(f"pairs is missing column {col!r}")
    p = pairs[["employee_id", "course_id", time_col]].copy()
    p["_row"] = range(len(p))
    p["_t"] = _naive(p[time_col])
    p["_end"] = p["_t"] + pd.DateOffset(months=window_months)
    p["_horizon"] = p["_end"] + pd.DateOffset(months=outcome_months)
    e = enrollments[["employee_id", "course_id", "enrolled_at", "completed_at"]]
    m = p.merge(e, on=["employee_id", "course_id"])
    m = m[(m["enrolled_at"] >= m["_t"]) & (m["enrolled_at"] < m["_end"])]
    m["_completed"] = m["completed_at"].notna() & (m["completed_at"] < m["_horizon"])
    m["label"] = 1 + m["_completed"].astype(int)
    improved = _improved(m[m["_completed"]], ratings, course_skills)
    m.loc[m.index.isin(improved), "label"] = 3
    best = m.groupby("_row")["label"].max()
    out = pd.Series(0, index=pd.RangeIndex(len(p)), dtype=int)
    out.loc[best.index] = best.to_numpy()
    out.index = pairs.index
    return out.rename("label")


def _improved(done: pd.DataFrame, ratings: pd.DataFrame, course_skills: pd.DataFrame) -> pd.Index:
    """Index labels of completed enrolments after which a targeted skill's rating rose at the next review."""
    if done.empty:
        return pd.Index([])
    d = done.reset_index(names="_idx").merge(course_skills[["course_id", "skill_id"]], on="course_id")
    r = ratings[["employee_id", "skill_id", "review_date", "rating"]].dropna(subset=["rating"])
    d = d.merge(r, on=["employee_id", "skill_id"])
    before = d[d["review_date"] <= d["enrolled_at"]].sort_values("review_date")
    before = before.groupby(["_idx", "skill_id"]).tail(1)[["_idx", "skill_id", "rating"]]
    after = d[(d["review_date"] > d["completed_at"]) & (d["review_date"] < d["_horizon"])]
    after = after.sort_values("review_date").groupby(["_idx", "skill_id"]).head(1)[["_idx", "skill_id", "rating"]]
    both = before.merge(after, on=["_idx", "skill_id"], suffixes=("_before", "_after"))
    rose = both[both["rating_after"] > both["rating_before"]]
    return pd.Index(rose["_idx"].unique())


def _naive(s: pd.Series) -> pd.Series:
    """Timestamps without a time zone (clean tables store naive UTC dates)."""
    s = pd.to_datetime(s)
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    return s.astype("datetime64[us]")
