"""Honest model selection: the candidate registered is the best on the backtest every candidate ran on.

Pure functions on the backtest summary (one row per horizon × method, ``roc_auc`` the mean over folds).
The rule: the highest ROC-AUC at the alert horizon wins, except that a simpler candidate within ``TIE`` of the
best is preferred (simplest first: the tenure hazard, then logistic regression, then LightGBM): a difference
that small is within the noise of a few folds, and the simpler model is easier to explain and to trust.
"""

from __future__ import annotations

import pandas as pd

SIMPLEST_FIRST = ("tenure_km", "logistic", "lightgbm")
TIE = 0.005
NAMES = {"tenure_km": "tenure Kaplan-Meier hazard", "logistic": "regularised logistic regression",
         "lightgbm": "LightGBM hazard"}


def choose(summary: pd.DataFrame, horizon: int = 3, candidates: tuple[str, ...] = SIMPLEST_FIRST,
           tie: float = TIE) -> dict:
    """The chosen candidate with the figures and the reason in words.

    ``candidates`` are in order of simplicity (simplest first); only those present in ``summary`` at
    ``horizon`` compete. Returns ``{"chosen", "horizon", "tie", "roc_auc": {name: auc}, "folds", "reason"}``.
    """
    at = summary[(summary["horizon"] == horizon) & summary["method"].isin(candidates)].set_index("method")
    scores = {m: float(at.loc[m, "roc_auc"]) for m in candidates if m in at.index and pd.notna(at.loc[m, "roc_auc"])}
    if not scores:
        raise ValueError(f"no candidate was scored at h={horizon} in the backtest: the data window is too short "
                         "for that horizon; export a longer history")
    best_name = max(scores, key=lambda m: scores[m])
    best = scores[best_name]
    chosen = next(m for m in candidates if m in scores and scores[m] >= best - tie)
    others = ", ".join(f"{NAMES.get(m, m)} {a:.3f}" for m, a in scores.items() if m != chosen)
    if chosen == best_name:
        reason = (f"{NAMES.get(chosen, chosen)} has the highest backtest ROC-AUC at h={horizon}: {best:.3f} "
                  f"(others: {others or 'none'})")
    else:
        reason = (f"{NAMES.get(chosen, chosen)} scores {scores[chosen]:.3f} at h={horizon}, within {tie} of the best "
                  f"({NAMES.get(best_name, best_name)} {best:.3f}), and is the simpler model (others: {others})")
    folds = {m: int(at.loc[m, "folds"]) for m in scores if "folds" in at.columns}
    return {"chosen": chosen, "horizon": horizon, "tie": tie, "roc_auc": scores, "folds": folds, "reason": reason}


def with_model_rows(metrics: pd.DataFrame, chosen: str) -> pd.DataFrame:
    """The backtest metrics plus rows ``method = "model"``: the chosen candidate's, under the name every
    comparison, gate and dashboard reads (``model_h3_roc_auc``)."""
    chosen_rows = metrics[metrics["method"] == chosen].assign(method="model")
    return pd.concat([metrics, chosen_rows], ignore_index=True)


def selection_table(selection: dict) -> str:
    """The model card's table: backtest ROC-AUC per candidate at the alert horizon, the chosen one marked."""
    lines = [f"| candidate | ROC-AUC at h={selection['horizon']} | folds | chosen |", "|---|---|---|---|"]
    for m, auc in sorted(selection["roc_auc"].items(), key=lambda kv: -kv[1]):
        lines.append(f"| {NAMES.get(m, m)} | {auc:.3f} | {selection['folds'].get(m, '')} | "
                     f"{'yes' if m == selection['chosen'] else ''} |")
    return "\n".join(lines)
