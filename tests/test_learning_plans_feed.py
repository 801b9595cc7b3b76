"""The learning-plan loop through the feeds: the simulator plays the HR suite's plan flow and writes
``learning/learning_plans``, ingest loads it into the recommendation log, and ``compare course-ranker``
evaluates the champion against the logging policy off-policy."""

from __future__ import annotations

import math
import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from features.contract import CONTRACT
from features.simulator import PlanSettings, simulate
from features.simulator.plan_flow import inclusion

SMALL = {"employees": 80, "months": 19, "seed": 5, "dirty_rate": 0.0, "start": "2024-01"}


@pytest.fixture(scope="module")
def with_plans(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("plans") / "company"
    simulate(out, plans=PlanSettings(share=0.5), **SMALL)
    return out


def test_the_simulator_writes_the_plan_export_with_exact_propensities(with_plans):
    plans = pd.read_csv(with_plans / "learning" / "learning_plans.csv")
    assert list(plans.columns) == CONTRACT["learning_plans"].column_names
    assert len(plans) > 30 and set(plans["status"]) <= {"accepted", "declined"}
    assert ((plans["propensity"] > 0) & (plans["propensity"] <= 1)).all()
    assert not plans.duplicated(["request_id", "course_id"]).any()
    s = PlanSettings(share=0.5)
    truth = pd.read_parquet(with_plans / "_truth" / "learning_plan_candidates.parquet")
    for rid, g in plans.groupby("request_id"):
        assert list(g["rank"]) == list(range(1, len(g) + 1)) and len(g) <= s.k
        cands = truth[truth["request_id"] == rid].sort_values("position")
        expected = inclusion(len(cands), s.k, s.epsilon, s.pool)  # the rule, from the candidates' count alone
        assert np.allclose(cands["propensity"], expected)
        shown = cands.set_index("course_id").loc[g["course_id"]]
        assert shown["shown"].all() and np.allclose(shown["propensity"], g["propensity"].to_numpy(), atol=1e-6)
        if not g["explored"].iloc[0]:  # not randomised: the policy's top k, in its order
            assert list(shown["position"]) == list(range(len(g)))
    requests = pd.read_parquet(with_plans / "_truth" / "learning_plan_requests.parquet")
    assert set(requests["request_id"]) == set(plans["request_id"])
    assert (requests["expected_reward"] >= 0).all() and (requests["expected_gain"] >= 0).all()
    # window: 12 to 9 months before the last review month (2025-06) of 19 months from 2024-01: 2024-06 .. 2024-09
    assert set(plans["served_at"]) == {"2024-06-01", "2024-07-01", "2024-08-01", "2024-09-01"}


def test_the_flow_draws_from_its_own_stream_and_following_changes_later_enrollments(tmp_path, with_plans):
    simulate(tmp_path / "none", **SMALL)
    simulate(tmp_path / "never", plans=PlanSettings(share=0.5, follow=0.0), **SMALL)
    simulate(tmp_path / "always", plans=PlanSettings(share=0.5, follow=1.0), **SMALL)
    assert not (tmp_path / "none" / "learning" / "learning_plans.csv").exists()
    enr = {name: pd.read_csv(tmp_path / name / "learning" / "enrollments.csv") for name in ("none", "never", "always")}
    # the months before the window are untouched (a course's outcome may end later, so ids, dates and sources)
    ident = ["enrollment_id", "employee_id", "course_id", "enrolled_at", "source"]
    before = {name: e.loc[e["enrolled_at"] < "2024-06-01", ident] for name, e in enr.items()}
    pd.testing.assert_frame_equal(before["none"], before["always"])
    ratings = {name: pd.read_csv(tmp_path / name / "performance" / "competency_ratings.csv") for name in ("none", "always")}
    early = {name: r[r["review_date"] < "2024-06-01"] for name, r in ratings.items()}
    pd.testing.assert_frame_equal(early["none"], early["always"])
    assert not ratings["none"].equals(ratings["always"])  # the plans' true effects show in later ratings
    pd.testing.assert_frame_equal(enr["none"], enr["never"])  # nobody follows: the company is the same
    never = pd.read_csv(tmp_path / "never" / "learning" / "learning_plans.csv")
    always = pd.read_csv(tmp_path / "always" / "learning" / "learning_plans.csv")
    assert (never["status"] == "declined").all() and (always["status"] == "accepted").all()
    in_window = {name: e[(e["enrolled_at"] >= "2024-06-01") & (e["enrolled_at"] < "2024-10-01")
                        & (e["source"] == "recommended")] for name, e in enr.items()}
    planned = always[["employee_id", "course_id"]].merge(in_window["always"], on=["employee_id", "course_id"])
    assert len(planned) == len(always)  # every accepted course was enrolled in the window
    assert len(in_window["always"]) > len(in_window["never"]) + len(always) // 2


def test_ingest_loads_the_export_into_the_recommendation_log_once(with_plans, home):
    from features import app_db
    from features.settings import Settings
    from models.learning_plans import store
    from talentloop.cli import app

    result = CliRunner().invoke(app, ["ingest", str(with_plans)])
    assert result.exit_code == 0, result.stderr
    assert "learning_plans" in result.stderr and "recommendation log" in result.stderr
    assert "learning/learning_plans" not in result.stderr  # an optional table is not warned about
    plans = pd.read_csv(with_plans / "learning" / "learning_plans.csv")
    with closing(app_db.connect(Settings(home=home).app_db)) as con:
        log = store.read_log(con)
    assert len(log) == len(plans)
    merged = log.merge(plans, on=["request_id", "course_id"])
    assert (merged["plan_status"] == merged["status"]).all()
    assert np.allclose(merged["propensity_x"], merged["propensity_y"])
    assert set(pd.to_datetime(log["served_at"], format="ISO8601").dt.day) == {1}
    again = CliRunner().invoke(app, ["ingest", str(with_plans)])
    assert again.exit_code == 0 and "(0 new)" in again.stderr
    with closing(sqlite3.connect(Settings(home=home).app_db)) as con:
        assert con.execute("SELECT COUNT(*) FROM learning_plans").fetchone()[0] == len(plans)


def test_compare_course_ranker_shows_the_off_policy_section_against_the_logging_policy(workspace, tmp_path):
    """The serving workspace's company (seed 1, 300 × 24) simulated again with the plan flow: the same company
    up to the window, so its plan export's employees and courses are the workspace's. Only the export is
    ingested (a learning feed holding just that table)."""
    from contextlib import closing

    from features import app_db
    from features.ingest import ingest
    from features.offline import read_clean
    from models.learning_plans import feed
    from tests.conftest import private_copy
    from tests.serving_workspace import EMPLOYEES, MONTHS, SEED
    from training_jobs.off_policy import LOGGING, POPULARITY
    from training_jobs.promotion import compare_versions

    settings = private_copy(workspace.settings, tmp_path / "home")
    simulate(tmp_path / "company", employees=EMPLOYEES, months=MONTHS, seed=SEED, dirty_rate=0,
             plans=PlanSettings(share=0.6))
    only = tmp_path / "plans" / "learning"
    only.mkdir(parents=True)
    (only / "learning_plans.csv").write_bytes((tmp_path / "company" / "learning" / "learning_plans.csv").read_bytes())
    report = ingest(tmp_path / "plans", settings)
    assert report.tables["learning_plans"].accepted == report.tables["learning_plans"].rows_in
    with closing(app_db.connect(settings.app_db)) as con:
        loaded = feed.load(con, read_clean(settings, "learning_plans"))
    assert loaded.shown_added == loaded.shown > 0

    result = compare_versions(settings, "course-ranker", log=False)
    section = result["off_policy"]
    assert section["reference"] == LOGGING and section["requests"] > 20
    assert set(section["rankers"]) >= {LOGGING, POPULARITY} and len(section["rankers"]) == 3
    for row in section["rankers"].values():
        for est in ("gain_ips", "gain_dr", "value_dr"):
            assert all(math.isfinite(row[est][k]) for k in ("estimate", "lo", "hi"))
    assert section["rankers"][LOGGING]["gain_dr"]["estimate"] == 0.0
    text = result["markdown"]
    assert "Off-policy evaluation (gain over logging policy" in text and "hr-suite-gap-rule" in text
    assert "nan" not in text.split("Off-policy evaluation")[1].lower()
