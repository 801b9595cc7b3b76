"""``talentloop train attrition``: labels → training set from Feast → backtest → fit → log and register.

Reads top to bottom; I/O at the edges.
"""

from __future__ import annotations

import inspect
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import mlflow
import pandas as pd

from evaluation import truth as truth_io
from evaluation.attrition_backtest import backtest, feasible_origins, flat_metrics, summarise
from evaluation.compare import CHAMPION, attrition_units, baseline_check, spec_for
from evaluation.fairness_attribution import attribute_backtest
from evaluation.fairness_audit import audit_attrition, min_impact_ratio, render_markdown
from evaluation.fairness_mitigation import apply as apply_mitigation
from evaluation.leakage import card_section as leakage_card
from evaluation.leakage import (
    future_dated_flags,
    missingness_flags,
    refusal,
    single_feature_auc,
    single_feature_flags,
    snapshot_folds,
)
from evaluation.model_card import attrition_card
from evaluation.model_selection import SIMPLEST_FIRST, choose, with_model_rows
from evaluation.plots import roc_pr_calibration, shap_summary
from evaluation.risk_bands import risk_bands
from features.contract import CONTRACT
from features.feature_repo.services import ATTRITION_SERVICE
from features.ingest.validate import FUTURE_OK
from features.offline import read_clean
from features.settings import Settings
from models.attrition import AttritionModel, ThresholdPolicy
from models.attrition.labels import (
    KEYS,
    data_end,
    exits,
    hazard_rows,
    horizon_labels,
    sample_negatives,
    snapshots,
)
from models.attrition.model import MONTHS_AHEAD
from models.attrition.simple import LogisticAttritionModel, TenureAttritionModel
from training_jobs.tracking import configure, experiment, log_and_register, log_json, log_markdown

SERVICE = ATTRITION_SERVICE
REGISTERED_NAME = "attrition"
HEADLINE = ("roc_auc", "pr_auc", "ece", "brier", "precision_at_top_10pct", "recall_at_top_10pct")
ALERT_HORIZON = 3
MIN_TREE_MONTHS = 3  # a fold's LightGBM needs this many outcome months before its calibration slice
CANDIDATES = SIMPLEST_FIRST  # tenure Kaplan-Meier, logistic regression, LightGBM (simplest first)
# Chosen on a differently seeded company (simulate --seed 11, 2,000 × 36 months), confirmed on the demo company
# (seed 7) and at 20,000 employees; never tuned on the demo's folds. Boosted stumps (an additive hazard, each
# tree one feature) with randomised thresholds, large leaves and a short early-stopping/calibration slice beat
# deeper trees on a few hundred exits a year; one-vs-rest splits keep `job_family` from overfitting.
TUNED_PARAMS = {"num_leaves": 2, "min_child_samples": 500, "learning_rate": 0.05, "n_estimators": 6000,
                "calibration_months": 2, "extra_trees": True, "max_cat_to_onehot": 64}
# Size-aware settings for companies with few exits, chosen on simulated companies of 300 people (seed 11 × 24
# months and seed 5 × 36 months), never on the demo's seed 7. Backtest ROC-AUC at h=3 of LightGBM (docs/attrition.md):
# the tuned settings 0.653 / 0.719; a 4-month early-stopping and calibration slice 0.663 / 0.728; adding stronger
# L2 (10), a slower rate (0.03) and 200 rows per leaf 0.647 / 0.729; 1,000 rows per leaf 0.723 (seed 5). The
# trees are stumps already, so the longer slice (enough exits of both outcomes to stop and calibrate on) is the rule.
SMALL_EXITS = 400  # employees with a voluntary exit in the training rows below which a company counts as small
SMALL_PARAMS = {"calibration_months": 4}


def tuned_params(model_class: Callable[..., AttritionModel]) -> dict:
    """The tuned hyper-parameters ``model_class`` accepts (a subclass may not take every one)."""
    accepted = inspect.signature(model_class).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()):
        return dict(TUNED_PARAMS)
    return {k: v for k, v in TUNED_PARAMS.items() if k in accepted}


def size_aware_params(n_exits: int) -> dict:
    """LightGBM settings for the company's size: :data:`SMALL_PARAMS` below :data:`SMALL_EXITS` leavers."""
    return dict(SMALL_PARAMS) if n_exits < SMALL_EXITS else {}


