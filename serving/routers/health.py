"""``/healthz`` (process up), ``/readyz`` (models and stores loaded), ``/metrics`` (Prometheus)."""

from __future__ import annotations

import os

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from serving.schemas import Health, Ready

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="The process is up")
async def healthz() -> Health:
    return Health(status="ok", worker=os.getpid())


@router.get("/readyz", response_model=Ready, summary="200 only when every model and store is loaded",
            responses={503: {"model": Ready, "description": "Something is missing; `missing` names it."}})
def readyz(request: Request) -> Response:
    svc = request.app.state.services
    if svc is None:
        body = Ready(status="not ready", models={}, stores={}, missing=["service starting"])
        return JSONResponse(body.model_dump(), status_code=503)
    loaded = svc.registry.loaded()
    models = {n: f"version {m.version}" for n, m in loaded.items()}
    models.update({n: f"missing: {why}" for n, why in svc.registry.missing().items()})
    stores = svc.stores()
    missing = [f"model {n}" for n in svc.registry.missing()]
    missing += [f"store {n}" for n, state in stores.items() if state != "ok"]
    body = Ready(status="not ready" if missing else "ready", models=models, stores=stores, missing=missing)
    return JSONResponse(body.model_dump(), status_code=503 if missing else 200)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    svc = request.app.state.services
    if svc is not None:  # versions as labels, current even after a reload by the poller
        request.app.state.metrics.set_models({n: (m.version, m.alias) for n, m in svc.registry.loaded().items()})
        request.app.state.metrics.set_governance(svc.registry.loaded())
    payload, content_type = request.app.state.metrics.render()
    return Response(payload, media_type=content_type)
