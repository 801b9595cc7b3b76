"""Training points (积分制), from the balances ``talentloop score points`` stores each month
(``models.points.store``; rules in the workspace's ``points.yaml``, docs/points.md).

- ``GET /v1/employees/{id}/points`` answers for one person: target, points earned this year, projected
  year-end attainment, spendable balance, recent months;
- ``GET /v1/points?org_unit=`` gives completion rates per unit of a subtree (share who met the yearly target,
  share on track to meet it by year end), and with ``people=true`` the people's balances, paged.

Scoped like the other endpoints (an hr_partner sees only the subtrees granted; anything else is 404); every
answer that shows a person's points is written to the audit log.
"""

from __future__ import annotations

from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from models.points import store
from models.points.balances import unit_completion
from models.points.store import NOT_SCORED
from models.wording.needs import points_text
from serving.audit import Entry
from serving.deps import EmployeeId, HRCaller, Svc, unit_in_scope
from serving.errors import not_found, unavailable
from serving.routers import API_PREFIX, PROBLEMS
from serving.schemas import Lang

router = APIRouter(prefix=API_PREFIX, tags=["training points"])


class PointsMonth(BaseModel):
    as_of: str
    earned: float
    target: float
    projected: float


class EmployeePoints(BaseModel):
    employee_id: str
    org_unit_id: str | None
    as_of: str = Field(description="Month scored (first day): rows dated before it count.")
    year_start: str = Field(description="First day of the points year.")
    year_end: str = Field(description="First day after the points year.")
    job_level: int | None
    target: float = Field(description="Yearly target of the job level, prorated for people hired in the year.")
    earned: float = Field(description="Points earned this points year (courses by the rules, plus bonus entries).")
    remaining: float = Field(description="Points still needed to meet the target (0 when met).")
    pace_per_month: float = Field(description="Points earned per month over the last 12 months.")
    projected: float = Field(description="Projected points at year end: earned + pace × months left.")
    attainment: float = Field(description="earned / target.")
    projected_attainment: float = Field(description="projected / target.")
    met: bool
    on_track: bool = Field(description="Projected to meet the target by year end.")
    balance: float = Field(description="Spendable balance from the points ledger (redemptions subtracted).")
    text: str = Field(description="The balance as a sentence in the requested language.")
    history: list[PointsMonth] = Field(description="The latest scored months, newest first.")


class UnitPoints(BaseModel):
    org_unit_id: str
    name: str = Field(description="Unit name in the requested language.")
    headcount: int = Field(description="People scored in the unit's subtree (within the caller's scope).")
    completion_rate: float = Field(description="Share who met the yearly target.")
    on_track_rate: float = Field(description="Share projected to meet it by year end.")
    mean_attainment: float
    mean_projected_attainment: float
    points_earned: float


class PointsOverview(BaseModel):
    org_unit: str | None
    as_of: str | None
    units: list[UnitPoints] = Field(description="Every unit of the subtree with people, the asked unit first.")
    people: list[EmployeePoints] | None = Field(None, description="With people=true: balances, lowest projected "
                                                                  "attainment first, paged.")
    total_people: int
    page: int
    page_size: int


def _person(r: dict, lang: str, history: list[dict]) -> EmployeePoints:
    return EmployeePoints(
        employee_id=r["employee_id"], org_unit_id=r.get("org_unit_id"), as_of=r["as_of"], year_start=r["year_start"],
        year_end=r["year_end"], job_level=None if r.get("job_level") is None or pd.isna(r["job_level"])
        else int(r["job_level"]), target=r["target"], earned=r["earned"], remaining=r["remaining"],
        pace_per_month=round(float(r["pace_per_month"]), 2), projected=r["projected"], attainment=r["attainment"],
        projected_attainment=r["projected_attainment"], met=bool(r["met"]), on_track=bool(r["on_track"]),
        balance=r["balance"], text=points_text(r["earned"], r["target"], r["projected"],
                                               _last_day(r["year_end"]), lang),
        history=[PointsMonth(**h) for h in history])


def _last_day(year_end: str) -> str:
    return str((pd.Timestamp(year_end) - pd.Timedelta(days=1)).date())


def _audit(svc: Svc, who: HRCaller, endpoint: str, people: list[EmployeePoints]) -> None:
    svc.audit.append([Entry(who.key_id, who.role, p.employee_id, endpoint, "points", "", p.projected_attainment,
                            [], "precomputed") for p in people])


@router.get("/employees/{employee_id}/points", response_model=EmployeePoints, responses=PROBLEMS,
            summary="One employee's training points: target, earned, projected year-end attainment")
def employee_points(employee_id: EmployeeId, who: HRCaller, svc: Svc, lang: Lang = "en") -> EmployeePoints:
    with svc.db_lock:
        row = store.employee_balance(svc.db, employee_id)
        history = store.employee_history(svc.db, employee_id) if row else []
    if row is None or not who.sees(row.get("org_unit_id")):
        raise not_found(f"employee {employee_id} not found")
    out = _person(row, lang, history)
    _audit(svc, who, "points", [out])
    return out


@router.get("/points", response_model=PointsOverview, responses=PROBLEMS,
            summary="Training points completion per unit of an org unit's subtree (and the people's balances)")
def points_overview(
    who: HRCaller, svc: Svc,
    org_unit: Annotated[str | None, Query(max_length=64, description="Org unit id: its whole subtree (default: "
                                                                     "every unit the caller may see).")] = None,
    people: Annotated[bool, Query(description="Also list the people's balances (audited).")] = False,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
    lang: Lang = "en",
) -> PointsOverview:
    units = sorted(unit_in_scope(svc, who, org_unit)) if org_unit is not None else (
        None if who.scope is None else sorted(who.scope))
    with svc.db_lock:
        if store.latest_month(svc.db) is None:
            raise unavailable(NOT_SCORED)
        rows, month = store.month_rows(svc.db, None, units)
    seen = set(units) if units is not None else set(svc.tree.parent)
    closure = pd.DataFrame([(a, u) for a in seen for u in svc.tree.subtree(a) & seen],
                           columns=["ancestor_id", "org_unit_id"])
    table = unit_completion(rows, closure)
    if org_unit is not None:
        table = pd.concat([table[table["org_unit_id"] == org_unit], table[table["org_unit_id"] != org_unit]])
    names = svc.tree.names  # read once at start-up with the tree the scope checks use
    out_units = [UnitPoints(name=names.get(r["org_unit_id"], {}).get(lang, r["org_unit_id"]), **r)
                 for r in table.to_dict(orient="records")]
    listed = None
    if people:
        ordered = rows.sort_values(["projected_attainment", "employee_id"])
        chunk = ordered.iloc[(page - 1) * page_size: page * page_size]
        listed = [_person(r, lang, []) for r in chunk.to_dict(orient="records")]
        _audit(svc, who, "points-list", listed)
    return PointsOverview(org_unit=org_unit, as_of=month, units=out_units, people=listed, total_people=len(rows),
                          page=page, page_size=page_size)

