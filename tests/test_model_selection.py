"""Honest model selection on tiny backtest summaries: the best at h=3 wins, a simpler one within the tie wins."""

import pandas as pd
import pytest

from evaluation.model_selection import choose, selection_table, with_model_rows


def _summary(aucs: dict[str, float], horizon: int = 3) -> pd.DataFrame:
    return pd.DataFrame([{"horizon": horizon, "method": m, "roc_auc": a, "folds": 4} for m, a in aucs.items()]
                        + [{"horizon": 1, "method": "tenure_km", "roc_auc": 0.99, "folds": 4}])


def test_the_best_at_the_alert_horizon_wins():
    sel = choose(_summary({"lightgbm": 0.60, "logistic": 0.76, "tenure_km": 0.58, "oracle": 0.9}))
    assert sel["chosen"] == "logistic" and sel["roc_auc"] == {"tenure_km": 0.58, "logistic": 0.76, "lightgbm": 0.60}
    assert "highest backtest ROC-AUC at h=3: 0.760" in sel["reason"]  # the oracle is no candidate; h=1 is ignored


def test_ties_within_the_tolerance_go_to_the_simpler_model():
    assert choose(_summary({"lightgbm": 0.704, "logistic": 0.700, "tenure_km": 0.60}))["chosen"] == "logistic"
    assert choose(_summary({"lightgbm": 0.706, "logistic": 0.700, "tenure_km": 0.60}))["chosen"] == "lightgbm"
    sel = choose(_summary({"lightgbm": 0.701, "logistic": 0.700, "tenure_km": 0.699}))
    assert sel["chosen"] == "tenure_km" and "within 0.005 of the best" in sel["reason"]
    assert "| tenure Kaplan-Meier hazard | 0.699 | 4 | yes |" in selection_table(sel)


def test_only_the_given_candidates_compete_and_none_is_an_error():
    assert choose(_summary({"lightgbm": 0.6, "logistic": 0.7}), candidates=("lightgbm",))["chosen"] == "lightgbm"
    with pytest.raises(ValueError, match="no candidate was scored at h=3"):
        choose(_summary({"lightgbm": 0.6}, horizon=6))


def test_model_rows_copy_the_chosen_candidate():
    metrics = pd.DataFrame([{"fold": 0, "horizon": 3, "method": m, "roc_auc": a}
                            for m, a in {"lightgbm": 0.6, "logistic": 0.7}.items()])
    out = with_model_rows(metrics, "logistic")
    assert out.loc[out["method"] == "model", "roc_auc"].tolist() == [0.7] and len(out) == 3


def test_the_baseline_check_refuses_a_version_worse_than_its_strongest_baseline():
    from evaluation.compare import SPECS, baseline_check

    spec = SPECS["attrition"]
    lost = baseline_check(spec, 0.60, {"logistic ROC-AUC": 0.76, "tenure KM ROC-AUC": 0.58})
    assert not lost["passed"] and lost["baseline"] == "logistic ROC-AUC"
    assert lost["reason"] == ("ROC-AUC at h=3 on its own backtest 0.6000 against the strongest baseline "
                              "(logistic ROC-AUC 0.7600): worse beyond the tolerance 0.01")
    assert baseline_check(spec, 0.751, {"logistic ROC-AUC": 0.76, "tenure KM ROC-AUC": None})["passed"]
    ranker = baseline_check(SPECS["course_ranker"], 0.2, {"rule NDCG@10": 0.4})  # every model is checked
    assert ranker["applicable"] and not ranker["passed"]
