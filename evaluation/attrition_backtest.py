"""Rolling-origin backtest for attrition: the model, its baselines and the oracles on the same folds.

Fold with origin T: train on hazard rows whose outcome month ends by T (no label from T on is seen),
evaluate on the snapshots at T, T+1, T+2 with the label "voluntary exit within h months", censored as in
``models.attrition.labels.horizon_labels``. Origins are spaced ``spacing`` months apart, the latest one as
late as the shortest evaluated horizon allows; a horizon is scored on the folds whose windows fit in the
data (long horizons have fewer folds — the table says how many).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.attrition_oracle import (
    has_process_truth,
    oracle_risk,
    process_oracle_risk,
    profile_hidden,
    profile_oracle_risk,
)
from evaluation.metrics import classification_report
from features import progress
from models.attrition.labels import KEYS, horizon_labels, month_index

EVAL_HORIZONS = (1, 3, 6, 12)
EVAL_MONTHS = 3
MIN_TRAIN_EXITS = 10  # a fold trains only when its window holds at least this many voluntary exits


def origins(end: pd.Timestamp, n_folds: int = 4, spacing: int = 3, min_horizon: int = 3) -> list[pd.Timestamp]:
    """Fold origins, oldest first; the latest leaves room for ``EVAL_MONTHS`` snapshots of ``min_horizon``."""
    last = pd.Timestamp(end) - pd.DateOffset(months=EVAL_MONTHS - 1 + min_horizon)
    return [last - pd.DateOffset(months=spacing * i) for i in reversed(range(n_folds))]


def outcome_end(rows: pd.DataFrame) -> np.ndarray:
    """Per hazard row, the month index after its outcome month (the row's label is known from then on)."""
    return month_index(rows["event_timestamp"].dt.tz_convert(None)) + rows["months_ahead"].to_numpy() + 1


def feasible_origins(rows: pd.DataFrame, end: pd.Timestamp, n_folds: int, min_train_months: int,
                     min_exits: int = MIN_TRAIN_EXITS) -> tuple[list[pd.Timestamp], str | None]:
    """The latest ``n_folds`` origins whose training window has ``min_train_months`` outcome months and
    ``min_exits`` voluntary exits, and a warning when fewer than asked for fit. Raises ValueError (naming the
    options that help) when not even one does."""
    ends = outcome_end(rows)
    label = rows["label"].to_numpy()
    kept, first_short = [], None
    for origin in origins(end, n_folds, min_horizon=min(EVAL_HORIZONS)):
        o = month_index(pd.Series([origin.tz_convert(None)]))[0]
        train = ends <= o
        months, exits = len(np.unique(ends[train])), int(label[train].sum())
        if months >= min_train_months and exits >= min_exits:
            kept.append(origin)
        elif first_short is None or origin > first_short[0]:
            first_short = (origin, months, exits)
    if not kept:
        origin, months, exits = first_short
        raise ValueError(f"the data are too short for a backtest: the latest fold (origin {origin:%Y-%m}) trains on "
                         f"{months} outcome months with {exits} voluntary exits, and a fold needs "
                         f"{min_train_months} months and {min_exits} exits; use a smaller --calibration-months "
                         "or export a longer history")
    warning = None
    if len(kept) < n_folds:
        warning = (f"only {len(kept)} of the {n_folds} requested backtest folds have enough history "
                   f"({min_train_months} outcome months and {min_exits} voluntary exits before the origin); "
                   f"backtesting on {len(kept)} (--folds {len(kept)} avoids this warning)")
    return kept, warning


def backtest(
    rows: pd.DataFrame,
    snaps: pd.DataFrame,
    events: pd.DataFrame,
    end: pd.Timestamp,
    feature_columns: list[str],
    candidates: Mapping[str, Callable[[], object]],
    truth_dir: Path | None = None,
    n_folds: int = 4,
    horizons: tuple[int, ...] = EVAL_HORIZONS,
    fold_origins: list[pd.Timestamp] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every candidate (name → a function making an unfitted model) trained and scored on the same folds.

    Returns (metrics: one row per fold × horizon × method, predictions: one row per scored snapshot and
    horizon with ``p_<method>``). ``fold_origins`` (default: :func:`origins`) fixes the folds.
    """
    ends = outcome_end(rows)
    metrics, preds = [], []
    process = has_process_truth(truth_dir)
    thin = bool(profile_hidden(truth_dir))  # an export profile that drops part of the observable logit
    chosen = fold_origins if fold_origins is not None else origins(end, n_folds, min_horizon=min(horizons))
    for fold, origin in progress.track(enumerate(chosen), "attrition: backtest folds", total=len(chosen)):
        o = month_index(pd.Series([origin.tz_convert(None)]))[0]
        train = rows[ends <= o]
        window = snaps[(snaps["event_timestamp"] >= origin)
                       & (snaps["event_timestamp"] < origin + pd.DateOffset(months=EVAL_MONTHS))]
        methods = {name: make().fit(train, feature_columns) for name, make in candidates.items()}
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
            if thin:
                scored["profile_oracle"] = profile_oracle_risk(truth_dir, labelled, (h,))[:, 0]
            for name, p in scored.items():
                metrics.append({"fold": fold, "origin": origin, "horizon": h, "method": name,
                                **classification_report(labelled["label"].to_numpy(), p)})
            preds.append(labelled.assign(fold=fold, horizon=h, **{f"p_{k}": v for k, v in scored.items()}))
    if not metrics:
        raise ValueError("no backtest fold had labelled snapshots with both outcomes: the data window is too short "
                         "or holds too few exits; use fewer --folds or export a longer history")
    return pd.DataFrame(metrics), pd.concat(preds, ignore_index=True)


def summarise(metrics: pd.DataFrame) -> pd.DataFrame:
    """Mean over folds per horizon × method, with the number of folds and ratios to the oracles
    (``*_vs_oracle``: the full-information oracle; ``*_vs_process_oracle``: the process oracle)."""
    cols = [c for c in metrics.columns if c not in ("fold", "origin", "horizon", "method")]
    table = metrics.groupby(["horizon", "method"])[cols].mean()
    table["folds"] = metrics.groupby(["horizon", "method"]).size()
    table = table.reset_index()
    for name in ("oracle", "process_oracle", "profile_oracle"):
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
