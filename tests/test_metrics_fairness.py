"""Fairness audit figures on tiny hand-typed frames with hand-computed values."""

import numpy as np
import pandas as pd
import pytest

from evaluation.metrics import (
    cramers_v,
    four_fifths_gate,
    gated_groups,
    group_calibration,
    impact_ratios,
    mutual_information,
    selection_rates,
)


def _people() -> pd.DataFrame:
    # F: 4 rows, 1 selected; M: 5 rows, 3 selected; X: 1 row, selected
    return pd.DataFrame(
        {
            "sex": ["F"] * 4 + ["M"] * 5 + ["X"],
            "band": ["lo", "lo", "hi", "hi", "lo", "lo", "lo", "hi", "hi", "hi"],
            "selected": [1, 0, 0, 0, 1, 1, 0, 1, 0, 1],
            "left": [1, 0, 0, 0, 1, 1, 0, 0, 1, 1],
        }
    )


def test_selection_rates():
    rates = selection_rates(_people(), "sex", "selected")
    assert rates.columns.tolist() == ["sex", "n", "share", "selected", "rate"]
    assert rates["sex"].tolist() == ["F", "M", "X"]
    assert rates["n"].tolist() == [4, 5, 1]
    assert rates["share"].tolist() == pytest.approx([0.4, 0.5, 0.1])
    assert rates["selected"].tolist() == [1, 3, 1]
    assert rates["rate"].tolist() == pytest.approx([0.25, 0.6, 1.0])


def test_intersections_and_missing_attribute():
    df = _people()
    rates = selection_rates(df, ["sex", "band"], "selected")
    # F-hi 0/2, F-lo 1/2, M-hi 1/2, M-lo 2/3, X-hi 1/1
    assert list(zip(rates["sex"], rates["band"], strict=True)) == [
        ("F", "hi"),
        ("F", "lo"),
        ("M", "hi"),
        ("M", "lo"),
        ("X", "hi"),
    ]
    assert rates["rate"].tolist() == pytest.approx([0.0, 0.5, 0.5, 2 / 3, 1.0])
    df.loc[0, "sex"] = None
    rates = selection_rates(df, "sex", "selected")
    assert rates["n"].sum() == 10 and rates["sex"].isna().sum() == 1


def test_selection_rates_errors():
    with pytest.raises(ValueError, match="0/1"):
        selection_rates(_people().assign(selected=2), "sex", "selected")
    with pytest.raises(ValueError, match="no column"):
        selection_rates(_people(), "age", "selected")
    with pytest.raises(ValueError, match="selected_col"):
        selection_rates(_people(), "sex", "picked")
    with pytest.raises(ValueError, match="empty"):
        selection_rates(_people().iloc[:0], "sex", "selected")


def _ratios(**kw) -> pd.DataFrame:
    """Impact ratios of ``_people`` by sex; its groups are tiny, so the minimum group size is lifted."""
    return impact_ratios(selection_rates(_people(), "sex", "selected"), **{"min_group_size": 1, "min_expected": 0, **kw})


def test_impact_ratios_gate_small_groups():
    table = _ratios(small_group_share=0.15)
    # X (share 0.1) is not gated; the highest gated rate is M's 0.6
    assert table["gated"].tolist() == [True, True, False]
    assert table["impact_ratio"].tolist() == pytest.approx([0.25 / 0.6, 1.0, 1 / 0.6])
    assert table["is_reference"].tolist() == [False, True, False]
    # with a 2% share every group is gated and X becomes the reference
    table = _ratios()
    assert table["impact_ratio"].tolist() == pytest.approx([0.25, 0.6, 1.0])


