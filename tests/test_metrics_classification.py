"""Classification metrics and the bootstrap on tiny hand-computed data."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.metrics import (
    BootstrapResult,
    bootstrap_ci,
    brier,
    calibration_table,
    classification_report,
    expected_calibration_error,
    paired_bootstrap_diff,
    pr_auc,
    precision_at_top,
    recall_at_top,
    report_by,
    roc_auc,
)

Y = np.array([0, 0, 1, 1])
P = np.array([0.1, 0.4, 0.35, 0.8])


def test_roc_auc_counts_pairs():
    # positive/negative pairs: 0.35>0.1 yes, 0.35>0.4 no, 0.8>0.1 yes, 0.8>0.4 yes -> 3/4
    assert roc_auc(Y, P) == pytest.approx(0.75)


def test_roc_auc_ties_count_half():
    assert roc_auc([0, 1], [0.5, 0.5]) == pytest.approx(0.5)


def test_pr_auc_is_average_precision():
    # ranked: 0.8 (1), 0.4 (0), 0.35 (1), 0.1 (0); precision at each positive 1/1, 2/3 -> 5/6
    assert pr_auc(Y, P) == pytest.approx(5 / 6)


def test_brier():
    # (0.1^2 + 0.4^2 + 0.65^2 + 0.2^2) / 4 = (0.01 + 0.16 + 0.4225 + 0.04) / 4
    assert brier(Y, P) == pytest.approx(0.158125)


def test_one_class_is_a_clear_error():
    with pytest.raises(ValueError, match="only one class"):
        roc_auc([1, 1, 1], [0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match="only one class"):
        pr_auc([0, 0], [0.2, 0.3])
    with pytest.raises(ValueError, match="no positive"):
        recall_at_top([0, 0], [0.2, 0.3], 0.5)


@pytest.mark.parametrize(
    ("y", "p", "message"),
    [
        ([0, 2], [0.1, 0.2], "0/1"),
        ([0, np.nan], [0.1, 0.2], "censored"),
        ([0, 1], [0.1], "values but y has 2"),
        ([0, 1], [0.1, np.nan], "finite"),
        ([0, 1], [0.1, 1.2], r"\[0, 1\]"),
        ([], [], "empty"),
    ],
)
def test_bad_input_names_the_problem(y, p, message):
    with pytest.raises(ValueError, match=message):
        brier(y, p)


def test_bool_labels_are_accepted():
    assert brier(np.array([False, True]), [0.0, 0.5]) == pytest.approx(0.125)


Y10 = np.array([1, 0, 1, 0, 0, 1, 0, 0, 0, 0])
P10 = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])


def test_precision_and_recall_at_top():
    # top ceil(0.3 * 10) = 3 rows hold labels 1, 0, 1; there are 3 positives in all
    assert precision_at_top(Y10, P10, 0.3) == pytest.approx(2 / 3)
    assert recall_at_top(Y10, P10, 0.3) == pytest.approx(2 / 3)
    # top 1 row
    assert precision_at_top(Y10, P10, 0.1) == 1.0
    assert recall_at_top(Y10, P10, 0.1) == pytest.approx(1 / 3)
    # ceil(0.05 * 10) = 1 row, not 0
    assert precision_at_top(Y10, P10, 0.05) == 1.0


def test_top_count_ignores_float_noise():
    # 0.1 * 30 = 3.0000000000000004 in floating point; the top must still be 3 rows, not 4
    y = np.array([1, 1, 1] + [0] * 27)
    p = np.linspace(1, 0, 30)
    assert precision_at_top(y, p, 0.1) == 1.0


def test_ties_keep_input_order():
    # rows 0 and 1 tie at 0.5; the stable sort keeps row 0 first
    assert precision_at_top([0, 1, 0, 0], [0.5, 0.5, 0.2, 0.1], 0.25) == 0.0
    assert precision_at_top([1, 0, 0, 0], [0.5, 0.5, 0.2, 0.1], 0.25) == 1.0


@pytest.mark.parametrize("fraction", [0, -0.1, 1.5])
def test_fraction_out_of_range(fraction):
    with pytest.raises(ValueError, match="fraction"):
        precision_at_top(Y10, P10, fraction)


def test_ece_uniform_bins():
    # bin [0, .5): p .1 .4 .35, y 0 0 1 -> |1/3 - 0.85/3| = 0.05; bin [.5, 1]: p .8, y 1 -> 0.2
    # ECE = 3/4 * 0.05 + 1/4 * 0.2
    assert expected_calibration_error(Y, P, n_bins=2) == pytest.approx(0.0875)


def test_ece_quantile_bins():
    # edges at quantiles 0, .5, 1 of p: 0.1, 0.375, 0.8 -> {0.1, 0.35} and {0.4, 0.8}
    # gaps |0.5 - 0.225| = 0.275 and |0.5 - 0.6| = 0.1, each half the rows
    assert expected_calibration_error(Y, P, n_bins=2, strategy="quantile") == pytest.approx(0.1875)


def test_ece_perfect_and_edges():
    assert expected_calibration_error([0, 1], [0.0, 1.0]) == 0.0
    # p = 1.0 falls in the last bin and p = 0.5 opens the upper of two bins
    table = calibration_table([1, 0], [1.0, 0.5], n_bins=2)
    assert table["bin"].tolist() == [1]
    assert table["n"].tolist() == [2]


def test_calibration_table_drops_empty_bins():
    table = calibration_table(Y, P, n_bins=10)
    assert table["bin"].tolist() == [1, 3, 4, 8]
    assert table["lower"].tolist() == pytest.approx([0.1, 0.3, 0.4, 0.8])
    assert table["upper"].tolist() == pytest.approx([0.2, 0.4, 0.5, 0.9])
    assert table["n"].tolist() == [1, 1, 1, 1]
    assert table["abs_gap"].tolist() == pytest.approx([0.1, 0.65, 0.4, 0.2])


def test_calibration_rejects_bad_options():
    with pytest.raises(ValueError, match="strategy"):
        expected_calibration_error(Y, P, strategy="kmeans")
    with pytest.raises(ValueError, match="n_bins"):
        expected_calibration_error(Y, P, n_bins=0)


def test_classification_report_collects_everything():
    report = classification_report(Y, P)
    assert report["roc_auc"] == pytest.approx(0.75)
    assert report["pr_auc"] == pytest.approx(5 / 6)
    assert report["brier"] == pytest.approx(0.158125)
    assert report["prevalence"] == 0.5
    # 5% and 10% of 4 rows both round up to the single top row (p 0.8, y 1)
    assert report["precision_at_top_5pct"] == 1.0
    assert report["recall_at_top_10pct"] == 0.5
    assert set(report) >= {"n", "ece", "precision_at_top_10pct", "recall_at_top_5pct"}


def test_report_by_horizon():
    df = pd.DataFrame({"horizon": [1] * 4 + [3] * 4, "y": [*Y, 0, 1, 0, 1], "p": [*P, 0.1, 0.9, 0.2, 0.8]})
    out = report_by(df)
    assert out["horizon"].tolist() == [1, 3]
    assert out["roc_auc"].tolist() == pytest.approx([0.75, 1.0])


# --- bootstrap -------------------------------------------------------------------------------------------


def _noisy(n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Labels and informative but imperfect probabilities, fixed seed."""
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, n)
    return y, np.clip(0.3 * y + rng.uniform(0, 0.7, n), 0, 1)


