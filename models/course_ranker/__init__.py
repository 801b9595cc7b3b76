"""Course ranking per employee gap: candidates, graded labels, the LambdaRank model and its reasons."""

from models.course_ranker.candidates import (
    CandidateIndex,
    candidate_courses,
    candidate_pairs,
    employee_gaps_at,
)
from models.course_ranker.labels import graded_labels
from models.course_ranker.model import FEATURE_SERVICE, CourseRanker

__all__ = ["FEATURE_SERVICE", "CandidateIndex", "CourseRanker", "candidate_courses", "candidate_pairs",
           "employee_gaps_at", "graded_labels"]
