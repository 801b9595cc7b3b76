"""Facts about the attrition model for the console: risk bands, the backtest's observed exit rate per band,
backtest quality, fairness-audit status and the data window, read from the version's MLflow run.

Bands are set by the alert threshold versioned with the model (``policy_.min_risk`` at ``policy_.horizon``):
*very high* from twice the threshold, *high* from the threshold (every alert of the ``risk`` rule is at least
high), *medium* from half of it, *low* below. The observed exit rate of a band is the share of people the
backtest scored out of sample in that band (at the policy horizon) who did leave within it, from the run's
``evaluation/units.parquet``; when the run has no such file the page says so.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

log = logging.getLogger("talentloop.serving")
BANDS = ("very_high", "high", "medium", "low")


@dataclass(frozen=True)
class Bands:
    min_risk: float

    @property
    def lower(self) -> dict[str, float]:
        return {"very_high": 2 * self.min_risk, "high": self.min_risk, "medium": self.min_risk / 2, "low": 0.0}

    def of(self, risk: float) -> str:
        for band, floor in self.lower.items():
            if risk >= floor:
                return band
        return "low"


@dataclass(frozen=True)
class BandRate:
    n: int
    exits: int

    @property
    def rate(self) -> float:
        return self.exits / self.n


@dataclass
class ModelFacts:
    """What the console says about one attrition model version."""

    version: str
    horizon: int
    bands: Bands
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    trained_at: str | None = None
    band_rates: dict[str, BandRate] = field(default_factory=dict)

    def metric(self, name: str) -> float | None:
        v = self.metrics.get(name)
        return None if v is None or v != v else float(v)


def facts_for(loaded: Any, tracking_uri: str) -> ModelFacts:
    """Facts of a :class:`serving.registry.LoadedModel` of the attrition model (its run read from MLflow)."""
    policy = loaded.model.policy_
    facts = ModelFacts(str(loaded.version), int(policy.horizon), Bands(float(policy.min_risk)),
                       trained_at=loaded.trained_at)
    if not loaded.run_id:
        return facts
    from mlflow import MlflowClient
    from mlflow.artifacts import download_artifacts

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    run = client.get_run(loaded.run_id)
    facts.metrics = {k: float(v) for k, v in run.data.metrics.items()}
    facts.params = dict(run.data.params)
    try:
        path = download_artifacts(run_id=loaded.run_id, artifact_path="evaluation/units.parquet",
                                  tracking_uri=tracking_uri)
    except Exception as exc:  # noqa: BLE001 - an older run without the file: the page says so
        log.info("no backtest units for attrition version %s: %s", loaded.version, exc)
        return facts
    units = pd.read_parquet(path, columns=["horizon", "y_true", "score"])
    units = units[units["horizon"] == facts.horizon]
    if not units.empty:
        band = units["score"].map(facts.bands.of)
        for name, grp in units.groupby(band)["y_true"]:
            facts.band_rates[str(name)] = BandRate(int(grp.size), int(grp.sum()))
    return facts


class FactsCache:
    """Facts per model version, computed once per version (a reload brings a new version)."""

    def __init__(self, tracking_uri: str):
        self.tracking_uri = tracking_uri
        self._by_version: dict[str, ModelFacts] = {}
        self._lock = threading.Lock()

    def get(self, loaded: Any) -> ModelFacts:
        found = self._by_version.get(str(loaded.version))
        if found is None:
            with self._lock:
                found = self._by_version.get(str(loaded.version))
                if found is None:
                    found = facts_for(loaded, self.tracking_uri)
                    self._by_version = {**self._by_version, str(loaded.version): found}
        return found