def test_bootstrap_is_deterministic_and_contains_the_point():
    yb, pb = _noisy()
    first = bootstrap_ci(brier, yb, pb, n_boot=100, seed=3)
    again = bootstrap_ci(brier, yb, pb, n_boot=100, seed=3)
    other = bootstrap_ci(brier, yb, pb, n_boot=100, seed=4)
    assert first == again
    assert (first.lo, first.hi) != (other.lo, other.hi)
    point, lo, hi = first
    assert point == pytest.approx(brier(yb, pb))
    assert lo < point < hi
    assert isinstance(first, BootstrapResult) and first.n_skipped == 0


def test_one_cluster_resamples_to_the_full_data():
    yb, pb = _noisy()
    result = bootstrap_ci(brier, yb, pb, n_boot=20, groups=np.zeros(60))
    assert result.lo == pytest.approx(result.estimate)
    assert result.hi == pytest.approx(result.estimate)


def test_cluster_bootstrap_keeps_pandas_inputs_aligned():
    yb, pb = _noisy()
    y, p = pd.Series(yb, index=range(100, 160)), pd.Series(pb, index=range(100, 160))
    result = bootstrap_ci(brier, y, p, n_boot=30, groups=np.arange(60) // 3)
    assert result.lo <= result.estimate <= result.hi


def test_undefined_resamples_are_skipped_and_counted():
    y = np.array([0] + [1] * 9)
    p = np.linspace(0.1, 0.9, 10)
    result = bootstrap_ci(roc_auc, y, p, n_boot=200, seed=0)
    # a resample misses the single negative with probability 0.9 ** 10 = 0.35
    assert 0 < result.n_skipped < 100
    with pytest.raises(ValueError, match="undefined on"):
        bootstrap_ci(roc_auc, y, p, n_boot=200, seed=0, max_skipped_share=0.1)


def test_paired_diff_of_identical_models_is_zero():
    yb, pb = _noisy()
    diff, lo, hi = paired_bootstrap_diff(brier, yb, pb, pb, n_boot=50)
    assert (diff, lo, hi) == (0.0, 0.0, 0.0)


def test_paired_diff_detects_the_better_model():
    yb, pb = _noisy()
    perfect = yb.astype(float)
    diff, lo, hi = paired_bootstrap_diff(roc_auc, yb, perfect, pb, n_boot=100, seed=1)
    assert diff == pytest.approx(1.0 - roc_auc(yb, pb))
    assert 0 < lo <= diff <= hi


def test_bootstrap_rejects_bad_arguments():
    yb, pb = _noisy()
    with pytest.raises(ValueError, match="same length"):
        bootstrap_ci(brier, yb, pb[:-1])
    with pytest.raises(ValueError, match="alpha"):
        bootstrap_ci(brier, yb, pb, alpha=1.5)
    with pytest.raises(ValueError, match="n_boot"):
        bootstrap_ci(brier, yb, pb, n_boot=0)
    with pytest.raises(ValueError, match="groups"):
        bootstrap_ci(brier, yb, pb, groups=[1, 2])


# --- identities on random data -----------------------------------------------------------------------------

_labels_and_probs = st.integers(2, 40).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 1), min_size=n, max_size=n),
        st.lists(st.floats(0, 1), min_size=n, max_size=n),
    )
)


@settings(max_examples=40, deadline=None)
@given(_labels_and_probs)
def test_identities(data):
    y, p = np.array(data[0]), np.array(data[1])
    # one bin: ECE is the gap between the overall rate and the mean probability
    assert expected_calibration_error(y, p, n_bins=1) == pytest.approx(abs(y.mean() - p.mean()))
    # the whole list: precision is the prevalence
    assert precision_at_top(y, p, 1.0) == pytest.approx(y.mean())
    for strategy in ("uniform", "quantile"):
        table = calibration_table(y, p, n_bins=5, strategy=strategy)
        assert table["n"].sum() == y.size
        assert 0 <= expected_calibration_error(y, p, n_bins=5, strategy=strategy) <= 1
