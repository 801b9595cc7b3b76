"""One APIRouter per resource; ``PROBLEMS`` documents the problem+json answers they share."""

from __future__ import annotations

from typing import Any

API_PREFIX = "/v1"

_PROBLEM = {"application/problem+json": {"schema": {
    "type": "object",
    "properties": {"type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                   "detail": {"type": "string"}, "instance": {"type": "string"}},
}}}

PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing or invalid API key.", "content": _PROBLEM},
    403: {"description": "The key's role may not use this endpoint.", "content": _PROBLEM},
    404: {"description": "Unknown id, or outside the caller's org units.", "content": {
        "application/problem+json": {**_PROBLEM["application/problem+json"], "example": {
            "type": "https://talentloop.dev/problems/not-found", "title": "Not found", "status": 404,
            "detail": "employee E9999999 not found", "instance": "/v1/employees/E9999999/attrition-risk"}}}},
    422: {"description": "Invalid parameter or body; `detail` names it.", "content": {
        "application/problem+json": {**_PROBLEM["application/problem+json"], "example": {
            "type": "https://talentloop.dev/problems/invalid-request", "title": "Invalid request", "status": 422,
            "detail": "horizon_months must be between 1 and 12",
            "instance": "/v1/employees/E0000002/attrition-risk"}}}},
    503: {"description": "A model or store is not loaded.", "content": _PROBLEM},
}
