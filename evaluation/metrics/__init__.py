"""Evaluation metrics as pure functions: classification, ranking, forecasting, fairness, bootstrap.

Defaults live in ``evaluation.metrics.constants``.
"""

from evaluation.metrics.bootstrap import BootstrapResult, bootstrap_ci, paired_bootstrap_diff
from evaluation.metrics.classification import (
    brier,
    calibration_table,
    classification_report,
    expected_calibration_error,
    pr_auc,
    precision_at_top,
    recall_at_top,
    report_by,
    roc_auc,
)
from evaluation.metrics.fairness import (
    cramers_v,
    four_fifths_gate,
    group_calibration,
    impact_ratios,
    mutual_information,
    selection_rates,
)
from evaluation.metrics.forecasting import (
    interval_coverage,
    mase,
    mase_by_series,
    mase_frame,
    mean_interval_width,
    naive_scale,
    pooled_mase,
    quantile_loss,
    smape,
    weighted_quantile_loss,
)
from evaluation.metrics.ranking import (
    catalog_coverage,
    intra_list_diversity,
    mean_gain_at_k,
    mean_reciprocal_rank,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    uplift_capture_at_k,
)

__all__ = [
    "BootstrapResult",
    "bootstrap_ci",
    "brier",
    "calibration_table",
    "catalog_coverage",
    "classification_report",
    "cramers_v",
    "expected_calibration_error",
    "four_fifths_gate",
    "group_calibration",
    "impact_ratios",
    "interval_coverage",
    "intra_list_diversity",
    "mase",
    "mase_by_series",
    "mase_frame",
    "mean_gain_at_k",
    "mean_interval_width",
    "mean_reciprocal_rank",
    "mutual_information",
    "naive_scale",
    "ndcg_at_k",
    "paired_bootstrap_diff",
    "pooled_mase",
    "pr_auc",
    "precision_at_k",
    "precision_at_top",
    "quantile_loss",
    "recall_at_k",
    "recall_at_top",
    "report_by",
    "roc_auc",
    "selection_rates",
    "smape",
    "uplift_capture_at_k",
    "weighted_quantile_loss",
]
