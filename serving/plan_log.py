"""The recommendation endpoints' side of learning plans: randomise a list (the exploration share) and write
what was shown, with propensities, to the recommendation log (``models.learning_plans.store``)."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import pandas as pd

from models.learning_plans import exploration
from models.learning_plans import store as plans_store


def choose(recs: list[dict], explained: list[Any], k: int, share: float, pool: int
           ) -> tuple[list[dict], list[Any], exploration.Shown]:
    """The ``k`` courses to show out of the ranked ``recs`` (the ranker's top ``max(k, pool)`` when exploring),
    re-ranked 1..k in display order; a randomised list's courses are ``placed_by`` exploration."""
    rng = np.random.default_rng() if share > 0 else None  # OS entropy per request: no shared generator state
    shown = exploration.choose(len(recs), k, share, rng, pool)
    out_recs, out_expl = [], []
    for display, i in enumerate(shown.positions, start=1):
        r = dict(recs[i])
        r["rank"] = display
        if shown.explored:
            r["placed_by"] = "exploration"
        out_recs.append(r)
        out_expl.append(explained[i])
    return out_recs, out_expl, shown


def log(svc: Any, champion: Any, employee_id: str, org_unit_id: str | None, result: Any,
        shown: exploration.Shown | None, share: float) -> str:
    """Write the courses of ``result`` to the recommendation log; returns the request id."""
    request_id = uuid.uuid4().hex
    now = pd.Timestamp.now(tz="UTC").isoformat()
    as_of = result.features_as_of.isoformat() if result.features_as_of is not None else None
    props = shown.propensities if shown is not None else np.ones(len(result.courses))
    explored = bool(shown.explored) if shown is not None else False
    rows = [plans_store.Logged(request_id, employee_id, org_unit_id, c.course_id, c.rank, float(c.score),
                               champion.name, str(champion.version), float(p), explored, float(share), now, as_of)
            for c, p in zip(result.courses, props, strict=True)]
    with svc.db_lock:
        plans_store.log_shown(svc.db, rows)
    return request_id
