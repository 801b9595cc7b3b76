"""The app factory: ``create_app(settings)``; models and stores are loaded in the lifespan, never at import.

Run with ``talentloop serve`` (uvicorn with ``factory=True``). ``reload_seconds`` (or the setting
``TALENTLOOP_RELOAD_SECONDS``) polls the ``champion`` aliases and swaps in new versions; an admin
can also ``POST /v1/admin/models/reload``, which reaches every worker through the workspace's reload signal
file (``serving.services.reload_signal``, read by each worker about once a second).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from features.settings import Settings
from serving import errors, openapi
from serving.deps import get_settings
from serving.metrics import Metrics, MetricsMiddleware
from serving.registry import ModelRegistry

API_VERSION = "v1"
DESCRIPTION = """TalentLoop serving API: attrition risk with explanations and what-if levers, attrition
alerts with a review workflow, course recommendations, skill-demand forecasts.

Authenticate with `Authorization: Bearer <key>` or `X-API-Key: <key>` (keys from `talentloop keys create`).
Errors are `application/problem+json`. Every answer names the model version and the feature timestamp."""


def create_app(settings: Settings | None = None, reload_seconds: float | None = None,
               registry: ModelRegistry | None = None) -> FastAPI:
    """A new app. ``settings`` default to the environment; ``registry`` lets a caller supply model loading."""
    if reload_seconds is None:
        reload_seconds = (settings or Settings()).reload_seconds
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from serving import services

        active = app.state.settings or app.dependency_overrides.get(get_settings, get_settings)()
        svc = await asyncio.to_thread(services.build, active, reload_seconds, registry)
        app.state.services = svc
        app.state.console = await asyncio.to_thread(console_context.build_or_report, svc)

        def publish() -> None:
            app.state.metrics.set_models({n: (m.version, m.alias) for n, m in svc.registry.loaded().items()})

        def reloaded(_report: dict[str, str]) -> None:  # after a reload signalled by another worker
            svc.reopen_store()  # a restored online store is a new file: open it (and read the views again)
            publish()

        publish()
        # the models, catalogs and history loaded above live as long as the worker: move them out of the
        # collector's reach so a full collection during a request does not walk them (p99 tail latency)
        gc.collect()
        gc.freeze()
        svc.registry.watch(services.reload_signal(active), then=reloaded)
        try:
            yield
        finally:
            app.state.services = None
            app.state.console = None
            svc.close()

    app = FastAPI(title="TalentLoop", version="0.1.0", description=DESCRIPTION, lifespan=lifespan,
                  openapi_url=f"/{API_VERSION}/openapi.json", docs_url=f"/{API_VERSION}/docs", redoc_url=None)
    app.state.metrics = metrics
    app.state.services = None
    app.state.console = None
    # settings given here are used as they are (not through dependency_overrides: any override makes FastAPI
    # re-analyse every dependency on every request); tests may still override ``get_settings``
    app.state.settings = settings
    errors.install(app)
    openapi.install(app)  # skill-demand horizons as the loaded forecaster was trained for
    app.add_middleware(MetricsMiddleware, metrics=lambda: app.state.metrics)

    from fastapi.staticfiles import StaticFiles

    from serving.console import context as console_context
    from serving.console import web as console_web
    from serving.routers import admin, alerts, employees, health, models, recommendations, skill_demand
    from serving.routers.learning_plans import router as learning_plans_router
    from serving.routers.points import router as points_router
    from serving.routers.talent_pool import router as talent_pool_router
    from serving.routers.training_effect import router as training_effect_router
    from serving.routers.training_needs import router as training_needs_router

    app.include_router(health.router)
    for module in (employees, alerts, recommendations, skill_demand, models, admin):
        app.include_router(module.router)
    app.include_router(talent_pool_router)
    app.include_router(training_effect_router)
    app.include_router(points_router)
    app.include_router(training_needs_router)
    app.include_router(learning_plans_router)
    app.include_router(console_web.router)  # the HR partner console (HTML) under /console
    app.mount("/console/static", StaticFiles(directory=console_context.STATIC), name="console-static")
    return app
