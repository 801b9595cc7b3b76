"""The course ranker's baseline check is on the gain it captures where the run could measure it."""

from __future__ import annotations

from evaluation.compare import SPECS, gate


def _comparison(metrics: dict[str, float]) -> dict:
    spec = SPECS["course_ranker"]
    from evaluation.compare import gate_metrics

    row = {"version": "1", "diff_vs_reference": None, "logged_primary": metrics["model_ndcg_at_10"],
           "baselines": {label: metrics.get(key) for label, key in spec.baselines},
           **gate_metrics(spec, metrics),
           "fairness": {"applicable": True, "passed": True, "min_impact_ratio": 0.9}}
    return {"model": "course_ranker", "versions": [row], "reference_version": "1", "enough_common_data": True,
            "higher_is_better": True, "tolerance": spec.tolerance, "primary_label": spec.primary_label, "alpha": 0.05}


NDCG = {"model_ndcg_at_10": 0.20, "popularity_ndcg_at_10": 0.31, "rule_ndcg_at_10": 0.29, "cf_ndcg_at_10": 0.32}


def test_with_true_gains_the_gate_compares_the_gain_captured():
    uplift = {"model_uplift_capture_at_10": 0.68, "popularity_uplift_capture_at_10": 0.41,
              "rule_uplift_capture_at_10": 0.56, "cf_uplift_capture_at_10": 0.39}
    out = gate(_comparison({**NDCG, **uplift}), "1")
    assert out["baseline_passed"] and out["passed"]
    assert any("uplift capture@10 on its own backtest 0.6800" in r and "rule uplift capture@10 0.5600" in r
               for r in out["reasons"])


def test_a_ranker_that_captures_less_gain_than_a_baseline_is_refused():
    uplift = {"model_uplift_capture_at_10": 0.50, "popularity_uplift_capture_at_10": 0.41,
              "rule_uplift_capture_at_10": 0.56, "cf_uplift_capture_at_10": 0.39}
    out = gate(_comparison({**NDCG, **uplift}), "1")
    assert not out["baseline_passed"] and not out["passed"]


def test_without_true_gains_the_gate_falls_back_to_ndcg():
    out = gate(_comparison(NDCG), "1")
    assert not out["baseline_passed"]
    assert any("NDCG@10 on its own backtest 0.2000" in r and "item-item CF NDCG@10 0.3200" in r for r in out["reasons"])
