"""The serving API on a small trained workspace: health, auth, roles × org units, attrition risk, alerts,
errors as problem+json, audit. Real app, real Feast SQLite online store, real MLflow registry."""

from __future__ import annotations

import json
import os
import sqlite3

import pytest

from tests.serving_workspace import auth, problem


# ---------------------------------------------------------------------- health, models, metrics
def test_health_ready_and_models(client, keys):
    assert client.get("/healthz").json() == {"status": "ok", "worker": os.getpid()}  # TestClient: this process
    ready = client.get("/readyz")
    body = ready.json()
    assert body["models"]["attrition"].startswith("version")
    assert body["stores"]["feature_store"] == "ok" and body["stores"]["org_tree"] == "ok"
    # 200 only when every model is loaded; otherwise 503 naming what is missing
    assert ready.status_code == (200 if not body["missing"] else 503)
    assert all(m.startswith(("model ", "store ")) for m in body["missing"])
    models = client.get("/v1/models", headers=auth(keys["data_scientist"])).json()
    att = next(m for m in models["models"] if m["name"] == "attrition")
    assert att["alias"] == "champion" and att["version"] and att["feature_service"] == "attrition_v1"
    assert att["trained_at"] and any(k.endswith("roc_auc") for k in att["metrics"])


def test_metrics_count_requests_per_route_and_label_model_versions(client, keys):
    emp = keys["in_a"][0]
    client.get(f"/v1/employees/{emp}/attrition-risk", headers=auth(keys["hr_system"]))
    text = client.get("/metrics").text
    assert 'talentloop_http_requests_total{method="GET",route="/v1/employees/{employee_id}/attrition-risk"' in text
    assert "talentloop_http_request_duration_seconds_bucket" in text
    assert 'talentloop_model_info{alias="champion",model="attrition"' in text


def test_openapi_documents_the_v1_api(client):
    spec = client.get("/v1/openapi.json").json()
    assert "/v1/employees/{employee_id}/attrition-risk" in spec["paths"]
    assert "/v1/attrition-alerts/{alert_id}/review" in spec["paths"]
    assert spec["components"]["schemas"]["ExplanationOut"]["examples"]


# ---------------------------------------------------------------------- authentication
@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer tl_not-a-key"}, {"Authorization": "Basic abc"}, {"X-API-Key": "nope"},
    {"Authorization": "Bearer "},
])
def test_missing_or_bad_key_is_401(client, keys, headers):
    emp = keys["in_a"][0]
    for path in (f"/v1/employees/{emp}/attrition-risk", "/v1/attrition-alerts", "/v1/models"):
        body = problem(client.get(path, headers=headers), 401)
        assert "key" in body["detail"].lower()


def test_x_api_key_header_works(client, keys):
    emp = keys["in_a"][0]
    assert client.get(f"/v1/employees/{emp}/attrition-risk", headers={"X-API-Key": keys["hr_system"]}).status_code == 200


# ---------------------------------------------------------------------- roles × endpoints × org units
def test_role_matrix(client, keys):
    emp_a, emp_b = keys["in_a"][0], keys["in_b"][0]
    risk = "/v1/employees/{}/attrition-risk"
    cases = [  # (key, method, path, expected status)
        ("hr_system", "GET", risk.format(emp_b), 200),
        ("data_scientist", "GET", risk.format(emp_b), 200),
        ("admin", "GET", risk.format(emp_b), 200),
        ("partner_a", "GET", risk.format(emp_a), 200),
        ("partner_a", "GET", risk.format(emp_b), 404),
        ("hr_system", "GET", "/v1/attrition-alerts", 200),
        ("partner_a", "GET", "/v1/attrition-alerts", 200),
        ("data_scientist", "GET", "/v1/attrition-alerts", 403),
        ("partner_a", "GET", "/v1/models", 404),
        ("hr_system", "GET", "/v1/models", 200),
        ("partner_a", "POST", "/v1/admin/models/reload", 404),
        ("hr_system", "POST", "/v1/admin/models/reload", 403),
        ("data_scientist", "POST", "/v1/admin/models/reload", 403),
    ]
    for who, method, path, status in cases:
        r = client.request(method, path, headers=auth(keys[who]))
        assert r.status_code == status, (who, method, path, r.text)
        if status >= 400:
            problem(r, status)


