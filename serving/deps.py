"""Dependencies of the handlers, as ``Annotated`` aliases: settings, services, caller, models, features.

They are ``async def`` (none blocks): a plain ``def`` dependency costs a thread-pool round trip per request.

Handlers declare what they need (``who: Caller``, ``model: AttritionChampion``) and stay thin: look up
features, call the model, shape the response.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Annotated, Any

from fastapi import Depends, Path, Request, Security
from fastapi.security import APIKeyHeader, HTTPBearer

from features.feature_repo.services import EMPLOYEE_CONTEXT_SERVICE
from features.settings import Settings
from serving.auth import Principal
from serving.errors import Problem, forbidden, not_found, unauthorized, unavailable
from serving.registry import LoadedModel, ModelNotLoaded
from serving.services import Services


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process (tests override this dependency or pass settings to create_app)."""
    return Settings()


async def get_services(request: Request) -> Services:
    svc = getattr(request.app.state, "services", None)
    if svc is None:
        raise unavailable("the service is starting: models and stores are not loaded yet")
    return svc


Svc = Annotated[Services, Depends(get_services)]
# declared as OpenAPI security schemes (the docs' "Authorize" button); checked below, never auto-refused here
bearer = HTTPBearer(scheme_name="bearer", auto_error=False,
                    description="`Authorization: Bearer <API key>` (keys from `talentloop keys create`).")
api_key_header = APIKeyHeader(name="X-API-Key", scheme_name="apiKey", auto_error=False,
                              description="The API key (alternative to Authorization).")
SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_principal(
    request: Request,
    svc: Svc,
    _bearer: Annotated[Any, Security(bearer)] = None,
    x_api_key: Annotated[str | None, Security(api_key_header)] = None,
) -> Principal:
    authorization = request.headers.get("authorization")
    key = None
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("the Authorization header must be 'Bearer <API key>'")
        key = token.strip()
    elif x_api_key:
        key = x_api_key.strip()
    if not key:
        raise unauthorized("an API key is required: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'")
    verdict = svc.keys.check(key, request.url.path)
    if verdict.principal is None:
        if verdict.reason in ("revoked", "expired"):
            raise unauthorized(f"the API key {verdict.key_id} was {verdict.reason} on {(verdict.since or '')[:10]}; "
                               "ask an admin for a new key")
        raise unauthorized("the API key is not valid (unknown, revoked or expired); ask an admin for a key")
    return verdict.principal


def require(*roles: str) -> Callable[..., Principal]:
    """A dependency admitting ``roles``; an hr_partner outside them gets 404 (existence hidden), others 403."""

    async def check(request: Request, who: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if who.role in roles:
            return who
        if who.role == "hr_partner":
            raise not_found(f"no resource at {request.url.path}")
        raise forbidden(f"role {who.role} may not use {request.url.path}; allowed: {', '.join(roles)}")

    return check


Predictor = Annotated[Principal, Depends(require("hr_system", "hr_partner", "data_scientist", "admin"))]
HRCaller = Annotated[Principal, Depends(require("hr_system", "hr_partner", "admin"))]
ModelViewer = Annotated[Principal, Depends(require("hr_system", "data_scientist", "admin"))]
Admin = Annotated[Principal, Depends(require("admin"))]

EmployeeId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$",
                                 description="Employee id as in the HR feed.", examples=["E0000002"])]


def model_dependency(name: str) -> Callable[[Services], LoadedModel]:
    """``get(svc)``: the loaded model or 503; used as a dependency (``dependency(name)``) or called directly."""

    def get(svc: Svc) -> LoadedModel:
        try:
            return svc.registry.get(name)
        except ModelNotLoaded as exc:
            raise unavailable(str(exc)) from exc

    return get


def dependency(name: str) -> Callable[..., Any]:
    """``model_dependency`` as an async dependency (no thread-pool hop per request)."""
    get = model_dependency(name)

    async def resolve(svc: Svc) -> LoadedModel:
        return get(svc)

    return resolve


AttritionChampion = Annotated[LoadedModel, Depends(dependency("attrition"))]
RankerChampion = Annotated[LoadedModel, Depends(dependency("course_ranker"))]


async def feature_store(svc: Svc) -> Any:
    if svc.store is None:
        raise unavailable(f"the feature store is not available: {svc.store_error}")
    return svc.store


Store = Annotated[Any, Depends(feature_store)]


def employee_features(svc: Services, store: Any, who: Principal, employee_id: str, service: str) -> Any:
    """Online features of one employee for ``service``; 404 when unknown or outside the caller's scope."""
    from features.store import online_features

    if who.scoped:
        context = online_features(store, EMPLOYEE_CONTEXT_SERVICE, [{"employee_id": employee_id}])
        unit = context.values["org_unit_id"][0]
        if context.missing or not who.sees(unit):
            raise not_found(f"employee {employee_id} not found")
    feats = online_features(store, service, [{"employee_id": employee_id}])
    if feats.missing:
        raise not_found(f"employee {employee_id} not found")
    return feats


def unit_in_scope(svc: Services, who: Principal, org_unit: str) -> frozenset[str]:
    """The subtree of ``org_unit`` the caller may see; 404 when unknown or outside the caller's scope."""
    subtree = svc.tree.subtree(org_unit)
    if not subtree or not who.sees(org_unit):
        raise not_found(f"org unit {org_unit} not found")
    return subtree if who.scope is None else subtree & who.scope


def bad_request(parameter: str, detail: str) -> Problem:
    return Problem(422, detail, errors=[{"parameter": parameter, "detail": detail}])
