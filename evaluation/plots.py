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
    """SHAP beeswarm summary of exact TreeSHAP contributions."""
    import shap

    plt = _plt()
    numeric = X.apply(lambda s: s.cat.codes if hasattr(s, "cat") else pd.to_numeric(s, errors="coerce"))
    shap.summary_plot(contrib, numeric, max_display=max_display, show=False)
    plt.gcf().set_size_inches(9, 6)
    plt.tight_layout()
    plt.savefig(out_path, dpi=80)
    plt.close("all")
    return Path(out_path)
