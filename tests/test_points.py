"""Training points (积分制): rules, balances and projection on hand-typed tables with exact expected values, the
knapsack of ``target=points``, and the API on the serving workspace (scope, audit, problems)."""

from __future__ import annotations

import pandas as pd
import pytest

from models.points.balances import balances, course_points, unit_completion
from models.points.plan import plan
from models.points.rules import PointsRules, load_rules
from tests.serving_workspace import auth, problem


def _tables() -> dict[str, pd.DataFrame]:
    events = pd.DataFrame([
        ("ev1", "A", "2020-01-10", "hire", "U1", "J1"),
        ("ev2", "B", "2024-07-01", "hire", "U2", "J2"),
        ("ev3", "C", "2020-01-10", "hire", "U2", "J1"),
        ("ev4", "C", "2024-02-15", "termination", "U2", "J1"),
    ], columns=["event_id", "employee_id", "effective_date", "event_type", "org_unit_id", "job_id"])
    return {
        "employees": pd.DataFrame({"employee_id": ["A", "B", "C"],
                                   "hire_date": pd.to_datetime(["2020-01-10", "2024-07-01", "2020-01-10"])}),
        "employment_events": events.assign(effective_date=pd.to_datetime(events["effective_date"])),
        "jobs": pd.DataFrame({"job_id": ["J1", "J2"], "level": [1, 5], "family": ["sales", "sales"]}),
        "courses": pd.DataFrame({"course_id": ["K1", "K2", "K3"], "format": ["online", "workshop", "online"],
                                 "hours": [4.0, 8.0, 2.0], "points": [40, None, 25], "cost": [100.0, 900.0, 50.0]}),
        "enrollments": pd.DataFrame({
            "employee_id": ["A", "A", "A", "B", "A"], "course_id": ["K1", "K2", "K3", "K1", "K3"],
            "status": ["completed", "completed", "completed", "completed", "dropped"],
            "completed_at": pd.to_datetime(["2023-11-05", "2024-02-01", "2024-06-30", "2024-08-01", None])}),
        "points_ledger": pd.DataFrame({
            "employee_id": ["A", "A", "A"], "date": pd.to_datetime(["2024-03-01", "2024-05-01", "2024-07-15"]),
            "points": [20, -50, 20], "activity": ["exam_bonus", "redemption", "exam_bonus"]}),
    }


def test_course_points_follow_the_rules():
    courses = _tables()["courses"]
    assert course_points(courses, PointsRules()).to_dict() == {"K1": 40.0, "K2": 80.0, "K3": 25.0}
    rules = PointsRules(course_points={"source": "rules", "per_hour": 5, "per_format": {"workshop": 10},
                                       "courses": {"K3": 99}})
    assert course_points(courses, rules).to_dict() == {"K1": 20.0, "K2": 50.0, "K3": 99.0}


def test_balances_point_in_time_with_projection_and_prorated_target():
    rules = PointsRules(yearly_target={"default": 100, "by_job_level": {5: 120}})
    rows = balances(_tables(), rules, "2024-07-01").set_index("employee_id")
    assert set(rows.index) == {"A"}  # B is hired on the scoring day, C left
    a = rows.loc["A"]
    # this year before July: K2 (80, priced by hours) + the March exam bonus (20); K3 completes on 30 June → 25
    assert a["earned"] == 80 + 20 + 25
    assert a["target"] == 100 and a["met"] and a["remaining"] == 0  # a whole year employed: the whole target
    # pace: the 12 months before July (K1 40 + 125) / 12; half a year left (184 days)
    assert a["pace_per_month"] == pytest.approx((40 + 125) / 12)
    assert a["projected"] == pytest.approx(125 + (165 / 12) * 184 / 30.4375, abs=0.05)
    assert a["balance"] == 20 - 50  # spendable: the ledger before July (the 15 July bonus is later)

    later = balances(_tables(), rules, "2024-09-01").set_index("employee_id")
    b = later.loc["B"]  # hired 1 July into a level-5 job: 120 a year, prorated to the 6 months employed
    assert b["target"] == pytest.approx(120 * 184 / 366, abs=0.05)  # 184 of the leap year's 366 days
    assert b["earned"] == 40 and not b["met"]
    assert b["pace_per_month"] == pytest.approx(40 / (62 / 30.4375))


