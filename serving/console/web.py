"""The console's handlers: sign-in and sessions, then one page per view. Each handler checks the session,
asks a console module for the page's data, writes the audit rows and renders a template.

Pages answer HTML (404 pages for anything unknown or out of the caller's scope, whether it exists or not);
forms are POST with a CSRF token; responses are ``no-store`` with a same-origin Content-Security-Policy.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from models.attrition import alerts as store
from serving.audit import Entry
from serving.console import charts, i18n, overview
from serving.console import detail as detail_mod
from serving.console import queue as queue_mod
from serving.console.charts import BAND_COLOURS
from serving.console.context import Console
from serving.console.i18n import Fmt
from serving.console.modelinfo import BANDS
from serving.console.sessions import (
    CONSOLE_ROLES,
    COOKIE,
    IDLE,
    LOGIN_CSRF_COOKIE,
    Session,
    same_token,
)

router = APIRouter(prefix="/console", include_in_schema=False)
LANG_COOKIE = "tl_lang"
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


# ---------------------------------------------------------------------- plumbing
def _state(request: Request) -> tuple[Any, Console | None]:
    return getattr(request.app.state, "services", None), getattr(request.app.state, "console", None)


def _lang(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in i18n.LANGS:
        return asked
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in i18n.LANGS:
        return cookie
    return "zh" if request.headers.get("accept-language", "").lower().startswith("zh") else "en"


def _switch_url(request: Request, lang: str) -> str:
    params = {k: v for k, v in request.query_params.items() if k not in ("lang", "saved", "msg")}
    params["lang"] = "zh" if lang == "en" else "en"
    return f"{request.url.path}?{urlencode(params)}"


def _finish(request: Request, response: Response, lang: str) -> Response:
    for k, v in HEADERS.items():
        response.headers.setdefault(k, v)
    if request.query_params.get("lang") in i18n.LANGS:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, path="/console", samesite="strict",
                            httponly=True, secure=request.url.scheme == "https")
    return response


def _page(request: Request, console: Console, template: str, lang: str, session: Session | None,
          status: int = 200, **context: Any) -> Response:
    html = console.templates.get_template(template).render(
        f=Fmt(lang), lang=lang, who=session.principal if session else None, csrf=session.csrf if session else "",
        switch_url=_switch_url(request, lang), path=request.url.path, **context)
    return _finish(request, HTMLResponse(html, status_code=status), lang)


def _simple(request: Request, console: Console | None, lang: str, session: Session | None, status: int,
            title_key: str, body: str) -> Response:
    if console is None:
        text = i18n.t(lang, "unavailable.title")
        return _finish(request, HTMLResponse(f'<!doctype html><html lang="{lang}"><meta charset="utf-8">'
                                             f"<title>{text}</title><h1>{text}</h1>", status_code=status), lang)
    return _page(request, console, "message.html", lang, session, status, title=i18n.t(lang, title_key), body=body)


def not_found(request: Request, console: Console, lang: str, session: Session | None) -> Response:
    return _simple(request, console, lang, session, 404, "notfound.title", i18n.t(lang, "notfound.body"))


def _to_login(request: Request, lang: str, msg: str | None = None) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    params = {"next": target, "lang": lang} | ({"msg": msg} if msg else {})
    return RedirectResponse(f"/console/login?{urlencode(params)}", status_code=303)


def _session(request: Request) -> tuple[Any, Console | None, Session | None, str]:
    svc, console = _state(request)
    lang = _lang(request)
    if svc is None or console is None:
        return svc, console, None, lang
    return svc, console, console.sessions.get(request.cookies.get(COOKIE)), lang


def _guard(request: Request) -> tuple[Any, Console, Session, str] | Response:
    svc, console, session, lang = _session(request)
    if svc is None or console is None:
        return _simple(request, None, lang, None, 503, "unavailable.title", "")
    if session is None:
        return _to_login(request, lang, "expired" if request.cookies.get(COOKIE) else None)
    return svc, console, session, lang


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _refused(request: Request, console: Console | None, lang: str, session: Session | None) -> Response:
    return _simple(request, console, lang, session, 403, "bad.title", i18n.t(lang, "csrf.refused"))


# ---------------------------------------------------------------------- sign-in
@router.get("")
@router.get("/")
def home(request: Request) -> Response:
    return RedirectResponse("/console/alerts", status_code=303)


@router.get("/login")
def login_form(request: Request) -> Response:
    svc, console, session, lang = _session(request)
    if console is None:
        return _simple(request, None, lang, None, 503, "unavailable.title", "")
    msg = request.query_params.get("msg")
    token = secrets.token_urlsafe(24)
    response = _page(request, console, "login.html", lang, None, login_csrf=token,
                     next=_safe_next(request.query_params.get("next")),
                     message=i18n.t(lang, f"login.{msg}") if msg in ("expired", "signed_out") else None, error=None)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, path="/console", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/console/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/console/alerts"


@router.post("/login")
async def login(request: Request) -> Response:
    svc, console, _, lang = _session(request)
    if svc is None or console is None:
        return _simple(request, None, lang, None, 503, "unavailable.title", "")
    form = await _form(request)
    lang = form.get("lang") if form.get("lang") in i18n.LANGS else lang
    if not same_token(request.cookies.get(LOGIN_CSRF_COOKIE), form.get("csrf")):
        return _refused(request, console, lang, None)
    principal = svc.keys.verify((form.get("key") or "").strip()) if form.get("key") else None
    error = None
    if principal is None:
        error = i18n.t(lang, "login.bad_key")
    elif principal.role not in CONSOLE_ROLES:
        error = i18n.t(lang, "login.bad_role", role=principal.role)
    if error is not None:
        return _page(request, console, "login.html", lang, None, 401, login_csrf=form.get("csrf"),
                     next=_safe_next(form.get("next")), message=None, error=error)
    token, _ = console.sessions.create(principal)
    response = RedirectResponse(_safe_next(form.get("next")), status_code=303)
    response.set_cookie(COOKIE, token, max_age=int(IDLE.total_seconds()) * 16, path="/console", httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    svc, console, session, lang = _session(request)
    if console is None:
        return _simple(request, None, lang, None, 503, "unavailable.title", "")
    form = await _form(request)
    if session is None:
        return _to_login(request, lang)
    if not same_token(session.csrf, form.get("csrf")):
        return _refused(request, console, lang, session)
    console.sessions.end(request.cookies.get(COOKIE, ""))
    response = RedirectResponse(f"/console/login?{urlencode({'msg': 'signed_out', 'lang': lang})}", status_code=303)
    response.delete_cookie(COOKIE, path="/console", httponly=True, samesite="strict")
    return response


# ---------------------------------------------------------------------- queue
def _queue_rows(request: Request, svc: Any, console: Console, session: Session, lang: str
                ) -> tuple[list[queue_mod.Row] | None, queue_mod.Query, list[str]]:
    """(sorted rows, query, months the caller can filter on); rows None when the asked unit is out of sight."""
    query, _bad = queue_mod.parse(dict(request.query_params))  # invalid filters are ignored, not errors
    try:
        units = queue_mod.visible_units(svc.tree, session.principal, query.unit)
    except LookupError:
        return None, query, []
    facts, _ = console.model_facts(svc)
    if facts is None:
        return [], query, []
    scope_units = queue_mod.visible_units(svc.tree, session.principal, None)
    with svc.db_lock:
        rows = queue_mod.fetch(svc.db, units, query, facts.bands)
        months = queue_mod.months(svc.db, scope_units)
    return queue_mod.sort_rows(rows, query, lang, console.people), query, months


def _unit_options(svc: Any, console: Console, session: Session, lang: str) -> list[tuple[str, str]]:
    units = session.principal.scope if session.principal.scope is not None else frozenset(svc.tree.parent)
    named = [(u, (console.people.unit_name(u) or {}).get(lang) or u) for u in units]
    return sorted(named, key=lambda x: (x[1], x[0]))


@router.get("/alerts")
def alert_queue(request: Request) -> Response:
    got = _guard(request)
    if isinstance(got, Response):
        return got
    svc, console, session, lang = got
    rows, query, months = _queue_rows(request, svc, console, session, lang)
    if rows is None:
        return not_found(request, console, lang, session)
    _, why = console.model_facts(svc)
    result = queue_mod.page(rows, query, months, console.people)
    svc.audit.append([Entry(session.principal.key_id, session.principal.role, r.employee_id, "console/queue",
                            "attrition", r.model_version, r.risk, []) for r in result.rows])
    params = {k: v for k, v in request.query_params.items() if k not in ("page", "lang")}
    return _page(request, console, "queue.html", lang, session, result=result, query=query, bands=BANDS,
                 cells=queue_mod.cells(result.rows, Fmt(lang)),
                 statuses=store.STATUSES, units=_unit_options(svc, console, session, lang), page_sizes=queue_mod.PAGE_SIZES,
                 params=params, urlencode=urlencode, colours=BAND_COLOURS, not_loaded=why)


@router.get("/alerts.{fmt}")
def export(request: Request, fmt: str) -> Response:
    got = _guard(request)
    if isinstance(got, Response):
        return got
    svc, console, session, lang = got
    if fmt not in ("csv", "xlsx"):
        return not_found(request, console, lang, session)
    rows, _, _ = _queue_rows(request, svc, console, session, lang)
    if rows is None:
        return not_found(request, console, lang, session)
    svc.audit.append([Entry(session.principal.key_id, session.principal.role, r.employee_id, f"console/export.{fmt}",
                            "attrition", r.model_version, r.risk, []) for r in rows])
    if fmt == "csv":
        body, media = queue_mod.to_csv(rows, lang, console.people), "text/csv; charset=utf-8"
    else:
        body = queue_mod.to_xlsx(rows, lang, console.people)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = Response(body, media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="attrition-alerts.{fmt}"'})
    return _finish(request, response, lang)


# ---------------------------------------------------------------------- detail and review
@router.get("/alerts/{alert_id}")
def alert_detail(request: Request, alert_id: str) -> Response:
    got = _guard(request)
    if isinstance(got, Response):
        return got
    svc, console, session, lang = got
    alert = detail_mod.find(svc, session.principal, alert_id[:100])
    if alert is None:
        return not_found(request, console, lang, session)
    facts, _ = console.model_facts(svc)
    person = console.people.at(alert.employee_id, alert.as_of)
    d = detail_mod.assemble(svc, session.principal, alert, person, facts, lang)
    svc.audit.append(d.audit)
    msg = request.query_params.get("msg")
    fmt = Fmt(lang)
    curve_svg = charts.risk_curve(d.curve, fmt.t("detail.curve"), fmt.t("detail.months_axis"), fmt.pct,
                                  d.alert.horizon) if d.curve else None
    waterfall_svg = charts.waterfall(d.base_value, [(x.name, x.contribution) for x in d.drivers], fmt.t("detail.base"),
                                     fmt.t("detail.this_person"), fmt.t("detail.drivers"))
    return _page(request, console, "alert.html", lang, session, d=d, facts=facts, curve_svg=curve_svg,
                 waterfall_svg=waterfall_svg, formats=[k for k in i18n.TEXT if k.startswith("format.")],
                 saved=request.query_params.get("saved") == "1", error=i18n.t(lang, f"detail.review_{msg}")
                 if msg in ("bad", "long") else None, statuses=store.REVIEW_STATUSES, colours=BAND_COLOURS)


@router.post("/alerts/{alert_id}/review")
async def review(request: Request, alert_id: str) -> Response:
    got = _guard(request)
    if isinstance(got, Response):
        return got
    svc, console, session, lang = got
    form = await _form(request)
    if not same_token(session.csrf, form.get("csrf")):
        return _refused(request, console, lang, session)
    alert = detail_mod.find(svc, session.principal, alert_id[:100])
    if alert is None:
        return not_found(request, console, lang, session)
    status = form.get("status", "")
    action = (form.get("action_taken") or "").strip() or None
    note = (form.get("note") or "").strip() or None
    back = f"/console/alerts/{alert.alert_id}"
    if status not in store.REVIEW_STATUSES:
        return RedirectResponse(f"{back}?msg=bad#review", status_code=303)
    if (action and len(action) > 500) or (note and len(note) > 2000):
        return RedirectResponse(f"{back}?msg=long#review", status_code=303)
    who = session.principal
    with svc.db_lock:
        store.review(svc.db, alert.alert_id, status, reviewer=f"{who.name} ({who.key_id})", action_taken=action,
                     note=note)
    svc.audit.append([Entry(who.key_id, who.role, alert.alert_id, f"console/review/{status}", "attrition",
                            alert.model_version, alert.risk, [], None)])
    return RedirectResponse(f"{back}?saved=1#history", status_code=303)


# ---------------------------------------------------------------------- unit overview and model panel
@router.get("/units")
def unit_overview(request: Request) -> Response:
    got = _guard(request)
    if isinstance(got, Response):
        return got
    svc, console, session, lang = got
    who = session.principal
    unit = (request.query_params.get("unit") or "").strip()[:64] or overview.default_unit(svc.tree, who)
    subtree = svc.tree.subtree(unit) if unit else frozenset()
    if not subtree or not who.sees(unit):
        return not_found(request, console, lang, session)
    if who.scope is not None:
        subtree = subtree & who.scope
    facts, _ = console.model_facts(svc)
    skill = (request.query_params.get("skill") or "").strip()[:64] or None
    data = overview.unit_overview(svc, who, unit, subtree, console.people, facts, skill, lang)
    svc.audit.append([Entry(who.key_id, who.role, unit, "console/unit", "attrition",
                            facts.version if facts else "none", None, []), *data.audit])
    names = svc.catalog.skill_names if svc.catalog is not None else {}
    fmt = Fmt(lang)

    def skill_name(skill_id: str) -> str:
        return (names.get(skill_id) or {}).get(lang) or skill_id

    def bar(row: overview.UnitRow) -> Any:
        label = ", ".join(f"{fmt.t('band.' + b)} {row.counts.get(b, 0)}" for b in BANDS)
        return charts.band_bar(row.counts, BANDS, {b: fmt.t(f"band.{b}") for b in BANDS}, label)

    fan_svg = None
    if data.forecast is not None:
        label = fmt.t("unit.forecast", skill=skill_name(data.forecast.skill_id),
                      unit=fmt.name(console.people.unit_name(unit), "unit.missing"))
        fan_svg = charts.fan(data.forecast.history, data.forecast.points, label,
                             (fmt.t("unit.history"), fmt.t("unit.median"), fmt.t("unit.interval")), fmt.month)
    return _page(request, console, "unit.html", lang, session, u=data, bands=BANDS, colours=BAND_COLOURS,
                 skill_name=skill_name, bar=bar, fan_svg=fan_svg, units=_unit_options(svc, console, session, lang),
                 people=console.people)


@router.get("/model")
def model_panel(request: Request) -> Response:
    got = _guard(request)
    if isinstance(got, Response):
        return got
    svc, console, session, lang = got
    facts, why = console.model_facts(svc)
    panel = overview.model_panel(svc, facts, why)
    svc.audit.append([Entry(session.principal.key_id, session.principal.role, "models", "console/model",
                            "attrition", facts.version if facts else "none", None, [])])
    return _page(request, console, "model.html", lang, session, p=panel)
