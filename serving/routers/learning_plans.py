"""Learning plans written back: ``POST /v1/employees/{employee_id}/learning-plan`` records that a course was
accepted, planned or declined; ``GET /v1/employees/{employee_id}/learning-plans`` lists what was recorded.

A plan answers a recommendation: the course must be in the recommendation log for that employee (in
``request_id`` when given, else the latest list that showed it), and the plan keeps that recommendation's
rank, score, model version and propensity. A plan for a course that was not recommended is refused (422)
unless the body says ``"unsolicited": true``: it is then recorded as unsolicited, with no rank or score.
The client's idempotency key (``Idempotency-Key`` header or ``idempotency_key`` field; unique per API key)
makes a retried POST answer the plan already recorded (200) instead of writing it twice (201 the first
time); the same key for a different plan is a 409. Every call is audited; the employee must be in the
caller's org units (404 otherwise).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Response
from pydantic import BaseModel, Field

from features.feature_repo.services import EMPLOYEE_CONTEXT_SERVICE
from models.learning_plans import store as plans
from models.wording.learning_plans import not_recommended, recorded
from serving.audit import Entry
from serving.deps import EmployeeId, HRCaller, Store, Svc, bad_request, employee_features, feature_store
from serving.errors import Problem
from serving.routers import API_PREFIX, PROBLEMS
from serving.schemas import Lang, Strict

router = APIRouter(prefix=API_PREFIX, tags=["learning plans"], dependencies=[Depends(feature_store)])
KEY_PATTERN = r"^[A-Za-z0-9_.:\-]{8,128}$"


class PlanRequest(Strict):
    course_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    status: Literal["accepted", "planned", "declined"]
    request_id: str | None = Field(None, max_length=64, description="The `request_id` of the recommendation list "
                                                                     "(default: the latest list that showed it).")
    unsolicited: bool = Field(False, description="Record a plan for a course that was not recommended.")
    note: str | None = Field(None, max_length=1000)
    idempotency_key: str | None = Field(None, pattern=KEY_PATTERN, description="Or the Idempotency-Key header.")


class PlanOut(BaseModel):
    plan_id: int
    employee_id: str
    course_id: str
    status: str
    recommended: bool = Field(description="False for a plan recorded as unsolicited.")
    request_id: str | None
    rank: int | None
    score: float | None
    model_name: str | None
    model_version: str | None
    propensity: float | None = Field(description="Probability the logging policy showed this course.")
    explored: bool | None = Field(description="Whether the list was randomised (exploration).")
    note: str | None
    recorded_by: str
    recorded_at: datetime
    message: str = Field(description="What was recorded, in the language asked for.")
    replayed: bool = Field(False, description="True when the idempotency key had already recorded this plan.")


class PlanList(BaseModel):
    employee_id: str
    plans: list[PlanOut]


def _out(p: plans.Plan, title: str, lang: str, replayed: bool = False) -> PlanOut:
    return PlanOut(plan_id=p.plan_id, employee_id=p.employee_id, course_id=p.course_id, status=p.status,
                   recommended=p.recommended, request_id=p.request_id, rank=p.rank, score=p.score,
                   model_name=p.model_name, model_version=p.model_version, propensity=p.propensity,
                   explored=p.explored, note=p.note, recorded_by=p.recorded_by,
                   recorded_at=datetime.fromisoformat(p.recorded_at),
                   message=recorded(p.status, title, p.rank, replayed, lang), replayed=replayed)


def _unit(svc: Svc, store: Store, who: HRCaller, employee_id: str) -> str | None:
    """The employee's org unit; 404 when unknown or outside the caller's scope."""
    feats = employee_features(svc, store, who, employee_id, EMPLOYEE_CONTEXT_SERVICE)
    return feats.values["org_unit_id"][0]


def _title(svc: Svc, course_id: str, lang: str) -> str:
    return svc.catalog.titles.get(course_id, {}).get(lang) or course_id


@router.post("/employees/{employee_id}/learning-plan", response_model=PlanOut, status_code=201, responses={
    **PROBLEMS, 200: {"description": "Already recorded under this idempotency key (nothing written twice).",
                      "model": PlanOut},
    409: {"description": "The idempotency key was used for a different plan."}},
    summary="Record that a recommended course was accepted, planned or declined")
def record_plan(employee_id: EmployeeId, body: PlanRequest, who: HRCaller, svc: Svc, store: Store,
                response: Response, lang: Lang = "en",
                idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", pattern=KEY_PATTERN)] = None,
                ) -> PlanOut:
    key = idempotency_key or body.idempotency_key
    if not key:
        raise bad_request("Idempotency-Key", "an idempotency key is required: send the Idempotency-Key header "
                                             "(8-128 letters, digits, _ . : -) so a retried call is not recorded twice")
    if idempotency_key and body.idempotency_key and idempotency_key != body.idempotency_key:
        raise bad_request("idempotency_key", "the Idempotency-Key header and the body's idempotency_key differ")
    unit = _unit(svc, store, who, employee_id)
    if body.course_id not in svc.catalog.titles:
        raise bad_request("course_id", f"course {body.course_id} is not in the course catalog")
    with svc.db_lock:
        shown = plans.last_shown(svc.db, employee_id, body.course_id, body.request_id)
    if shown is None and not body.unsolicited:
        raise bad_request("course_id", not_recommended(employee_id, body.course_id)
                          + (f" in list {body.request_id}" if body.request_id else ""))
    try:
        with svc.db_lock:
            plan, created = plans.record_plan(
                svc.db, caller_key_id=who.key_id, idempotency_key=key, employee_id=employee_id, org_unit_id=unit,
                course_id=body.course_id, status=body.status, shown=shown, note=body.note,
                recorded_by=f"{who.name} ({who.key_id})")
    except plans.IdempotencyConflict as exc:
        raise Problem(409, str(exc)) from exc
    if not created:
        response.status_code = 200
    svc.audit.append([Entry(who.key_id, who.role, f"{employee_id}/{body.course_id}", f"learning-plan/{plan.status}",
                            plan.model_name or "none", plan.model_version or "", plan.score, [])])
    return _out(plan, _title(svc, plan.course_id, lang), lang, replayed=not created)


@router.get("/employees/{employee_id}/learning-plans", response_model=PlanList, responses=PROBLEMS,
            summary="Learning plans recorded for one employee, oldest first")
def list_plans(employee_id: EmployeeId, who: HRCaller, svc: Svc, store: Store, lang: Lang = "en") -> PlanList:
    _unit(svc, store, who, employee_id)
    with svc.db_lock:
        found = plans.plans_of(svc.db, employee_id)
    svc.audit.append([Entry(who.key_id, who.role, employee_id, "learning-plans", "none", "", None, [])])
    return PlanList(employee_id=employee_id, plans=[_out(p, _title(svc, p.course_id, lang), lang) for p in found])
