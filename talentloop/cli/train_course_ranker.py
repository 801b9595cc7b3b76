"""`talentloop train course-ranker`: the command function; the root app wires it into the ``train`` group."""

from __future__ import annotations

from pathlib import Path

from talentloop.cli._common import console, settings, summary


def train_course_ranker_command(json_out: bool = False, truth_dir: Path | None = None, window_months: int = 3,
                                outcome_months: int = 6, min_history_months: int = 6) -> dict:
    """Train, evaluate against baselines (and the oracle on simulated data) and register the course ranker."""
    from training_jobs.course_ranker import METHODS, run

    metrics = run(settings(), json_out=json_out, truth_dir=truth_dir, window_months=window_months,
                  outcome_months=outcome_months, min_history_months=min_history_months)
    if not json_out:
        k = 10
        names = ("ndcg", "recall", "uplift_capture", "coverage", "diversity")
        rows = [[m, *(_fmt(metrics.get(f"{m}_{n}@{k}")) for n in names)] for m in METHODS]
        console.print(summary(f"course_ranker v{metrics['registered_version']}", ["method", *names], rows))
        from talentloop.cli.governance import print_gate

        print_gate("course-ranker", metrics["registered_version"], metrics.get("gate"))
    return metrics


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"
