"""One alert for the detail page: the person, the 1-12 month curve, the drivers' waterfall with their sentences,
the levers, the top courses (the course ranker, called in-process as the API calls it), the band's observed
exit rate and the review history."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from models.attrition import alerts as store
from models.attrition.reasons import DRIVERS
from serving.audit import Entry
from serving.auth import Principal
from serving.console.modelinfo import BandRate, ModelFacts
from serving.console.people import Person
from serving.errors import Problem
from serving.registry import ModelNotLoaded

COURSES = 5


@dataclass
class Driver:
    name: str
    contribution: float
    sentence: str | None


@dataclass
class Detail:
    alert: store.Alert
    person: Person
    band: str
    curve: list[tuple[int, float]]
    base_value: float
    drivers: list[Driver]
    levers: list[dict]
    courses: list[Any] | None
    courses_error: str | None  # an i18n key
    band_rate: BandRate | None
    history: list[dict]
    previous: float | None
    audit: list[Entry] = field(default_factory=list)


def find(svc: Any, who: Principal, alert_id: str) -> store.Alert | None:
    """The alert when the caller may see it (else None: 'not found', whether it exists or not)."""
    with svc.db_lock:
        alert = store.get_alert(svc.db, alert_id)
    if alert is None or not who.sees(alert.org_unit_id):
        return None
    return alert


def _score(svc: Any, alert: store.Alert) -> tuple[store.StoredScore | None, float | None]:
    """The alert's stored score and the person's risk at the alert horizon the month before (None: not scored)."""
    with svc.db_lock:
        score = store.score_of(svc.db, alert.as_of, alert.employee_id)
        prev = svc.db.execute("SELECT json_extract(risks, '$.h' || ?) FROM attrition_scores "
                              "WHERE as_of = date(?, '-1 month') AND employee_id = ?",
                              (alert.horizon, alert.as_of, alert.employee_id)).fetchone()
    return score, (float(prev[0]) if prev and prev[0] is not None else None)


def _courses(svc: Any, who: Principal, employee_id: str, lang: str) -> tuple[list | None, str | None, list[Entry]]:
    """(courses, None, audit entries) or (None, the text key saying why there are none, [])."""
    from serving.routers.recommendations import recommend_one

    try:
        champion = svc.registry.get("course_ranker")
    except ModelNotLoaded:
        return None, "detail.courses_no_model", []
    if svc.store is None or svc.catalog is None:
        return None, "detail.courses_no_store", []
    try:
        result, entries = recommend_one(svc, who, champion, employee_id, COURSES, lang, None, None, None)
    except Problem as exc:
        if exc.status != 404:
            raise
        return None, "detail.courses_not_current", []
    return result.courses, None, entries


def _lever_description(lever: dict, courses: list | None, lang: str) -> str:
    """The lever in ``lang``; the course lever names the first course the page lists, as the API names the
    ranker's first pick (serving.lever_course)."""
    from models.wording.levers import course_description

    text = lever["description"].get(lang) or lever["description"]["en"]
    if lever["lever"] == "complete_a_course" and courses:
        top = courses[0]
        text = course_description({"title": {lang: top.title}, "hours": top.hours}, lang) or text
    return text


def assemble(svc: Any, who: Principal, alert: store.Alert, person: Person, facts: ModelFacts | None,
             lang: str) -> Detail:
    score, previous = _score(svc, alert)
    curve = sorted(score.risks.items()) if score is not None else []
    ex = alert.explanation
    reasons = ex.reasons_in(lang)
    drivers = []
    for i, c in enumerate(ex.contributions):
        d = DRIVERS.get(c.feature)
        drivers.append(Driver(d.name(lang) if d is not None else c.display_name, float(c.contribution),
                              reasons[i] if i < len(reasons) else None))
    with svc.db_lock:
        history = store.history(svc.db, alert.alert_id)
    courses, why, entries = _courses(svc, who, alert.employee_id, lang)
    levers = [{"description": _lever_description(lv, courses, lang), "before": lv["risk_before"],
               "after": lv["risk_after"], "change": lv["change"], "cost": lv.get("cost")}
              for lv in alert.explained.levers or ()
              if not (lv["lever"] == "complete_a_course" and courses == [])]  # the ranker has no course: no gap
    band = facts.bands.of(alert.risk) if facts is not None else "high"
    rate = facts.band_rates.get(band) if facts is not None else None
    audit = [Entry(who.key_id, who.role, alert.employee_id, "console/alert", "attrition", alert.model_version,
                   alert.risk, [c.feature for c in ex.contributions], "precomputed"), *entries]
    return Detail(alert, person, band, curve, float(ex.base_value), drivers, levers, courses, why, rate,
                  history, previous, audit)
