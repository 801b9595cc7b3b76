"""Evaluate the team-diagnosis rules at a month: training-need findings per group and skill, each with the
courses that fit the whole group.

At month ``T`` (first day) the people are those employed at ``T`` (their last employment event before ``T``),
grouped by the unit of ``unit_level`` above (or at) their own unit; people in a unit above that level form a
group of their own unit. Only ratings and reviews dated before ``T`` and within ``max_age_months`` count, the
latest per person (and skill). Courses for a finding teach the finding's skill (rating and KPI findings: the two
skills the group is most often rated below ``focus_below`` in), exist before ``T``, and are ranked by how many of
the people below the threshold have not completed them yet, then by fewer hours and lower cost.
"""

from __future__ import annotations

import hashlib

import pandas as pd

from features.build.org_unit import unit_closure
from models.points.balances import as_naive, current_state, month_start
from models.training_needs.rules import NeedRules, Rule
from models.wording.needs import finding_text

FOCUS_SKILLS = 2


def finding_id(as_of: str, unit: str, rule: str, skill: str | None) -> str:
    digest = hashlib.sha1(f"{as_of}|{unit}|{rule}|{skill or ''}".encode()).hexdigest()[:10]
    return f"need-{as_of.replace('-', '')[:6]}-{digest}"


def group_units(units: pd.DataFrame, level: str) -> dict[str, str]:
    """org_unit_id → the unit of ``level`` above or at it (itself when none)."""
    closure = unit_closure(units)
    kind = units.set_index(units["org_unit_id"].astype(str))["unit_type"]
    closure["kind"] = closure["ancestor_id"].map(kind)
    at = closure[closure["kind"] == level].drop_duplicates("org_unit_id").set_index("org_unit_id")["ancestor_id"]
    return {str(u): str(at.get(u, u)) for u in units["org_unit_id"].astype(str)}


def _latest(frame: pd.DataFrame, date_col: str, keys: list[str], month: pd.Timestamp, max_age: int) -> pd.DataFrame:
    f = frame.assign(_d=as_naive(frame[date_col]))
    f = f[(f["_d"] < month) & (f["_d"] >= month - pd.DateOffset(months=max_age))]
    return f.sort_values([*keys, "_d"]).groupby(keys, sort=False).tail(1)


def people_at(tables: dict[str, pd.DataFrame], rules: NeedRules, month: pd.Timestamp) -> pd.DataFrame:
    people = current_state(tables["employees"], tables["employment_events"], tables["jobs"], month)
    groups = group_units(tables["org_units"], rules.unit_level)
    people["group_id"] = people["org_unit_id"].map(groups).fillna(people["org_unit_id"])
    family = tables["jobs"].set_index(tables["jobs"]["job_id"].astype(str))["family"]
    people["family"] = people["job_id"].astype(str).map(family)
    return people


def _scores(tables: dict[str, pd.DataFrame], rule_kind: str, month: pd.Timestamp, max_age: int) -> pd.DataFrame:
    """employee_id, skill_id (None unless competency), value: each person's latest assessment."""
    if rule_kind == "competency":
        c = _latest(tables["competency_ratings"], "review_date", ["employee_id", "skill_id"], month, max_age)
        return pd.DataFrame({"employee_id": c["employee_id"].astype(str), "skill_id": c["skill_id"].astype(str),
                             "value": pd.to_numeric(c["rating"], errors="coerce")})
    col = "overall_rating" if rule_kind == "rating" else "kpi_attainment"
    r = tables["reviews"].dropna(subset=[col])
    r = _latest(r, "review_date", ["employee_id"], month, max_age)
    return pd.DataFrame({"employee_id": r["employee_id"].astype(str), "skill_id": None,
                         "value": pd.to_numeric(r[col], errors="coerce")})


def _fired(people: pd.DataFrame, scores: pd.DataFrame, rule: Rule, min_group: int
           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the groups (and skills) where the rule fires, every assessed person with group_id and ``below``)."""
    who = people if not rule.job_families else people[people["family"].isin(rule.job_families)]
    s = scores.merge(who[["employee_id", "group_id"]], on="employee_id").dropna(subset=["value"])
    s["below"] = s["value"] < rule.below
    keys = ["group_id", "skill_id"] if rule.kind == "competency" else ["group_id"]
    g = s.groupby(keys, dropna=False).agg(n_assessed=("below", "size"), n_below=("below", "sum")).reset_index()
    g["share_below"] = g["n_below"] / g["n_assessed"]
    fired = g[(g["n_assessed"] >= min_group) & (g["share_below"] >= rule.share - 1e-12)].copy()
    if "skill_id" not in fired:
        fired["skill_id"] = None
    return fired, s


def _focus(grouped: pd.DataFrame, group: str, below: float) -> list[str]:
    """The group's skills most often rated below ``below`` (``grouped``: competency scores with group_id)."""
    c = grouped[grouped["group_id"] == group]
    share = (c["value"] < below).groupby(c["skill_id"]).mean()
    share = share[share > 0].sort_values(ascending=False, kind="stable")
    return [str(s) for s in share.index[:FOCUS_SKILLS]]


