"""``compare course-ranker`` reads the recommendation log: once randomised lists are old enough for their
outcomes to be known, the compared versions get IPS / DR gains over the champion with intervals."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import numpy as np
import pandas as pd

from models.learning_plans import exploration
from models.learning_plans import store as plans


class RuleRanker:
    """Another ranker to evaluate: the rule baseline's order."""

    def score(self, frame: pd.DataFrame) -> np.ndarray:
        from evaluation.course_ranker_baselines import rule_based

        return rule_based(frame)


def test_compare_shows_off_policy_gains_once_logged_outcomes_are_known(workspace):
    import mlflow

    from features.offline import read_clean
    from training_jobs.off_policy import candidate_frame, evaluate_versions
    from training_jobs.promotion import compare_versions
    from training_jobs.tracking import configure

    settings = workspace.settings
    last = pd.to_datetime(read_clean(settings, "competency_ratings")["review_date"]).max()
    origin = (last - pd.DateOffset(months=10)).to_period("M").to_timestamp()
    configure(settings)
    champion = mlflow.pyfunc.load_model("models:/course_ranker@champion").unwrap_python_model().model
    frame = candidate_frame(settings, [origin], None)
    frame = frame.assign(score=champion.score(frame))
    rng = np.random.default_rng(0)
    rows = []
    served = (origin + pd.Timedelta(days=3)).tz_localize("UTC").isoformat()
    groups = list(frame.groupby("employee_id"))[:90]
    for employee, g in groups[:10]:  # lists shown with exploration share 0
        order = g.sort_values(["score", "course_id"], ascending=[False, True]).head(3)
        rows += [plans.Logged(f"ope0-{employee}", employee, None, c, rank, 0.0, "course_ranker", "1", 1.0, False,
                              0.0, served) for rank, c in enumerate(order["course_id"], start=1)]
    with closing(sqlite3.connect(settings.app_db)) as con:
        plans.ensure(con)
        plans.log_shown(con, rows)
    note = evaluate_versions(settings, {"champion": champion}, "champion")
    assert "never randomised" in note["note"]
    for employee, g in groups[10:]:
        order = g.sort_values(["score", "course_id"], ascending=[False, True])
        shown = exploration.choose(len(order), 3, 1.0, rng, pool=8)
        for rank, (pos, p) in enumerate(zip(shown.positions, shown.propensities, strict=True), start=1):
            rows.append(plans.Logged(f"ope-{employee}", employee, None, order["course_id"].iloc[pos], rank,
                                     float(order["score"].iloc[pos]), "course_ranker", "1", float(p), shown.explored,
                                     1.0, served))
    with closing(sqlite3.connect(settings.app_db)) as con:
        plans.ensure(con)
        plans.log_shown(con, rows)
    n_requests = len({r.request_id for r in rows})

    res = evaluate_versions(settings, {"champion": champion, "rule": RuleRanker()}, "champion")
    assert res["requests"] == n_requests
    assert res["rankers"]["champion"]["gain_ips"]["estimate"] == 0.0  # against itself
    rule = res["rankers"]["rule"]
    assert 0 < rule["support"] <= 1 and np.isfinite(rule["gain_dr"]["se"])
    assert rule["gain_dr"]["lo"] <= rule["gain_dr"]["estimate"] <= rule["gain_dr"]["hi"]

    result = compare_versions(settings, "course-ranker", log=False)
    assert result["off_policy"]["requests"] == n_requests
    assert "Off-policy evaluation" in result["markdown"]

