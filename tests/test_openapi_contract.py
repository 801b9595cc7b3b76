"""The OpenAPI document and the served behaviour agree (what bench/fuzz_api.py checks with schemathesis, here
on chosen cases): every answer of the access matrix is declared for its route, ``formats`` is an enum in the
query and the body, bodies are parsed strictly (a boolean is not a budget), attrition accepts every horizon it
declares (1-12) and skill demand exactly the horizons of the forecaster in use."""

from __future__ import annotations

import pytest

from features.contract import COURSE_FORMATS
from serving.openapi import with_horizons
from tests.serving_workspace import auth, problem

RECS = "/v1/employees/{}/course-recommendations"
BATCH = "/v1/course-recommendations:batch"


@pytest.fixture(scope="module")
def spec(client):
    return client.get("/v1/openapi.json").json()


def _param(spec: dict, path: str, name: str, method: str = "get") -> dict:
    return next(p for p in spec["paths"][path][method]["parameters"] if p["name"] == name)


def _ranker_loaded(client) -> bool:
    return "course_ranker" in client.app.state.services.registry.loaded()


def test_every_answer_of_the_access_matrix_is_declared_for_its_route(client, keys, spec):
    emp_a, emp_b = keys["in_a"][0], keys["in_b"][0]
    risk = "/v1/employees/{employee_id}/attrition-risk"
    cases = [  # (key, method, template, concrete path, expected status)
        ("partner_a", "get", "/v1/models", "/v1/models", 404),
        ("data_scientist", "get", "/v1/models", "/v1/models", 200),
        ("partner_a", "post", "/v1/admin/models/reload", "/v1/admin/models/reload", 404),
        ("hr_system", "post", "/v1/admin/models/reload", "/v1/admin/models/reload", 403),
        ("data_scientist", "post", "/v1/admin/models/reload", "/v1/admin/models/reload", 403),
        ("data_scientist", "get", "/v1/attrition-alerts", "/v1/attrition-alerts", 403),
        ("partner_a", "get", risk, risk.format(employee_id=emp_b), 404),
        ("partner_a", "get", risk, risk.format(employee_id=emp_a), 200),
    ]
    for who, method, template, path, status in cases:
        r = client.request(method.upper(), path, headers=auth(keys[who]))
        assert r.status_code == status, (who, path, r.text)
        declared = spec["paths"][template][method]["responses"]
        assert str(status) in declared, (who, method, template, status, sorted(declared))
        if status >= 400:
            problem(r, status)
            assert "application/problem+json" in declared[str(status)]["content"]
    assert "hr_partner" in spec["paths"]["/v1/models"]["get"]["responses"]["404"]["description"]
    for path, method in (("/v1/models", "get"), ("/v1/admin/models/reload", "post")):
        r = client.request(method.upper(), path)  # no key
        assert r.status_code == 401 and "401" in spec["paths"][path][method]["responses"]


def test_formats_is_an_enum_in_the_query_and_the_body(spec):
    query = _param(spec, RECS.format("{employee_id}"), "formats")
    items = next(s for s in query["schema"].get("anyOf", [query["schema"]]) if s.get("type") == "array")["items"]
    assert items["enum"] == list(COURSE_FORMATS)
    body = spec["components"]["schemas"]["BatchRequest"]["properties"]["formats"]
    items = next(s for s in body["anyOf"] if s.get("type") == "array")["items"]
    assert items["enum"] == list(COURSE_FORMATS)


