"""Turn the simulation history into the feed tables of the contract (clean, before any dirt)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.contract import CONTRACT
from features.simulator import attrition
from features.simulator.catalog import FORMATS, effects_table
from features.simulator.dynamics import ENGAGEMENT_RHO, ENGAGEMENT_SD, PULL_RHO, PULL_SD, History
from features.simulator.learning import ACTIVITIES, SOURCES
from features.simulator.people import ETHNICITIES, MARITAL, NATIONALITIES, SEXES
from features.simulator.recruiting import CANDIDATE_SOURCES, STAGES
from features.simulator.state import EVENT_CODES, employee_ids
from features.simulator.taxonomy import requirement_table

REQUISITION_REASONS = ("growth", "backfill")
# (person-level mean sd, start deviation sd) of the latent terms as drawn in people.add_people
ENGAGEMENT_START = (0.0, 1.0)
PULL_START = (0.35, 0.3)


def iso(days: np.ndarray) -> pd.Categorical:
    """ISO dates (``YYYY-MM-DD``) from days since epoch, as a categorical; negative days mean missing."""
    days = np.asarray(days, np.int64)
    uniq, inv = np.unique(days, return_inverse=True)
    labels = np.datetime_as_string(uniq.astype("datetime64[D]")).astype(object)
    present = uniq >= 0
    codes = np.where(present[inv], inv - (~present).sum(), -1)
    return pd.Categorical.from_codes(codes, categories=pd.Index(labels[present], dtype=object))


def _cat(values: np.ndarray, codes: np.ndarray) -> pd.Categorical:
    """Strings ``values[codes]`` as a categorical (-1 → missing) without materialising one str per row."""
    return pd.Categorical.from_codes(np.asarray(codes, np.int64), categories=pd.Index(values, dtype=object))


def _cat_unique(codes: np.ndarray, labels: np.ndarray) -> pd.Categorical:
    """Categorical of ``labels[codes]`` using only the labels that occur (saves memory for big id sets)."""
    codes = np.asarray(codes, np.int64)
    used, inv = np.unique(codes, return_inverse=True)
    present = used >= 0
    lab = labels[np.maximum(used, 0)]
    new_codes = np.where(present[inv], inv - (~present).sum(), -1)
    return pd.Categorical.from_codes(new_codes, categories=pd.Index(lab[present], dtype=object))


def _concat(chunks: list[dict[str, np.ndarray]], keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    if not chunks:
        return {k: np.zeros(0, np.int64) for k in keys}
    return {k: np.concatenate([c[k] for c in chunks]) for k in keys}


def _order(df: pd.DataFrame, name: str) -> pd.DataFrame:
    return df[CONTRACT[name].column_names].reset_index(drop=True)


def feed_tables(h: History) -> dict[str, pd.DataFrame]:
    """Every contract table, columns in declaration order."""
    tax, cat, org, cal, wf = h.tax, h.cat, h.org, h.cal, h.wf
    a = wf.arrays
    n = wf.n
    emp_ids = employee_ids(np.arange(n)).astype(object)
    unit_ids = org.units["org_unit_id"].to_numpy(dtype=object)
    job_ids = tax.jobs["job_id"].to_numpy(dtype=object)
    skill_ids = tax.skills["skill_id"].to_numpy(dtype=object)
    course_ids = cat.courses["course_id"].to_numpy(dtype=object)
    out: dict[str, pd.DataFrame] = {}
    out["org_units"] = _order(org.units, "org_units")
    out["jobs"] = _order(tax.jobs, "jobs")
    out["job_skill_requirements"] = _order(requirement_table(tax), "job_skill_requirements")
    birth = pd.array(a["birth_year"][:n], dtype="Int64")
    birth[a["birth_year"][:n] == 0] = pd.NA
    eth = a["ethnicity"][:n].astype(np.int64)
    out["employees"] = pd.DataFrame({
        "employee_id": emp_ids, "hire_date": iso(a["hire_day"][:n]), "birth_year": birth,
        "sex": _cat(np.array(SEXES, object), a["sex"][:n]),
        "ethnicity": _cat(np.array(ETHNICITIES[1:], object), eth - 1),
        "marital_status": _cat(np.array(MARITAL, object), a["marital"][:n]),
        "nationality": _cat(np.array(NATIONALITIES, object), a["nationality"][:n])})
    out["employment_events"] = _events(h, emp_ids, unit_ids, job_ids)
    cells = h.rec
    out["headcount_plans"] = pd.DataFrame({
        "org_unit_id": _cat(unit_ids, np.repeat(cells.cell_unit, cells.plan.shape[1])),
        "job_id": _cat(job_ids, np.repeat(cells.cell_job, cells.plan.shape[1])),
        "plan_month": iso(np.tile(_plan_months(cal, cells.plan.shape[1]), len(cells.cell_unit))),
        "planned_headcount": cells.plan.ravel().astype(np.int64)})
    out.update(_performance(h, emp_ids, skill_ids))
    out["skills"] = _order(tax.skills, "skills")
    out["skill_aliases"] = _order(tax.skill_aliases, "skill_aliases")
    courses = cat.courses.copy()
    created = (cal.start + cat.created_month).astype("datetime64[D]").astype(np.int64) + np.arange(len(courses)) * 7 % 27
    courses["created_at"] = iso(created)
    out["courses"] = _order(courses, "courses")
    out["course_aliases"] = _order(cat.course_aliases, "course_aliases")
    out["course_skills"] = _order(cat.course_skills, "course_skills")
    out.update(_learning(h, emp_ids, course_ids))
    out.update(_recruiting(h, emp_ids, unit_ids, job_ids, skill_ids))
    missing = {name for name, t in CONTRACT.items() if not t.optional} - set(out)
    if missing:
        raise RuntimeError(f"simulator produced no table for {sorted(missing)}")
    return {name: out[name] for name in CONTRACT if name in out}


def _plan_months(cal, n: int) -> np.ndarray:
    """Days of the first ``n`` month starts from the window's start (the plan runs past the window)."""
    return (cal.start + np.arange(n)).astype("datetime64[D]").astype(np.int64)


