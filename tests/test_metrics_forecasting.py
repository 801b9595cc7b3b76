"""Forecast metrics on tiny hand-typed series with hand-computed values."""

import numpy as np
import pandas as pd
import pytest

from evaluation.metrics import (
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


def test_mase_one_series():
    # naive errors of [1, 3, 2, 4] at lag 1: 2, 1, 2 -> scale 5/3; test MAE (1 + 2) / 2 = 1.5
    assert naive_scale([1, 3, 2, 4]) == pytest.approx(5 / 3)
    assert mase([5, 6], [4, 8], [1, 3, 2, 4]) == pytest.approx(0.9)
    # lag 2: |2 - 1|, |4 - 3| -> scale 1
    assert mase([5, 6], [4, 8], [1, 3, 2, 4], season=2) == pytest.approx(1.5)


def test_mase_undefined_cases():
    with pytest.raises(ValueError, match="MASE is undefined"):
        mase([1], [2], [3, 3, 3])
    with pytest.raises(ValueError, match="more than season=4"):
        mase([1], [2], [1, 2, 3, 4], season=4)
    with pytest.raises(ValueError, match="season"):
        mase([1], [2], [1, 2, 3], season=0)
    with pytest.raises(ValueError, match="y_hat has 1 values but y has 2"):
        mase([1, 2], [2], [1, 2, 3])


def _train(series: dict[str, list[float]]) -> pd.DataFrame:
    rows = [(sid, m + 1, v) for sid, values in series.items() for m, v in enumerate(values)]
    return pd.DataFrame(rows, columns=["series_id", "month", "y"])


TRAIN = _train({"A": [1, 3, 2, 4], "B": [10, 10, 12, 12]})
TEST = pd.DataFrame(
    {"series_id": ["A", "A", "B"], "month": [5, 6, 5], "y": [5.0, 6.0, 12.0], "y_hat": [4.0, 8.0, 13.0]}
)


def test_mase_by_series_and_frame():
    per = mase_by_series(TEST, TRAIN)
    # A: MAE 1.5, scale 5/3 -> 0.9; B: naive errors 0, 2, 0 -> scale 2/3, MAE 1 -> 1.5
    assert per["series_id"].tolist() == ["A", "B"]
    assert per["n"].tolist() == [2, 1]
    assert per["scale"].tolist() == pytest.approx([5 / 3, 2 / 3])
    assert per["mase"].tolist() == pytest.approx([0.9, 1.5])
    assert mase_frame(TEST, TRAIN) == pytest.approx(1.2)


def test_training_rows_in_any_order():
    assert mase_frame(TEST, TRAIN.sample(frac=1, random_state=0)) == pytest.approx(1.2)


def test_pooled_mase():
    # all test errors 1, 2, 1 -> 4/3; all naive errors 2, 1, 2, 0, 2, 0 -> 7/6
    assert pooled_mase(TEST, TRAIN) == pytest.approx((4 / 3) / (7 / 6))


def test_constant_series():
    train = pd.concat([TRAIN, _train({"C": [5, 5, 5]})])
    test = pd.concat([TEST, pd.DataFrame({"series_id": ["C"], "month": [4], "y": [5.0], "y_hat": [6.0]})])
    with pytest.raises(ValueError, match="zero naive error"):
        mase_frame(test, train)
    assert mase_frame(test, train, skip_constant=True) == pytest.approx(1.2)
    # pooled keeps C: errors 1, 2, 1, 1 -> 5/4; naive errors sum 7 over 8 -> 7/8
    assert pooled_mase(test, train) == pytest.approx((5 / 4) / (7 / 8))


def test_frame_errors():
    with pytest.raises(ValueError, match="missing from train"):
        mase_frame(TEST.replace({"series_id": {"B": "Z"}}), TRAIN)
    with pytest.raises(ValueError, match="duplicate"):
        mase_frame(pd.concat([TEST, TEST]), TRAIN)
    with pytest.raises(ValueError, match="missing column"):
        mase_frame(TEST.drop(columns="y_hat"), TRAIN)
    with pytest.raises(ValueError, match="no more than season"):
        mase_frame(TEST, TRAIN, season=4)


def test_custom_column_names():
    train = TRAIN.rename(columns={"series_id": "unique_id", "month": "ds"})
    test = TEST.rename(columns={"series_id": "unique_id", "month": "ds", "y_hat": "p50"})
    assert mase_frame(test, train, col_series="unique_id", col_time="ds", col_pred="p50") == pytest.approx(
        1.2
    )


def test_smape():
    # terms 2*10/210, 0/0 -> 0, 2*50/50 = 2; mean * 100 = (2/21 + 2) / 3 * 100
    assert smape([100, 0, 50], [110, 0, 0]) == pytest.approx(4400 / 63)
    assert smape([0, 0], [0, 0]) == 0.0
    assert smape([1, -1], [-1, 1]) == pytest.approx(200.0)


def test_quantile_loss():
    # errors y - q_hat: -2, 5. q=0.9: 0.2, 4.5 -> 2.35; q=0.1: 1.8, 0.5 -> 1.15
    assert quantile_loss([10, 20], [12, 15], 0.9) == pytest.approx(2.35)
    assert quantile_loss([10, 20], [12, 15], 0.1) == pytest.approx(1.15)
    with pytest.raises(ValueError, match="q must be"):
        quantile_loss([10, 20], [12, 15], 1.0)


def test_weighted_quantile_loss():
    # sums of pinball: q=0.1 -> 2.3, q=0.9 -> 4.7; sum |y| = 30; (2*2.3/30 + 2*4.7/30) / 2 = 7/30
    forecasts = {0.1: [12, 15], 0.9: [12, 15]}
    assert weighted_quantile_loss([10, 20], forecasts) == pytest.approx(7 / 30)
    # at the median it is sum |y - y_hat| / sum |y| = 7 / 30 too
    assert weighted_quantile_loss([10, 20], {0.5: np.array([12, 15])}) == pytest.approx(7 / 30)
    with pytest.raises(ValueError, match="sum of \\|y\\| is 0"):
        weighted_quantile_loss([0, 0], {0.5: [1, 1]})
    with pytest.raises(ValueError, match="empty"):
        weighted_quantile_loss([1, 2], {})


def test_interval_coverage_and_width():
    y, lo, hi = [1, 2, 3, 4], [0, 2, 3.5, 0], [1, 3, 4, 3]
    # 1 in [0, 1] and 2 in [2, 3] (closed ends); 3 below 3.5; 4 above 3
    assert interval_coverage(y, lo, hi) == 0.5
    assert mean_interval_width(lo, hi) == pytest.approx((1 + 1 + 0.5 + 3) / 4)
    with pytest.raises(ValueError, match="lo exceeds hi"):
        interval_coverage([1], [2], [1])
    with pytest.raises(ValueError, match="hi has 1 values but lo has 2"):
        mean_interval_width([0, 1], [2])
    with pytest.raises(ValueError, match="finite"):
        interval_coverage([np.nan], [0], [1])
