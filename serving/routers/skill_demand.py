"""``GET /v1/skill-demand?org_unit=&skill=&horizon_months=6``: demand (P10/P50/P90), supply and gap per
org unit × skill, with drivers.

The forecaster is a global model over each series' monthly history (lags, rolling means), which the online
store (latest snapshot only) does not hold: the ``skill_demand_v1`` history is read once at start-up
(:func:`serving.catalog.load_demand_history`, the same point-in-time retrieval the training job uses)
and each request forecasts and explains the series of the requested subtree and skill in one call
(:func:`models.skill_demand.answer.forecast`); the handler shapes its typed result.

Supply's expected leavers come from the attrition model: the people holding each skill at the required level in
the latest ``employee_monthly`` snapshot (:func:`serving.catalog.load_skill_holders`, read at start-up), each
with their stored P(voluntary exit within ``horizon_months``) from the latest month ``talentloop score
attrition`` scored (:func:`_exit_probabilities`), summed per unit's subtree
(:func:`models.skill_demand.supply.holder_exit_probabilities`). Only when attrition was never scored does a
unit's 12-month voluntary attrition rate stand in.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Depends, Query

from features.feature_repo.definitions import MONTHLY_TTL
from models.attrition.alerts import risks_at
from models.skill_demand.answer import Interval as DemandInterval
from models.skill_demand.answer import forecast
from models.skill_demand.supply import holder_exit_probabilities
from serving.audit import Entry
from serving.deps import Predictor, Svc, bad_request, model_dependency, unit_in_scope
from serving.errors import not_found, unavailable
from serving.routers import API_PREFIX, PROBLEMS
from serving.schemas import (
    Interval,
    Lang,
    ModelRef,
    SkillDemand,
    SkillDemandRow,
    SupplyBreakdown,
    explanation_out,
)

router = APIRouter(prefix=API_PREFIX, tags=["skill demand"])


def _scope(
    who: Predictor,
    svc: Svc,
    org_unit: Annotated[str | None, Query(max_length=64, description="Org unit id (its subtree).")] = None,
    skill: Annotated[str | None, Query(max_length=64, description="Skill id, e.g. SK-RDC.")] = None,
) -> frozenset[str] | None:
    """Units the answer may cover; checked before the model so out-of-scope is 404 whatever its state."""
    units = unit_in_scope(svc, who, org_unit) if org_unit is not None else who.scope
    if skill is not None and svc.catalog is not None and skill not in svc.catalog.skill_names:
        raise not_found(f"skill {skill} not found")
    return units


def _exit_probabilities(svc: Svc, horizon: int) -> pd.DataFrame | None:
    """Each skill holder's P(voluntary exit within ``horizon`` months) from the latest stored attrition scores,
    one row per unit of the holder's ancestry (None when attrition was never scored or no holder is known)."""
    if svc.skill_holders is None or svc.skill_holders.empty:
        return None
    with svc.db_lock:
        (as_of,), = svc.db.execute("SELECT max(as_of) FROM attrition_scores").fetchall()
        risks = risks_at(svc.db, horizon, as_of) if as_of is not None else None
    if risks is None or risks["risk"].notna().sum() == 0:
        return None
    parent = svc.tree.parent
    closure = pd.DataFrame([(a, u) for u in parent for a in _ancestry(parent, u)], columns=["ancestor_id", "org_unit_id"])
    return holder_exit_probabilities(svc.skill_holders, risks, closure, horizon)


def _ancestry(parent: dict[str, str | None], unit: str) -> list[str]:
    out, node = [], unit
    while node is not None and node not in out:
        out.append(node)
        node = parent.get(node)
    return out


def _interval(i: DemandInterval) -> Interval:
    return Interval(p10=i.p10, p50=i.p50, p90=i.p90)


@router.get("/skill-demand", response_model=SkillDemand, responses=PROBLEMS,
            summary="Skill demand vs supply forecast for an org unit's subtree")
def skill_demand(
    who: Predictor,
    svc: Svc,
    units: Annotated[frozenset[str] | None, Depends(_scope)],
    org_unit: Annotated[str | None, Query(max_length=64, description="Org unit id (its subtree).")] = None,
    skill: Annotated[str | None, Query(max_length=64, description="Skill id, e.g. SK-RDC.")] = None,
    horizon_months: Annotated[int, Query(ge=1, le=12, description="Months ahead.")] = 6,
    lang: Lang = "en",
    limit: Annotated[int, Query(ge=1, le=500, description="At most this many series, largest gap first (at most 500).")] = 100,
) -> SkillDemand:
    champion = model_dependency("skill_demand")(svc)  # after validation and scope: 422 / 404 come first
    model, history = champion.model, svc.demand_history
    if history is None:
        raise unavailable("the skill-demand history is not loaded (no unit_skill_monthly features)")
    fitted = list(getattr(model, "horizons_", range(1, 13)))
    if horizon_months not in fitted:
        raise bad_request("horizon_months", f"horizon_months must be one of {', '.join(map(str, fitted))}")
    rows = history
    if units is not None:
        rows = rows[rows["org_unit_id"].isin(units)]
    if skill is not None:
        rows = rows[rows["skill_id"] == skill]
    got = forecast(model, rows, horizon_months, lang, limit, exit_probabilities=_exit_probabilities(svc, horizon_months))
    names = svc.catalog.skill_names if svc.catalog is not None else {}
    items = [SkillDemandRow(
        org_unit_id=f.org_unit_id, skill_id=f.skill_id, skill_name=names.get(f.skill_id, {}).get(lang),
        horizon_months=horizon_months, month=f.month, demand=_interval(f.demand), method=f.method,
        method_text=f.method_text,
        supply=f.supply.supply if f.supply else None,
        supply_breakdown=SupplyBreakdown(holders=f.supply.holders, expected_leavers=f.supply.expected_leavers,
                                         expected_completions=f.supply.expected_completions) if f.supply else None,
        gap=f.gap.p50 if f.gap else None, gap_interval=_interval(f.gap) if f.gap else None,
        explanation=explanation_out(f.explanation, source=got.source)) for f in got.items]
    as_of = got.features_as_of
    svc.audit.append([Entry(who.key_id, who.role, f"{i.org_unit_id}/{i.skill_id}", "skill-demand", champion.name,
                            champion.version, i.demand.p50,
                            [c.feature for c in i.explanation.contributions] if i.explanation else [])
                      for i in items])
    stale = as_of is not None and as_of + MONTHLY_TTL < datetime.now(UTC)
    return SkillDemand(org_unit=org_unit, horizon_months=horizon_months, items=items,
                       model=ModelRef(name=champion.name, version=champion.version), features_as_of=as_of,
                       stale=stale)
