"""The leakage check's pure functions on tiny hand-made frames."""

import numpy as np
import pandas as pd
import pytest

from evaluation.leakage import (
    bin_rates,
    card_section,
    future_dated_flags,
    missingness_flags,
    refusal,
    single_feature_auc,
    single_feature_flags,
    snapshot_folds,
)


def _snapshots() -> pd.DataFrame:
    """20 leaver and 40 stayer snapshots; ``last_rating`` exists only for leavers (reviews kept for leavers
    only), ``tenure_months`` is missing for a quarter of both."""
    label = np.array([1] * 20 + [0] * 40)
    return pd.DataFrame({
        "label": label,
        "last_rating": np.where(label == 1, 3.0, np.nan),
        "tenure_months": [np.nan if i % 4 == 0 else float(i) for i in range(60)],
    })


def test_a_feature_present_only_for_leavers_is_flagged_by_name():
    flags = missingness_flags(_snapshots(), ["last_rating", "tenure_months"])
    assert [f["name"] for f in flags] == ["last_rating"]
    assert flags[0]["missing_leavers"] == 0.0 and flags[0]["missing_stayers"] == 1.0
    assert flags[0]["detail"] == "missing for 0% of leavers and 100% of stayers at the snapshot"
    assert missingness_flags(_snapshots().head(25), ["last_rating"]) == []  # 5 stayers: too few to compare


def test_rows_dated_after_the_data_end_are_flagged_with_whose_they_are():
    reviews = pd.DataFrame({"employee_id": ["A", "B", "C", "D"],
                            "date": pd.to_datetime(["2024-05-01", "2025-02-01", "2025-03-01", "2024-12-31"])})
    flags = future_dated_flags({"reviews.review_date": reviews}, pd.Timestamp("2025-01-01", tz="UTC"), leavers=["C"])
    assert len(flags) == 1 and flags[0]["name"] == "reviews.review_date" and flags[0]["rows"] == 2
    assert flags[0]["detail"] == ("2 rows dated on or after the end of the data (2025-01-01), 1 of them of people "
                                  "who stayed and 1 of people who left")
    assert future_dated_flags({"reviews.review_date": reviews.head(1)}, pd.Timestamp("2025-01-01")) == []


def test_bin_rates_are_shrunk_exit_rates_per_bin_with_missing_its_own_bin():
    train = pd.Series([1.0, 1.0, np.nan, np.nan])
    rates = bin_rates(train, np.array([1, 1, 0, 0]), pd.Series([1.0, np.nan, 7.0]))
    overall = 0.5
    assert rates[0] == pytest.approx((2 + 20 * overall) / (2 + 20))
    assert rates[1] == pytest.approx((0 + 20 * overall) / (2 + 20))
    assert rates[2] == pytest.approx(overall)  # a value never seen: the overall rate


def test_a_feature_that_alone_separates_leavers_is_flagged_and_a_noise_feature_is_not():
    rng = np.random.default_rng(0)
    n = 400
    ts = np.repeat(pd.date_range("2024-01-01", periods=8, freq="MS", tz="UTC"), n // 8)
    label = rng.random(n) < 0.2
    frame = pd.DataFrame({"event_timestamp": ts,
                          "label": label.astype(int),
                          "leak": np.where(label, np.nan, rng.normal(size=n)),
                          "noise": rng.normal(size=n)})
    folds = snapshot_folds(frame, [pd.Timestamp("2024-06-01", tz="UTC")], horizon=3)
    assert len(folds) == 1 and folds[0][0].sum() == 150 and folds[0][1].sum() == 150  # 3 months before, 3 from
    aucs = single_feature_auc(frame, ["leak", "noise"], folds)
    assert aucs["leak"] == pytest.approx(1.0) and 0.35 < aucs["noise"] < 0.65
    flags = single_feature_flags(aucs)
    assert [f["name"] for f in flags] == ["leak"] and "ROC-AUC of 1.000" in flags[0]["detail"]


def test_refusal_names_each_flag_and_the_option_and_allowing_it_clears_it():
    flags = missingness_flags(_snapshots(), ["last_rating"])
    message = refusal(flags)
    assert message.startswith("the leakage check flagged last_rating (missing for 0% of leavers")
    assert "--allow-leaky-feature last_rating" in message and "\n" not in message
    assert refusal(flags, allowed=["last_rating"]) is None
    assert "registered anyway with --allow-leaky-feature" in card_section(flags, ["last_rating"])
    assert "no feature's availability or timing differs" in card_section([])
