"""``POST /v1/admin/models/reload`` (admin): pick up new ``champion`` versions without dropping requests.

A plain ``def`` handler: it runs in the thread pool, so loading a model (seconds) never blocks the event
loop; requests in flight keep the model object they started with, new ones get the new version once it
is fully loaded.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from serving.deps import Admin, Svc
from serving.routers import API_PREFIX
from serving.schemas import ModelRef, ReloadResponse

router = APIRouter(prefix=API_PREFIX, tags=["admin"])


@router.post("/admin/models/reload", response_model=ReloadResponse, summary="Reload models whose alias moved")
def reload_models(request: Request, who: Admin, svc: Svc) -> ReloadResponse:
    report = svc.registry.reload()
    loaded = svc.registry.loaded()
    request.app.state.metrics.set_models({n: (m.version, m.alias) for n, m in loaded.items()})
    return ReloadResponse(report=report, models=[ModelRef(name=n, version=m.version) for n, m in loaded.items()])