def test_groups_need_a_minimum_size_as_well_as_a_share():
    # 100 people: A 60 (rate 0.5), B 37 (rate 0.3), C 3 (rate 1.0, share 3% but only 3 people)
    rates = pd.DataFrame({"grp": ["A", "B", "C"], "n": [60, 37, 3], "share": [0.6, 0.37, 0.03],
                          "rate": [0.5, 0.3, 1.0]})
    assert gated_groups(rates).tolist() == [True, True, False]  # default: n >= 30 and share >= 2%
    assert gated_groups(rates, min_group_size=3).tolist() == [True, True, True]
    assert gated_groups(rates, min_group_size=40).tolist() == [True, False, False]
    table = impact_ratios(rates)
    # C is reported but neither gated nor the reference: A is
    assert table["is_reference"].tolist() == [True, False, False]
    assert table["impact_ratio"].tolist() == pytest.approx([1.0, 0.6, 2.0])
    assert four_fifths_gate(table)["status"].tolist() == ["pass", "fail", "too_small"]
    with pytest.raises(ValueError, match="min_group_size=100"):
        impact_ratios(rates, min_group_size=100)
    with pytest.raises(ValueError, match="min_group_size must be a positive integer"):
        gated_groups(rates, min_group_size=0)
    with pytest.raises(ValueError, match="small_group_share"):
        gated_groups(rates, small_group_share=1.0)


def test_groups_need_ten_expected_selections_to_be_judged():
    # 1,000 people, 10% selected: CN 900 (9.3%), SG 60 (20%: 12 selected), FR 40 (5%: 2 selected)
    rates = pd.DataFrame({"nat": ["CN", "FR", "SG"], "n": [900, 40, 60], "share": [0.9, 0.04, 0.06],
                          "selected": [86, 2, 12]})
    rates["rate"] = rates["selected"] / rates["n"]
    # SG and FR have 30+ people and 2%+ of them, but only 6 and 4 expected selections at the overall 10%
    assert gated_groups(rates).tolist() == [True, False, False]
    assert gated_groups(rates, min_expected=4).tolist() == [True, True, True]
    gate = four_fifths_gate(impact_ratios(rates)).set_index("nat")
    # SG is not the reference (its 12 of 60 would make CN's ratio 0.48): CN is, and is judged against itself
    assert gate.loc["CN", "is_reference"] and gate.loc["CN", "status"] == "pass"
    assert gate.loc[["FR", "SG"], "status"].tolist() == ["too_small", "too_small"]
    assert gate["passed"].all()
    # judged by the same rule as before once they are large enough: SG gated as the reference fails CN
    loose = four_fifths_gate(impact_ratios(rates, min_expected=4)).set_index("nat")
    assert loose.loc["SG", "is_reference"] and loose.loc["CN", "status"] == "fail"
    # a rare selection needs a larger group: at a 1% rate 1,000 people expect only 10
    rare = pd.DataFrame({"g": ["a", "b"], "n": [999, 5000], "share": [0.17, 0.83], "selected": [10, 50]})
    assert gated_groups(rare.assign(rate=rare["selected"] / rare["n"])).tolist() == [False, True]
    # rows, not people, count: 40 people scored in 10 months each at 5% expect 20 selections among their rows
    monthly = pd.DataFrame({"g": ["a", "b"], "n": [400, 400], "people": [40, 40], "share": [0.5, 0.5],
                            "selected": [20, 20]})
    assert gated_groups(monthly.assign(rate=0.05)).tolist() == [True, True]
    with pytest.raises(ValueError, match="min_expected must be >= 0"):
        gated_groups(rates, min_expected=-1)


def test_impact_ratios_errors():
    with pytest.raises(ValueError, match="positive selection rate"):
        impact_ratios(selection_rates(_people().assign(selected=0), "sex", "selected"), min_group_size=1,
                      min_expected=0)
    with pytest.raises(ValueError, match="selection_rates"):
        impact_ratios(pd.DataFrame({"sex": ["F"], "rate": [0.5]}))
    with pytest.raises(ValueError, match="selection_rates"):
        impact_ratios(pd.DataFrame({"sex": ["F"], "n": [40], "share": [1.0]}))


TINY = 0.99  # hand-made groups of a few people: count every shortfall as significant


