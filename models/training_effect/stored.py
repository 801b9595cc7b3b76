"""The last training-effect report of each scope, kept as JSON in the workspace for the API to serve.

``<home>/reports/training_effect/company.json`` (the whole company) and ``<org unit id>.json`` (a unit's subtree,
made with ``talentloop report training-effect --org-unit ID``). Aggregates only: no per-person row is kept.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd

COMPANY = "company"
_SAFE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def path(reports_dir: Path, org_unit: str | None) -> Path:
    """Where the report of a scope is kept; ValueError for an org unit id that cannot be a file name."""
    if org_unit is not None and (not _SAFE.match(org_unit) or org_unit in (".", "..", COMPANY)):
        raise ValueError(f"org unit id {org_unit!r} holds characters a report file name cannot")
    return reports_dir / "training_effect" / f"{org_unit or COMPANY}.json"


def _clean(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return None
    return v.isoformat() if isinstance(v, pd.Timestamp) else v


def records(frame: pd.DataFrame) -> list[dict]:
    """Frame rows as JSON-ready dicts (NaN → null)."""
    return [{k: _clean(v) for k, v in r.items()} for r in frame.to_dict("records")]


def save(reports_dir: Path, org_unit: str | None, data: dict) -> Path:
    """Write one scope's report atomically, readable by its owner only."""
    target = path(reports_dir, org_unit)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, default=str), encoding="utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, target)
    return target


def load(reports_dir: Path, org_unit: str | None) -> dict | None:
    """One scope's report, or None when it was never made."""
    target = path(reports_dir, org_unit)
    return json.loads(target.read_text(encoding="utf-8")) if target.exists() else None