def test_partner_never_sees_another_units_employee_alerts_or_reviews(client, keys, workspace):
    a, b = keys["units"]
    partner, system = auth(keys["partner_a"]), auth(keys["hr_system"])
    outside = problem(client.get(f"/v1/employees/{keys['in_b'][0]}/attrition-risk", headers=partner), 404)
    unknown = problem(client.get("/v1/employees/E9999999/attrition-risk", headers=partner), 404)
    assert outside["detail"].replace(keys["in_b"][0], "X") == unknown["detail"].replace("E9999999", "X")
    # the list is restricted to A's subtree; asking for B is 404, like an unknown unit
    from serving.auth import OrgTree

    tree = OrgTree(workspace.org_units())
    listed = client.get("/v1/attrition-alerts", params={"page_size": 500}, headers=partner).json()
    assert all(item["org_unit_id"] in tree.subtree(a) for item in listed["items"])
    problem(client.get("/v1/attrition-alerts", params={"org_unit": b}, headers=partner), 404)
    problem(client.get("/v1/attrition-alerts", params={"org_unit": "OU-NOPE"}, headers=system), 404)
    everyone = client.get("/v1/attrition-alerts", params={"page_size": 500}, headers=system).json()
    in_b = [i for i in everyone["items"] if i["org_unit_id"] in tree.subtree(b)]
    assert everyone["total"] >= listed["total"]
    if in_b:  # reviewing or reading an alert of B is 404 for A's partner
        alert = in_b[0]["alert_id"]
        problem(client.post(f"/v1/attrition-alerts/{alert}/review", json={"status": "dismissed"}, headers=partner),
                 404)
        problem(client.get(f"/v1/attrition-alerts/{alert}", headers=partner), 404)


# ---------------------------------------------------------------------- attrition risk
def test_attrition_risk_answer(client, keys):
    emp = keys["in_a"][0]
    body = client.get(f"/v1/employees/{emp}/attrition-risk", params={"horizon_months": 6},
                      headers=auth(keys["hr_system"])).json()
    curve = [p["risk"] for p in body["risk_curve"]]
    assert [p["horizon_months"] for p in body["risk_curve"]] == list(range(1, 13))
    assert all(0 <= r <= 1 for r in curve) and all(b >= a - 1e-12 for a, b in zip(curve, curve[1:], strict=False))
    assert body["risk"] == pytest.approx(curve[5])
    assert body["model"]["name"] == "attrition" and body["model"]["version"]
    assert body["features_as_of"] and isinstance(body["stale"], bool)
    assert len(body["explanation"]["contributions"]) == 5 and body["explanation"]["reasons"]
    assert body["alert_policy"]["min_risk"] > 0  # the model's own threshold policy
    assert all(lv["kind"] == "model-based what-if, not causal" for lv in body["levers"])


def test_explanation_is_additive_and_precomputed_matches_live(client, keys):
    emp = keys["in_a"][1]
    h = auth(keys["hr_system"])
    top = client.get(f"/v1/employees/{emp}/attrition-risk", params={"horizon_months": 3}, headers=h).json()
    full = client.get(f"/v1/employees/{emp}/attrition-risk",
                      params={"horizon_months": 3, "contributions": "all", "lang": "zh"}, headers=h).json()
    e = full["explanation"]
    assert e["complete"] and e["source"] == "live"
    assert e["base_value"] + sum(c["contribution"] for c in e["contributions"]) == pytest.approx(e["raw_score"],
                                                                                                abs=1e-9)
    # batch scoring stored this month's explanation at the policy horizon: same numbers as live
    if top["explanation"]["source"] == "precomputed":
        assert top["risk_source"] == "precomputed"
        assert top["explanation"]["base_value"] == pytest.approx(e["base_value"], abs=1e-9)
        assert [c["feature"] for c in top["explanation"]["contributions"]] == \
            [c["feature"] for c in e["contributions"][:5]]
    assert top["risk"] == pytest.approx(full["risk"], abs=1e-9)
    # another horizon is always computed live
    h6 = client.get(f"/v1/employees/{emp}/attrition-risk", params={"horizon_months": 7}, headers=h).json()
    assert h6["explanation"]["source"] == "live"


