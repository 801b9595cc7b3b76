"""Rolling-origin backtest for attrition: the model, its baselines and the oracles on the same folds.

Fold with origin T: train on hazard rows whose outcome month ends by T (no label from T on is seen),
evaluate on the snapshots at T, T+1, T+2 with the label "voluntary exit within h months", censored as in
``models.attrition.labels.horizon_labels``. Origins are spaced ``spacing`` months apart, the latest one as
late as the shortest evaluated horizon allows; a horizon is scored on the folds whose windows fit in the
data (long horizons have fewer folds — the table says how many).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.attrition_baselines import LogisticHazard, TenureKaplanMeier
from evaluation.attrition_oracle import has_process_truth, oracle_risk, process_oracle_risk
from evaluation.metrics import classification_report
from models.attrition.labels import KEYS, horizon_labels, month_index

EVAL_HORIZONS = (1, 3, 6, 12)
EVAL_MONTHS = 3


def origins(end: pd.Timestamp, n_folds: int = 4, spacing: int = 3, min_horizon: int = 3) -> list[pd.Timestamp]:
    """Fold origins, oldest first; the latest leaves room for ``EVAL_MONTHS`` snapshots of ``min_horizon``."""
    last = pd.Timestamp(end) - pd.DateOffset(months=EVAL_MONTHS - 1 + min_horizon)
    return [last - pd.DateOffset(months=spacing * i) for i in reversed(range(n_folds))]


def backtest(
    rows: pd.DataFrame,
    snaps: pd.DataFrame,
    events: pd.DataFrame,
    end: pd.Timestamp,
    feature_columns: list[str],
    make_model: Callable[[], object],
    truth_dir: Path | None = None,
    n_folds: int = 4,
    horizons: tuple[int, ...] = EVAL_HORIZONS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Returns (metrics: one row per fold × horizon × method, predictions: one row per scored snapshot)."""
    outcome_end = month_index(rows["event_timestamp"].dt.tz_convert(None)) + rows["months_ahead"].to_numpy() + 1
    metrics, preds = [], []
    process = has_process_truth(truth_dir)
    for fold, origin in enumerate(origins(end, n_folds, min_horizon=min(horizons))):
        o = month_index(pd.Series([origin.tz_convert(None)]))[0]
        train = rows[outcome_end <= o]
        window = snaps[(snaps["event_timestamp"] >= origin)
                       & (snaps["event_timestamp"] < origin + pd.DateOffset(months=EVAL_MONTHS))]
        methods = {
            "model": make_model().fit(train, feature_columns),
            "logistic": LogisticHazard().fit(train, feature_columns),
            "tenure_km": TenureKaplanMeier().fit(train),
        }
        for h in horizons:
            labelled = horizon_labels(window[KEYS], events, end, h)
            if labelled.empty or labelled["label"].nunique() < 2:
                continue
            X = labelled.merge(window, on=KEYS, how="left")
            scored = {name: m.predict_risk(X, (h,))[:, 0] for name, m in methods.items()}
            if truth_dir is not None:
                scored["oracle"] = oracle_risk(truth_dir, labelled, (h,))[:, 0]
            if process:
                scored["process_oracle"] = process_oracle_risk(truth_dir, labelled, (h,))[:, 0]
            for name, p in scored.items():
                metrics.append({"fold": fold, "origin": origin, "horizon": h, "method": name,
                                **classification_report(labelled["label"].to_numpy(), p)})
            preds.append(labelled.assign(fold=fold, horizon=h, **{f"p_{k}": v for k, v in scored.items()}))
    if not metrics:
        raise ValueError("no fold had labelled snapshots with both outcomes; the data window is too short")
    return pd.DataFrame(metrics), pd.concat(preds, ignore_index=True)


def summarise(metrics: pd.DataFrame) -> pd.DataFrame:
    """Mean over folds per horizon × method, with the number of folds and ratios to the oracles
    (``*_vs_oracle``: the full-information oracle; ``*_vs_process_oracle``: the process oracle)."""
    cols = [c for c in metrics.columns if c not in ("fold", "origin", "horizon", "method")]
    table = metrics.groupby(["horizon", "method"])[cols].mean()
    table["folds"] = metrics.groupby(["horizon", "method"]).size()
    table = table.reset_index()
    for name in ("oracle", "process_oracle"):
        if (table["method"] == name).any():
            oracle = table[table["method"] == name].set_index("horizon")
            for m in ("roc_auc", "pr_auc"):
                table[f"{m}_vs_{name}"] = table[m] / table["horizon"].map(oracle[m]).to_numpy()
    return table


def flat_metrics(summary: pd.DataFrame) -> dict[str, float]:
    """``{method}_h{h}_{metric}`` for MLflow."""
    out = {}
    for _, r in summary.iterrows():
        for c, v in r.items():
            if c in ("horizon", "method") or not isinstance(v, (int, float, np.floating, np.integer)) or pd.isna(v):
                continue
            out[f"{r['method']}_h{int(r['horizon'])}_{c}"] = float(v)
    return out
