"""Attrition alerts (raised by batch scoring with the model's threshold policy) and their review workflow.

``GET /v1/attrition-alerts`` lists alerts of an org unit's subtree (an hr_partner: only the subtrees
granted); ``GET /v1/attrition-alerts/{alert_id}`` shows one with its history; ``POST
/v1/attrition-alerts/{alert_id}/review`` records acknowledged / actioned / dismissed with an action and a
note (history is append-only).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from models.attrition import alerts as store
from models.attrition.reasons import DRIVERS
from serving.audit import Entry
from serving.deps import HRCaller, Svc, unit_in_scope
from serving.errors import not_found
from serving.lever_course import name_course
from serving.registry import ModelNotLoaded, model_status
from serving.routers import API_PREFIX, PROBLEMS
from serving.schemas import (
    AlertContext,
    AlertList,
    AlertOut,
    AlertPolicy,
    Lang,
    ReviewOut,
    ReviewRequest,
    ReviewResponse,
    levers_out,
    stored_explanation_out,
)

router = APIRouter(prefix=API_PREFIX, tags=["attrition alerts"])
AlertId = Annotated[str, Path(min_length=1, max_length=100, description="Alert id, e.g. att-202501-E0000002")]


def _alert_out(a: store.Alert, lang: str, svc: Svc | None = None, who: HRCaller | None = None) -> AlertOut:
    levers = list(a.explained.levers or ())
    if svc is not None:
        levers = name_course(levers, svc, who, a.employee_id)
    return AlertOut(alert_id=a.alert_id, as_of=a.as_of, employee_id=a.employee_id, org_unit_id=a.org_unit_id,
                    horizon_months=a.horizon, risk=a.risk, model_version=a.model_version, status=a.status,
                    explanation=stored_explanation_out(a.explanation, lang, DRIVERS),
                    levers=levers_out(levers, lang, a.horizon), context=_context(a.explained.context, lang),
                    created_at=a.created_at, updated_at=a.updated_at, model_status=_status(svc, a.model_version, lang))


def _status(svc: Svc | None, version: str, lang: str) -> dict | None:
    """The model status of the version that raised an alert, when it is the one in use and was forced."""
    if svc is None:
        return None
    try:
        loaded = svc.registry.get("attrition")
    except ModelNotLoaded:
        return None
    return model_status(loaded, lang) if str(loaded.version) == str(version) else None


def _context(stored: Mapping | None, lang: str) -> AlertContext | None:
    """The stored context (numbers and both languages' texts) in ``lang``."""
    if not stored or lang not in stored:
        return None
    numbers = {k: v for k, v in stored.items() if k not in ("en", "zh")}
    return AlertContext(**numbers, **stored[lang])


def _policy(svc: Svc) -> AlertPolicy | None:
    try:
        policy = getattr(svc.registry.get("attrition").model, "policy_", None)
    except ModelNotLoaded:
        return None
    if policy is None:
        return None
    return AlertPolicy(horizon_months=policy.horizon, min_risk=policy.min_risk, top_share=policy.top_share)


TOP = 5  # drivers named in an audit row


def _audit(svc: Svc, who: HRCaller, endpoint: str, alerts: list[AlertOut]) -> None:
    """One audit row per alert shown (its risk and drivers are a prediction about a person)."""
    svc.audit.append([Entry(who.key_id, who.role, a.employee_id, endpoint, "attrition", a.model_version, a.risk,
                            [c.feature for c in a.explanation.contributions[:TOP]], a.explanation.source)
                      for a in alerts])


def _visible_alert(svc: Svc, who: HRCaller, alert_id: str) -> store.Alert:
    with svc.db_lock:
        alert = store.get_alert(svc.db, alert_id)
    if alert is None or not who.sees(alert.org_unit_id):
        raise not_found(f"alert {alert_id} not found")
    return alert


@router.get("/attrition-alerts", response_model=AlertList, responses=PROBLEMS,
            summary="Alerts of an org unit's subtree, newest month and highest risk first")
def list_alerts(
    who: HRCaller,
    svc: Svc,
    org_unit: Annotated[str | None, Query(max_length=64, description="Org unit id: its whole subtree.")] = None,
    status: Annotated[Literal["open", "acknowledged", "actioned", "dismissed"] | None, Query()] = None,
    min_risk: Annotated[float | None, Query(ge=0.0, le=1.0, description="Only alerts with risk ≥ this.")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
    lang: Lang = "en",
) -> AlertList:
    units = None
    if org_unit is not None:
        units = sorted(unit_in_scope(svc, who, org_unit))
    elif who.scope is not None:
        units = sorted(who.scope)
    with svc.db_lock:
        items, total = store.list_alerts(svc.db, org_units=units, status=status, min_risk=min_risk, page=page,
                                         page_size=page_size)
    shown = [_alert_out(a, lang, svc, who) for a in items]
    _audit(svc, who, "attrition-alerts", shown)
    return AlertList(items=shown, total=total, page=page, page_size=page_size, alert_policy=_policy(svc))


@router.get("/attrition-alerts/{alert_id}", response_model=ReviewResponse, responses=PROBLEMS,
            summary="One alert with its review history")
def get_alert(alert_id: AlertId, who: HRCaller, svc: Svc, lang: Lang = "en") -> ReviewResponse:
    alert = _visible_alert(svc, who, alert_id)
    with svc.db_lock:
        history = store.history(svc.db, alert_id)
    shown = _alert_out(alert, lang, svc, who)
    _audit(svc, who, "attrition-alert", [shown])
    return ReviewResponse(alert=shown, history=[ReviewOut(**h) for h in history])


@router.post("/attrition-alerts/{alert_id}/review", response_model=ReviewResponse, responses=PROBLEMS,
             summary="Review an alert: acknowledged, actioned or dismissed (history kept)")
def review_alert(alert_id: AlertId, body: ReviewRequest, who: HRCaller, svc: Svc,
                       lang: Lang = "en") -> ReviewResponse:
    _visible_alert(svc, who, alert_id)
    with svc.db_lock:
        history = store.review(svc.db, alert_id, body.status, reviewer=f"{who.name} ({who.key_id})",
                               action_taken=body.action_taken, note=body.note)
        alert = store.get_alert(svc.db, alert_id)
    shown = _alert_out(alert, lang, svc, who)
    _audit(svc, who, f"attrition-alert/review/{body.status}", [shown])
    return ReviewResponse(alert=shown, history=[ReviewOut(**h) for h in history])
