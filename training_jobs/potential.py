"""``talentloop train potential``: labels → training set from Feast → backtest → fit → fairness → log and register.

The high-potential model (高潜力人才) predicts a promotion or a rating level up within 12 months of a monthly
snapshot (``models.potential.labels``) from the ``potential_v1`` feature service: the employee snapshot (ratings
and their trend, skill gaps, learning pace, time since promotion, ...) plus the gaps to the next job's
requirements. Reads top to bottom; I/O at the edges.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import mlflow
import pandas as pd

from evaluation import truth as truth_io
from evaluation.compare import CHAMPION, aliases, baseline_check, spec_for
from evaluation.fairness_audit import audit_potential, min_impact_ratio, render_markdown
from evaluation.plots import shap_summary
from evaluation.potential_backtest import backtest, flat_metrics, fold_origins, potential_units, summarise
from features.feature_repo.services import POTENTIAL_SERVICE
from features.offline import read_clean
from features.settings import Settings
from models.attrition.labels import data_end
from models.potential import LogisticPotentialModel, PotentialModel
from models.potential.labels import KEYS, potential_labels
from training_jobs.tracking import configure, experiment, log_and_register, log_json, log_markdown

SERVICE = POTENTIAL_SERVICE
REGISTERED_NAME = "potential"
TEST_MONTHS = 2


def training_frame(settings: Settings) -> tuple[pd.DataFrame, pd.Timestamp, list[str]]:
    """(labelled snapshots with features, data end, feature columns)."""
    import pyarrow.parquet as pq

    from features.build import feature_path
    from features.store import feature_columns, historical_features

    path = feature_path(settings.feature_dir, "employee_monthly")
    if not path.exists():
        raise ValueError(f"no employee features at {path}: run `talentloop features build`")
    events = read_clean(settings, "employment_events")
    if events.empty:
        raise ValueError("no employment events ingested: run `talentloop ingest` and `talentloop features build`")
    reviews = read_clean(settings, "reviews")
    if reviews.empty:
        raise ValueError("no performance reviews ingested: the high-potential model needs the reviews table")
    end = data_end(events)
    snaps = pq.read_table(path, columns=KEYS).to_pandas()
    labels = potential_labels(snaps, events, reviews, end)
    if labels.empty:
        raise ValueError("no snapshot is 12 months older than the end of the data: the high-potential model needs "
                         "at least 13 months of history")
    columns = feature_columns(SERVICE)
    rows = historical_features(settings, labels[[*KEYS, "label", "promoted", "rating_rise"]], SERVICE)
    return rows, end, columns


def run(settings: Settings, seed: int = 0, n_folds: int = 3, model_params: dict | None = None) -> dict:
    """Backtest LightGBM against the logistic baseline (and the oracle on simulated data), fit, audit, register.

    The version becomes ``challenger``; the first one goes through the same gate as every later one
    (``training_jobs.promotion.gate_new_version``: not worse than the logistic baseline on its own backtest,
    fairness audit passed)."""
    started = time.time()
    rows, end, columns = training_frame(settings)
    truth_dir = truth_io.locate(settings)
    origins = fold_origins(rows, n_folds=n_folds, test_months=TEST_MONTHS)
    if not origins:
        raise ValueError("too little history for a backtest: the high-potential model needs about 20 months of "
                         "snapshots (or fewer --folds)")
    params = {"random_state": seed, **(model_params or {})}
    factories = {"lightgbm": lambda: PotentialModel(**params), "logistic": LogisticPotentialModel}
    metrics, preds = backtest(rows, columns, factories, truth_dir, origins, TEST_MONTHS)
    summary = summarise(metrics, preds)
    flat = flat_metrics(summary)
    model = PotentialModel(**params).fit(rows, columns)

    employees = read_clean(settings, "employees")
    # one row per person (their latest out-of-sample snapshot): the four-fifths rule counts people, and the same
    # person in six fold-months would count six times in the significance test
    scored = (preds.rename(columns={"p_lightgbm": "risk"})[["employee_id", "event_timestamp", "risk", "label"]]
              .sort_values(["event_timestamp", "employee_id"]).groupby("employee_id", as_index=False).tail(1)
              .reset_index(drop=True))
    latest = rows.sort_values("event_timestamp").groupby("employee_id", as_index=False).tail(1)
    audit = audit_potential(scored, employees, model.threshold_, features=latest, feature_columns=columns)
    vs_baseline = baseline_check(spec_for(REGISTERED_NAME), flat.get("model_roc_auc"),
                                 {"logistic": flat.get("logistic_roc_auc")})

    experiment(settings, REGISTERED_NAME)
    with mlflow.start_run(run_name=f"potential-{pd.Timestamp.now(tz='UTC'):%Y%m%dT%H%M}") as run:
        mlflow.log_params({**{k: v for k, v in model.__dict__.items() if not k.endswith("_")},
                           "n_folds": len(origins), "folds_requested": n_folds, "feature_service": SERVICE,
                           "n_features": len(columns), "training_rows": len(rows), "data_end": str(end.date()),
                           "oracle": truth_dir is not None, "label": "promotion or rating level up within 12 months"})
        mlflow.set_tags({"talentloop.baseline_gate": "passed" if vs_baseline["passed"] else "failed"})
        mlflow.log_metrics(flat)
        mlflow.log_metrics({"fairness_passed": float(audit["passed"]), "fairness_min_impact_ratio": min_impact_ratio(audit),
                            "baseline_gate_passed": float(vs_baseline["passed"]),
                            "positive_rate": float(rows["label"].mean()), "threshold": model.threshold_,
                            "training_seconds": time.time() - started})
        with tempfile.TemporaryDirectory() as tmp:
            sample = rows.sample(min(2000, len(rows)), random_state=seed)
            _, contrib, X = model.contributions(sample)
            mlflow.log_artifact(str(shap_summary(contrib, X, Path(tmp) / "shap_summary.png")),
                                artifact_path="plots")
            metrics.to_csv(Path(tmp) / "backtest_folds.csv", index=False)
            summary.to_csv(Path(tmp) / "backtest_summary.csv", index=False)
            potential_units(preds).to_parquet(Path(tmp) / "units.parquet", index=False)
            for name in ("backtest_folds.csv", "backtest_summary.csv", "units.parquet"):
                mlflow.log_artifact(str(Path(tmp) / name), artifact_path="evaluation")
        log_json({"threshold": model.threshold_, "top_share": model.top_share, "platt": model.platt_,
                  "baseline_gate": vs_baseline}, "model_policy.json")
        log_json(audit, "fairness/audit.json")
        log_markdown(render_markdown(audit), "fairness/audit.md")
        log_markdown(_card(model, summary, columns, end, audit, vs_baseline), "model_card.md")
        version = log_and_register(model, REGISTERED_NAME, rows[columns].head(50).reset_index(drop=True),
                                   metadata={"data_end": str(end.date()), "run_id": run.info.run_id})
    from training_jobs.promotion import gate_new_version

    gated = gate_new_version(settings, REGISTERED_NAME, version)  # the first version too goes through the gate
    champion = aliases(configure(settings), REGISTERED_NAME).get(CHAMPION)
    return {"model": REGISTERED_NAME, "version": version, "run_id": run.info.run_id, "champion": champion,
            "gate": gated, "baseline_gate": vs_baseline, "folds": len(origins), "training_rows": len(rows),
            "positive_rate": float(rows["label"].mean()), "threshold": model.threshold_,
            "fairness_passed": audit["passed"], "fairness_min_impact_ratio": min_impact_ratio(audit),
            "fairness": {name: {"passed": fam["passed"], "groups": [
                {"group": g["group"], "selection_rate": g.get("selection_rate"), "impact_ratio": g.get("impact_ratio"),
                 "status": g.get("status")} for g in fam["groups"]]}
                for name, fam in audit.get("attributes", {}).items() if name in ("sex", "age_band", "sex_x_age_band")},
            "summary": summary.to_dict(orient="records"), "seconds": round(time.time() - started, 1)}


def _card(model: PotentialModel, summary: pd.DataFrame, columns: list[str], end: pd.Timestamp, audit: dict,
          vs_baseline: dict) -> str:
    d = model.describe()
    table = ["| method | ROC-AUC | PR-AUC | ECE (fold mean) | ECE (pooled) | Brier |", "|---|---|---|---|---|---|"]
    for r in summary.to_dict(orient="records"):
        table.append(f"| {r['method']} | {r['roc_auc']:.3f} | {r['pr_auc']:.3f} | {r['ece']:.4f} | "
                     f"{r['ece_pooled']:.4f} | {r['brier']:.4f} |")
    return "\n".join([
        "# Model card: potential (高潜力人才)", "",
        "Predicts a promotion or a rating level up within 12 months of a monthly snapshot. Protected attributes are "
        "never inputs.", "",
        f"- Model: {d['name']}. {d['setup']}", f"- Calibration: {d['calibration']}",
        f"- High potential: the top {model.top_share:.0%} of scores (threshold {model.threshold_:.4f}).",
        f"- Data up to {end.date()}; {model.training_rows_} labelled snapshots; {len(columns)} features "
        f"(feature service {SERVICE}).", "",
        "## Backtest (mean over folds)", "", *table, "",
        f"Baseline gate: {vs_baseline.get('reason') or 'not applicable'}.", "",
        f"## Fairness\n\nFour-fifths audit of high-potential marks: {'passed' if audit['passed'] else 'FAILED'} "
        f"(lowest impact ratio {min_impact_ratio(audit):.3f}); fairness/audit.md.", ""])


def to_json(result: dict) -> str:
    return json.dumps(result, ensure_ascii=False, indent=2, default=str)
