"""Candidate generation and graded labels on hand-made employees and histories."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.course_ranker import (
    CandidateIndex,
    candidate_courses,
    candidate_pairs,
    employee_gaps_at,
    graded_labels,
)

D = pd.Timestamp

COURSE_SKILLS = pd.DataFrame({
    "course_id": ["nego1", "nego2", "excel", "lead", "ethics", "safety"],
    "skill_id": ["nego", "nego", "excel", "lead", "ethics", "safety"],
    "target_level": [3, 4, 3, 4, 2, 2],
})


def test_candidates_are_gap_courses_plus_mandatory_minus_completed():
    out = candidate_courses({"nego": 2.0, "excel": 0.0, "lead": 1.0}, COURSE_SKILLS,
                            completed=["nego1", "safety"], mandatory=["ethics", "safety"])
    assert out["course_id"].tolist() == ["ethics", "lead", "nego2"]
    assert out.set_index("course_id")["is_mandatory"].to_dict() == {"ethics": True, "lead": False, "nego2": False}
    assert out.set_index("course_id")["n_gap_skills"].to_dict() == {"ethics": 0, "lead": 1, "nego2": 1}


def test_no_gap_and_nothing_mandatory_means_no_candidates():
    assert candidate_courses({"nego": 0.0}, COURSE_SKILLS).empty


def test_candidate_index_gives_the_candidates_of_candidate_courses():
    """The request-time index and the frame rule agree, on the hand-made case and on random ones."""
    index = CandidateIndex(COURSE_SKILLS, mandatory=["ethics", "safety", "not-in-catalog"])
    assert index.candidates({"nego": 2.0, "excel": 0.0, "lead": 1.0}, ["nego1", "safety"]) == ["ethics", "lead", "nego2"]
    assert index.candidates({"nego": None, "lead": float("nan"), "excel": "1"}) == ["ethics", "excel", "safety"]
    rng = np.random.default_rng(0)
    skills = [f"s{i}" for i in range(15)]
    catalog = pd.DataFrame([(f"c{c:02d}", s) for c in range(40) for s in rng.choice(skills, 2, replace=False)],
                           columns=["course_id", "skill_id"])
    mandatory = ["c03", "c17"]
    index = CandidateIndex(catalog, mandatory)
    for _ in range(50):
        gaps = {s: float(rng.choice([0.0, 0.5, 1.0, 2.0, np.nan])) for s in rng.choice(skills, 8, replace=False)}
        done = [f"c{c:02d}" for c in rng.choice(40, 5, replace=False)]
        expected = candidate_courses(gaps, catalog, done, mandatory)["course_id"].tolist()
        assert index.candidates(gaps, done) == expected


def test_candidate_pairs_for_many_employees_take_the_larger_of_job_and_next_job_gaps():
    gaps = pd.DataFrame({"employee_id": ["a", "a", "b"], "skill_id": ["nego", "nego", "excel"],
                         "gap": [0.0, 1.0, float("nan")]})
    out = candidate_pairs(gaps, COURSE_SKILLS, pd.DataFrame({"employee_id": ["b"], "course_id": ["ethics"]}),
                          mandatory=["ethics"])
    assert sorted(map(tuple, out[["employee_id", "course_id"]].to_numpy())) == [
        ("a", "ethics"), ("a", "nego1"), ("a", "nego2")]


def _tables():
    events = pd.DataFrame({
        "event_id": ["1", "2", "3", "4"], "employee_id": ["old", "new", "gone", "gone"],
        "effective_date": [D("2023-01-01"), D("2025-02-10"), D("2023-01-01"), D("2024-06-01")],
        "event_type": ["hire", "hire", "hire", "termination"], "org_unit_id": ["u"] * 4,
        "job_id": ["rep", "rep", "rep", "rep"],
    })
    jobs = pd.DataFrame({"job_id": ["rep", "mgr"], "next_job_id": ["mgr", None]})
    reqs = pd.DataFrame({"job_id": ["rep", "rep", "mgr"], "skill_id": ["nego", "excel", "lead"],
                         "required_level": [4, 3, 4]})
    ratings = pd.DataFrame({
        "employee_id": ["old", "old", "old"], "skill_id": ["nego", "nego", "excel"],
        "review_date": [D("2024-06-30"), D("2024-12-31"), D("2024-12-31")], "rating": [1, 2, 3],
        "cycle_id": ["a", "b", "b"],
    })
    cands = pd.DataFrame({"candidate_id": ["k1"], "hired_employee_id": ["new"]})
    assessments = pd.DataFrame({"candidate_id": ["k1", "k1"], "skill_id": ["nego", "lead"],
                                "score": [3.5, 1.0], "assessed_at": [D("2025-01-15"), D("2025-01-15")]})
    return events, jobs, reqs, ratings, cands, assessments


def test_gaps_use_latest_rating_assessments_for_new_hires_and_the_next_job():
    events, jobs, reqs, ratings, cands, assessments = _tables()
    gaps = employee_gaps_at(D("2025-03-01"), events, jobs, reqs, ratings, assessments, cands)
    assert "gone" not in set(gaps["employee_id"])
    g = gaps.set_index(["employee_id", "skill_id", "scope"])["gap"]
    assert g[("old", "nego", "job")] == 2.0  # latest rating 2, required 4
    assert g[("old", "excel", "job")] == 0.0
    assert pd.isna(g[("old", "lead", "next_job")])  # never rated: no evidence of a gap
    assert g[("new", "nego", "job")] == 0.5  # pre-hire assessment 3.5
    assert g[("new", "lead", "next_job")] == 3.0  # the next job on the career path needs 4
    pairs = candidate_pairs(gaps, pd.DataFrame({"course_id": ["n", "x", "l"], "skill_id": ["nego", "excel", "lead"]}),
                            pd.DataFrame(columns=["employee_id", "course_id"]))
    assert sorted(map(tuple, pairs[["employee_id", "course_id"]].to_numpy())) == [
        ("new", "l"), ("new", "n"), ("old", "n")]


def test_gaps_are_point_in_time():
    events, jobs, reqs, ratings, cands, assessments = _tables()
    gaps = employee_gaps_at(D("2024-09-01"), events, jobs, reqs, ratings, assessments, cands)
    g = gaps.set_index(["employee_id", "skill_id", "scope"])["gap"]
    assert g[("old", "nego", "job")] == 3.0  # the December review is in the future
    assert "new" not in set(gaps["employee_id"])  # not hired yet
    assert "gone" not in set(gaps["employee_id"])  # terminated in June


def test_graded_labels_from_history():
    T = D("2025-01-01", tz="UTC")
    pairs = pd.DataFrame({"employee_id": ["a", "a", "a", "a", "b"],
                          "course_id": ["nego1", "excel", "lead", "ethics", "nego1"],
                          "event_timestamp": [T] * 5})
    enrollments = pd.DataFrame({
        "employee_id": ["a", "a", "a", "a", "b"],
        "course_id": ["nego1", "excel", "lead", "ethics", "nego1"],
        "enrolled_at": [D("2025-02-01"), D("2025-03-01"), D("2025-03-01"), D("2024-11-01"), D("2025-09-01")],
        "completed_at": [D("2025-03-01"), D("2025-04-01"), pd.NaT, D("2024-12-01"), D("2025-10-01")],
    })
    ratings = pd.DataFrame({
        "employee_id": ["a", "a", "a", "a"], "skill_id": ["nego", "nego", "excel", "excel"],
        "review_date": [D("2024-12-31"), D("2025-06-30"), D("2024-12-31"), D("2025-06-30")],
        "rating": [2, 3, 3, 3],
    })
    labels = graded_labels(pairs, enrollments, ratings, COURSE_SKILLS, window_months=6)
    # improved at next review / completed, no rise / enrolled only / before T / after the window
    assert labels.tolist() == [3, 2, 1, 0, 0]


def test_labels_are_aligned_to_the_pairs_index():
    T = D("2025-01-01")
    pairs = pd.DataFrame({"employee_id": ["x", "a"], "course_id": ["excel", "excel"], "event_timestamp": [T, T]},
                         index=[10, 20])
    enrollments = pd.DataFrame({"employee_id": ["a"], "course_id": ["excel"], "enrolled_at": [D("2025-01-05")],
                                "completed_at": [pd.NaT]})
    labels = graded_labels(pairs, enrollments, pd.DataFrame(columns=["employee_id", "skill_id", "review_date",
                                                                      "rating"]), COURSE_SKILLS)
    assert labels.to_dict() == {10: 0, 20: 1}
