"""Learning plans through the API on the small trained workspace: recommendations are logged with a request
id; a plan answers a logged recommendation (or is recorded as unsolicited), is idempotent per key, audited
and scoped; with an exploration share the lists are randomised and their propensities logged."""

from __future__ import annotations

import sqlite3

import pytest

from tests.serving_workspace import auth, problem


def _recommended(client, keys, who="hr_system", more_candidates=False):
    """The first employee with recommendations (and more candidates than places): (employee id, body)."""
    for e in keys["in_a"]:
        r = client.get(f"/v1/employees/{e}/course-recommendations", params={"k": 5}, headers=auth(keys[who]))
        body = r.json() if r.status_code == 200 else {}
        if body.get("courses") and (not more_candidates or body["candidates"] > len(body["courses"])):
            return e, body
    pytest.skip("no employee of unit A has a recommendation in the small workspace")


def _post(client, key, employee, body, idem="plan-key-0001", lang="en"):
    return client.post(f"/v1/employees/{employee}/learning-plan", json=body, params={"lang": lang},
                       headers={**auth(key), "Idempotency-Key": idem})


def test_recommendations_are_logged_with_their_request_id(client, keys, workspace):
    employee, body = _recommended(client, keys)
    assert body["request_id"]
    with sqlite3.connect(workspace.settings.app_db) as con:
        rows = con.execute("SELECT course_id, rank, propensity, explored, model_version FROM recommendation_log "
                           "WHERE request_id = ? ORDER BY rank", (body["request_id"],)).fetchall()
    assert [(r[0], r[1]) for r in rows] == [(c["course_id"], c["rank"]) for c in body["courses"]]
    assert all(r[2] == 1.0 and r[3] == 0 and r[4] == body["model"]["version"] for r in rows)  # share 0: no draw


def test_plan_for_a_recommended_course_keeps_rank_score_and_version(client, keys, workspace):
    employee, body = _recommended(client, keys)
    course = body["courses"][1] if len(body["courses"]) > 1 else body["courses"][0]
    r = _post(client, keys["hr_system"], employee, {"course_id": course["course_id"], "status": "accepted",
                                                   "request_id": body["request_id"]}, idem="plan-key-rec-1")
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["recommended"] and plan["rank"] == course["rank"] and plan["score"] == pytest.approx(course["score"])
    assert plan["model_version"] == body["model"]["version"] and plan["propensity"] == 1.0
    assert course["title"] in plan["message"] and f"rank {course['rank']}" in plan["message"]
    replay = _post(client, keys["hr_system"], employee, {"course_id": course["course_id"], "status": "accepted",
                                                        "request_id": body["request_id"]}, idem="plan-key-rec-1")
    assert replay.status_code == 200 and replay.json()["replayed"] and replay.json()["plan_id"] == plan["plan_id"]
    conflict = _post(client, keys["hr_system"], employee, {"course_id": course["course_id"], "status": "declined"},
                     idem="plan-key-rec-1")
    assert "already used" in problem(conflict, 409)["detail"]
    zh = _post(client, keys["hr_system"], employee, {"course_id": course["course_id"], "status": "planned"},
               idem="plan-key-rec-2", lang="zh")
    assert zh.status_code == 201 and "已列入计划" in zh.json()["message"] and f"第{course['rank']}位" in zh.json()["message"]
    listed = client.get(f"/v1/employees/{employee}/learning-plans", headers=auth(keys["hr_system"])).json()
    assert [p["status"] for p in listed["plans"]][-2:] == ["accepted", "planned"]
    with sqlite3.connect(workspace.settings.app_db) as con:
        endpoints = {r[0] for r in con.execute("SELECT endpoint FROM audit_log WHERE subject = ?",
                                               (f"{employee}/{course['course_id']}",))}
    assert {"learning-plan/accepted", "learning-plan/planned"} <= endpoints


