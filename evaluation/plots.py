"""Figures logged with training runs (matplotlib, Agg backend; each returns the saved path)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def roc_pr_calibration(preds: pd.DataFrame, out_dir: Path, methods: list[str]) -> list[Path]:
    """One figure per horizon: ROC, precision-recall and calibration curves of each method."""
    from sklearn.metrics import precision_recall_curve, roc_curve

    from evaluation.metrics import calibration_table

    plt = _plt()
    paths = []
    for h, part in preds.groupby("horizon"):
        fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
        y = part["label"].to_numpy()
        for m in methods:
            p = part[f"p_{m}"].to_numpy()
            fpr, tpr, _ = roc_curve(y, p)
            axes[0].plot(fpr, tpr, label=m)
            prec, rec, _ = precision_recall_curve(y, p)
            axes[1].plot(rec, prec, label=m)
            cal = calibration_table(y, p, n_bins=10)
            axes[2].plot(cal["mean_predicted"], cal["observed_rate"], marker="o", label=m)
        axes[0].plot([0, 1], [0, 1], ":", color="grey")
        lim = float(np.nanmax([part[f"p_{m}"].max() for m in methods] + [y.mean() * 2]))
        axes[2].plot([0, lim], [0, lim], ":", color="grey")
        axes[0].set(title=f"ROC, h={h}", xlabel="false positive rate", ylabel="true positive rate")
        axes[1].set(title=f"Precision-recall, h={h}", xlabel="recall", ylabel="precision")
        axes[2].set(title=f"Calibration, h={h}", xlabel="predicted", ylabel="observed")
        for ax in axes:
            ax.legend(fontsize=8)
        fig.tight_layout()
        path = Path(out_dir) / f"attrition_h{h}.png"
        fig.savefig(path, dpi=80)
        plt.close(fig)
        paths.append(path)
    return paths


def shap_summary(contrib: np.ndarray, X: pd.DataFrame, out_path: Path, max_display: int = 15) -> Path:
    """SHAP summary of exact TreeSHAP contributions: mean |contribution| per feature, and the spread of each
    feature's contributions coloured by the feature's value (low blue, high red)."""
    plt = _plt()
    order = np.argsort(-np.abs(contrib).mean(axis=0))[:max_display][::-1]
    fig, (bar, swarm) = plt.subplots(1, 2, figsize=(13, 0.35 * len(order) + 1.5), sharey=True)
    bar.barh(range(len(order)), np.abs(contrib[:, order]).mean(axis=0), color="#4878a8")
    bar.set(yticks=range(len(order)), yticklabels=[X.columns[i] for i in order], xlabel="mean |SHAP| (log-odds)")
    rng = np.random.default_rng(0)
    for row, j in enumerate(order):
        col = X.iloc[:, j]
        values = col.cat.codes.to_numpy(float) if hasattr(col, "cat") else pd.to_numeric(col, errors="coerce").to_numpy(float)
        lo, hi = np.nanpercentile(values, [5, 95]) if np.isfinite(values).any() else (0.0, 1.0)
        colour = np.clip((values - lo) / (hi - lo or 1.0), 0, 1)
        swarm.scatter(contrib[:, j], row + rng.uniform(-0.3, 0.3, len(values)), c=colour, cmap="coolwarm", s=4)
    swarm.axvline(0, color="grey", lw=0.8)
    swarm.set(xlabel="SHAP value (impact on the monthly exit log-odds)")
    fig.tight_layout()
    fig.savefig(out_path, dpi=80)
    plt.close(fig)
    return Path(out_path)


def training_effect_forest(skills: pd.DataFrame, out_path: Path, top: int = 30) -> Path:
    """The (course, skill) effects with the most takers, each with its 95 % interval."""
    plt = _plt()
    f = skills.nlargest(top, "takers").sort_values("effect")
    fig, ax = plt.subplots(figsize=(7, 0.25 * len(f) + 1.5))
    y = np.arange(len(f))
    ax.errorbar(f["effect"], y, xerr=[f["effect"] - f["ci_low"], f["ci_high"] - f["effect"]], fmt="o", ms=3)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(y, [f"{c} · {s} (n={n})" for c, s, n in zip(f["course_id"], f["skill_id"], f["takers"],
                                                               strict=True)], fontsize=7)
    ax.set_xlabel("effect on the next competency rating (points, 95% interval)")
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)
    return out_path


def training_effect_oracle_scatter(compared: pd.DataFrame, out_path: Path) -> Path:
    """Estimated against true effect (rating points) per (course, skill), intervals as bars."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 5))
    t, e = compared["true_rating_effect"], compared["effect"]
    ax.errorbar(t, e, yerr=[e - compared["ci_low"], compared["ci_high"] - e], fmt="o", ms=3, alpha=0.6)
    lim = [min(t.min(), compared["ci_low"].min()), max(t.max(), compared["ci_high"].max())]
    ax.plot(lim, lim, color="grey", lw=0.8)
    ax.set_xlabel("true effect on the rating (simulator)")
    ax.set_ylabel("estimated effect (95% interval)")
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)
    return out_path
