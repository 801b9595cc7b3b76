"""Course recommendations and skill-demand forecasts through the real app (skipped parts say why)."""

from __future__ import annotations

import re

import pytest

from models.wording.rules import violations
from tests.serving_workspace import PROBLEM, auth, problem


# ---------------------------------------------------------------------- course recommendations
def _ranker_loaded(client, keys) -> bool:
    models = client.get("/v1/models", headers=auth(keys["admin"])).json()
    return any(m["name"] == "course_ranker" for m in models["models"])


def test_course_recommendations(client, keys):
    if not _ranker_loaded(client, keys):
        pytest.skip("course ranker not trained in this workspace (503 covered in test_serving_ops)")
    h = auth(keys["hr_system"])
    emp = keys["in_a"][0]
    body = client.get(f"/v1/employees/{emp}/course-recommendations", params={"k": 5, "lang": "zh"}, headers=h).json()
    assert body["model"]["name"] == "course_ranker" and body["features_as_of"] and len(body["courses"]) <= 5
    assert [c["rank"] for c in body["courses"]] == list(range(1, len(body["courses"]) + 1))
    for c in body["courses"]:
        e = c["explanation"]
        assert e["reasons"] and e["raw_score"] == pytest.approx(c["score"], abs=1e-9)
    limited = client.get(f"/v1/employees/{emp}/course-recommendations",
                         params={"k": 10, "formats": "online", "max_hours": 12, "budget": 5000}, headers=h).json()
    assert all(c["format"] == "online" for c in limited["courses"])
    assert sum(c["hours"] for c in limited["courses"]) <= 12 + 1e-9
    assert sum(c["cost"] for c in limited["courses"]) <= 5000 + 1e-9
    for params, needle in (({"k": 0}, "k must be between 1 and 50"), ({"formats": "podcast"}, "formats"),
                           ({"max_hours": -1}, "max_hours"), ({"budget": "lots"}, "budget")):
        assert needle in problem(client.get(f"/v1/employees/{emp}/course-recommendations", params=params,
                                             headers=h), 422)["detail"]
    problem(client.get("/v1/employees/E9999999/course-recommendations", headers=h), 404)


def test_course_recommendation_batch_scope_limits_and_audit(client, keys, workspace):
    if not _ranker_loaded(client, keys):
        pytest.skip("course ranker not trained in this workspace")
    from features import app_db
    from serving import audit

    partner = auth(keys["partner_a"])
    ids = [keys["in_a"][0], keys["in_b"][0], "E9999999"]
    r = client.post("/v1/course-recommendations:batch", json={"employee_ids": ids, "k": 3}, headers=partner)
    items = {i["employee_id"]: i for i in r.json()["items"]}
    assert items[ids[0]]["status"] == 200 and items[ids[0]]["result"]["courses"]
    assert items[ids[1]]["status"] == 404 and items[ids[1]]["result"] is None  # another unit: like unknown
    assert items[ids[2]]["status"] == 404
    assert items[ids[1]]["detail"].replace(ids[1], "X") == items[ids[2]]["detail"].replace(ids[2], "X")
    problem(client.get(f"/v1/employees/{ids[1]}/course-recommendations", headers=partner), 404)
    too_many = {"employee_ids": [f"E{i:07d}" for i in range(501)]}
    assert "at most 500" in problem(client.post("/v1/course-recommendations:batch", json=too_many,
                                                 headers=partner), 413)["detail"]
    problem(client.post("/v1/course-recommendations:batch", json={"employee_ids": []}, headers=partner), 422)
    problem(client.post("/v1/course-recommendations:batch", json={"employee_ids": ids, "top": 3}, headers=partner),
             422)
    con = app_db.connect(workspace.settings.app_db)
    try:
        rows = [x for x in audit.read(con) if x["endpoint"] == "course-recommendations" and x["role"] == "hr_partner"]
    finally:
        con.close()
    shown = {f"{ids[0]}/{c['course_id']}" for c in items[ids[0]]["result"]["courses"]}
    assert shown <= {x["subject"] for x in rows}
    assert not any(x["subject"].startswith(ids[1]) for x in rows)


