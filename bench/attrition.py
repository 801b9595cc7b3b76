"""Attrition benchmark: quality of the backtest and batch-scoring speed with explanations.

    .venv/bin/python bench/attrition.py --home .talentloop                 # an existing trained workspace
    .venv/bin/python bench/attrition.py --employees 20000 --home /tmp/b20k  # simulate, ingest, build, train first

Prints (1) the backtest table of the registered champion's run (model vs baselines vs oracle per horizon) and
(2) batch scoring throughput: risk for 12 horizons plus exact TreeSHAP drivers (LightGBM ``pred_contrib``) at
the alert horizon, and the same contributions from ``shap.TreeExplainer`` on the same rows, with the ratio.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

# Run as a script, sys.path[0] is bench/, whose features.py would shadow the ``features`` package: put the
# repository root there instead, before anything imports ``features``.
sys.path[:1] = [str(Path(__file__).resolve().parents[1])]


def prepare(home: Path, employees: int, months: int, seed: int) -> None:
    from features.build import build_features
    from features.ingest import ingest
    from features.settings import Settings
    from features.simulator import simulate
    from features.store import apply, materialize
    from training_jobs import attrition

    settings = Settings(home=home)
    feeds = home / "company"
    stages = [
        ("simulate", lambda: simulate(feeds, employees=employees, months=months, seed=seed)),
        ("ingest", lambda: ingest(feeds, settings)),
        ("features build", lambda: build_features(settings)),
        ("features apply", lambda: apply(settings)),
        ("features materialize", lambda: materialize(settings)),
        ("train attrition", lambda: attrition.run(settings)),
    ]
    for name, fn in stages:
        t = time.perf_counter()
        fn()
        print(f"{name:22s} {time.perf_counter() - t:8.1f} s")


def quality(settings) -> pd.DataFrame:
    import mlflow
    from mlflow import MlflowClient

    client = MlflowClient(settings.tracking_uri, settings.tracking_uri)
    version = client.get_model_version_by_alias("attrition", "champion")
    mlflow.set_tracking_uri(settings.tracking_uri)
    path = mlflow.artifacts.download_artifacts(run_id=version.run_id, artifact_path="evaluation/backtest_summary.csv")
    return pd.read_csv(path)


def scoring_speed(settings, rows: int, repeats: int) -> list[tuple[str, float, float]]:
    import shap

    from features.feature_repo.services import ATTRITION_SERVICE
    from features.offline import read_clean
    from features.store import historical_features
    from models.attrition.labels import snapshots
    from training_jobs.attrition import feature_window
    from training_jobs.score_attrition import explanations, load_champion

    model, _ = load_champion(settings)
    month = feature_window(settings)[1]
    snaps = snapshots(read_clean(settings, "employees"), read_clean(settings, "employment_events"), month,
                      month + pd.DateOffset(months=1))
    feats = historical_features(settings, snaps, ATTRITION_SERVICE)
    feats = feats[feats[model.feature_columns_].notna().any(axis=1)]
    frame = pd.concat([feats] * int(np.ceil(rows / len(feats))), ignore_index=True).head(rows)
    h = model.policy_.horizon

    def ours():
        model.predict_risk(frame)
        explanations(model, frame, h)

    def contributions_only():
        model.contributions(frame, horizon=h)

    def treeexplainer():
        X0 = model._matrix(frame, 0)
        explainer = shap.TreeExplainer(model.booster_)
        for k in range(h):
            explainer.shap_values(X0.assign(months_ahead=k))

    out = []
    paths = (("ours: 12-horizon risk + TreeSHAP + en/zh reasons", ours),
             ("ours: TreeSHAP contributions only (LightGBM pred_contrib)", contributions_only),
             ("shap.TreeExplainer contributions, same rows", treeexplainer))
    for name, fn in paths:
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        best = min(times)
        out.append((name, best, rows / best))
    return out


def markdown(df: pd.DataFrame) -> str:
    fmt = [lambda v: f"{v:.3f}" if isinstance(v, float) else str(v)] * len(df.columns)
    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(f(v) for f, v in zip(fmt, row, strict=True)) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path(os.environ.get("TALENTLOOP_HOME", ".talentloop")))
    parser.add_argument("--employees", type=int, default=0, help="simulate and train this size first (0: reuse)")
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rows", type=int, default=20000, help="employees to score per timing")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from features.settings import Settings

    if args.employees:
        prepare(args.home, args.employees, args.months, args.seed)
    settings = Settings(home=args.home)

    table = quality(settings)
    cols = ["horizon", "method", "folds", "roc_auc", "pr_auc", "precision_at_top_10pct", "recall_at_top_10pct",
            "brier", "ece", "roc_auc_vs_oracle", "pr_auc_vs_oracle"]
    print("\nBacktest (mean over folds)")
    print(markdown(table[[c for c in cols if c in table.columns]]))

    print(f"\nBatch scoring with explanations, {args.rows} employees, best of {args.repeats} "
          f"(OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')})")
    rows = scoring_speed(settings, args.rows, args.repeats)
    print("| path | seconds | employees/s |\n|---|---|---|")
    for name, sec, rate in rows:
        print(f"| {name} | {sec:.2f} | {rate:,.0f} |")
    print(f"\nratio shap.TreeExplainer time / pred_contrib time (same contributions): {rows[2][1] / rows[1][1]:.2f}")


if __name__ == "__main__":
    main()
