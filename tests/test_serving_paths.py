"""Which attrition answers the event loop gives from the stored score, and which go to the thread pool:
only a request the stored score answers in full (scored horizon, top drivers, levers stored and none naming a
course) stays on the loop."""

from __future__ import annotations

from models.attrition import alerts
from models.explanation import Contribution, StoredExplanation
from serving.routers.employees import _precomputed

EXPLANATION = StoredExplanation(-2.5, (Contribution("pay_vs_band_mid", "Pay vs band midpoint", -0.1, 0.4),),
                                {"en": ("Pay is below the band midpoint",), "zh": ("薪酬低于职级中位",)})


def _stored(levers):
    return alerts.StoredScore("2025-06-01", "E1", "T1", "3", {h: 0.01 * h for h in range(1, 13)},
                              alerts.Explained(3, EXPLANATION, levers, None))


def test_only_a_request_the_stored_score_answers_in_full_stays_on_the_loop():
    promotion = ({"lever": "promotion"},)
    assert _precomputed(_stored(promotion), 3, "top", levers=True)
    assert _precomputed(_stored(promotion), 3, "top", levers=False)
    assert _precomputed(_stored(None), 3, "top", levers=False)
    assert not _precomputed(None, 3, "top", levers=False)  # nothing stored from these inputs: scored live
    assert not _precomputed(_stored(promotion), 4, "top", levers=False)  # another horizon: TreeSHAP live
    assert not _precomputed(_stored(promotion), 3, "all", levers=False)  # every input: always live
    assert not _precomputed(_stored(None), 3, "top", levers=True)  # levers not stored: computed live
    course = ({"lever": "promotion"}, {"lever": "complete_a_course"})
    assert not _precomputed(_stored(course), 3, "top", levers=True)  # the course it names is ranked live
    assert _precomputed(_stored(course), 3, "top", levers=False)
