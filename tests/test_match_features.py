"""The ranker's pair features over whole columns (pandas mode) equal the row-by-row definition ``_match_row``,
edge cases included: missing lists and values, lists of unequal length, repeated skills, negative gaps."""

from __future__ import annotations

import math
import random

import pandas as pd
import pyarrow as pa

from features.feature_repo.definitions import (
    _FORMAT_SHARE,
    _match_row,
    employee_course_match_frame,
    employee_course_match_udf,
)

SHARES = list(_FORMAT_SHARE.values())


def _rows(n: int, seed: int) -> dict[str, list]:
    rng = random.Random(seed)
    skills, courses = [f"S{i}" for i in range(12)], [f"C{i}" for i in range(20)]

    def maybe(value):
        return None if rng.random() < 0.05 else value

    out: dict[str, list] = {k: [] for k in ("course_key", "skill_ids", "skill_gaps", "skill_required_levels",
                                            "course_skill_ids", "course_target_levels", "completed_course_ids",
                                            "level", "job_level", "format", *SHARES)}
    for _ in range(n):
        m, c = rng.randint(0, 6), rng.randint(0, 3)
        out["course_key"].append(rng.choice(courses))
        out["skill_ids"].append(maybe([rng.choice(skills) for _ in range(m)]))
        out["skill_gaps"].append(maybe([rng.choice([0.0, 0.5, 1.0, 2.0, -1.0, None])
                                        for _ in range(max(0, m + rng.randint(-1, 1)))]))
        out["skill_required_levels"].append(maybe([rng.choice([1, 3, 4, 5, None])
                                                   for _ in range(max(0, m + rng.randint(-1, 1)))]))
        out["course_skill_ids"].append(maybe([rng.choice(skills) for _ in range(c)]))
        out["course_target_levels"].append(maybe([rng.choice([2, 3, 4, 5, None])
                                                  for _ in range(max(0, c + rng.randint(-1, 1)))]))
        out["completed_course_ids"].append(maybe([rng.choice(courses) for _ in range(rng.randint(0, 4))]))
        out["level"].append(rng.choice([1, 2, 3, None]))
        out["job_level"].append(rng.choice([1, 2, 4, None]))
        out["format"].append(rng.choice(["online", "workshop", "mentoring", "video", None]))
        for col in SHARES:
            out[col].append(rng.choice([0.0, 0.25, 1.0, None]))
    return out


def _reference(rows: dict[str, list]) -> dict[str, list]:
    out: dict[str, list] = {k: [] for k in ("gap_match", "max_gap_covered", "n_gap_skills_covered", "level_fit",
                                            "format_affinity", "already_completed")}
    for i, course in enumerate(rows["course_key"]):
        gap, top, n, done = _match_row(rows["skill_ids"][i], rows["skill_gaps"][i], rows["course_skill_ids"][i],
                                       rows["completed_course_ids"][i], course, rows["skill_required_levels"][i],
                                       rows["course_target_levels"][i])
        level, job = rows["level"][i], rows["job_level"][i]
        share_col = _FORMAT_SHARE.get(rows["format"][i])
        share = rows[share_col][i] if share_col else None
        out["gap_match"].append(gap)
        out["max_gap_covered"].append(top)
        out["n_gap_skills_covered"].append(n)
        out["level_fit"].append(None if level is None or job is None else int(level) - int(job))
        out["format_affinity"].append(float("nan") if share is None else float(share))
        out["already_completed"].append(done)
    return out


def _same(expected: dict[str, list], got: dict[str, list]) -> None:
    for name, values in expected.items():
        for i, (a, b) in enumerate(zip(values, got[name], strict=True)):
            if a is None or (isinstance(a, float) and math.isnan(a)):
                assert b is None or b is pd.NA or (isinstance(b, float) and math.isnan(b)), (name, i, a, b)
            else:
                assert a == b and type(a) is type(b), (name, i, a, b)


def test_whole_columns_equal_the_row_by_row_definition():
    rows = _rows(600, seed=3)
    expected = _reference(rows)
    assert any(v > 0 for v in expected["gap_match"]) and any(expected["already_completed"])
    _same(expected, employee_course_match_udf(rows))  # lists in, lists out (readiness, python callers)
    frame = employee_course_match_frame(pa.Table.from_pydict(rows).to_pandas())  # as Feast hands columns over
    _same(expected, {c: frame[c].tolist() for c in frame.columns})
    assert str(frame["level_fit"].dtype) == "Int64" and frame["already_completed"].dtype == bool
