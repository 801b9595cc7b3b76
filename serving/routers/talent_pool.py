"""The talent pool (核心人才库), potential (高潜力人才) and regrettable attrition, from the talent scores that
``talentloop score potential`` stores each month (``models.potential.store``).

- ``GET /v1/talent-pool?org_unit=`` lists a subtree's pool members (``members_only=false``: everyone scored) with
  potential, readiness for the next job, attrition risk, impact of loss and expected loss;
- ``GET /v1/talent-pool/alerts?org_unit=&rank=expected_loss|risk`` lists the month's attrition alerts with pool
  membership and impact, ranked by expected loss (risk × impact) or by risk;
- ``GET /v1/employees/{id}/potential`` answers for one person, with the TreeSHAP reasons in ``lang``.

Scoped like the other endpoints (an hr_partner sees only the subtrees granted; anything else is 404) and every
answer is written to the audit log.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from models.explanation import StoredExplanation
from models.potential import store as talent
from models.potential.impact import top_share_in_pool
from models.wording.potential import DRIVERS
from serving.audit import Entry
from serving.deps import EmployeeId, HRCaller, Svc, unit_in_scope
from serving.errors import not_found
from serving.routers import API_PREFIX, PROBLEMS
from serving.schemas import ExplanationOut, Lang, ModelRef, stored_explanation_out

router = APIRouter(prefix=API_PREFIX, tags=["talent pool"])
MODEL = "potential"


class SkillGap(BaseModel):
    skill_id: str
    name: str = Field(description="Skill name in the requested language.")
    gap: float | None = Field(description="Levels below the next job's requirement; null when the level is not on record.")


class NextJobCourse(BaseModel):
    course_id: str
    title: str = Field(description="Course title in the requested language.")
    skills: list[str] = Field(description="Names of the next-job skills with a gap that the course teaches, largest "
                                          "gap first.")
    hours: float | None
    format: str | None


class Readiness(BaseModel):
    next_job_id: str | None = Field(description="Next job on the career path; null at the top.")
    score: float | None = Field(description="Share of the next job's required skills already at the required level.")
    mean_gap: float | None = Field(description="Mean gap over the next job's skills with a known level.")
    gaps: list[SkillGap] = Field(description="The next job's skills with a gap, largest first.")
    courses: list[NextJobCourse] = Field(description="The course ranker's picks with the next job as the target "
                                                     "(pool members and high-potential people).")


class TalentRow(BaseModel):
    employee_id: str
    org_unit_id: str | None
    as_of: str = Field(description="Month scored (first day).")
    talent_pool_member: bool = Field(description="In the unit's talent pool (核心人才库) that month.")
    pool_unit_id: str | None = Field(description="Unit the pool ranks this person within.")
    pool_rank: int | None = Field(description="Rank among the unit's eligible people (null when not eligible).")
    potential: float | None = Field(description="P(promotion or a rating level up within 12 months).")
    high_potential: bool = Field(description="Marked high potential (高潜力人才): potential ≥ the model's threshold.")
    readiness: Readiness
    risk: float | None = Field(description="Attrition risk at risk_horizon_months (null when attrition was not scored).")
    risk_horizon_months: int | None
    alert_id: str | None = Field(description="The month's attrition alert, if any.")
    impact: float | None = Field(description="Impact of loss in pay currency (replacement cost × performance, pool "
                                             "and potential terms; docs/talent-pool.md).")
    expected_loss: float | None = Field(description="risk × impact.")
    regrettable: bool = Field(description="A loss would be regrettable: pool member, high potential or rated 4-5.")
    explanation: ExplanationOut | None = Field(description="Why the potential is what it is (exact TreeSHAP).")


class TalentPool(BaseModel):
    org_unit: str | None
    as_of: str | None
    items: list[TalentRow]
    total: int
    page: int
    page_size: int
    sort: str
    model: ModelRef | None
    top_decile_pool_share: dict[str, float | None] | None = Field(
        None, description="Alerts only: share of pool members among the top 10% of the month's alerts (in scope) "
                          "ranked by expected loss and by risk.")


def _row(r: dict, lang: str) -> TalentRow:
    d = r.get("detail") or {}
    gaps = [SkillGap(skill_id=g["skill_id"], name=g.get("name", {}).get(lang) or g.get("name", {}).get("en")
                     or g["skill_id"], gap=g.get("gap")) for g in d.get("next_job_gaps", [])]
    explanation = d.get("explanation")
    skill_name = {g.skill_id: g.name for g in gaps}
    return TalentRow(
        employee_id=r["employee_id"], org_unit_id=r.get("org_unit_id"), as_of=r["as_of"],
        talent_pool_member=bool(r.get("talent_pool_member")), pool_unit_id=r.get("pool_unit_id"),
        pool_rank=None if r.get("pool_rank") is None else int(r["pool_rank"]), potential=r.get("potential"),
        high_potential=bool(r.get("high_potential")),
        readiness=Readiness(next_job_id=r.get("next_job_id"), score=r.get("readiness"),
                            mean_gap=d.get("next_job_mean_gap"), gaps=gaps,
                            courses=[NextJobCourse(course_id=c["course_id"], title=c.get("title", {}).get(lang)
                                                   or c["course_id"], skills=[skill_name.get(k, k) for k in c.get("skills", [])],
                                                   hours=c.get("hours"),
                                                   format=c.get("format")) for c in d.get("next_job_courses", [])]),
        risk=r.get("risk"), risk_horizon_months=r.get("risk_horizon") if r.get("risk") is not None else None,
        alert_id=r.get("alert_id"), impact=r.get("impact"), expected_loss=r.get("expected_loss"),
        regrettable=bool(r.get("regrettable")),
        explanation=stored_explanation_out(StoredExplanation.from_dict(explanation), lang, DRIVERS)
        if explanation else None)


def _units(svc: Svc, who: HRCaller, org_unit: str | None) -> list[str] | None:
    if org_unit is not None:
        return sorted(unit_in_scope(svc, who, org_unit))
    return None if who.scope is None else sorted(who.scope)


def _audit(svc: Svc, who: HRCaller, endpoint: str, rows: list[TalentRow], versions: dict[str, str]) -> None:
    svc.audit.append([Entry(who.key_id, who.role, r.employee_id, endpoint, MODEL, versions.get(r.employee_id, ""),
                            r.potential, [c.feature for c in (r.explanation.contributions if r.explanation else [])],
                            "precomputed") for r in rows])


def _listing(svc: Svc, who: HRCaller, org_unit: str | None, members_only: bool, alerts_only: bool, sort: str,
             page: int, page_size: int, lang: str, endpoint: str) -> TalentPool:
    units = _units(svc, who, org_unit)
    with svc.db_lock:
        rows, total, month = talent.list_scores(svc.db, units, members_only=members_only, alerts_only=alerts_only,
                                                sort=sort, limit=page_size, offset=(page - 1) * page_size)
        shares = None
        if alerts_only and month is not None:
            import pandas as pd

            every, _, _ = talent.list_scores(svc.db, units, alerts_only=True, sort=sort, limit=1_000_000)
            frame = pd.DataFrame(every)
            shares = ({"expected_loss": top_share_in_pool(frame, "expected_loss"), "risk": top_share_in_pool(frame, "risk")}
                      if not frame.empty else {"expected_loss": None, "risk": None})
    items = [_row(r, lang) for r in rows]
    versions = {r["employee_id"]: str(r.get("model_version") or "") for r in rows}
    _audit(svc, who, endpoint, items, versions)
    version = next(iter(versions.values()), None)
    return TalentPool(org_unit=org_unit, as_of=month, items=items, total=total, page=page, page_size=page_size,
                      sort=sort, model=ModelRef(name=MODEL, version=version) if version else None,
                      top_decile_pool_share=shares)


OrgUnit = Annotated[str | None, Query(max_length=64, description="Org unit id: its whole subtree.")]
Page = Annotated[int, Query(ge=1, le=100_000)]
PageSize = Annotated[int, Query(ge=1, le=500)]


@router.get("/talent-pool", response_model=TalentPool, responses=PROBLEMS,
            summary="The talent pool of an org unit's subtree with potential, readiness, risk and impact")
async def talent_pool(
    who: HRCaller, svc: Svc, org_unit: OrgUnit = None,
    members_only: Annotated[bool, Query(description="Only pool members (false: everyone scored).")] = True,
    sort: Annotated[Literal["expected_loss", "risk", "potential", "readiness"], Query()] = "potential",
    page: Page = 1, page_size: PageSize = 50, lang: Lang = "en",
) -> TalentPool:
    return _listing(svc, who, org_unit, members_only, False, sort, page, page_size, lang, "talent-pool")


@router.get("/talent-pool/alerts", response_model=TalentPool, responses=PROBLEMS,
            summary="The month's attrition alerts with pool membership and impact, by expected loss or risk")
async def talent_alerts(
    who: HRCaller, svc: Svc, org_unit: OrgUnit = None,
    rank: Annotated[Literal["expected_loss", "risk"], Query(description="expected_loss (risk × impact) or risk.")
                    ] = "expected_loss",
    page: Page = 1, page_size: PageSize = 50, lang: Lang = "en",
) -> TalentPool:
    return _listing(svc, who, org_unit, False, True, rank, page, page_size, lang, "talent-pool-alerts")


@router.get("/employees/{employee_id}/potential", response_model=TalentRow, responses=PROBLEMS,
            summary="Potential (高潜力人才), talent pool membership, readiness and impact of loss of one employee")
async def employee_potential(employee_id: EmployeeId, who: HRCaller, svc: Svc, lang: Lang = "en") -> TalentRow:
    with svc.db_lock:
        stored = talent.employee_score(svc.db, employee_id)
    if stored is None or not who.sees(stored.get("org_unit_id")):
        raise not_found(f"employee {employee_id} not found")
    row = _row(stored, lang)
    _audit(svc, who, "potential", [row], {employee_id: str(stored.get("model_version") or "")})
    return row
