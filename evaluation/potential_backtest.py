"""Rolling-origin backtest of the high-potential model against its logistic baseline and, on simulated data,
an oracle that also sees the truth's latent potential.

A snapshot at month ``T`` is labelled 12 months later, so a fold with origin ``O`` trains on snapshots with
``T <= O - 12 months`` (every label known at ``O``) and tests on the snapshots of ``[O, O + test_months)``.

**Oracle** (method ``oracle``, only where the simulator's truth is found): the same learner on the same folds
with one more input, each person's true latent potential (``_truth/latent.parquet``, which lifts the promotion
odds and the pace of learning on the job). It sees everything the model sees plus the latent trait no export
holds, so ``model / oracle`` says how much of the reachable ranking the observable features recover.

This is a *full-information* oracle, not the *observable* oracle issue 20 names (the simulator's promotion
probability given only what is observable, the latent potential integrated out, as
``evaluation.attrition_oracle``'s process oracle does for exits). That one is not built: the label is a promotion
*or* a rating rise within 12 months, so it would need each person's posterior potential given their history and
a 12-month forward simulation of reviews, promotions and exits. Since this oracle sees strictly more than the
observable one, its ROC-AUC is, up to the learner's estimation error, at least the observable oracle's, and
``model / oracle`` here is the conservative ratio: a target met against it is met against the observable oracle.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation import truth as truth_io
from evaluation.metrics import brier, expected_calibration_error, pr_auc, precision_at_top, roc_auc

HORIZON_MONTHS = 12
METRICS = ("roc_auc", "pr_auc", "ece", "brier", "precision_at_top_10pct")
TRUE_POTENTIAL = "true_potential"


def fold_origins(rows: pd.DataFrame, n_folds: int = 3, test_months: int = 2, min_train_months: int = 6
                 ) -> list[pd.Timestamp]:
    """Origins from the latest labelled months back, ``test_months`` apart, each with enough training months."""
    months = sorted(pd.to_datetime(rows["event_timestamp"], utc=True).unique())
    if len(months) < test_months:
        return []
    origins = []
    for i in range(n_folds):
        pos = len(months) - test_months * (i + 1)
        if pos < 0:
            break
        origin = pd.Timestamp(months[pos])
        n_train = sum(1 for m in months if m <= origin - pd.DateOffset(months=HORIZON_MONTHS))
        if n_train >= min_train_months:
            origins.append(origin)
    return sorted(origins)


def with_truth(rows: pd.DataFrame, truth_dir: Path | None) -> pd.DataFrame:
    """``rows`` with the truth's latent potential per employee (only when the truth is there)."""
    if truth_dir is None:
        return rows
    latent = truth_io.read(truth_dir, "latent")[["employee_id", "potential"]]
    latent = latent.assign(employee_id=latent["employee_id"].astype(str)).rename(columns={"potential": TRUE_POTENTIAL})
    return rows.assign(employee_id=rows["employee_id"].astype(str)).merge(latent, on="employee_id", how="left")


def scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    return {"roc_auc": roc_auc(y, p), "pr_auc": pr_auc(y, p), "ece": expected_calibration_error(y, p),
            "brier": brier(y, p), "precision_at_top_10pct": precision_at_top(y, p, 0.10)}


def backtest(rows: pd.DataFrame, columns: list[str], factories: dict[str, Callable[[], object]],
             truth_dir: Path | None, origins: list[pd.Timestamp], test_months: int = 2
             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(metrics per fold and method, out-of-sample predictions ``p_<method>``) on the folds of ``origins``."""
    data = with_truth(rows, truth_dir)
    ts = pd.to_datetime(data["event_timestamp"], utc=True)
    methods = dict(factories)
    if truth_dir is not None and "lightgbm" in factories:
        methods["oracle"] = factories["lightgbm"]
    metric_rows, preds = [], []
    for fold, origin in enumerate(origins):
        train = data[ts <= origin - pd.DateOffset(months=HORIZON_MONTHS)].reset_index(drop=True)
        test = data[(ts >= origin) & (ts < origin + pd.DateOffset(months=test_months))].reset_index(drop=True)
        if train["label"].nunique() < 2 or test["label"].nunique() < 2:
            continue
        out = test[["employee_id", "event_timestamp", "label"]].copy()
        for name, make in methods.items():
            cols = [*columns, TRUE_POTENTIAL] if name == "oracle" else columns
            model = make().fit(train, cols)
            p = model.predict_proba(test)
            out[f"p_{name}"] = p
            metric_rows.append({"fold": fold, "origin": str(origin.date()), "method": name,
                                "n_train": len(train), "n_test": len(test),
                                "positive_rate": float(test["label"].mean()), **scores(test["label"].to_numpy(), p)})
        preds.append(out.assign(fold=fold))
    if not metric_rows:
        raise ValueError("no backtest fold has both outcomes in its training and test rows: the company needs more "
                         "months of history (at least 20 months of snapshots) or fewer --folds")
    return pd.DataFrame(metric_rows), pd.concat(preds, ignore_index=True)


def summarise(metrics: pd.DataFrame, preds: pd.DataFrame | None = None) -> pd.DataFrame:
    """Mean over folds per method, with ``roc_auc_vs_oracle`` when the oracle ran, and with ``preds`` the ECE of
    the folds' out-of-sample predictions pooled (``ece_pooled``: more rows per bin, so less sampling noise than a
    single fold's ECE, which on 2,000 people has a floor near 0.02)."""
    summary = metrics.groupby("method", sort=False)[list(METRICS)].mean().reset_index()
    if preds is not None:
        summary["ece_pooled"] = [expected_calibration_error(preds["label"].to_numpy(), preds[f"p_{m}"].to_numpy())
                                 for m in summary["method"]]
    if "oracle" in set(summary["method"]):
        oracle_auc = float(summary.loc[summary["method"] == "oracle", "roc_auc"].iloc[0])
        summary["roc_auc_vs_oracle"] = summary["roc_auc"] / oracle_auc
    return summary


def flat_metrics(summary: pd.DataFrame) -> dict[str, float]:
    out = {}
    for rec in summary.to_dict(orient="records"):
        method = "model" if rec["method"] == "lightgbm" else rec["method"]
        for k, v in rec.items():
            if k != "method" and v is not None and v == v:
                out[f"{method}_{k}"] = float(v)
    return out


def potential_units(preds: pd.DataFrame) -> pd.DataFrame:
    """Evaluation units for ``talentloop compare potential`` (one per scored snapshot)."""
    ts = pd.to_datetime(preds["event_timestamp"], utc=True)
    emp = preds["employee_id"].astype(str)
    return pd.DataFrame({"unit": emp, "key": emp + "|" + ts.dt.strftime("%Y-%m"),
                         "y_true": preds["label"].astype(int), "score": preds["p_lightgbm"].astype(float)})
