"""The HR partner console through the real app (TestClient): sign-in and session cookie flags, CSRF refusal,
expiry and sign-out, org-unit scope (out of scope is 'not found'), the queue's filters and exports, the
detail page, reviews written to the history and the audit log, both languages."""

from __future__ import annotations

import io
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.console_workspace import ConsoleWorkspace, assert_clean, build, csrf_of, sign_in

pytestmark = pytest.mark.xdist_group("console")


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> ConsoleWorkspace:
    return build(tmp_path_factory)


@pytest.fixture(scope="module")
def started(ws):
    """One started app for the module (start-up loads three models); tests start from a clean cookie jar."""
    from serving.app import create_app

    with TestClient(create_app(ws.settings), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture()
def app(started):
    started.cookies.clear()
    return started


@pytest.fixture()
def partner(app, ws):
    r = sign_in(app, ws.keys["partner_a"])
    assert r.status_code == 303, r.text
    return app


def _audit(ws: ConsoleWorkspace, endpoint_prefix: str) -> list[tuple]:
    con = sqlite3.connect(ws.settings.app_db)
    try:
        return con.execute("SELECT key_id, role, subject, endpoint FROM audit_log WHERE endpoint LIKE ?",
                           (endpoint_prefix + "%",)).fetchall()
    finally:
        con.close()


# ---------------------------------------------------------------------- sign-in, cookies, CSRF, expiry, sign-out
def test_sign_in_sets_a_strict_http_only_session_cookie(app, ws):
    c = app
    assert c.get("/console/alerts", follow_redirects=False).headers["location"].startswith("/console/login")
    r = sign_in(c, ws.keys["partner_a"])
    assert r.status_code == 303 and r.headers["location"] == "/console/alerts"
    cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("tl_console="))
    flags = [p.strip().lower() for p in cookie.split(";")]
    assert "httponly" in flags and "samesite=strict" in flags and "path=/console" in flags
    assert any(p.startswith("max-age=") for p in flags)
    assert "secure" not in flags  # plain http on loopback; https requests get Secure
    page = c.get("/console/alerts")
    assert page.status_code == 200 and 'charset="utf-8"' in page.text
    assert page.headers["cache-control"] == "no-store" and "default-src 'self'" in page.headers[
        "content-security-policy"]


def test_sign_in_refuses_bad_keys_roles_and_forms_without_the_token(app, ws):
    c = app
    page = c.get("/console/login")
    no_token = c.post("/console/login", data={"key": ws.keys["partner_a"]}, follow_redirects=False)
    assert no_token.status_code == 403 and "tl_console=" not in no_token.headers.get("set-cookie", "")
    assert "did not come from this console" in no_token.text
    token = csrf_of(page.text)
    bad = c.post("/console/login", data={"key": "tl_not-a-key", "csrf": token}, follow_redirects=False)
    assert bad.status_code == 401 and "That key is not valid" in bad.text
    ds = c.post("/console/login", data={"key": ws.keys["data_scientist"], "csrf": token}, follow_redirects=False)
    assert ds.status_code == 401 and "A data_scientist key cannot use the console" in ds.text


def test_review_without_or_with_a_wrong_csrf_token_is_refused(partner, ws):
    before = _audit(ws, "console/review")
    for data in ({"status": "actioned"}, {"status": "actioned", "csrf": "forged"}):
        r = partner.post(f"/console/alerts/{ws.alert_a}/review", data=data, follow_redirects=False)
        assert r.status_code == 403, r.text
    assert _audit(ws, "console/review") == before
    con = sqlite3.connect(ws.settings.app_db)
    assert con.execute("SELECT COUNT(*) FROM alert_reviews WHERE alert_id = ?", (ws.alert_a,)).fetchone()[0] == 0
    con.close()


def test_an_expired_session_sends_the_partner_back_to_sign_in(app, ws):
    c = app
    sign_in(c, ws.keys["partner_a"])
    assert c.get("/console/alerts").status_code == 200
    con = sqlite3.connect(ws.settings.app_db)
    with con:
        con.execute("UPDATE console_sessions SET expires_at = ? WHERE ended_at IS NULL",
                    ((datetime.now(UTC) - timedelta(seconds=1)).isoformat(),))
    con.close()
    r = c.get("/console/alerts", follow_redirects=False)
    assert r.status_code == 303 and "msg=expired" in r.headers["location"]
    assert "Your session ended" in c.get(r.headers["location"]).text