def _events(h: History, emp_ids: np.ndarray, unit_ids: np.ndarray, job_ids: np.ndarray) -> pd.DataFrame:
    ev = h.log.concat()
    order = np.lexsort((ev["kind"], ev["emp"], ev["day"]))
    ev = {k: v[order] for k, v in ev.items()}
    k = len(order)
    reasons = np.array(attrition.VOLUNTARY_REASONS + attrition.INVOLUNTARY_REASONS, object)
    return pd.DataFrame({
        "event_id": np.char.add("EV", np.char.zfill(np.arange(1, k + 1).astype(str), 8)).astype(object),
        "employee_id": _cat_unique(ev["emp"], emp_ids), "effective_date": iso(ev["day"]),
        "event_type": _cat(np.array(EVENT_CODES, object), ev["kind"]),
        "org_unit_id": _cat(unit_ids, ev["unit"]), "job_id": _cat(job_ids, ev["job"]),
        "manager_id": _cat_unique(ev["manager"], emp_ids), "base_pay": np.round(ev["pay"], 2),
        "termination_type": _cat(np.array(("voluntary", "involuntary"), object), ev["term"].astype(np.int64) - 1),
        "reason": _cat(reasons, ev["reason"].astype(np.int64))})


def _cycle_ids(cycle: np.ndarray) -> pd.Categorical:
    codes, uniq = pd.factorize(cycle, sort=True)
    labels = np.array([f"{c // 10}Q{c % 10}" for c in uniq], object)
    return _cat(labels, codes)


def _performance(h: History, emp_ids: np.ndarray, skill_ids: np.ndarray) -> dict[str, pd.DataFrame]:
    r = _concat(h.rev.reviews, ("emp", "cycle", "day", "reviewer", "kpi", "overall"))
    c = _concat(h.rev.ratings, ("emp", "cycle", "day", "skill", "rating"))
    reviews = pd.DataFrame({"employee_id": _cat_unique(r["emp"], emp_ids), "cycle_id": _cycle_ids(r["cycle"]),
                            "review_date": iso(r["day"]), "reviewer_id": _cat_unique(r["reviewer"], emp_ids),
                            "kpi_attainment": r["kpi"].astype(float), "overall_rating": r["overall"].astype(np.int64)})
    ratings = pd.DataFrame({"employee_id": _cat_unique(c["emp"], emp_ids), "cycle_id": _cycle_ids(c["cycle"]),
                            "review_date": iso(c["day"]), "skill_id": _cat(skill_ids, c["skill"]),
                            "rating": c["rating"].astype(np.int64)})
    return {"reviews": reviews, "competency_ratings": ratings}


