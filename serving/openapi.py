"""The OpenAPI document as the loaded models make it true.

FastAPI builds the document once from the routes' annotations. One promise depends on the model in use: the
skill-demand forecaster answers only the horizons it was trained for (a direct model per horizon; the
training job fits 1-12, a smaller forecaster fewer), so ``GET /v1/skill-demand``'s ``horizon_months`` is
declared as the fitted horizons (an enum) whenever they are not all of 1-12, and as required when the
default (6) is not among them. Attrition serves every horizon 1-12 (one hazard model) and is declared so.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI

SKILL_DEMAND = "/v1/skill-demand"
ALL_HORIZONS = tuple(range(1, 13))


def fitted_horizons(app: FastAPI) -> tuple[int, ...] | None:
    """The horizons of the skill-demand forecaster this worker serves; None when none is loaded."""
    svc = getattr(app.state, "services", None)
    if svc is None:
        return None
    loaded = svc.registry.loaded().get("skill_demand")
    if loaded is None:  # not loaded: the endpoint answers 503 whatever the horizon; the static 1-12 stands
        return None
    return tuple(sorted(int(h) for h in getattr(loaded.model, "horizons_", ALL_HORIZONS)))


def with_horizons(spec: dict[str, Any], horizons: Sequence[int]) -> dict[str, Any]:
    """A copy of ``spec`` whose skill-demand ``horizon_months`` accepts exactly ``horizons``."""
    out = copy.deepcopy(spec)
    operation = out.get("paths", {}).get(SKILL_DEMAND, {}).get("get")
    for p in (operation or {}).get("parameters", []):
        if p.get("name") != "horizon_months":
            continue
        schema = p.setdefault("schema", {})
        default = schema.get("default")
        for bound in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            schema.pop(bound, None)
        schema["enum"] = list(horizons)
        listed = ", ".join(map(str, horizons))
        p["description"] = f"Months ahead: one of the horizons the forecaster in use was trained for ({listed})."
        if default is not None and default not in horizons:
            schema.pop("default", None)
            p["required"] = True
    return out


def install(app: FastAPI) -> None:
    """Serve the document with the loaded forecaster's horizons (recomputed when a reload changes them)."""
    static: Callable[[], dict[str, Any]] = app.openapi  # FastAPI's own, built once and cached
    cache: dict[tuple[int, ...], dict[str, Any]] = {}

    def openapi() -> dict[str, Any]:
        spec = static()
        horizons = fitted_horizons(app)
        if horizons is None or horizons == ALL_HORIZONS:
            return spec
        if horizons not in cache:
            cache.clear()
            cache[horizons] = with_horizons(spec, horizons)
        return cache[horizons]

    app.openapi = openapi  # type: ignore[method-assign]