def test_skill_demand_scope_before_model(client, keys):
    a, b = keys["units"]
    partner = auth(keys["partner_a"])
    problem(client.get("/v1/skill-demand", params={"org_unit": b}, headers=partner), 404)
    problem(client.get("/v1/skill-demand", params={"org_unit": "OU-NOPE"}, headers=auth(keys["hr_system"])), 404)
    problem(client.get("/v1/skill-demand", params={"horizon_months": 13}, headers=partner), 422)
    r = client.get("/v1/skill-demand", params={"org_unit": a}, headers=partner)
    assert r.status_code in (200, 503) and r.headers["content-type"].startswith(("application/json", PROBLEM))
    if r.status_code == 503:
        assert "skill_demand is not loaded" in r.json()["detail"]
        return
    from serving.auth import OrgTree

    body = r.json()
    tree = OrgTree(workspace_units(client))
    assert body["model"]["name"] == "skill_demand" and body["items"]
    for item in body["items"]:
        assert item["org_unit_id"] in tree.subtree(a)
        d = item["demand"]
        assert d["p10"] <= d["p50"] <= d["p90"]
        assert item["gap"] == pytest.approx(d["p50"] - item["supply"], abs=1e-6)
        parts = item["supply_breakdown"]  # supply = holders - expected leavers + expected completions
        assert min(parts.values()) >= 0 and parts["expected_leavers"] <= parts["holders"]
        assert item["supply"] == pytest.approx(max(0.0, parts["holders"] - parts["expected_leavers"]
                                                   + parts["expected_completions"]), abs=1e-6)
        e = item["explanation"]
        assert item["method"] and e["raw_score"] == pytest.approx(d["p50"], abs=1e-6) or item["method"] == "lightgbm"
        assert e["raw_score"] is not None and e["reasons"] and (e["contributions"] or item["method"] != "lightgbm")
        assert not any("n/a" in r for r in e["reasons"])
        words = item["method_text"]  # the method in words, not its code
        assert words and words != item["method"] and "_" not in words and not words.startswith(("mean:", "ensemble:"))
    zh = client.get("/v1/skill-demand", params={"org_unit": a, "lang": "zh"}, headers=partner).json()["items"]
    assert [i["method"] for i in zh] == [i["method"] for i in body["items"]]
    assert all(re.search(r"[\u4e00-\u9fff]", i["method_text"]) for i in zh)  # worded in Chinese
    assert not any(violations(i["method_text"], "zh") for i in zh)
    assert not any(violations(i["method_text"], "en") for i in body["items"])
    # expected leavers: the attrition model's stored P(exit within 6 months) of the skill's holders in the subtree
    from models.attrition.alerts import risks_at

    svc = client.app.state.services
    (as_of,), = svc.db.execute("SELECT max(as_of) FROM attrition_scores").fetchall()
    risk = risks_at(svc.db, 6, as_of).set_index("employee_id")["risk"]
    holders = svc.skill_holders
    checked = 0
    for item in body["items"]:
        mine = holders[(holders["skill_id"] == item["skill_id"]) & holders["org_unit_id"].isin(tree.subtree(item["org_unit_id"]))]
        want = float(mine["employee_id"].map(risk).fillna(0.0).sum())
        assert item["supply_breakdown"]["expected_leavers"] == pytest.approx(want, abs=1e-6)
        checked += want > 0
    assert checked > 0
    one = client.get("/v1/skill-demand", params={"org_unit": a, "skill": body["items"][0]["skill_id"],
                                                 "horizon_months": 3}, headers=partner).json()
    assert {i["skill_id"] for i in one["items"]} == {body["items"][0]["skill_id"]}
    problem(client.get("/v1/skill-demand", params={"skill": "SK-NOPE"}, headers=partner), 404)


def workspace_units(client):
    from features.offline import read_clean

    return read_clean(client.app.state.services.settings, "org_units")