def _learning(h: History, emp_ids: np.ndarray, course_ids: np.ndarray) -> dict[str, pd.DataFrame]:
    cal, a = h.cal, h.wf.arrays
    e = _concat(h.learn.enr, ("id", "emp", "course", "day", "source", "done"))
    term = a["term_day"][e["emp"]]
    left_before = (term >= 0) & ((e["done"] < 0) | (term < e["done"]))
    completed = (e["done"] >= 0) & (e["done"] <= cal.end_day) & ~left_before
    pending = ~completed & ~left_before & ((e["done"] > cal.end_day) | (e["day"] > cal.end_day - 45))
    status = np.where(completed, 2, np.where(pending, np.where(e["day"] > cal.end_day - 14, 0, 1), 3))
    score = np.full(len(e["id"]), np.nan)
    if h.learn.scores:
        ids = np.concatenate([s[0] for s in h.learn.scores])
        score[ids] = np.concatenate([s[1] for s in h.learn.scores])
    score[~completed] = np.nan
    enrollments = pd.DataFrame({
        "enrollment_id": np.char.add("EN", np.char.zfill((e["id"] + 1).astype(str), 8)).astype(object),
        "employee_id": _cat_unique(e["emp"], emp_ids), "course_id": _cat(course_ids, e["course"]),
        "enrolled_at": iso(e["day"]), "source": _cat(np.array(SOURCES, object), e["source"]),
        "status": _cat(np.array(("enrolled", "in_progress", "completed", "dropped"), object), status),
        "completed_at": iso(np.where(completed, e["done"], -1)), "exam_score": score})
    p = _concat(h.learn.ledger, ("emp", "day", "points", "activity"))
    order = np.lexsort((p["activity"], p["emp"], p["day"]))
    ledger = pd.DataFrame({
        "entry_id": np.char.add("PL", np.char.zfill(np.arange(1, len(order) + 1).astype(str), 8)).astype(object),
        "employee_id": _cat_unique(p["emp"][order], emp_ids), "date": iso(p["day"][order]),
        "points": p["points"][order].astype(np.int64),
        "activity": _cat(np.array(ACTIVITIES, object), p["activity"][order])})
    return {"enrollments": enrollments, "points_ledger": ledger}


def _recruiting(h: History, emp_ids: np.ndarray, unit_ids: np.ndarray, job_ids: np.ndarray,
                skill_ids: np.ndarray) -> dict[str, pd.DataFrame]:
    rec = h.rec
    q = _concat(rec.reqs, ("req", "unit", "job", "opened", "reason"))
    closed = np.full(len(q["req"]), -1, np.int64)
    for ids, days in rec.closed:
        closed[ids] = days
    req_ids = np.char.add("RQ", np.char.zfill((np.arange(rec.n_req) + 1).astype(str), 7)).astype(object)
    requisitions = pd.DataFrame({"requisition_id": req_ids[q["req"]], "org_unit_id": _cat(unit_ids, q["unit"]),
                                 "job_id": _cat(job_ids, q["job"]), "opened_at": iso(q["opened"]),
                                 "closed_at": iso(closed[q["req"]]),
                                 "reason": _cat(np.array(REQUISITION_REASONS, object), q["reason"])})
    s = _concat(rec.req_skills, ("req", "skill", "level"))
    req_skills = pd.DataFrame({"requisition_id": _cat_unique(s["req"], req_ids), "skill_id": _cat(skill_ids, s["skill"]),
                               "required_level": s["level"].astype(np.int64)})
    c = _concat(rec.cands, ("cand", "req", "applied", "source", "stage", "hired"))
    cand_ids = np.char.add("CA", np.char.zfill((np.arange(rec.n_cand) + 1).astype(str), 8)).astype(object)
    candidates = pd.DataFrame({"candidate_id": cand_ids[c["cand"]], "requisition_id": _cat_unique(c["req"], req_ids),
                               "applied_at": iso(c["applied"]),
                               "source": _cat(np.array(CANDIDATE_SOURCES, object), c["source"]),
                               "stage": _cat(np.array(STAGES, object), c["stage"]),
                               "hired_employee_id": _cat_unique(c["hired"], emp_ids)})
    x = _concat(rec.assess, ("cand", "skill", "score", "day"))
    assessments = pd.DataFrame({"candidate_id": _cat_unique(x["cand"], cand_ids), "skill_id": _cat(skill_ids, x["skill"]),
                                "score": x["score"].astype(float), "assessed_at": iso(x["day"])})
    return {"requisitions": requisitions, "requisition_skills": req_skills, "candidates": candidates,
            "assessments": assessments}


