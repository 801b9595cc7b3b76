"""``GET /v1/models``: the models in use (version, alias, when trained, headline metrics of their run)."""

from __future__ import annotations

from fastapi import APIRouter

from serving.deps import ModelViewer, Svc
from serving.routers import API_PREFIX
from serving.schemas import ModelInfo, ModelsResponse

router = APIRouter(prefix=API_PREFIX, tags=["models"])


@router.get("/models", response_model=ModelsResponse, summary="Models in use and models missing")
async def list_models(who: ModelViewer, svc: Svc) -> ModelsResponse:
    items = [
        ModelInfo(name=m.name, version=m.version, alias=m.alias, trained_at=m.trained_at, loaded_at=m.loaded_at,
                  run_id=m.run_id, feature_service=getattr(m.model, "feature_service_", None), metrics=m.metrics)
        for m in svc.registry.loaded().values()
    ]
    return ModelsResponse(models=items, missing=svc.registry.missing())
