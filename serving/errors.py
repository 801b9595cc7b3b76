"""Errors as ``application/problem+json`` (RFC 9457): ``type``, ``title``, ``status``, ``detail``, ``instance``.

Handlers raise :class:`Problem` (or one of its helpers); request validation errors are rewritten so the
``detail`` names the parameter at fault in words a person can act on ("horizon_months must be between 1
and 12"). Anything unexpected is logged and answered as a 500 problem without internals.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://talentloop.dev/problems/"
log = logging.getLogger("talentloop.serving")

_TITLES = {
    400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
    409: "Conflict", 413: "Payload too large", 422: "Invalid request", 500: "Internal server error",
    503: "Service unavailable",
}
_TYPES = {
    400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
    409: "conflict", 413: "payload-too-large", 422: "invalid-request", 500: "internal-error",
    503: "unavailable",
}


class Problem(Exception):  # noqa: N818 - it is the name of the media type
    """An error answered as problem+json."""

    def __init__(self, status: int, detail: str, title: str | None = None, type_: str | None = None,
                 headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or _TITLES.get(status, "Error")
        self.type = type_ or TYPE_BASE + _TYPES.get(status, "error")
        self.headers = headers
        self.extra = extra


def not_found(detail: str) -> Problem:
    return Problem(404, detail)


def unauthorized(detail: str) -> Problem:
    return Problem(401, detail, headers={"WWW-Authenticate": 'Bearer realm="talentloop"'})


def forbidden(detail: str) -> Problem:
    return Problem(403, detail)


def unavailable(detail: str) -> Problem:
    return Problem(503, detail, headers={"Retry-After": "30"})


def problem_response(request: Request, status: int, detail: str, title: str | None = None,
                     type_: str | None = None, headers: dict[str, str] | None = None,
                     **extra: Any) -> JSONResponse:
    body = {
        "type": type_ or TYPE_BASE + _TYPES.get(status, "error"),
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _bounds(request: Request, name: str) -> dict[str, Any]:
    """ge / le / gt / lt declared on the route's query or path parameter ``name``."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return {}
    params = [*dependant.query_params, *dependant.path_params]
    for sub in dependant.dependencies:
        params += [*sub.query_params, *sub.path_params]
    for p in params:
        if p.alias == name or p.name == name:
            out = {}
            for m in getattr(p.field_info, "metadata", []):
                for key in ("ge", "le", "gt", "lt"):
                    if getattr(m, key, None) is not None:
                        out[key] = getattr(m, key)
            return out
    return {}


def _message(request: Request, err: dict[str, Any]) -> tuple[str, str]:
    """(parameter name, sentence) for one pydantic error."""
    loc = [str(x) for x in err.get("loc", ()) if x not in ("query", "path", "body", "header")]
    if len(loc) > 1 and err.get("loc", ("",))[0] == "query" and loc[-1].isdigit():
        loc = loc[:-1]  # a repeated query parameter: name it, not its position
    name = ".".join(loc) or "request body"
    kind = err.get("type", "")
    if kind == "literal_error" and (err.get("ctx") or {}).get("expected"):
        got = err.get("input")
        return name, f"{name} must be one of {err['ctx']['expected'].replace(chr(39), '')}; got {got}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        b = _bounds(request, loc[-1]) if loc else {}
        low, high = b.get("ge", b.get("gt")), b.get("le", b.get("lt"))
        if low is not None and high is not None:
            return name, f"{name} must be between {low} and {high}"
    if kind == "missing":
        return name, f"{name} is required"
    if kind == "extra_forbidden":
        return name, f"{name} is not a known field"
    if kind == "json_invalid":
        return "request body", "the request body is not valid JSON"
    msg = str(err.get("msg", "is invalid"))
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    return name, f"{name}: {msg[:1].lower()}{msg[1:]}"


def _store_failure(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) is a SQLite error: the online store, the application or MLflow
    database could not be read."""
    import sqlite3

    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, sqlite3.Error) or type(exc).__name__ in ("DatabaseError", "OperationalError"):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def install(app: FastAPI) -> None:
    """Register the problem+json handlers on ``app``."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(request, exc.status, exc.detail, exc.title, exc.type, exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for err in exc.errors():
            name, sentence = _message(request, err)
            errors.append({"parameter": name, "detail": sentence})
        detail = "; ".join(dict.fromkeys(e["detail"] for e in errors)) or "the request is invalid"
        return problem_response(request, 422, detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 400 and detail == "There was an error parsing the body":
            # a body that is not UTF-8 (FastAPI answers 400); the docs promise 422 for every invalid body
            sentence = "the request body is not valid JSON (it must be UTF-8 encoded JSON)"
            return problem_response(request, 422, sentence,
                                    errors=[{"parameter": "request body", "detail": sentence}])
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no resource at {request.url.path}"
        elif exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}"
        return problem_response(request, exc.status_code, detail, headers=getattr(exc, "headers", None))

    def _store_down(request: Request, exc: BaseException) -> JSONResponse:
        log.error("store unreadable on %s %s: %s", request.method, request.url.path, exc)
        return problem_response(request, 503, "a data store cannot be read right now (it is being restored "
                                "or is damaged); try again shortly", headers={"Retry-After": "5"})

    import sqlite3

    @app.exception_handler(sqlite3.Error)  # handled here, the connection stays open (the catch-all re-raises)
    async def _sqlite(request: Request, exc: sqlite3.Error) -> JSONResponse:
        return _store_down(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if _store_failure(exc):  # a deleted, locked or corrupt store: the service is unavailable, not broken
            return _store_down(request, exc)
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(request, 500, "an unexpected error occurred; it has been logged")
