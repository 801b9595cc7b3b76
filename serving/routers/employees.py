"""``GET /v1/employees/{employee_id}/attrition-risk``: risk at a horizon, the 1-12 curve, drivers, levers.

One online read (the model's feature service). When batch scoring stored this employee's score with the
same model version on the same feature month, the risk curve comes from it (``risk_source: precomputed``)
and so do the explanation and the what-if levers at the scored horizon (``explanation.source``,
``levers_source``: ``precomputed``); otherwise the model predicts, and exact TreeSHAP and the levers are
computed, for the request (``live``). The inputs are the same, so the numbers are the same either way; only
the cost differs. ``contributions=all`` always computes live and returns every input, so
``base_value + sum(contributions) == raw_score`` can be checked. The choice is made in one call,
:func:`models.attrition.answer.answer`; the handler reads the inputs and shapes its typed result.

Where it runs: the handler is ``async``. The online read, the stored score and, when the stored score answers
everything asked (:func:`_precomputed`), the answer and its audit row run on the event loop: about a millisecond,
and a thread-pool round trip per request cost more than that (GIL hand-offs between the loop and the pool's
threads: a quarter of the worker's busy samples under load, docs/serving-performance.md). Anything computed for
the request (TreeSHAP, levers, the course a lever names) runs in the thread pool, so it never holds the loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from features.feature_repo.services import EMPLOYEE_CONTEXT_SERVICE
from models.attrition import HORIZONS
from models.attrition.alerts import StoredScore, latest_score
from models.attrition.answer import answer
from serving.audit import Entry
from serving.deps import AttritionChampion, EmployeeId, Predictor, Store, Svc, employee_features
from serving.lever_course import name_course
from serving.registry import model_status
from serving.routers import API_PREFIX, PROBLEMS
from serving.schemas import (
    AlertPolicy,
    AttritionRisk,
    Lang,
    ModelRef,
    RiskPoint,
    explanation_out,
    levers_out,
)

router = APIRouter(prefix=API_PREFIX, tags=["attrition"])
TOP = 5


def _stored_score(svc: Svc, employee_id: str, version: str, features_as_of) -> StoredScore | None:
    """The batch score of this employee when it was made from these very inputs (same model version, same
    feature month), else None."""
    with svc.db_lock:
        stored = latest_score(svc.db, employee_id)
    return stored if stored is not None and stored.made_from(version, features_as_of) else None


def _base_pay(store, employee_id: str) -> Callable[[], object]:
    """Reads the employee's base pay from their context features (only when a pay lever is priced)."""
    def read() -> object:
        from features.store import online_features

        context = online_features(store, EMPLOYEE_CONTEXT_SERVICE, [{"employee_id": employee_id}])
        return None if context.missing else context.values.get("base_pay", [None])[0]

    return read


def _precomputed(stored: StoredScore | None, horizon: int, contributions: str, levers: bool) -> bool:
    """True when the stored score answers the whole request: nothing to compute, no course to look up (a
    stored "complete a course" lever names the ranker's first pick, which is computed)."""
    if stored is None or stored.horizon != horizon or contributions != "top":
        return False
    if not levers:
        return True
    kept = stored.explained.levers
    return kept is not None and not any(lv["lever"] == "complete_a_course" for lv in kept)


@router.get(
    "/employees/{employee_id}/attrition-risk", response_model=AttritionRisk, responses=PROBLEMS,
    summary="Attrition risk of one employee, with drivers and what-if levers",
)
async def attrition_risk(
    employee_id: EmployeeId,
    who: Predictor,
    svc: Svc,
    store: Store,
    champion: AttritionChampion,
    horizon_months: Annotated[int, Query(ge=1, le=12, description="Months ahead, 1-12.")] = 3,
    lang: Annotated[Lang, Query(description="Language of names and reasons.")] = "en",
    contributions: Annotated[Literal["top", "all"], Query(
        description="top: the 5 strongest drivers; all: every input (computed live, additivity checkable).")] = "top",
    levers: Annotated[bool, Query(description="Include model-based what-if levers.")] = True,
) -> AttritionRisk:
    feats = employee_features(svc, store, who, employee_id, champion.model.feature_service_)
    stored = _stored_score(svc, employee_id, champion.version, feats.features_as_of)
    args = (svc, store, who, champion, employee_id, feats, stored, horizon_months, lang, contributions, levers)
    if _precomputed(stored, horizon_months, contributions, levers):
        return _respond(*args)
    return await run_in_threadpool(_respond, *args)


def _respond(svc: Svc, store, who, champion, employee_id: str, feats, stored: StoredScore | None,
             horizon_months: int, lang: str, contributions: str, levers: bool) -> AttritionRisk:
    """The answer (computing what the stored score does not hold), audited, shaped."""
    model = champion.model
    got = answer(model, feats.frame, stored, horizon_months, lang, top=TOP if contributions == "top" else None,
                 levers=levers, base_pay=_base_pay(store, employee_id),
                 replacement_cost_multiple=svc.settings.replacement_cost_multiple)
    explanation = explanation_out(got.explanation, complete=got.complete, source=got.explanation_source)
    what_if = name_course(got.levers, svc, who, employee_id) if got.levers else []
    curve, risk = got.curve, got.risk(horizon_months)
    policy = getattr(model, "policy_", None)
    svc.audit.append([Entry(who.key_id, who.role, employee_id, "attrition-risk", champion.name, champion.version,
                            risk, [c.feature for c in explanation.contributions[:TOP]], explanation.source)])
    return AttritionRisk(
        employee_id=employee_id, horizon_months=horizon_months, risk=risk, risk_source=got.risk_source,
        risk_curve=[RiskPoint(horizon_months=h, risk=float(r)) for h, r in zip(HORIZONS, curve, strict=True)],
        above_alert_threshold=None if policy is None else bool(curve[policy.horizon - 1] >= policy.min_risk),
        alert_policy=None if policy is None else AlertPolicy(horizon_months=policy.horizon, min_risk=policy.min_risk,
                                                             top_share=policy.top_share),
        explanation=explanation,
        levers=levers_out(what_if, lang, horizon_months),
        levers_source=got.levers_source,
        model=ModelRef(name=champion.name, version=champion.version),
        model_status=model_status(champion, lang),
        features_as_of=feats.features_as_of, stale=feats.stale,
    )