def training_frame(settings: Settings, max_k: int = 12) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.Timestamp, list[str]]:
    """(hazard rows with features, snapshots with features, events, data end, feature columns)."""
    from features.store import feature_columns, historical_features

    events = read_clean(settings, "employment_events")
    employees = read_clean(settings, "employees")
    if events.empty:
        raise ValueError("no employment events ingested: run `talentloop ingest` and `talentloop features build`")
    end = data_end(events)
    start, _ = feature_window(settings)
    snaps = snapshots(employees, events, start, end)
    columns = feature_columns(SERVICE)
    feats = historical_features(settings, snaps, SERVICE)
    # a snapshot with no feature row in the store (e.g. its hire event was quarantined) cannot be scored
    has_features = feats[columns].notna().any(axis=1)
    snaps_f = feats.loc[has_features, [*KEYS, *columns]].reset_index(drop=True)
    rows = hazard_rows(snaps_f[KEYS], events, end, max_k=max_k).merge(snaps_f, on=KEYS, how="left")
    return rows, snaps_f, events, end, columns


def feature_window(settings: Settings) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last snapshot month of the built employee features."""
    import pyarrow.parquet as pq

    from features.build import feature_path

    path = feature_path(settings.feature_dir, "employee_monthly")
    if not path.exists():
        raise ValueError(f"no employee features at {path}: run `talentloop features build`")
    ts = pq.read_table(path, columns=["event_timestamp"]).column(0).to_pandas()
    return pd.Timestamp(ts.min()), pd.Timestamp(ts.max())


def run(settings: Settings, seed: int = 0, n_folds: int = 4, model_params: dict | None = None,
        negative_rate: float = 0.2, model_class: Callable[..., AttritionModel] | None = None,
        calibration_months: int | None = None, min_risk: float | None = None,
        allow_leaky: tuple[str, ...] = (), mitigation: str | None = None) -> dict:
    """Check for leaks, backtest the candidates, register the best; returns the summary and the choice.

    Candidates (:data:`CANDIDATES`): LightGBM with :data:`TUNED_PARAMS` (size-aware: :func:`size_aware_params`)
    updated by ``model_params``, regularised logistic regression and the tenure Kaplan-Meier hazard, all on the
    same folds; :func:`evaluation.model_selection.choose` picks the one to register (ROC-AUC at h=3, ties to the
    simpler). ``model_class`` pins the registered model to that class (a subclass of ``AttritionModel`` lets a
    data scientist try a variant through the same backtest, audit and registry); the other two still run as
    baselines. Training rows keep every exit and a ``negative_rate`` share of the other employee-months,
    weighted back. On simulated data the backtest also scores the oracles (``evaluation.attrition_oracle``).

    No version becomes champion here: the first one goes through the same gate as every later one
    (``training_jobs.promotion.gate_new_version``). ``mitigation`` applies a fairness mitigation
    (``evaluation.fairness_mitigation``). Raises ValueError, in one line naming the option that
    helps, for data the job cannot use (and when the leakage check flags a feature not in ``allow_leaky``).
    """
    started = time.time()
    rows, snaps, events, end, columns = training_frame(settings)
    rows = sample_negatives(rows, negative_rate, seed)
    truth_dir = truth_io.locate(settings)
    notes: list[str] = []
    # a fairness mitigation (evaluation.fairness_mitigation): drop proxy features or reweigh rows, before the backtest
    rows, columns, mitigated = apply_mitigation(mitigation, rows, snaps, columns, read_clean(settings, "employees"))
    if mitigated["name"]:
        notes.append(f"fairness mitigation {mitigated['name']}: {mitigated['description']}"
                     + (f" (dropped: {', '.join(mitigated['dropped']) or 'none flagged'})" if "dropped" in mitigated
                        else ""))

    pinned = model_class is not None
    lgb_class = model_class or AttritionModel
    params = {"random_state": seed, **tuned_params(lgb_class), **size_aware_params(n_leavers(rows)),
              **(model_params or {})}
    if calibration_months is not None:
        params["calibration_months"] = calibration_months
    cal = int(params.get("calibration_months", 2))
    fold_origins, warning = feasible_origins(rows, end, n_folds, min_train_months=cal + MIN_TREE_MONTHS)
    if warning:
        notes.append(warning)

    flags = leakage_flags(settings, snaps, events, end, columns, fold_origins)
    refused = refusal(flags, allow_leaky)
    if refused:
        raise ValueError(refused)

    factories = {"lightgbm": lambda: lgb_class(**params), "logistic": LogisticAttritionModel,
                 "tenure_km": TenureAttritionModel}
    metrics, preds = backtest(rows, snaps, events, end, columns, factories, truth_dir, fold_origins=fold_origins)
    selection = choose(summarise(metrics), ALERT_HORIZON, ("lightgbm",) if pinned else CANDIDATES)
    chosen = selection["chosen"]
    metrics = with_model_rows(metrics, chosen)
    preds["p_model"] = preds[f"p_{chosen}"]
    summary = summarise(metrics)
    model = factories[chosen]().fit(rows, columns)
    if chosen == "lightgbm" and getattr(model, "calibration_slice_", "latest") == "whole":
        notes.append(f"the latest {cal} outcome months held only one class, so the final model was calibrated on "
                     "the whole training window (a larger --calibration-months avoids this)")
    if min_risk is not None:
        model.policy_ = ThresholdPolicy(model.policy_.horizon, float(min_risk), model.policy_.top_share)
    # observed exit rate per risk band, out of sample (the chosen model's backtest): what an alert says of its band
    model.risk_bands_ = risk_bands(preds, model.policy_.horizon, model.policy_.min_risk)
    audit = fairness_audit(settings, model, preds, snaps, columns)
    if audit.get("note"):
        notes.append(audit["note"])
    flat = flat_metrics(summary)
    vs_baseline = baseline_check(spec_for(REGISTERED_NAME), flat.get("model_h3_roc_auc"),
                                 {m: flat.get(f"{m}_h3_roc_auc") for m in ("logistic", "tenure_km")})

    experiment(settings, REGISTERED_NAME)
    with mlflow.start_run(run_name=f"attrition-{pd.Timestamp.now(tz='UTC'):%Y%m%dT%H%M}") as run:
        mlflow.log_params({**{k: v for k, v in model.__dict__.items() if not k.endswith("_")},
                           "chosen_model": chosen, "n_folds": len(fold_origins), "folds_requested": n_folds,
                           "negative_rate": negative_rate, "feature_service": SERVICE, "n_features": len(columns),
                           "training_rows": len(rows), "data_end": str(end.date()), "oracle": truth_dir is not None,
                           "lightgbm_params": json.dumps(params, default=str)[:500],
                           "mitigation": mitigated["name"] or "none"})
        mlflow.set_tags({"talentloop.chosen_model": chosen, "talentloop.leak_flags": ",".join(f["name"] for f in flags),
                         "talentloop.baseline_gate": "passed" if vs_baseline["passed"] else "failed"})
        mlflow.log_metrics(flat)
        for _, r in metrics.iterrows():
            mlflow.log_metrics({f"fold_{r['method']}_h{r['horizon']}_{m}": float(r[m]) for m in HEADLINE},
                               step=int(r["fold"]))
        mlflow.log_metrics({"fairness_passed": float(audit["passed"]),
                            "fairness_min_impact_ratio": min_impact_ratio(audit),
                            "baseline_gate_passed": float(vs_baseline["passed"]), "leak_flags": float(len(flags))})
        mlflow.log_metric("training_seconds", time.time() - started)
        with tempfile.TemporaryDirectory() as tmp:
            methods = [m for m in ("model", "logistic", "tenure_km", "oracle", "process_oracle",
                                              "profile_oracle") if f"p_{m}" in preds]
            for path in roc_pr_calibration(preds, Path(tmp), methods):
                mlflow.log_artifact(str(path), artifact_path="plots")
            sample = snaps.sample(min(2000, len(snaps)), random_state=seed)
            _, contrib, X0 = model.contributions(sample, horizon=3)
            if MONTHS_AHEAD in X0.columns:  # the tree model's months ahead is part of its base, not a driver
                contrib, X0 = contrib[:, :-1], X0.drop(columns=[MONTHS_AHEAD])
            shap_path = shap_summary(contrib, X0, Path(tmp) / "shap_summary.png")
            mlflow.log_artifact(str(shap_path), artifact_path="plots")
            metrics.to_csv(Path(tmp) / "backtest_folds.csv", index=False)
            summary.to_csv(Path(tmp) / "backtest_summary.csv", index=False)
            mlflow.log_artifact(str(Path(tmp) / "backtest_folds.csv"), artifact_path="evaluation")
            mlflow.log_artifact(str(Path(tmp) / "backtest_summary.csv"), artifact_path="evaluation")
            attrition_units(preds).to_parquet(Path(tmp) / "units.parquet", index=False)
            mlflow.log_artifact(str(Path(tmp) / "units.parquet"), artifact_path="evaluation")
        log_json({"threshold_policy": model.policy_.__dict__, "platt": getattr(model, "platt_", None)},
                 "model_policy.json")
        log_json(model.risk_bands_, "evaluation/risk_bands.json")
        log_json({**selection, "baseline_gate": vs_baseline, "leakage": flags, "allowed": list(allow_leaky),
                  "notes": notes}, "model_selection.json")
        log_json(audit, "fairness/audit.json")
        log_markdown(render_markdown(audit), "fairness/audit.md")
        card = attrition_card(model, summary, columns, end, truth_dir is not None, audit, selection,
                              leakage_card(flags, allow_leaky), tuple(notes))
        log_markdown(card, "model_card.md")
        version = log_and_register(model, REGISTERED_NAME, snaps[columns].head(50).reset_index(drop=True),
                                   metadata={"data_end": str(end.date()), "run_id": run.info.run_id,
                                             "chosen_model": chosen})
    from evaluation.compare import aliases
    from training_jobs.promotion import gate_new_version

    gated = gate_new_version(settings, REGISTERED_NAME, version)  # the first version too goes through the gate
    champion = aliases(configure(settings), REGISTERED_NAME).get(CHAMPION)
    return {"model": REGISTERED_NAME, "version": version, "run_id": run.info.run_id, "chosen": chosen,
            "selection": selection, "baseline_gate": vs_baseline, "champion": champion, "gate": gated,
            "leakage": flags, "mitigation": mitigated,
            "notes": notes, "folds": len(fold_origins), "training_rows": len(rows), "summary": summary.to_dict(orient="records"),
            "seconds": round(time.time() - started, 1)}


def n_leavers(rows: pd.DataFrame) -> int:
    """Employees with a voluntary exit among the hazard rows."""
    return int(rows.loc[rows["label"] == 1, "employee_id"].nunique())


def leakage_flags(settings: Settings, snaps: pd.DataFrame, events: pd.DataFrame, end: pd.Timestamp,
                  columns: list[str], fold_origins: list[pd.Timestamp]) -> list[dict]:
    """The leakage check on the snapshots labelled at the alert horizon and the clean dated tables."""
    labelled = horizon_labels(snaps[KEYS], events, end, ALERT_HORIZON).merge(snaps, on=KEYS, how="left")
    flags = missingness_flags(labelled, columns)
    leavers = exits(events)
    dated = {}
    for name, table in CONTRACT.items():
        if table.event_time is None or name == "employment_events" or (name, table.event_time) in FUTURE_OK:
            continue  # a headcount plan is about the future by nature (as ingest treats it)
        frame = read_clean(settings, name)
        if not frame.empty:
            keep = [c for c in ("employee_id",) if c in frame.columns]
            dated[f"{name}.{table.event_time}"] = frame[keep].assign(date=frame[table.event_time])
    flags += future_dated_flags(dated, end, leavers.loc[leavers["voluntary"], "employee_id"])
    aucs = single_feature_auc(labelled, columns, snapshot_folds(labelled, fold_origins, ALERT_HORIZON))
    return flags + single_feature_flags(aucs)


def fairness_audit(settings: Settings, model, preds: pd.DataFrame, snaps: pd.DataFrame,
                   columns: list[str]) -> dict:
    """The four-fifths audit of alerts on the backtest's out-of-sample predictions at the alert horizon.

    Selection is the final model's alert threshold applied to each fold model's calibrated risk; the true
    outcomes (exit within the horizon) let a gap be explained. The proxy check reads every employee's latest
    snapshot of the model's features.
    """
    h = model.policy_.horizon
    scored = preds.loc[preds["horizon"] == h, ["employee_id", "event_timestamp", "p_model", "label"]]
    scored = scored.rename(columns={"p_model": "risk"}).reset_index(drop=True)
    latest = snaps.sort_values("event_timestamp").groupby("employee_id", as_index=False).tail(1)
    employees = read_clean(settings, "employees")
    audit = audit_attrition(scored, employees, model.policy_.min_risk, outcome_col="label",
                            features=latest, feature_columns=columns)
    # the same audit on the oracles and the logistic baseline, and the model's SHAP: where a gap comes from
    return {**audit, "attribution": attribute_backtest(preds, employees, model, snaps, columns, audit.get("proxies"))}