def test_default_request_is_answered_from_batch_scores_with_the_same_levers(client, keys):
    from features.store import online_features

    svc = client.app.state.services
    model = svc.registry.get("attrition").model
    h = auth(keys["hr_system"])
    answered = 0
    for emp in keys["in_a"][:5]:
        body = client.get(f"/v1/employees/{emp}/attrition-risk", params={"lang": "zh"}, headers=h).json()
        if body["risk_source"] != "precomputed":
            continue  # not active at the scored month
        answered += 1
        assert body["explanation"]["source"] == "precomputed" and body["levers_source"] == "precomputed"
        frame = online_features(svc.store, model.feature_service_, [{"employee_id": emp}]).frame()
        live = model.levers(frame, body["horizon_months"])[0]
        assert [lv["lever"] for lv in body["levers"]] == [lv["lever"] for lv in live]
        assert [lv["change"] for lv in body["levers"]] == pytest.approx([lv["change"] for lv in live], abs=1e-9)
        assert [lv["description"] for lv in body["levers"] if lv["lever"] != "complete_a_course"] == [
            lv["description"]["zh"] for lv in live if lv["lever"] != "complete_a_course"]  # the course one names it
        other = client.get(f"/v1/employees/{emp}/attrition-risk", params={"horizon_months": 5}, headers=h).json()
        assert other["levers_source"] == "live"
        off = client.get(f"/v1/employees/{emp}/attrition-risk", params={"levers": "false"}, headers=h).json()
        assert off["levers"] == [] and off["levers_source"] is None
    assert answered >= 3


def test_alerts_carry_the_stored_levers(client, keys):
    page = client.get("/v1/attrition-alerts", params={"page_size": 20}, headers=auth(keys["hr_system"])).json()
    assert page["items"] and any(item["levers"] for item in page["items"])  # only levers worth showing
    for item in page["items"]:
        assert all(lv["change"] <= -0.005 for lv in item["levers"]), item["alert_id"]
        assert all(lv["kind"] == "model-based what-if, not causal" for lv in item["levers"])
        assert all(lv["risk_before"] == pytest.approx(item["risk"], abs=1e-9) for lv in item["levers"])


def test_chinese_names_and_reasons(client, keys):
    emp = keys["in_a"][0]
    body = client.get(f"/v1/employees/{emp}/attrition-risk", params={"lang": "zh"},
                      headers=auth(keys["hr_system"])).json()
    text = " ".join(body["explanation"]["reasons"] + [lv["description"] for lv in body["levers"]])
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_unknown_employee_is_404(client, keys):
    body = problem(client.get("/v1/employees/E9999999/attrition-risk", headers=auth(keys["hr_system"])), 404)
    assert "E9999999" in body["detail"]


# ---------------------------------------------------------------------- bad input never 500
@pytest.mark.parametrize("params, parameter", [
    ({"horizon_months": 13}, "horizon_months must be between 1 and 12"),
    ({"horizon_months": 0}, "horizon_months must be between 1 and 12"),
    ({"horizon_months": "abc"}, "horizon_months"),
    ({"horizon_months": 2.5}, "horizon_months"),
    ({"lang": "fr"}, "lang"),
    ({"contributions": "some"}, "contributions"),
    ({"levers": "maybe"}, "levers"),
])
def test_bad_query_is_422_naming_the_parameter(client, keys, params, parameter):
    emp = keys["in_a"][0]
    body = problem(client.get(f"/v1/employees/{emp}/attrition-risk", params=params,
                               headers=auth(keys["hr_system"])), 422)
    assert parameter in body["detail"]


@pytest.mark.parametrize("params", [
    {"page": 0}, {"page_size": 0}, {"page_size": 100000}, {"min_risk": 2}, {"min_risk": "high"}, {"status": "closed"},
    {"lang": "de"},
])
def test_bad_alert_queries_are_422(client, keys, params):
    problem(client.get("/v1/attrition-alerts", params=params, headers=auth(keys["hr_system"])), 422)


def test_bad_paths_and_bodies(client, keys):
    h = auth(keys["hr_system"])
    problem(client.get("/v1/employees/bad%20id!/attrition-risk", headers=h), 422)
    problem(client.get("/v1/employees/" + "E" * 65 + "/attrition-risk", headers=h), 422)
    problem(client.get("/v1/nothing-here", headers=h), 404)
    problem(client.delete("/v1/attrition-alerts", headers=h), 405)
    alert = client.get("/v1/attrition-alerts", headers=h).json()["items"][0]["alert_id"]
    url = f"/v1/attrition-alerts/{alert}/review"
    assert "color" in problem(client.post(url, json={"status": "dismissed", "color": "red"}, headers=h), 422)["detail"]
    problem(client.post(url, json={"status": "closed"}, headers=h), 422)
    problem(client.post(url, json={}, headers=h), 422)
    problem(client.post(url, json={"status": "actioned", "note": "x" * 3000}, headers=h), 422)
    problem(client.post(url, content=b"{not json", headers={**h, "content-type": "application/json"}), 422)
    problem(client.post(url, json=["dismissed"], headers=h), 422)
    problem(client.post("/v1/attrition-alerts/att-000000-NOPE/review", json={"status": "dismissed"}, headers=h), 404)


