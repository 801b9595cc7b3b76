"""The ranker's top-k selection on its own: limits, exclusions, mandatory-first and diversity of the top three."""

from __future__ import annotations

import numpy as np
import pytest

from models.course_ranker.selection import Limits, select_top_k

MAIN = ["a", "a", "b", "a", None, "c", "b"]  # main skill of each row (None: addresses no gap)


def choose(limits: Limits, ok=None, mandatory=None, hours=None, cost=None) -> list[int]:
    n = len(MAIN)
    ok = np.ones(n, bool) if ok is None else np.asarray(ok)
    mandatory = np.zeros(n, bool) if mandatory is None else np.asarray(mandatory)
    hours = np.ones(n) if hours is None else np.asarray(hours, float)
    cost = np.zeros(n) if cost is None else np.asarray(cost, float)
    return select_top_k(np.arange(n), ok, mandatory, hours, cost, MAIN.__getitem__, limits).tolist()


def test_the_top_three_cover_distinct_main_skills_then_the_order_fills_up():
    assert choose(Limits(5)) == [0, 2, 4, 1, 3]
    assert choose(Limits(5, diversify=False)) == [0, 1, 2, 3, 4]
    assert choose(Limits(2)) == [0, 2]


def test_hours_budget_and_allowed_rows_limit_the_list():
    assert choose(Limits(7, max_hours=3.0), hours=[2, 1, 1, 1, 1, 1, 1]) == [0, 2]
    assert choose(Limits(7, budget=250.0), cost=[100, 0, 200, 0, 100, 50, 0]) == [0, 4, 5, 1, 3, 6]
    assert choose(Limits(3), ok=[False, True, True, True, True, True, True]) == [1, 2, 4]


def test_mandatory_rows_come_first_and_may_repeat_a_main_skill():
    mandatory = [False, False, False, True, False, False, True]
    assert choose(Limits(4, mandatory_first=True), mandatory=mandatory) == [3, 6, 4, 0]
    assert choose(Limits(4), mandatory=mandatory) == [0, 2, 4, 1]


@pytest.mark.parametrize("bad", [{"k": 0}, {"k": True}, {"k": 2.0}, {"k": 3, "max_hours": -1}, {"k": 3, "budget": float("nan")}])
def test_bad_limits_are_refused(bad):
    with pytest.raises(ValueError, match="k must|max_hours must|budget must"):
        Limits(**bad)
