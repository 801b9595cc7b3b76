"""``talentloop retrain MODEL``: new feeds (if any) → features → train → compare → promote if the gate passes.

The outcome is an exit code a scheduler can branch on (:class:`Outcome`). A feed that fails validation
stops the run before anything is trained; the gate refusing the new version is not a failure (the
champion stays, the new version keeps alias ``challenger`` for a person to review).
"""

from __future__ import annotations

import time
from enum import IntEnum
from pathlib import Path
from typing import Any

from features.settings import Settings
from training_jobs.promotion import PROMOTED, compare_versions, deployments, promote


class Outcome(IntEnum):
    """Exit codes of ``talentloop retrain``."""

    PROMOTED = 0  # a new version was trained and is now the champion
    FAILED = 1  # an unexpected error (see the log)
    BAD_INPUT = 2  # the feeds or the request were rejected; nothing was trained
    KEPT = 3  # a new version was trained and registered, the gate refused it: the champion is unchanged


def run(settings: Settings, model: str, feeds: Path | None = None, mapping: Path | None = None,
        by: str | None = None, seed: int = 0) -> dict[str, Any]:
    """Run the loop for ``model``; returns the steps taken and ``outcome`` (an :class:`Outcome`)."""
    from evaluation.compare import spec_for

    spec = spec_for(model)
    steps: dict[str, Any] = {}
    if feeds is not None:
        from features.build import build_features
        from features.ingest import ingest
        from features.store import apply, materialize

        started = time.time()
        report = ingest(Path(feeds), settings, mapping)
        steps["ingest"] = {"ok": report.ok, "unchanged": report.unchanged, "failed_feeds": report.failed_feeds,
                           "seconds": round(time.time() - started, 1)}
        if not report.ok:
            return {"model": spec.name, "outcome": Outcome.BAD_INPUT, "steps": steps,
                    "message": "feeds failed validation: " + "; ".join(f"{k}: {v}" for k, v in
                                                                       report.failed_feeds.items())}
        started = time.time()
        build_features(settings)
        apply(settings)
        materialize(settings)
        steps["features"] = {"seconds": round(time.time() - started, 1)}

    started = time.time()
    version = _train(settings, spec.name, seed)
    steps["train"] = {"version": version, "seconds": round(time.time() - started, 1)}
    comparison = compare_versions(settings, spec.name, [version])
    steps["compare"] = {"run_id": comparison["comparison_run_id"], "markdown": comparison["markdown"]}
    champion = next((v["version"] for v in comparison["versions"] if "champion" in v["aliases"]), None)
    first = deployments(settings, spec.name)
    if first and first[-1]["candidate"] == version:  # a first version: the training job put it through the gate
        event = first[-1]
        steps["promote"] = {k: event[k] for k in ("action", "from_version", "to_version", "gate_summary", "seq")}
        outcome = Outcome.PROMOTED if champion == version else Outcome.KEPT
    else:
        event = promote(settings, spec.name, version, by=by or "talentloop retrain")
        steps["promote"] = {k: event[k] for k in ("action", "from_version", "to_version", "gate_summary", "seq")}
        outcome = Outcome.PROMOTED if event["action"] == PROMOTED else Outcome.KEPT
    if outcome == Outcome.PROMOTED and spec.name == "attrition":
        from training_jobs import score_attrition

        steps["score"] = score_attrition.run(settings)
    return {"model": spec.name, "version": version, "outcome": outcome, "steps": steps}


def _train(settings: Settings, name: str, seed: int) -> str:
    """Train and register one version with the job's defaults; its version number."""
    if name == "attrition":
        from training_jobs import attrition

        return str(attrition.run(settings, seed=seed)["version"])
    if name == "course_ranker":
        from training_jobs import course_ranker

        return str(course_ranker.run(settings, seed=seed)["registered_version"])
    if name == "potential":
        from training_jobs import potential

        return str(potential.run(settings, seed=seed)["version"])
    from evaluation.truth import locate
    from training_jobs import skill_demand

    return str(skill_demand.run(settings, truth_dir=locate(settings))["version"])