def test_a_shortfall_fails_only_when_it_is_significant():
    def gate(n: int):
        rates = pd.DataFrame({"grp": ["a", "b"], "n": [n, n], "share": [0.5, 0.5],
                              "selected": [n // 10, 3 * n // 20]})
        return four_fifths_gate(impact_ratios(rates.assign(rate=rates["selected"] / rates["n"])))

    small, large = gate(80), gate(4000)  # impact ratio 0.67 both times
    assert small["status"].tolist() == ["not_significant", "pass"] and small["p_value"].iloc[0] > 0.05
    assert large["status"].tolist() == ["fail", "pass"] and large["p_value"].iloc[0] < 1e-6


def test_calibrated_risks_explain_a_gap_and_inflated_ones_do_not():
    rng = np.random.default_rng(0)
    n = 3000
    grp = np.repeat(["young", "old"], n)
    risk = np.where(grp == "young", 0.12, 0.04) * rng.uniform(0.5, 1.5, 2 * n)
    y = (rng.random(2 * n) < risk).astype(int)
    df = pd.DataFrame({"grp": grp, "y": y, "risk": risk, "selected": (risk >= 0.1).astype(int)})
    table = impact_ratios(selection_rates(df, "grp", "selected"))
    outcomes = selection_rates(df, "grp", "y")
    calibrated = four_fifths_gate(table, outcomes, calibration=group_calibration(df, "grp", "y", "risk"))
    assert calibrated.set_index("grp").loc["old", "status"] == "explained"
    inflated = df.assign(risk=np.where(grp == "young", np.minimum(3 * risk, 1), risk))
    gate = four_fifths_gate(table, outcomes, calibration=group_calibration(inflated, "grp", "y", "risk")).set_index("grp")
    assert gate.loc["old", "status"] == "fail"  # next to the inflated group, the old are off: no explanation
    # a model off by the same factor in every group is not blamed on one group
    halved = df.assign(risk=df["risk"] / 2)
    gate = four_fifths_gate(table, outcomes, calibration=group_calibration(halved, "grp", "y", "risk")).set_index("grp")
    assert gate["calibrated"].all() and gate.loc["old", "status"] == "explained"
    # calibrated, but the true outcome rates are within four fifths of each other: nothing to explain the gap
    same = outcomes.assign(rate=0.1)
    gate = four_fifths_gate(table, same, calibration=group_calibration(df, "grp", "y", "risk")).set_index("grp")
    assert gate.loc["old", "status"] == "fail"


def test_four_fifths_gate_without_outcomes():
    table = _ratios(small_group_share=0.15)
    gate = four_fifths_gate(table, alpha=TINY)
    assert gate["status"].tolist() == ["fail", "pass", "too_small"]
    assert gate["passed"].tolist() == [False, True, True]


def test_four_fifths_gate_explained_by_outcome_rates():
    table = _ratios(small_group_share=0.15)
    # true outcome ('left') rates: F 1/4, M 3/5 -> outcome ratio 0.25/0.6 = impact ratio -> explained
    outcomes = selection_rates(_people(), "sex", "left")
    gate = four_fifths_gate(table, outcomes, alpha=TINY)
    assert gate["outcome_ratio"].iloc[0] == pytest.approx(0.25 / 0.6)
    assert gate["status"].tolist() == ["explained", "pass", "too_small"]
    # equal true outcome rates do not explain F's low selection rate
    equal = outcomes.assign(rate=0.5)
    assert four_fifths_gate(table, equal, alpha=TINY)["status"].tolist() == ["fail", "pass", "too_small"]
    # outcome ratio 0.55 vs impact ratio 0.4167: gap 0.133 is within 0.15, not within 0.1
    near = outcomes.assign(rate=[0.33, 0.6, 1.0])
    assert four_fifths_gate(table, near, alpha=TINY)["status"].iloc[0] == "fail"
    assert four_fifths_gate(table, near, tolerance=0.15, alpha=TINY)["status"].iloc[0] == "explained"


def test_four_fifths_threshold_survives_float_rounding():
    # 0.24 / 0.3 == 0.7999999999999999 in floating point; it meets the four-fifths rule
    rates = pd.DataFrame({"grp": ["a", "b"], "n": [50, 50], "share": [0.5, 0.5], "rate": [0.3, 0.24]})
    gate = four_fifths_gate(impact_ratios(rates))
    assert gate["status"].tolist() == ["pass", "pass"]


def test_four_fifths_gate_errors():
    table = _ratios(small_group_share=0.15)
    outcomes = selection_rates(_people(), "sex", "left")
    with pytest.raises(ValueError, match="no rate for some gated"):
        four_fifths_gate(table, outcomes[outcomes["sex"] != "F"])
    with pytest.raises(ValueError, match="reference group's true outcome rate is 0"):
        four_fifths_gate(table, outcomes.assign(rate=0.0))
    with pytest.raises(ValueError, match="impact_ratios"):
        four_fifths_gate(outcomes)


def test_group_calibration():
    df = pd.DataFrame({"g": ["A", "A", "B", "B"], "y": [0, 1, 1, 1], "p": [0.2, 0.6, 0.9, 0.7]})
    out = group_calibration(df, "g", "y", "p")
    assert out["g"].tolist() == ["A", "B"]
    assert out["n"].tolist() == [2, 2]
    assert out["positives"].tolist() == [1, 2]
    assert out["mean_predicted"].tolist() == pytest.approx([0.4, 0.8])
    assert out["observed_rate"].tolist() == pytest.approx([0.5, 1.0])
    # A: (0.04 + 0.16) / 2; B: (0.01 + 0.09) / 2
    assert out["brier"].tolist() == pytest.approx([0.1, 0.05])
    # one row per bin: A gaps 0.2, 0.4; B gaps 0.1, 0.3
    assert out["ece"].tolist() == pytest.approx([0.3, 0.2])
    # B has one class only: AUC undefined
    assert out["roc_auc"].iloc[0] == 1.0 and np.isnan(out["roc_auc"].iloc[1])


def test_cramers_v():
    # perfect 2x2 on 4 rows: chi2 = 4, phi2 = 1 -> (1 - 1/3) / (5/3 - 1) = 1
    assert cramers_v(["a", "a", "b", "b"], [0, 0, 1, 1]) == pytest.approx(1.0)
    assert cramers_v(["a", "a", "b", "b"], [0, 1, 0, 1]) == 0.0
    # table [[4, 1], [1, 4]]: chi2 = 3.6, phi2 = 0.36; (0.36 - 1/9) / (2 - 1/9 - 1) = 0.28
    x = ["a"] * 5 + ["b"] * 5
    y = [0, 0, 0, 0, 1, 0, 1, 1, 1, 1]
    assert cramers_v(x, y) == pytest.approx(np.sqrt(0.28))


def test_cramers_v_bins_numeric_x():
    # 10 distinct numbers into 2 quantile bins: 1-5 and 6-10, which match y exactly
    assert cramers_v(np.arange(1, 11), [0] * 5 + [1] * 5, n_bins=2) == pytest.approx(1.0)


def test_cramers_v_errors():
    with pytest.raises(ValueError, match="two categories"):
        cramers_v(["a", "a"], [0, 1])
    with pytest.raises(ValueError, match="missing values"):
        cramers_v(["a", None], [0, 1])
    with pytest.raises(ValueError, match="x has 2 values but y has 3"):
        cramers_v(["a", "b"], [0, 1, 1])


def test_mutual_information():
    assert mutual_information(["a", "a", "b", "b"], [0, 0, 1, 1]) == pytest.approx(np.log(2))
    assert mutual_information(["a", "a", "b", "b"], [0, 1, 0, 1]) == pytest.approx(0.0)
    x = ["a"] * 5 + ["b"] * 5
    y = [0, 0, 0, 0, 1, 0, 1, 1, 1, 1]
    # joint 0.4 on the diagonal, 0.1 off it, marginals 0.5
    assert mutual_information(x, y) == pytest.approx(0.8 * np.log(1.6) + 0.2 * np.log(0.4))