def truth_tables(h: History) -> dict[str, pd.DataFrame]:
    """Truth tables kept in memory (skill levels are streamed separately)."""
    cal, a, n = h.cal, h.wf.arrays, h.wf.n
    emp_ids = employee_ids(np.arange(n)).astype(object)
    months = cal.month_start[:-1].astype("datetime64[D]").astype("datetime64[us]")
    z = _concat(h.hazard, ("emp", "m", "hazard", "involuntary", "voluntary", "logit_observable",
                           "engagement_latent", "pull", "logit_reviews", "logit_learning",
                           "logit_reviews_offcycle"))
    hazard = pd.DataFrame({"employee_id": _cat_unique(z["emp"], emp_ids), "month": months[z["m"]],
                           "hazard": z["hazard"], "involuntary": z["involuntary"].astype(bool),
                           "exited_voluntarily": z["voluntary"].astype(bool),
                           # logit(hazard) = logit_observable + c_e·engagement_latent + c_p·pull (see latent_process)
                           "logit_observable": z["logit_observable"], "engagement_latent": z["engagement_latent"],
                           "outside_pull": z["pull"],
                           # the parts of logit_observable that come from the review and the learning processes
                           # (their terms and engagement shifts): what an export without those feeds cannot see
                           "logit_reviews": z["logit_reviews"], "logit_learning": z["logit_learning"],
                           # the part of logit_reviews from the review cycles other than Q4 (the weak-review term
                           # beyond what a Q4 review shows, and the shifts after weak off-cycle reviews)
                           "logit_reviews_offcycle": z["logit_reviews_offcycle"]})
    hazard.attrs["latent_process"] = latent_process()
    d = _concat(h.demand, ("unit", "skill", "m", "demand", "planned", "supply"))
    demand = pd.DataFrame({"org_unit_id": _cat(h.org.units["org_unit_id"].to_numpy(dtype=object), d["unit"]),
                           "skill_id": _cat(h.tax.skills["skill_id"].to_numpy(dtype=object), d["skill"]),
                           # snapshot months: the start of month m, m = 0 .. months (the state a snapshot sees)
                           "month": cal.month_start.astype("datetime64[D]").astype("datetime64[us]")[d["m"]],
                           "expected_demand": d["demand"].astype(float),
                           "expected_planned": d["planned"].astype(float),  # the plan's part of expected_demand
                           "expected_supply": d["supply"].astype(float)})
    latent = pd.DataFrame({"employee_id": emp_ids, "engagement_start": a["engagement0"][:n].astype(float),
                           "engagement_end": a["engagement"][:n].astype(float),
                           "format_preference": _cat(np.array(FORMATS, object), a["fmt_pref"][:n]),
                           "outside_pull_mean": a["pull_mean"][:n].astype(float),
                           "manager_leniency": a["leniency"][:n].astype(float),
                           "potential": a["potential"][:n].astype(float)})
    return {"attrition_hazard": hazard, "course_effects": effects_table(h.cat), "skill_demand": demand,
            "latent": latent}


def latent_process() -> dict[str, dict[str, float]]:
    """The law of the two latent terms of the voluntary-exit logit (kept with ``attrition_hazard`` as
    ``DataFrame.attrs["latent_process"]``, i.e. in the Parquet file's pandas metadata).

    value(first month employed) = mean + rho·dev0 + N(0, sd), dev0 ~ N(0, start_sd), mean ~ N(0, mean_sd);
    then dev(m + 1) = rho·dev(m) + N(0, sd), value = mean + dev; the logit gets ``coefficient`` × value.
    Engagement here is its unexplained part (``attrition_hazard.engagement_latent``): the shifts that follow
    observable events (promotion, manager change, weak review, completion) are in ``logit_observable``.
    """
    return {
        "engagement": {"coefficient": attrition.COEF["engagement"], "mean_sd": ENGAGEMENT_START[0],
                       "start_sd": ENGAGEMENT_START[1], "rho": ENGAGEMENT_RHO, "sd": ENGAGEMENT_SD},
        "outside_pull": {"coefficient": attrition.COEF["outside_pull"], "mean_sd": PULL_START[0],
                         "start_sd": PULL_START[1], "rho": PULL_RHO, "sd": PULL_SD},
    }
