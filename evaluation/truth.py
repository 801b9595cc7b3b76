"""Where the simulator's ground truth is, for a workspace whose feeds came from ``talentloop simulate``.

Only evaluation/ reads the truth. The training jobs ask :func:`locate` for it and pass the folder to the
oracle scorers; on a real company's data there is none and the oracle rows are simply absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from features.settings import Settings

TRUTH_DIR = "_truth"


def locate(settings: Settings, source: Path | None = None) -> Path | None:
    """The truth folder next to the feeds last ingested (or next to ``source``), if there is one."""
    if source is None:
        report = settings.reports_dir / "ingest-latest.json"
        if not report.exists():
            return None
        data = json.loads(report.read_text(encoding="utf-8"))
        if not data.get("source"):
            return None
        source = Path(data["source"])
    truth = Path(source) / TRUTH_DIR
    return truth if (truth / "manifest.json").exists() else None


def read(truth_dir: Path, name: str) -> pd.DataFrame:
    """One truth table by name (e.g. ``attrition_hazard``)."""
    path = Path(truth_dir) / f"{name}.parquet"
    if not path.exists():
        raise FileNotFoundError(f"truth table {name!r} not found at {path}")
    return pd.read_parquet(path)
