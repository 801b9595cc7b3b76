"""A small hand-made company for the feature tests (not the simulator): every clean table, with ties on
month starts, rows out of order, terminations of both kinds, dropped enrollments and hired candidates."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.contract import CONTRACT

START = pd.Timestamp("2023-01-01")
END = pd.Timestamp("2024-12-31")


def _day(rng: np.random.Generator, lo: pd.Timestamp, hi: pd.Timestamp, month_start_p: float = 0.2) -> pd.Timestamp:
    """A random day in [lo, hi]; with probability ``month_start_p`` snapped to a month start (tie with T)."""
    span = max((hi - lo).days, 0)
    d = lo + pd.Timedelta(days=int(rng.integers(0, span + 1)))
    if rng.random() < month_start_p:
        d = d.to_period("M").to_timestamp()
        if d < lo:
            d = d + pd.DateOffset(months=1)
    return pd.Timestamp(d)


def make_company(seed: int = 7, employees: int = 60) -> dict[str, pd.DataFrame]:
    """Every clean table of a small company over 2023-2024, as plain frames (contract column names)."""
    rng = np.random.default_rng(seed)
    units = [("C0", None, "company")]
    for d in range(2):
        units.append((f"D{d}", "C0", "division"))
        for p in range(2):
            units.append((f"D{d}P{p}", f"D{d}", "department"))
            for t in range(2):
                units.append((f"D{d}P{p}T{t}", f"D{d}P{p}", "team"))
    teams = [u for u, _, k in units if k == "team"]
    org_units = pd.DataFrame({"org_unit_id": [u for u, _, _ in units], "parent_id": [p for _, p, _ in units],
                              "name_en": [u for u, _, _ in units], "name_zh": [u for u, _, _ in units],
                              "unit_type": [k for _, _, k in units]})
    skills = [f"S{i:02d}" for i in range(12)]
    skills_df = pd.DataFrame({"skill_id": skills, "name_en": skills, "name_zh": skills, "category": "basic",
                              "onet_element": None})
    jobs = []
    for i in range(6):
        mid = 50_000 + 10_000 * i
        jobs.append({"job_id": f"J{i}", "title_en": f"Job {i}", "title_zh": f"Job {i}",
                     "family": "sales" if i < 3 else "engineering", "level": 1 + i % 3, "onet_code": None,
                     "pay_band_min": mid * 0.8, "pay_band_mid": mid, "pay_band_max": mid * 1.2,
                     "next_job_id": f"J{i + 1}" if i % 3 < 2 else None})
    jobs_df = pd.DataFrame(jobs)
    jsr = []
    for i in range(6):
        for s in rng.choice(skills, size=int(rng.integers(2, 5)), replace=False):
            jsr.append({"job_id": f"J{i}", "skill_id": s, "required_level": int(rng.integers(2, 5)),
                        "importance": 3.0})
    jsr_df = pd.DataFrame(jsr)
    courses, course_skills = [], []
    formats = ["online", "workshop", "mentoring"]
    for i in range(10):
        created = START - pd.DateOffset(months=6) if i < 7 else _day(rng, START, START + pd.DateOffset(months=12))
        courses.append({"course_id": f"K{i}", "title_en": f"Course {i}", "title_zh": f"Course {i}",
                        "format": formats[i % 3], "hours": float(4 + 2 * i), "level": 1 + i % 5,
                        "cost": 100.0 * (i + 1), "points": 10 * (i + 1), "mandatory": i == 0,
                        "created_at": created})
        for s in rng.choice(skills, size=int(rng.integers(1, 3)), replace=False):
            course_skills.append({"course_id": f"K{i}", "skill_id": s, "target_level": int(rng.integers(2, 6))})
    courses_df, cs_df = pd.DataFrame(courses), pd.DataFrame(course_skills)
    course_hours = dict(zip(courses_df.course_id, courses_df.hours, strict=True))

    emps, events, reviews, ratings, enrolls, ledger = [], [], [], [], [], []
    cands, assess, reqs, req_skills = [], [], [], []
    req_skill_of_job = jsr_df.groupby("job_id")["skill_id"].apply(list).to_dict()
    review_days = [pd.Timestamp(f"{y}-{m:02d}-{d:02d}") for y in (2023, 2024) for m, d in
                   ((3, 31), (7, 1), (9, 30), (12, 31))]  # 1 July: a review exactly at a snapshot
    for n in range(employees):
        eid = f"E{n:04d}"
        hire = (_day(rng, START - pd.DateOffset(years=3), START - pd.DateOffset(days=1)) if n < employees * 0.6
                else _day(rng, START, END - pd.DateOffset(months=3)))
        emps.append({"employee_id": eid, "hire_date": hire, "birth_year": 1980, "sex": "female",
                     "ethnicity": None, "marital_status": None, "nationality": None})
        job, unit, mgr, pay = f"J{int(rng.integers(0, 6))}", str(rng.choice(teams)), f"M{int(rng.integers(0, 4))}", 0.0
        pay = float(jobs_df.set_index("job_id").loc[job, "pay_band_mid"] * rng.uniform(0.85, 1.1))
        state = {"org_unit_id": unit, "job_id": job, "manager_id": mgr, "base_pay": pay}
        events.append({"employee_id": eid, "effective_date": hire, "event_type": "hire", **state})
        d = max(hire, START - pd.DateOffset(months=6))
        end_date = None
        while True:
            d = d + pd.Timedelta(days=int(rng.integers(40, 200)))
            if d > END:
                break
            kind = str(rng.choice(["promotion", "transfer", "pay_change", "manager_change", "termination"],
                                  p=[0.15, 0.15, 0.25, 0.3, 0.15]))
            if rng.random() < 0.25:
                d = d.to_period("M").to_timestamp()  # tie with a snapshot month start
            if kind == "promotion":
                state = {**state, "job_id": f"J{min(int(state['job_id'][1]) + 1, 5)}",
                         "base_pay": state["base_pay"] * 1.1}
            elif kind == "transfer":
                state = {**state, "org_unit_id": str(rng.choice(teams)), "manager_id": f"M{int(rng.integers(0, 4))}"}
            elif kind == "pay_change":
                state = {**state, "base_pay": state["base_pay"] * 1.03}
            elif kind == "manager_change":
                state = {**state, "manager_id": f"M{int(rng.integers(4, 9))}"}
            row = {"employee_id": eid, "effective_date": d, "event_type": kind, **state}
            if kind == "termination":
                row["termination_type"] = "voluntary" if rng.random() < 0.7 else "involuntary"
                events.append(row)
                end_date = d
                break
            events.append(row)
        alive_to = end_date if end_date is not None else END
        for r in review_days:
            if hire < r <= alive_to and rng.random() < 0.9:
                cyc = f"{r.year}Q{(r.month - 1) // 3 + 1}"
                reviews.append({"employee_id": eid, "cycle_id": cyc, "review_date": r, "reviewer_id": "M0",
                                "kpi_attainment": float(rng.uniform(0.5, 1.5)),
                                "overall_rating": int(rng.integers(1, 6))})
                for s in skills[:8]:
                    ratings.append({"employee_id": eid, "cycle_id": cyc, "review_date": r, "skill_id": s,
                                    "rating": int(rng.integers(1, 6))})
        for _ in range(int(rng.integers(0, 6))):
            k = f"K{int(rng.integers(0, 10))}"
            enrolled = _day(rng, max(hire, START - pd.DateOffset(months=3)), alive_to)
            status = str(rng.choice(["completed", "dropped", "in_progress"], p=[0.6, 0.2, 0.2]))
            done = enrolled + pd.Timedelta(days=int(rng.integers(0, 120))) if status == "completed" else None
            if done is not None and rng.random() < 0.2:
                done = done.to_period("M").to_timestamp() + pd.DateOffset(months=1)
            enrolls.append({"enrollment_id": f"N{len(enrolls):05d}", "employee_id": eid, "course_id": k,
                            "enrolled_at": enrolled, "source": "self", "status": status, "completed_at": done,
                            "exam_score": float(rng.uniform(40, 100)) if done is not None else None})
            if done is not None:
                ledger.append({"entry_id": f"L{len(ledger):05d}", "employee_id": eid, "date": done,
                               "points": int(course_hours[k]), "activity": "course_completion"})
        if rng.random() < 0.3:
            ledger.append({"entry_id": f"L{len(ledger):05d}", "employee_id": eid,
                           "date": _day(rng, START, END), "points": -5, "activity": "redemption"})
        if hire >= START:  # hired through a requisition with a pre-hire assessment
            rid = f"R{len(reqs):04d}"
            opened = hire - pd.Timedelta(days=int(rng.integers(30, 90)))
            reqs.append({"requisition_id": rid, "org_unit_id": unit, "job_id": job, "opened_at": opened,
                         "closed_at": hire - pd.Timedelta(days=7), "reason": "growth"})
            cid = f"C{len(cands):04d}"
            cands.append({"candidate_id": cid, "requisition_id": rid, "applied_at": opened, "source": "referral",
                          "stage": "hired", "hired_employee_id": eid})
            for s in req_skill_of_job[job]:
                assess.append({"candidate_id": cid, "skill_id": s, "score": float(rng.uniform(1, 5)),
                               "assessed_at": hire - pd.Timedelta(days=14)})
    for i in range(8):  # open requisitions without a hire, some still open at the end
        opened = _day(rng, START, END)
        closed = opened + pd.Timedelta(days=int(rng.integers(10, 200))) if i % 2 else None
        rid = f"R{len(reqs):04d}"
        reqs.append({"requisition_id": rid, "org_unit_id": str(rng.choice(teams)), "job_id": f"J{i % 6}",
                     "opened_at": opened, "closed_at": closed, "reason": "backfill"})
        req_skills.append({"requisition_id": rid, "skill_id": skills[11], "required_level": 3})
    plans = [{"org_unit_id": t, "job_id": "J0", "plan_month": m, "planned_headcount": 3}
             for t in teams for m in pd.date_range(START, END, freq="MS")]
    tables = {
        "org_units": org_units, "skills": skills_df, "jobs": jobs_df, "job_skill_requirements": jsr_df,
        "courses": courses_df, "course_skills": cs_df, "employees": pd.DataFrame(emps),
        "employment_events": pd.DataFrame(events), "reviews": pd.DataFrame(reviews),
        "competency_ratings": pd.DataFrame(ratings), "enrollments": pd.DataFrame(enrolls),
        "points_ledger": pd.DataFrame(ledger), "requisitions": pd.DataFrame(reqs),
        "requisition_skills": pd.DataFrame(req_skills), "candidates": pd.DataFrame(cands),
        "assessments": pd.DataFrame(assess), "headcount_plans": pd.DataFrame(plans),
    }
    tables["employment_events"].insert(0, "event_id", [f"V{i:05d}" for i in range(len(events))])
    # late rows: the feeds arrive out of order
    tables = {k: v.sample(frac=1.0, random_state=seed).reset_index(drop=True) for k, v in tables.items()}
    for name, df in tables.items():
        missing = set(CONTRACT[name].column_names) - set(df.columns)
        for col in missing:
            df[col] = None
    return tables


def test_company_covers_every_dated_table() -> None:
    tables = make_company(seed=1, employees=20)
    dated = {t.name for t in CONTRACT.values() if t.event_time} - {"courses"}
    assert all(len(tables[name]) > 0 for name in dated if name in tables)
    assert (tables["employment_events"]["event_type"] == "termination").any()
