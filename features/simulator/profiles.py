"""Export profiles: the same simulated company written as a real export of it would look.

A profile is a transformation of the clean contract tables (before dirt): it drops tables and columns, renames
export columns, rewrites codes as free text and, for ``leaky``, re-dates rows. The simulation, and so the truth
under ``_truth/``, is exactly the one ``full`` writes for the same arguments. Each profile also returns the
mapping an integrator would write for such an export (``mapping.yaml``). See docs/simulator.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

LEARNING_ACTIVITY = ("courses", "course_aliases", "course_skills", "enrollments", "points_ledger")
HRIS_TABLES = ("org_units", "jobs", "employees", "employment_events")
LEAK_MONTHS = 6  # leaky: a leaver's reviews are kept only from this many months before the exit


@dataclass
class Export:
    """What a profile writes: the delivered tables (export column names), the kind of every column that is not
    a contract column, the mapping for the export and a note for the manifest."""

    tables: dict[str, pd.DataFrame]
    kinds: dict[str, dict[str, str]] = field(default_factory=dict)  # table → export column → kind
    mapping: dict = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class Context:
    """What a transformation may know about the run: the last day of the data, and a random stream of its own."""

    end: pd.Timestamp
    rng: np.random.Generator


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    transform: Callable[[dict[str, pd.DataFrame], Context], Export]
    employees: tuple[int, int] | None = None  # allowed starting headcount
    default_employees: int = 2000
    # parts of the true observable exit logit that come from feeds this profile drops (hazard truth columns,
    # recorded in the manifest as ``hidden_logit``; the profile oracle integrates them out)
    hides: tuple[str, ...] = ()


def _full(tables: dict[str, pd.DataFrame], ctx: Context) -> Export:
    return Export(tables)


def _small(tables: dict[str, pd.DataFrame], ctx: Context) -> Export:
    return Export(tables, note="a small company: every table, 150-400 people")


def _no_learning(tables: dict[str, pd.DataFrame], ctx: Context) -> Export:
    kept = {k: v for k, v in tables.items() if k not in LEARNING_ACTIVITY}
    return Export(kept, note="no learning system: the learning feed holds only the skill taxonomy")


def _annual_reviews(tables: dict[str, pd.DataFrame], ctx: Context) -> Export:
    out = dict(tables)
    for name in ("reviews", "competency_ratings"):
        df = out[name]
        df = df[df["cycle_id"].astype(str).str.endswith("Q4").to_numpy()].reset_index(drop=True)
        out[name] = df.drop(columns=["kpi_attainment"]) if name == "reviews" else df
    return Export(out, note="one review a year (the Q4 cycle), no KPI attainment")


def _hris_minimal(tables: dict[str, pd.DataFrame], ctx: Context) -> Export:
    rng = ctx.rng
    out: dict[str, pd.DataFrame] = {}
    out["org_units"] = tables["org_units"].drop(columns=["name_zh"])
    out["jobs"] = tables["jobs"][["job_id", "title_en", "family"]].copy()
    emp = tables["employees"]
    year = emp["birth_year"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    day = rng.integers(0, 365, len(emp))
    dob = pd.to_datetime(np.where(np.isnan(year), 2000, year).astype(int).astype(str), format="%Y") \
        + pd.to_timedelta(day, unit="D")
    dob_text = pd.Series(dob.strftime("%Y-%m-%d"), dtype=object).where(~np.isnan(year), None)
    sex = emp["sex"].astype(object).map({"female": "Female", "male": "Male", "other": "Other",
                                         "undisclosed": "Prefer not to say"})
    marital = emp["marital_status"].astype(object).map({"single": "Single", "married": "Married",
                                                        "divorced": "Divorced", "widowed": "Widowed",
                                                        "undisclosed": "Prefer not to say"})
    draw = rng.random(len(emp))
    marital = marital.where(~((emp["marital_status"].astype(object) == "divorced").to_numpy() & (draw < 0.4)),
                            "Separated")
    marital = marital.where(~((emp["marital_status"].astype(object) == "married").to_numpy() & (draw < 0.05)),
                            "Domestic partnership")
    out["employees"] = pd.DataFrame({
        "employee_id": emp["employee_id"], "hire_date": emp["hire_date"], "date_of_birth": dob_text,
        "gender": sex, "ethnicity": emp["ethnicity"], "marital_status": marital,
        "nationality": emp["nationality"]})
    ev = tables["employment_events"].copy()
    ev["termination_type"] = ev["termination_type"].astype(object).map(
        {"voluntary": "Resignation", "involuntary": "Dismissal"})
    out["employment_events"] = ev
    mapping = {"tables": {
        "employees": {
            "columns": {"gender": "sex"},
            "derive": {"birth_year": {"from": "date_of_birth", "part": "year"}},
            "values": {"sex": {"Prefer not to say": "undisclosed"},
                       "marital_status": {"Separated": "divorced", "Prefer not to say": "undisclosed"}},
            "unknown_values": {"marital_status": "undisclosed"}},
        "employment_events": {
            "values": {"termination_type": {"Resignation": "voluntary", "Dismissal": "involuntary"}}}}}
    return Export(out, kinds={"employees": {"date_of_birth": "date", "gender": "str"}}, mapping=mapping,
                  note="HR feed only (employees, employment events, org units, jobs); English names only; no "
                       "levels, pay bands or career path; date of birth instead of birth year; free-text codes")


def _leaky(tables: dict[str, pd.DataFrame], ctx: Context) -> Export:
    rng = ctx.rng
    out = dict(tables)
    ev = tables["employment_events"]
    term = ev[(ev["event_type"].astype(object) == "termination").to_numpy()]
    exit_day = pd.to_datetime(term["effective_date"].astype(object)).groupby(
        term["employee_id"].astype(object).to_numpy()).max()
    stayers_shift: dict[str, pd.Timestamp] = {}
    for name in ("reviews", "competency_ratings"):
        df = tables[name]
        emp = df["employee_id"].astype(object)
        date = pd.to_datetime(df["review_date"].astype(object))
        leaves = emp.map(exit_day)
        leaver = leaves.notna().to_numpy()
        recent = leaver & (date >= leaves - pd.DateOffset(months=LEAK_MONTHS)).to_numpy()
        keep = recent | ~leaver
        df = df[keep].reset_index(drop=True)
        emp, date = emp[keep].reset_index(drop=True), date[keep].reset_index(drop=True)
        stayer = ~emp.map(exit_day).notna().to_numpy()
        if not stayers_shift:  # one migration date per stayer, shared by their reviews and ratings
            ids = pd.unique(emp[stayer])
            days = rng.integers(1, 29, len(ids))
            stayers_shift = {e: ctx.end + pd.Timedelta(days=int(d)) for e, d in zip(ids, days, strict=True)}
        moved = emp[stayer].map(stayers_shift)
        new_date = date.copy()
        new_date[stayer] = moved.fillna(ctx.end + pd.Timedelta(days=1)).to_numpy()
        df["review_date"] = new_date.dt.strftime("%Y-%m-%d").astype(object)
        out[name] = df
    return Export(out, note=f"leak: reviews of leavers kept only from {LEAK_MONTHS} months before their exit; every "
                            "stayer's reviews dated after the end of the data (a review-system migration)")


PROFILES: dict[str, Profile] = {p.name: p for p in (
    Profile("full", "every table and column of the contract", _full),
    Profile("hris-minimal", "the HR feed only, as an HRIS exports it", _hris_minimal,
            hides=("logit_reviews", "logit_learning")),
    Profile("no-learning", "no learning system", _no_learning, hides=("logit_learning",)),
    Profile("annual-reviews", "one review a year, no KPI", _annual_reviews, hides=("logit_reviews_offcycle",)),
    Profile("small", "a small company (150-400 people)", _small, employees=(150, 400), default_employees=300),
    Profile("leaky", "a documented leak in the performance feed", _leaky),
)}


def get_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise ValueError(f"profile (--profile) must be one of {', '.join(PROFILES)}, got {name!r}")
    return PROFILES[name]


def check_employees(profile: Profile, employees: int) -> None:
    if profile.employees is not None:
        lo, hi = profile.employees
        if not lo <= employees <= hi:
            raise ValueError(f"profile {profile.name} is a company of {lo}-{hi} people: --employees must be "
                             f"between {lo} and {hi}, got {employees}")