def test_new_year_starts_at_zero_and_year_start_month_is_honoured():
    rows = balances(_tables(), PointsRules(), "2025-01-01").set_index("employee_id")
    assert (rows["earned"] == 0).all() and (rows["year_start"] == "2025-01-01").all()
    fiscal = balances(_tables(), PointsRules(year_start_month=4), "2024-07-01").set_index("employee_id")
    assert fiscal.loc["A", "year_start"] == "2024-04-01"
    assert fiscal.loc["A", "earned"] == 25  # only the 30 June completion is in the fiscal year


def test_unit_completion_counts_subtrees():
    rows = pd.DataFrame({"org_unit_id": ["U1", "U2", "U2"], "met": [True, False, True],
                         "on_track": [True, True, False], "attainment": [1.2, 0.5, 1.0],
                         "projected_attainment": [1.5, 1.1, 1.0], "earned": [120.0, 50.0, 100.0]})
    closure = pd.DataFrame({"ancestor_id": ["R", "R", "U1", "U2"], "org_unit_id": ["U1", "U2", "U1", "U2"]})
    out = unit_completion(rows, closure).set_index("org_unit_id")
    assert out.loc["R", "headcount"] == 3
    assert out.loc["R", "completion_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert out.loc["U2", "on_track_rate"] == 0.5
    assert out.loc["U2", "points_earned"] == 150


def test_bad_rules_file_names_file_and_field(tmp_path):
    (tmp_path / "points.yaml").write_text("yearly_target:\n  default: -5\n")
    with pytest.raises(ValueError, match=r"points\.yaml: field yearly_target\.default"):
        load_rules(tmp_path)
    (tmp_path / "points.yaml").write_text("per_hour: 3\n")
    with pytest.raises(ValueError, match="field per_hour"):
        load_rules(tmp_path)


def test_knapsack_reaches_the_target_with_fewest_hours_within_limits():
    pts, hours, cost, score = [30, 50, 20, 60], [3, 6, 1, 8], [10, 10, 10, 500], [4, 3, 2, 1]
    best = plan(pts, hours, cost, score, remaining=50)
    assert best.chosen == (0, 2) and best.reaches_target and best.points == 50 and best.hours == 4
    capped = plan(pts, hours, cost, score, remaining=50, max_courses=1)
    assert capped.chosen == (1,) and capped.reaches_target
    poor = plan(pts, hours, cost, score, remaining=110, budget=30)  # the 60-point course costs 500
    assert poor.chosen == (0, 1, 2) and not poor.reaches_target and poor.points == 100
    short = plan(pts, hours, cost, score, remaining=100, max_hours=5)
    assert not short.reaches_target and short.hours <= 5 and short.points == 50
    assert plan(pts, hours, cost, score, remaining=0).chosen == ()


# ---------------------------------------------------------------------- the API on the serving workspace
@pytest.fixture(scope="module")
def scored(workspace):
    from training_jobs.score_points import run

    return run(workspace.settings, send=False)


def _audited(workspace, endpoint: str) -> int:
    import sqlite3

    with sqlite3.connect(workspace.settings.app_db) as con:
        return con.execute("SELECT count(*) FROM audit_log WHERE endpoint = ?", (endpoint,)).fetchone()[0]


def test_employee_points_scoped_and_audited(client, keys, workspace, scored):
    person = keys["in_a"][0]
    before = _audited(workspace, "points")
    r = client.get(f"/v1/employees/{person}/points?lang=zh", headers=auth(keys["partner_a"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["as_of"] == scored["as_of"] and body["target"] > 0
    assert body["projected"] >= body["earned"] and "积分" in body["text"]
    from models.wording.rules import violations

    english = client.get(f"/v1/employees/{person}/points", headers=auth(keys["hr_system"])).json()["text"]
    assert not violations(body["text"], "zh") and not violations(english, "en")
    assert _audited(workspace, "points") == before + 2
    problem(client.get(f"/v1/employees/{keys['in_b'][0]}/points", headers=auth(keys["partner_a"])), 404)
    problem(client.get("/v1/employees/E9999999/points", headers=auth(keys["hr_system"])), 404)
    problem(client.get(f"/v1/employees/{person}/points?lang=fr", headers=auth(keys["hr_system"])), 422)


def test_points_overview_per_unit(client, keys, workspace, scored):
    a, b = keys["units"]
    r = client.get(f"/v1/points?org_unit={a}&people=true&page_size=5", headers=auth(keys["partner_a"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["units"][0]["org_unit_id"] == a
    assert body["units"][0]["headcount"] == body["total_people"] > 0
    assert all(0 <= u["completion_rate"] <= 1 and 0 <= u["on_track_rate"] <= 1 for u in body["units"])
    assert len(body["people"]) == min(5, body["total_people"])
    attain = [p["projected_attainment"] for p in body["people"]]
    assert attain == sorted(attain)
    assert all(p["employee_id"] in keys["in_a"] for p in body["people"])
    problem(client.get(f"/v1/points?org_unit={b}", headers=auth(keys["partner_a"])), 404)
    problem(client.get("/v1/points?page_size=0", headers=auth(keys["hr_system"])), 422)
    problem(client.get("/v1/points", headers=auth(keys["data_scientist"])), 403)
    spec = client.get("/v1/openapi.json").json()["paths"]
    assert spec["/v1/points"]["get"]["security"] and spec["/v1/employees/{employee_id}/points"]["get"]["security"]


def test_recommendations_target_points_fit_hours_and_budget(client, keys, workspace, scored):
    import sqlite3

    with sqlite3.connect(workspace.settings.app_db) as con:
        rows = con.execute("SELECT employee_id, remaining FROM points_balances WHERE as_of = ? AND remaining > 0 "
                           "ORDER BY remaining DESC", (scored["as_of"],)).fetchall()
        prices = dict(con.execute("SELECT course_id, points FROM course_points").fetchall())
    assert rows, "someone still owes points"
    hits = 0
    for person, remaining in rows[:15]:
        r = client.get(f"/v1/employees/{person}/course-recommendations?target=points&max_hours=20&k=5",
                       headers=auth(keys["hr_system"]))
        if r.status_code == 503:
            pytest.skip(r.json()["detail"])  # no course ranker in this workspace
        assert r.status_code == 200, r.text
        body = r.json()
        plan_ = body["points_plan"]
        assert plan_["remaining"] == pytest.approx(remaining)
        assert plan_["hours"] <= 20 and len(body["courses"]) <= 5
        assert plan_["points"] == pytest.approx(sum(prices[c["course_id"]] for c in body["courses"]))
        assert all(c["points"] == prices[c["course_id"]] for c in body["courses"])
        assert plan_["reaches_target"] == (plan_["points"] >= remaining - 1e-9 and bool(body["courses"]))
        hits += plan_["reaches_target"]
        if body["courses"]:  # the list shown is in the recommendation log, each course with propensity 1
            with sqlite3.connect(workspace.settings.app_db) as con:
                logged = con.execute("SELECT course_id, propensity FROM recommendation_log WHERE request_id = ?",
                                     (body["request_id"],)).fetchall()
            assert sorted(logged) == sorted((c["course_id"], 1.0) for c in body["courses"])
    assert hits > 0
    problem(client.get(f"/v1/employees/{rows[0][0]}/course-recommendations?target=badges",
                       headers=auth(keys["hr_system"])), 422)
    # the batch endpoint answers target=points as the single one does, person by person
    people = [p for p, _ in rows[:3]]
    r = client.post("/v1/course-recommendations:batch", headers=auth(keys["hr_system"]),
                    json={"employee_ids": [*people, "E9999999"], "k": 5, "max_hours": 20, "target": "points"})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["status"] for i in items] == [200, 200, 200, 404]
    for person, item in zip(people, items, strict=False):
        one = client.get(f"/v1/employees/{person}/course-recommendations?target=points&max_hours=20&k=5",
                         headers=auth(keys["hr_system"])).json()
        assert item["result"]["points_plan"] == one["points_plan"]
        assert [c["course_id"] for c in item["result"]["courses"]] == [c["course_id"] for c in one["courses"]]
    problem(client.post("/v1/course-recommendations:batch", headers=auth(keys["hr_system"]),
                        json={"employee_ids": people, "target": "badges"}), 422)
