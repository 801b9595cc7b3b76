"""``GET /v1/models``: the models in use (version, alias, when trained, headline metrics of their run), how each
became champion (the promotion gate's result), its fairness audit's status and date, and any recorded exception."""

from __future__ import annotations

from fastapi import APIRouter

from serving.deps import ModelViewer, Svc
from serving.registry import LoadedModel, model_status
from serving.routers import API_PREFIX, HIDDEN_FROM_PARTNERS, problems
from serving.schemas import Lang, ModelInfo, ModelsResponse, ModelStatus

router = APIRouter(prefix=API_PREFIX, tags=["models"])
GATES = {"promoted": "passed", "forced": "forced"}
FAIRNESS = ("passed", "failed", "not_audited", "not_applicable")


def model_info(m: LoadedModel, lang: str = "en") -> ModelInfo:
    gov = m.governance
    status = model_status(m, lang)
    fairness = gov.get("fairness")
    if fairness not in FAIRNESS:
        fairness = "not_applicable" if m.name == "skill_demand" else "not_audited"
    ratio = gov.get("min_impact_ratio")
    monitoring = {k.removeprefix("monitor."): v for k, v in gov.items() if k.startswith("monitor.")}
    return ModelInfo(
        name=m.name, version=m.version, alias=m.alias, trained_at=m.trained_at, loaded_at=m.loaded_at,
        run_id=m.run_id, feature_service=getattr(m.model, "feature_service_", None), metrics=m.metrics,
        gate=GATES.get(gov.get("gate", ""), "not_gated"),
        gate_reasons=[r for r in gov.get("gate_reasons", "").split(" | ") if r],
        gate_at=gov.get("gate_at") or None, gate_by=gov.get("gate_by") or None,
        fairness=fairness, fairness_audit_date=gov.get("fairness_audit_date") or None,
        min_impact_ratio=float(ratio) if ratio else None,
        model_status=ModelStatus(**status) if status else None,
        monitoring=monitoring or None,
    )


@router.get("/models", response_model=ModelsResponse, summary="Models in use and models missing",
            responses=problems(401, 404, 422, 503, not_found=HIDDEN_FROM_PARTNERS))
async def list_models(who: ModelViewer, svc: Svc, lang: Lang = "en") -> ModelsResponse:
    items = [model_info(m, lang) for m in svc.registry.loaded().values()]
    return ModelsResponse(models=items, missing=svc.registry.missing())