# ---------------------------------------------------------------------- alerts workflow
def test_alert_list_filters_and_review_history(client, keys):
    h = auth(keys["hr_system"])
    listed = client.get("/v1/attrition-alerts", params={"page_size": 5, "lang": "zh"}, headers=h).json()
    assert listed["total"] > 0 and len(listed["items"]) <= 5 and listed["alert_policy"]["horizon_months"] >= 1
    risks = [i["risk"] for i in listed["items"]]
    assert risks == sorted(risks, reverse=True)
    high = client.get("/v1/attrition-alerts", params={"min_risk": risks[0]}, headers=h).json()
    assert all(i["risk"] >= risks[0] for i in high["items"])
    alert = listed["items"][-1]["alert_id"]
    first = client.post(f"/v1/attrition-alerts/{alert}/review", json={"status": "acknowledged", "note": "跟进中"},
                        headers=h).json()
    second = client.post(f"/v1/attrition-alerts/{alert}/review",
                         json={"status": "actioned", "action_taken": "stay interview"}, headers=h).json()
    assert first["alert"]["status"] == "acknowledged" and second["alert"]["status"] == "actioned"
    assert [x["status"] for x in second["history"]][-2:] == ["acknowledged", "actioned"]
    assert second["history"][-2]["note"] == "跟进中" and "hr_system" in second["history"][-1]["reviewer"]
    shown = client.get(f"/v1/attrition-alerts/{alert}", headers=h).json()
    assert shown["history"] == second["history"]
    actioned = client.get("/v1/attrition-alerts", params={"status": "actioned", "page_size": 500}, headers=h).json()
    assert alert in {i["alert_id"] for i in actioned["items"]}


def test_partner_can_review_own_units_alert(client, keys, workspace):
    partner = auth(keys["partner_a"])
    items = client.get("/v1/attrition-alerts", headers=partner).json()["items"]
    if not items:
        pytest.skip("no alert in unit A for this seed")
    r = client.post(f"/v1/attrition-alerts/{items[0]['alert_id']}/review", json={"status": "dismissed"},
                    headers=partner)
    assert r.status_code == 200 and r.json()["alert"]["status"] == "dismissed"


# ---------------------------------------------------------------------- audit
def test_every_prediction_is_audited_and_the_log_is_append_only(client, workspace, tmp_path):
    from features import app_db
    from serving import audit

    key = workspace.key("hr_system", name="audit-test")
    emps = workspace.employees()["employee_id"].tolist()[:3]
    for e in emps:
        assert client.get(f"/v1/employees/{e}/attrition-risk", headers=auth(key)).status_code == 200
    client.get("/v1/employees/E9999999/attrition-risk", headers=auth(key))  # no prediction, no row
    con = app_db.connect(workspace.settings.app_db)
    try:
        key_id = con.execute("SELECT key_id FROM api_keys WHERE name = 'audit-test'").fetchone()[0]
        rows = [r for r in audit.read(con) if r["key_id"] == key_id]
        assert [r["subject"] for r in rows] == emps
        assert all(r["model_name"] == "attrition" and r["model_version"] and 0 <= r["score"] <= 1 for r in rows)
        assert all(r["role"] == "hr_system" and r["endpoint"] == "attrition-risk" and r["drivers"] for r in rows)
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute("UPDATE audit_log SET score = 0")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute("DELETE FROM audit_log")
    finally:
        con.close()
    day = rows[0]["at"][:10]
    n_csv = audit.export(workspace.settings, day, day, tmp_path / "audit.csv")
    n_jsonl = audit.export(workspace.settings, day, day, tmp_path / "audit.jsonl")
    assert n_csv == n_jsonl >= 3
    lines = (tmp_path / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    assert {json.loads(x)["subject"] for x in lines} >= set(emps)
    assert (tmp_path / "audit.csv").read_text(encoding="utf-8").startswith("audit_id,at,key_id,role,subject")
    assert audit.export(workspace.settings, "2000-01-01", "2000-01-02", tmp_path / "none.csv") == 0
    with pytest.raises(ValueError, match="csv or .jsonl"):
        audit.export(workspace.settings, None, None, tmp_path / "audit.xlsx")
