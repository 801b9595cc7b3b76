"""``POST /v1/admin/models/reload`` (admin): pick up new ``champion`` versions without dropping requests.

A plain ``def`` handler: it runs in the thread pool, so loading a model (seconds) never blocks the event
loop; requests in flight keep the model object they started with, new ones get the new version once it
is fully loaded. The worker that receives the request reloads (models and cached online views) and answers
with its report; it then signals every other worker of the workspace, which reloads within about a second.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from serving.deps import Admin, Svc
from serving.routers import API_PREFIX, HIDDEN_FROM_PARTNERS, problems
from serving.schemas import ModelRef, ReloadResponse

router = APIRouter(prefix=API_PREFIX, tags=["admin"])


@router.post("/admin/models/reload", response_model=ReloadResponse, summary="Reload models whose alias moved",
             responses=problems(401, 403, 404, 503, forbidden="The key's role is not admin (hr_system, data_scientist).",
                                not_found=HIDDEN_FROM_PARTNERS))
def reload_models(request: Request, who: Admin, svc: Svc) -> ReloadResponse:
    report = svc.reload()
    svc.registry.announce()
    loaded = svc.registry.loaded()
    request.app.state.metrics.set_models({n: (m.version, m.alias) for n, m in loaded.items()})
    return ReloadResponse(report=report, models=[ModelRef(name=n, version=m.version) for n, m in loaded.items()])
