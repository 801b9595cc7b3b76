"""The course a "complete a course" lever names: the course ranker's first pick for the person, when the
ranker and the feature store are available to this worker (otherwise the lever is worded without a course).
When the ranker answers that it has no course to offer the person (no skill gap and no mandatory course due,
no catalog course for the gap, or gap levels unknown), the lever is dropped: there is no course to complete."""

from __future__ import annotations

from typing import Any

from serving.errors import Problem
from serving.registry import ModelNotLoaded


def first_course(svc: Any, who: Any, employee_id: str) -> tuple[bool, dict | None]:
    """Whether the ranker answered for the person, and ``{"course_id", "title": {"en", "zh"}, "hours"}`` of its
    top-ranked course (None: no course to recommend, or no answer)."""
    from serving.routers.recommendations import recommend_one

    if svc.store is None or svc.catalog is None:
        return False, None
    try:
        champion = svc.registry.get("course_ranker")
    except ModelNotLoaded:
        return False, None
    try:
        result, _ = recommend_one(svc, who, champion, employee_id, 1, "en", None, None, None)
    except Problem:  # the employee is not in the online store (left since scoring): no answer
        return False, None
    if not result.courses:
        return True, None
    top = result.courses[0]
    return True, {"course_id": top.course_id, "title": dict(svc.catalog.titles.get(top.course_id, {})),
                  "hours": top.hours}


def name_course(levers: list[dict], svc: Any, who: Any, employee_id: str) -> list[dict]:
    """``levers`` with the first-pick course attached to the course lever (looked up only when there is one),
    without the course lever when the ranker has no course for the person."""
    if not any(lv["lever"] == "complete_a_course" for lv in levers):
        return levers
    answered, course = first_course(svc, who, employee_id)
    if course is None:
        return [lv for lv in levers if lv["lever"] != "complete_a_course"] if answered else levers
    return [{**lv, "course": course} if lv["lever"] == "complete_a_course" else lv for lv in levers]