def test_course_parameters_are_parsed_strictly(client, keys):
    h, emp = auth(keys["hr_system"]), keys["in_a"][0]
    for body, field in (({"budget": False}, "budget"), ({"max_hours": True}, "max_hours"), ({"k": True}, "k"), ({"k": 2.5}, "k"),
                        ({"budget": "100"}, "budget"), ({"k": "5"}, "k"), ({"formats": ["podcast"]}, "formats"),
                        ({"formats": "online"}, "formats"), ({"lang": "fr"}, "lang")):
        r = client.post(BATCH, json={"employee_ids": [emp], **body}, headers=h)
        detail = problem(r, 422)["detail"]
        assert detail.startswith(field), (body, detail)
    detail = problem(client.post(BATCH, json={"employee_ids": [emp], "formats": ["podcast"]}, headers=h), 422)
    assert detail["detail"] == "formats.0 must be one of online, workshop or mentoring; got podcast"
    for params in ({"formats": "podcast"}, {"formats": "online,workshop"}, {"budget": "false"}):
        detail = problem(client.get(RECS.format(emp), params=params, headers=h), 422)["detail"]
        assert detail.startswith(next(iter(params))), (params, detail)
    assert problem(client.get(RECS.format(emp), params={"formats": "podcast"}, headers=h), 422)["detail"] == (
        "formats must be one of online, workshop or mentoring; got podcast")
    if not _ranker_loaded(client):
        pytest.skip("course ranker not trained in this workspace: the accepted cases need it")
    r = client.get(RECS.format(emp), params=[("formats", "online"), ("formats", "workshop"), ("budget", 0)],
                   headers=h)
    assert r.status_code == 200, r.text
    assert {c["format"] for c in r.json()["courses"]} <= {"online", "workshop"}
    r = client.post(BATCH, json={"employee_ids": [emp], "k": 3.0, "budget": 0, "max_hours": 10.5,
                                             "formats": ["mentoring"]},
                    headers=h)
    assert r.status_code == 200 and r.json()["items"][0]["status"] == 200, r.text


def test_attrition_serves_every_declared_horizon(client, keys, spec):
    declared = _param(spec, "/v1/employees/{employee_id}/attrition-risk", "horizon_months")["schema"]
    assert (declared["minimum"], declared["maximum"]) == (1, 12)
    h, emp = auth(keys["hr_system"]), keys["in_a"][0]
    risks = []
    for horizon in range(1, 13):
        r = client.get(f"/v1/employees/{emp}/attrition-risk", params={"horizon_months": horizon, "levers": False},
                       headers=h)
        assert r.status_code == 200, (horizon, r.text)
        risks.append(r.json()["risk"])
    assert risks == sorted(risks)  # the risk of leaving within h months grows with h
    for horizon in (0, 13):
        problem(client.get(f"/v1/employees/{emp}/attrition-risk", params={"horizon_months": horizon}, headers=h),
                422)


def test_skill_demand_declares_exactly_the_horizons_of_the_forecaster_in_use(client, keys, spec):
    param = _param(spec, "/v1/skill-demand", "horizon_months")
    loaded = client.app.state.services.registry.loaded().get("skill_demand")
    if loaded is None:
        pytest.skip("no skill-demand forecaster in this workspace")
    fitted = sorted(int(x) for x in loaded.model.horizons_)
    assert fitted != list(range(1, 13)), "the serving workspace's small forecaster should fit fewer horizons"
    assert param["schema"]["enum"] == fitted and "minimum" not in param["schema"]
    assert param.get("required", False) is (6 not in fitted)
    h = auth(keys["hr_system"])
    for horizon in range(1, 13):
        r = client.get("/v1/skill-demand", params={"horizon_months": horizon, "limit": 3}, headers=h)
        if horizon in fitted:
            assert r.status_code == 200 and r.json()["horizon_months"] == horizon, (horizon, r.text)
        else:
            assert "horizon_months must be one of" in problem(r, 422)["detail"]


def test_a_forecaster_without_the_default_horizon_makes_the_parameter_required():
    spec = {"paths": {"/v1/skill-demand": {"get": {"parameters": [
        {"name": "horizon_months", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "maximum": 12, "default": 6}}]}}}}
    out = with_horizons(spec, (1, 3))
    p = out["paths"]["/v1/skill-demand"]["get"]["parameters"][0]
    assert p["required"] is True and p["schema"] == {"type": "integer", "enum": [1, 3]}
    assert "1, 3" in p["description"]
    assert spec["paths"]["/v1/skill-demand"]["get"]["parameters"][0]["schema"]["minimum"] == 1  # not changed
    kept = with_horizons(spec, (3, 6, 12))["paths"]["/v1/skill-demand"]["get"]["parameters"][0]
    assert kept["required"] is False and kept["schema"]["default"] == 6