def test_a_course_never_recommended_needs_unsolicited(client, keys, workspace):
    employee, body = _recommended(client, keys)
    from features.offline import read_clean

    with sqlite3.connect(workspace.settings.app_db) as con:
        logged = {r[0] for r in con.execute("SELECT course_id FROM recommendation_log WHERE employee_id = ?",
                                            (employee,))}

    course = next(c for c in read_clean(workspace.settings, "courses")["course_id"] if c not in logged)
    detail = problem(_post(client, keys["hr_system"], employee, {"course_id": course, "status": "planned"},
                           idem="plan-key-unsol-1"), 422)["detail"]
    assert "was not recommended" in detail and "unsolicited" in detail
    r = _post(client, keys["hr_system"], employee, {"course_id": course, "status": "planned", "unsolicited": True},
              idem="plan-key-unsol-1")
    assert r.status_code == 201 and not r.json()["recommended"] and r.json()["rank"] is None
    assert "unsolicited" in r.json()["message"]


def test_bad_plans_are_422_and_other_units_are_404(client, keys):
    employee, body = _recommended(client, keys)
    course = body["courses"][0]["course_id"]
    h = auth(keys["hr_system"])
    url = f"/v1/employees/{employee}/learning-plan"
    assert "Idempotency-Key" in problem(client.post(url, json={"course_id": course, "status": "accepted"}, headers=h),
                                        422)["detail"]
    problem(client.post(url, json={"course_id": course, "status": "maybe"}, headers={**h, "Idempotency-Key": "k" * 9}),
            422)
    problem(client.post(url, json={"course_id": course, "status": "accepted"}, headers={**h, "Idempotency-Key": "x"}),
            422)
    problem(client.post(url, json={"course_id": "C-9999", "status": "accepted"},
                        headers={**h, "Idempotency-Key": "plan-key-bad-1"}), 422)
    problem(client.post(url, json={"course_id": course, "status": "accepted", "colour": 1},
                        headers={**h, "Idempotency-Key": "plan-key-bad-2"}), 422)
    outsider = keys["in_b"][0]
    problem(_post(client, keys["partner_a"], outsider, {"course_id": course, "status": "accepted",
                                                        "unsolicited": True}, idem="plan-key-scope-1"), 404)
    problem(client.get(f"/v1/employees/{outsider}/learning-plans", headers=auth(keys["partner_a"])), 404)
    problem(_post(client, keys["data_scientist"], employee, {"course_id": course, "status": "accepted"},
                  idem="plan-key-role-1"), 403)


def test_openapi_declares_the_plan_endpoints_with_security(client):
    spec = client.get("/v1/openapi.json").json()
    post = spec["paths"]["/v1/employees/{employee_id}/learning-plan"]["post"]
    assert {"bearer": []} in post["security"] and {"201", "409", "422", "404"} <= set(post["responses"])
    assert {"bearer": []} in spec["paths"]["/v1/employees/{employee_id}/learning-plans"]["get"]["security"]


def test_exploration_randomises_lists_and_logs_propensities(workspace, keys):
    from fastapi.testclient import TestClient

    from features.settings import Settings
    from serving.app import create_app

    settings = Settings(home=workspace.settings.home, exploration_share=1.0, exploration_pool=12)
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        employee, body = _recommended(c, keys, more_candidates=True)
        shown = body["courses"]
    with sqlite3.connect(workspace.settings.app_db) as con:
        rows = con.execute("SELECT propensity, explored, exploration_share FROM recommendation_log "
                           "WHERE request_id = ?", (body["request_id"],)).fetchall()
    assert [c["rank"] for c in shown] == list(range(1, len(shown) + 1))
    assert all(c["placed_by"] == "exploration" and c["placed_by_text"] for c in shown)
    m = min(12, body["candidates"])  # share 1: every list is drawn from the top 12 (fewer when fewer candidates)
    assert len(rows) == len(shown)
    assert all(r[0] == pytest.approx(len(shown) / m) and r[1] == 1 and r[2] == 1.0 for r in rows)

