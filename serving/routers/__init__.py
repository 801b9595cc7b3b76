"""One APIRouter per resource; ``PROBLEMS`` documents the problem+json answers they share.

``problems(*codes, **descriptions)`` picks the answers a route can really give (the OpenAPI ``responses`` must
list every status it answers: an API client, or schemathesis, treats anything else as a broken promise), with
a route's own wording where the shared one does not fit (``not_found=...`` for 404, and so on).
"""

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

# an hr_partner asking for a route its role may not use gets 404 (the route's existence is hidden from it, as
# an employee outside its org units is); other roles get 403 (serving.deps.require)
HIDDEN_FROM_PARTNERS = ("Not found: an hr_partner key asking for an endpoint its role may not use (its existence "
                        "is hidden, as for an employee outside the partner's org units).")


def problems(*codes: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """The shared answers ``codes``; ``descriptions`` (``not_found=``, ``forbidden=``, ``unavailable=``,
    ``invalid=``) replace the shared description of 404, 403, 503 or 422 for this route."""
    names = {"not_found": 404, "forbidden": 403, "unavailable": 503, "invalid": 422}
    out = {c: dict(PROBLEMS[c]) for c in codes}
    for name, text in descriptions.items():
        code = names[name]
        out[code] = {**PROBLEMS[code], "description": text}
    return out
