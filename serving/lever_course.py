"""The course a "complete a course" lever names: the course ranker's first pick for the person, when the
ranker and the feature store are available to this worker (otherwise the lever is worded without a course)."""

from __future__ import annotations

from typing import Any

from serving.errors import Problem
from serving.registry import ModelNotLoaded


def first_course(svc: Any, who: Any, employee_id: str) -> dict | None:
    """``{"course_id", "title": {"en", "zh"}, "hours"}`` of the top-ranked course, or None when there is none."""
    from serving.routers.recommendations import recommend_one

    if svc.store is None or svc.catalog is None:
        return None
    try:
        champion = svc.registry.get("course_ranker")
    except ModelNotLoaded:
        return None
    try:
        result, _ = recommend_one(svc, who, champion, employee_id, 1, "en", None, None, None)
    except Problem:  # the employee is not in the online store (left since scoring): no course to name
        return None
    if not result.courses:
        return None
    top = result.courses[0]
    return {"course_id": top.course_id, "title": dict(svc.catalog.titles.get(top.course_id, {})), "hours": top.hours}


def name_course(levers: list[dict], svc: Any, who: Any, employee_id: str) -> list[dict]:
    """``levers`` with the first-pick course attached to the course lever (looked up only when there is one)."""
    if not any(lv["lever"] == "complete_a_course" for lv in levers):
        return levers
    course = first_course(svc, who, employee_id)
    if course is None:
        return levers
    return [{**lv, "course": course} if lv["lever"] == "complete_a_course" else lv for lv in levers]
