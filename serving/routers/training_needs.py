"""``GET /v1/training-needs?org_unit=&as_of=``: the team diagnosis's training-need findings (docs/
training-needs.md), stored by ``talentloop score points`` / ``talentloop diagnose`` each scoring month.

Each finding names a group (unit) and, for competency rules, a skill; what the group shows as a sentence in
``lang``; and the courses that fit the whole group. Findings are group aggregates (no person is named); they are
scoped like every endpoint: an hr_partner sees the findings of the units granted, anything else is 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from models.training_needs import store
from serving.deps import HRCaller, Svc, unit_in_scope
from serving.errors import unavailable
from serving.routers import API_PREFIX, PROBLEMS
from serving.schemas import Lang

router = APIRouter(prefix=API_PREFIX, tags=["training needs"])


class FittingCourse(BaseModel):
    course_id: str
    title: str = Field(description="Course title in the requested language.")
    skill: str = Field(description="The finding's skill the course teaches, in the requested language.")
    format: str | None
    hours: float | None
    cost: float | None = Field(description="Cost per participant.")
    fits: int = Field(description="People below the threshold who have not completed the course.")
    group_cost: float | None = Field(description="cost × fits.")


class Finding(BaseModel):
    finding_id: str = Field(description="Stable for a month, unit, rule and skill.")
    as_of: str
    org_unit_id: str
    unit_name: str
    rule: str = Field(description="Rule name from training_needs.yaml.")
    kind: str = Field(description="competency, rating or kpi.")
    skill_id: str | None = Field(description="The skill (competency rules); null for rating and KPI rules.")
    skill_name: str | None
    focus_skills: list[str] = Field(description="Skills the courses aim at, in the requested language.")
    threshold: float = Field(description="The rule's 'below' value (a level, a rating, or a KPI fraction).")
    share_required: float
    headcount: int = Field(description="People in the group at the month.")
    n_assessed: int
    n_below: int
    share_below: float
    text: str = Field(description="The finding as a sentence in the requested language.")
    courses: list[FittingCourse]
    delivered_at: str | None = Field(description="When the webhook delivered it to the HR suite (null: not yet).")


class TrainingNeeds(BaseModel):
    org_unit: str | None
    as_of: str | None
    items: list[Finding]
    total: int


def _finding(f: dict, lang: str) -> Finding:
    names = {s["skill_id"]: s["name"][lang] for s in f.get("focus_skills", [])}
    return Finding(
        finding_id=f["finding_id"], as_of=f["as_of"], org_unit_id=f["org_unit_id"], unit_name=f["unit_name"][lang],
        rule=f["rule"], kind=f["kind"], skill_id=f["skill_id"],
        skill_name=f["skill_name"][lang] if f.get("skill_name") else None, focus_skills=list(names.values()),
        threshold=f["threshold"], share_required=f["share_required"], headcount=f["headcount"],
        n_assessed=f["n_assessed"], n_below=f["n_below"], share_below=f["share_below"], text=f["text"][lang],
        courses=[FittingCourse(course_id=c["course_id"], title=c["title"][lang],
                               skill=names.get(c["skill_id"], c["skill_id"]), format=c.get("format"),
                               hours=c.get("hours"), cost=c.get("cost"), fits=c["fits"],
                               group_cost=c.get("group_cost")) for c in f.get("courses", [])],
        delivered_at=f.get("delivered_at"))


@router.get("/training-needs", response_model=TrainingNeeds, responses=PROBLEMS,
            summary="Training-need findings of the team diagnosis, with the courses that fit each group")
def training_needs(
    who: HRCaller, svc: Svc,
    org_unit: Annotated[str | None, Query(max_length=64, description="Org unit id: findings of its subtree.")] = None,
    as_of: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])(-01)?$",
                                       description="Month diagnosed, YYYY-MM (default: the latest).")] = None,
    lang: Lang = "en",
) -> TrainingNeeds:
    units = sorted(unit_in_scope(svc, who, org_unit)) if org_unit is not None else (
        None if who.scope is None else sorted(who.scope))
    month = None if as_of is None else as_of[:7] + "-01"
    with svc.db_lock:
        if store.latest_month(svc.db) is None:
            raise unavailable("no training-need findings yet: run `talentloop score points` or `talentloop diagnose`")
        found, month = store.findings(svc.db, month, units)
    items = [_finding(f, lang) for f in found]
    return TrainingNeeds(org_unit=org_unit, as_of=month, items=items, total=len(items))