def course_frames(tables: dict[str, pd.DataFrame], month: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(courses in the catalog before ``month``, completions before ``month`` as employee_id, course_id)."""
    courses = tables["courses"].assign(_c=as_naive(tables["courses"]["created_at"]))
    courses = courses[courses["_c"].isna() | (courses["_c"] < month)]
    enr = tables["enrollments"]
    done = enr[(enr["status"] == "completed") & (as_naive(enr["completed_at"]) < month)]
    return courses, pd.DataFrame({"employee_id": done["employee_id"].astype(str),
                                  "course_id": done["course_id"].astype(str)})


def fitting_courses(course_skills: pd.DataFrame, frames: tuple[pd.DataFrame, pd.DataFrame], skills: list[str],
                    learners: list[str], limit: int, below: float | None) -> list[dict]:
    """The courses teaching ``skills`` (to at least ``below`` when given) that most of ``learners`` have not
    completed, with hours, cost for the group and titles; ``frames`` from :func:`course_frames`."""
    if not skills or limit == 0:
        return []
    cs = course_skills[course_skills["skill_id"].astype(str).isin(skills)]
    if below is not None:
        cs = cs[pd.to_numeric(cs["target_level"]) >= below]
    courses, done = frames
    courses = courses[courses["course_id"].astype(str).isin(cs["course_id"].astype(str))]
    done = done[done["employee_id"].isin(learners)]
    taken = done.groupby("course_id")["employee_id"].nunique()
    order = {s: i for i, s in enumerate(skills)}
    first = cs.assign(_r=cs["skill_id"].astype(str).map(order)).sort_values("_r").drop_duplicates("course_id")
    skill_of = dict(zip(first["course_id"].astype(str), first["skill_id"].astype(str), strict=True))
    rows = []
    for c in courses.to_dict(orient="records"):
        cid = str(c["course_id"])
        fits = len(learners) - int(taken.get(cid, 0))
        cost = None if pd.isna(c.get("cost")) else float(c["cost"])
        rows.append({"course_id": cid, "title": {"en": str(c["title_en"]), "zh": str(c["title_zh"] or c["title_en"])},
                     "skill_id": str(skill_of.get(cid, skills[0])), "format": c.get("format"),
                     "hours": None if pd.isna(c.get("hours")) else float(c["hours"]), "cost": cost,
                     "fits": fits, "group_cost": None if cost is None else round(cost * fits, 2)})
    rows.sort(key=lambda r: (-r["fits"], r["hours"] if r["hours"] is not None else 1e9,
                             r["cost"] if r["cost"] is not None else 1e12, r["course_id"]))
    return [r for r in rows if r["fits"] > 0][:limit]


def diagnose(tables: dict[str, pd.DataFrame], rules: NeedRules, as_of: object) -> list[dict]:
    """Every finding at ``as_of`` (see the module docstring), ordered by unit, rule and skill."""
    month = month_start(as_of)
    as_of_s = str(month.date())
    people = people_at(tables, rules, month)
    units = tables["org_units"].set_index(tables["org_units"]["org_unit_id"].astype(str))
    skills = tables["skills"].set_index(tables["skills"]["skill_id"].astype(str))
    headcount = people.groupby("group_id").size()
    competency = _scores(tables, "competency", month, rules.max_age_months)
    frames = course_frames(tables, month)
    grouped = competency.merge(people[["employee_id", "group_id"]], on="employee_id")
    findings = []
    for rule in rules.rules:
        scores = competency if rule.kind == "competency" else _scores(tables, rule.kind, month, rules.max_age_months)
        fired, assessed = _fired(people, scores, rule, rules.min_group)
        below = assessed[assessed["below"]]
        learners_of = below.groupby(["group_id", "skill_id"] if rule.kind == "competency" else "group_id")[
            "employee_id"].agg(list).to_dict()
        for f in fired.to_dict(orient="records"):
            group, skill = str(f["group_id"]), (None if pd.isna(f["skill_id"]) else str(f["skill_id"]))
            learners = [str(e) for e in learners_of.get((group, skill) if skill is not None else group, [])]
            focus = [skill] if skill else _focus(grouped, group, rules.focus_below)
            level = rule.below if rule.kind == "competency" else rules.focus_below
            courses = fitting_courses(tables["course_skills"], frames, focus, learners, rules.courses_per_finding,
                                      level)
            unit_name = _names(units, group, "name")
            skill_names = {s: _names(skills, s, "name") for s in focus}
            findings.append({
                "finding_id": finding_id(as_of_s, group, rule.name, skill), "as_of": as_of_s,
                "org_unit_id": group, "unit_name": unit_name, "rule": rule.name, "kind": rule.kind,
                "skill_id": skill, "skill_name": skill_names.get(skill) if skill else None,
                "focus_skills": [{"skill_id": s, "name": skill_names[s]} for s in focus],
                "threshold": rule.below, "share_required": rule.share, "headcount": int(headcount.get(group, 0)),
                "n_assessed": int(f["n_assessed"]), "n_below": int(f["n_below"]),
                "share_below": round(float(f["share_below"]), 4), "courses": courses,
                "text": finding_text(rule.kind, unit_name, skill_names.get(skill) if skill else None,
                                     [skill_names[s] for s in focus], rule.below, float(f["share_below"]),
                                     int(f["n_below"]), int(f["n_assessed"]), courses)})
    findings.sort(key=lambda x: (x["org_unit_id"], x["rule"], x["skill_id"] or ""))
    return findings


def _names(table: pd.DataFrame, key: str, prefix: str) -> dict[str, str]:
    if key not in table.index:
        return {"en": key, "zh": key}
    row = table.loc[key]
    en = str(row[f"{prefix}_en"])
    zh = row.get(f"{prefix}_zh")
    return {"en": en, "zh": str(zh) if isinstance(zh, str) and zh else en}