def test_sign_out_ends_the_session_on_the_server(app, ws):
    c = app
    sign_in(c, ws.keys["partner_a"])
    old = c.cookies.get("tl_console")
    page = c.get("/console/alerts")
    refused = c.post("/console/logout", data={}, follow_redirects=False)
    assert refused.status_code == 403
    r = c.post("/console/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303 and "msg=signed_out" in r.headers["location"]
    assert 'tl_console=""' in r.headers["set-cookie"] or "Max-Age=0" in r.headers["set-cookie"]
    app.cookies.clear()  # the old cookie replayed
    app.cookies.set("tl_console", old)
    assert app.get("/console/alerts", follow_redirects=False).status_code == 303


# ---------------------------------------------------------------------- scope
def test_queue_shows_only_the_partners_units_with_hr_context(partner, ws):
    page = partner.get("/console/alerts?page_size=500")
    assert page.status_code == 200
    import re

    units = re.findall(r'data-unit="([^"]+)"', page.text)
    assert units and set(units) <= ws.scope_a
    con = sqlite3.connect(ws.settings.app_db)
    expected = con.execute(f"SELECT COUNT(*) FROM attrition_alerts WHERE org_unit_id IN "
                           f"({','.join('?' * len(ws.scope_a))})", sorted(ws.scope_a)).fetchone()[0]
    con.close()
    assert len(units) == expected and f"{expected} alerts" in page.text
    assert ws.alert_b not in page.text
    assert "of 5 (" in page.text  # last rating with its cycle
    assert " yr " in page.text or " mo" in page.text  # tenure
    assert " pts" in page.text  # change since last month (two months scored)
    assert_clean(page.text)
    assert _audit(ws, "console/queue")


def test_another_units_alert_unit_and_unknown_ids_are_not_found(partner, ws):
    for url in (f"/console/alerts/{ws.alert_b}", "/console/alerts/att-209901-E9999999",
                f"/console/units?unit={ws.unit_b}", f"/console/alerts?unit={ws.unit_b}",
                f"/console/alerts.csv?unit={ws.unit_b}"):
        r = partner.get(url)
        assert r.status_code == 404, url
        main = r.text.split('<main id="main">')[1]
        assert "Not found" in main and ws.alert_b.split("-")[-1] not in main
    page = partner.get(f"/console/alerts/{ws.alert_a}")
    r = partner.post(f"/console/alerts/{ws.alert_b}/review", data={"status": "dismissed", "csrf": csrf_of(page.text)})
    assert r.status_code == 404


def test_hr_system_sees_every_unit(app, ws):
    c = app
    sign_in(c, ws.keys["hr_system"])
    assert c.get(f"/console/alerts/{ws.alert_b}").status_code == 200
    assert c.get(f"/console/alerts/{ws.alert_a}").status_code == 200


# ---------------------------------------------------------------------- detail and review
def test_detail_shows_curve_drivers_levers_band_rate_and_saves_a_review(partner, ws):
    page = partner.get(f"/console/alerts/{ws.alert_a}")
    assert page.status_code == 200
    html = page.text
    assert html.count("<svg") >= 2 and "<polyline" in html  # curve and waterfall
    assert "Base rate" in html and 'id="reasons"' in html
    assert "left within" in html or "cannot be shown" in html
    assert 'id="courses"' in html or 'id="courses-none"' in html
    # the course lever names the first course the page lists, and is left out when the page lists none
    levers = html.split('id="levers"', 1)[1].split("</ul>", 1)[0] if 'id="levers"' in html else ""
    if 'id="courses"' in html:
        assert "Complete a course that closes a skill gap" not in levers
    if "No course addresses this person&#39;s current skill gaps." in html or \
            "No course addresses this person's current skill gaps." in html:
        assert "Complete" not in levers
    assert "Nobody has reviewed this alert yet." in html
    assert_clean(html)
    r = partner.post(f"/console/alerts/{ws.alert_a}/review", follow_redirects=False,
                     data={"status": "actioned", "action_taken": "stay interview", "note": "薪酬复核已安排",
                           "csrf": csrf_of(html)})
    assert r.status_code == 303
    after = partner.get(r.headers["location"]).text
    assert "Review saved." in after and "薪酬复核已安排" in after and "Actioned by Partner A" in after
    assert 'status-actioned" id="status"' in after
    reviews = _audit(ws, "console/review")
    assert any(row[2] == ws.alert_a and row[3] == "console/review/actioned" and row[1] == "hr_partner"
               for row in reviews)
    assert any(row[3] == "console/alert" for row in _audit(ws, "console/alert"))
    bad = partner.post(f"/console/alerts/{ws.alert_a}/review", data={"status": "deleted", "csrf": csrf_of(html)})
    assert bad.status_code == 200 and "Choose acknowledged, actioned or dismissed." in bad.text


# ---------------------------------------------------------------------- filters, sorting, exports
def test_filters_sorting_and_pagination(partner, ws):
    import re

    page = partner.get("/console/alerts?status=actioned&page_size=500").text
    ids = re.findall(r'data-alert="([^"]+)"', page)
    con = sqlite3.connect(ws.settings.app_db)
    actioned = {r[0] for r in con.execute("SELECT alert_id FROM attrition_alerts WHERE status = 'actioned'")}
    months = [r[0][:7] for r in con.execute("SELECT DISTINCT as_of FROM attrition_alerts ORDER BY as_of")]
    con.close()
    assert set(ids) <= actioned
    assert len(months) == 2
    old = partner.get(f"/console/alerts?month={months[0]}&page_size=500").text
    assert re.findall(r'data-alert="([^"]+)"', old) and all(
        a.startswith(f"att-{months[0].replace('-', '')}") for a in re.findall(r'data-alert="([^"]+)"', old))
    asc = partner.get("/console/alerts?sort=risk&dir=asc&page_size=500").text
    risks = [float(x.rstrip("%")) for x in re.findall(r'<td class="num" title="[^"]*">([\d.]+)%</td>', asc)]
    assert risks == sorted(risks)
    first = partner.get("/console/alerts?page_size=25").text
    total = int(re.search(r"(\d+) alerts", first).group(1))
    if total > 25:
        second = partner.get("/console/alerts?page_size=25&page=2").text
        assert set(re.findall(r'data-alert="([^"]+)"', first)).isdisjoint(re.findall(r'data-alert="([^"]+)"', second))
    bogus = partner.get("/console/alerts?band=enormous&page=-3&page_size=7")
    assert bogus.status_code == 200


def test_csv_and_xlsx_exports_hold_the_filtered_list(partner, ws):
    import csv

    from openpyxl import load_workbook

    page = partner.get("/console/alerts?month=&band=&page_size=25").text
    import re

    total = int(re.search(r"(\d+) alerts", page).group(1))
    r = partner.get("/console/alerts.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Alert", "Month", "Employee"] and len(rows) - 1 == total
    assert {row[0] for row in rows[1:]} >= {ws.alert_a} and ws.alert_b not in {row[0] for row in rows[1:]}
    zh = partner.get("/console/alerts.xlsx?lang=zh&status=open")
    wb = load_workbook(io.BytesIO(zh.content))
    sheet = wb.active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "预警编号" and values[0][9] == "风险 (%)"
    assert all(v[12] == "待处理" for v in values[1:])
    assert len(values) > 1 and all(isinstance(v[9], (int, float)) and 0 <= v[9] <= 100 for v in values[1:])
    assert _audit(ws, "console/export.xlsx")


# ---------------------------------------------------------------------- language, unit overview, model panel
def test_chinese_pages_format_dates_and_numbers_for_the_language(partner, ws):
    page = partner.get("/console/alerts?lang=zh")
    assert page.status_code == 200 and '<html lang="zh-CN">' in page.text
    assert "离职风险预警" in page.text and "年" in page.text and "月" in page.text
    assert "tl_lang=zh" in page.headers.get("set-cookie", "")
    detail = partner.get(f"/console/alerts/{ws.alert_a}").text  # the cookie keeps Chinese
    assert "处理记录" in detail and "1 至 12 个月内的离职风险" in detail
    assert not any(f"· {code})" in detail for code in ("online", "workshop", "mentoring"))  # course formats worded
    assert_clean(detail)
    assert "English" in detail  # the switch back
    assert "Alert queue" in partner.get("/console/alerts?lang=en").text


def test_unit_overview_and_model_panel(partner, ws):
    page = partner.get("/console/units")
    assert page.status_code == 200
    html = page.text
    assert 'id="distribution"' in html and 'id="by-status"' in html
    assert "Skill-demand forecast" in html and ("<polygon" in html or "No skill-demand forecast" in html)
    assert_clean(html)
    zh = partner.get("/console/units?lang=zh").text
    assert "部门概览" in zh and "风险分布" in zh
    model = partner.get("/console/model?lang=en").text
    assert "attrition model version" in model and ("ROC-AUC" in model or "recorded no backtest" in model)
    assert "Fairness audit" in model and "The latest scores are for" in model
    assert_clean(model)
