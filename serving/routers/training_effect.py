"""``GET /v1/training-effect``: which courses lift the next competency rating and the next review, with the cost
per point and the return on investment, from the last ``talentloop report training-effect`` of the scope
(``models.training_effect.stored``; estimating takes minutes, so it is never done inside a request).

Scoped like the other endpoints: without ``org_unit`` the company-wide report, for callers not limited to org
units; with ``org_unit`` the report made for that unit's subtree, when the caller sees that unit (anything else
answers 404). The answer holds aggregates over takers and comparable non-takers, never a person's data, so it is
not written to the audit log.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from models.training_effect import export, stored
from serving.auth import Principal
from serving.deps import Svc, require, unit_in_scope
from serving.errors import not_found
from serving.routers import API_PREFIX, PROBLEMS
from serving.schemas import Lang

router = APIRouter(prefix=API_PREFIX, tags=["training effect"])
Caller = Annotated[Principal, Depends(require("hr_system", "hr_partner", "data_scientist", "admin"))]


class SkillEffect(BaseModel):
    course_id: str
    title: str = Field(description="Course title in the requested language.")
    skill_id: str
    skill: str = Field(description="Skill name in the requested language.")
    effect: float = Field(description="Effect of completing the course on the next competency rating of the skill "
                                      "(rating points, average over the takers).")
    ci_low: float = Field(description="95% interval, low end.")
    ci_high: float = Field(description="95% interval, high end.")
    takers: int = Field(description="Takers whose rating of the skill was measured before and after.")
    controls: int = Field(description="Comparable non-takers the takers were weighed against.")
    verdict: str = Field(description="The interval in words, in the requested language.")
    cost: float | None = Field(description="Course cost per participant.")
    cost_per_point: float | None = Field(description="Cost per point of improvement; null unless the interval is "
                                                     "above zero.")


class CourseEffect(BaseModel):
    course_id: str
    title: str
    effect: float = Field(description="Effect of completing the course on the next review's overall rating.")
    ci_low: float
    ci_high: float
    takers: int
    controls: int
    verdict: str
    cost: float | None
    exit_low: float | None = Field(description="95% interval of exit_effect, low end.")
    exit_effect: float | None = Field(description="Effect of the course on leaving voluntarily within a year of the "
                                                  "next review (change in probability); null when too few takers' "
                                                  "next year is known yet.")
    exit_high: float | None = Field(description="95% interval of exit_effect, high end.")
    retention_value: float | None = Field(description="−exit_effect × replacement_cost_multiple × takers' mean pay.")
    value_per_taker: float | None = Field(description="effect × rating_point_value × takers' mean yearly base pay "
                                                      "+ retention_value.")
    roi: float | None = Field(description="(value − cost) / cost; null for a course with no cost.")
    roi_low: float | None
    roi_high: float | None


class TrainingEffect(BaseModel):
    org_unit: str | None = Field(description="The unit whose subtree the report covers; null: the whole company.")
    as_of: str = Field(description="Date of the latest review the report used.")
    min_takers: int
    rating_point_value: float = Field(description="Yearly value of one point of overall rating as a share of pay.")
    skills: list[SkillEffect]
    courses: list[CourseEffect]


def _report(svc: Svc, who: Principal, org_unit: str | None) -> dict:
    if org_unit is None and who.scoped:
        raise not_found("no company-wide training-effect report for a key limited to org units; ask with org_unit")
    if org_unit is not None:
        unit_in_scope(svc, who, org_unit)
    try:
        data = stored.load(svc.settings.reports_dir, org_unit)
    except ValueError as exc:
        raise not_found(f"org unit {org_unit} not found") from exc
    if data is None:
        scope = f" --org-unit {org_unit}" if org_unit else ""
        raise not_found(f"no training-effect report yet for {org_unit or 'the company'}: run "
                        f"`talentloop report training-effect{scope}`")
    return data


@router.get("/training-effect", response_model=TrainingEffect, responses=PROBLEMS,
            summary="Effect of each course on the next competency rating and review, cost per point and ROI")
def training_effect(
    who: Caller, svc: Svc,
    org_unit: Annotated[str | None, Query(max_length=64, description="Org unit id: the report made for its "
                                                                      "subtree.")] = None,
    course_id: Annotated[str | None, Query(max_length=64, description="Only this course.")] = None,
    skill_id: Annotated[str | None, Query(max_length=64, description="Only effects on this skill.")] = None,
    lang: Lang = "en",
) -> TrainingEffect:
    data = _report(svc, who, org_unit)
    import pandas as pd

    skills = pd.DataFrame(data["skills"], columns=list(data["skills"][0]) if data["skills"] else None)
    courses = pd.DataFrame(data["courses"], columns=list(data["courses"][0]) if data["courses"] else None)
    if course_id is not None:
        skills = skills[skills["course_id"] == course_id] if len(skills) else skills
        courses = courses[courses["course_id"] == course_id] if len(courses) else courses
    if skill_id is not None and len(skills):
        skills = skills[skills["skill_id"] == skill_id]
    return TrainingEffect(
        org_unit=data.get("org_unit"), as_of=data["as_of"], min_takers=data["min_takers"],
        rating_point_value=data["rating_point_value"],
        skills=[SkillEffect(**r) for r in export.rows(skills, lang, True)] if len(skills) else [],
        courses=[CourseEffect(**r) for r in export.rows(courses, lang, False)] if len(courses) else [])
