"""The panels the training-effect estimator works on, built from the clean tables.

Two panels, one row per pair of consecutive reviews of a person (the earlier review ``t0``, the later ``t1``):

- **skill panel**: one row per (employee, skill rated at both reviews, t0 → t1); outcome ``y`` = the change in
  that skill's competency rating;
- **review panel**: one row per (employee, t0 → t1); outcome ``y`` = the change in the overall rating.

A completion *counts toward* a pair when it falls in the months from t0's month up to the month before t1's
month: a course finished in the month of the later review has not had time to show in it. A row is **treated by
course c** when c is the only relevant completion counting toward it (for the skill panel, relevant = a course
teaching that skill; for the review panel, any course but the mandatory ones, which nearly everyone completes
every year so that no comparable non-taker exists); a row is a **control** when none counts toward it; rows
with two or more relevant completions are left out (their effects cannot be told apart).

The review panel also carries ``left_within_year`` (a voluntary exit within a year of the later review; empty when
the data end too soon to know), the outcome that prices retention in the return on investment.

Covariates are what was known at t0 (the t0 rating and its distance to the job's required level, the rating
before that, the overall rating and KPI attainment at t0, tenure, job level, months between the reviews):
people are assigned courses after a weak rating, so the t0 rating must be adjusted for or regression to the
mean would pass for an effect. Nothing here reads protected attributes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MAX_PAIR_DAYS = 200  # consecutive reviews further apart than this are not paired (a gap in the reviews)
EXIT_DAYS = 365  # the review panel's retention outcome: left voluntarily within a year of the later review


def _month_index(dates: pd.Series) -> np.ndarray:
    d = pd.to_datetime(dates)
    return (d.dt.year * 12 + d.dt.month - 1).to_numpy(np.int64)


def completions(enrollments: pd.DataFrame) -> pd.DataFrame:
    """Completed enrollments: employee_id, course_id, completed_at, month index ``m``."""
    e = enrollments[(enrollments["status"] == "completed") & enrollments["completed_at"].notna()]
    out = e[["employee_id", "course_id", "completed_at"]].astype({"employee_id": str, "course_id": str})
    out = out.assign(m=_month_index(out["completed_at"]))
    return out.reset_index(drop=True)


def _job_at(events: pd.DataFrame, rows: pd.DataFrame, date_col: str) -> pd.DataFrame:
    """The org unit and job each row's person held on ``date_col`` (the last event on or before it)."""
    ev = events.dropna(subset=["effective_date"])[["employee_id", "effective_date", "org_unit_id", "job_id",
                                                   "base_pay"]]
    ev = ev.astype({"employee_id": str}).sort_values("effective_date")
    left = rows.reset_index().sort_values(date_col)
    got = pd.merge_asof(left, ev, left_on=date_col, right_on="effective_date", by="employee_id",
                        direction="backward")
    return got.set_index("index").sort_index()


def _pairs(frame: pd.DataFrame, keys: list[str], value: str) -> pd.DataFrame:
    """Consecutive reviews per ``keys``: date0, date1, value0, value1, value before value0 (lag)."""
    f = frame.sort_values([*keys, "review_date"]).reset_index(drop=True)
    g = f.groupby(keys, sort=False, observed=True)
    f["date1"] = g["review_date"].shift(-1)
    f["value1"] = g[value].shift(-1)
    f["lag"] = g[value].shift(1)
    f = f.rename(columns={"review_date": "date0", value: "value0"})
    f = f[f["date1"].notna()]
    f = f[(f["date1"] - f["date0"]).dt.days.between(1, MAX_PAIR_DAYS)]
    return f.reset_index(drop=True)


def _covariates(rows: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Add org unit, job, pay, job level, tenure and the t0 review's overall rating and KPI attainment."""
    rows = _job_at(tables["employment_events"], rows, "date0")
    jobs = tables["jobs"][["job_id", "level"]].astype({"job_id": str}).rename(columns={"level": "job_level"})
    rows = rows.merge(jobs, on="job_id", how="left")
    hires = tables["employees"][["employee_id", "hire_date"]].astype({"employee_id": str})
    rows = rows.merge(hires, on="employee_id", how="left")
    rows["tenure_years"] = ((rows["date0"] - rows["hire_date"]).dt.days / 365.25).clip(0, 40)
    rev = tables["reviews"][["employee_id", "review_date", "overall_rating", "kpi_attainment"]]
    rev = rev.astype({"employee_id": str}).rename(columns={"review_date": "date0", "overall_rating": "overall0",
                                                           "kpi_attainment": "kpi0"})
    rev = rev.drop_duplicates(["employee_id", "date0"])
    if "overall0" not in rows.columns:
        rows = rows.merge(rev, on=["employee_id", "date0"], how="left")
    else:
        rows = rows.merge(rev.drop(columns="overall0"), on=["employee_id", "date0"], how="left")
    rows["months_between"] = (rows["m1"] - rows["m0"]).astype(float)
    return rows


def _assign(rows: pd.DataFrame, comp: pd.DataFrame, on: list[str]) -> pd.DataFrame:
    """Mark each row's single counting completion (``course_id``, ``completed_at``) or control; drop rows with
    two or more counting completions."""
    rows = rows.reset_index(drop=True)
    rows["row"] = np.arange(len(rows))
    hit = rows[[*on, "row", "m0", "m1"]].merge(comp, on=on, how="inner")
    hit = hit[(hit["m"] >= hit["m0"]) & (hit["m"] < hit["m1"])]
    n = np.bincount(hit["row"].to_numpy(), minlength=len(rows))
    one = hit.drop_duplicates("row", keep=False).set_index("row")
    rows["course_id"] = pd.Series(one["course_id"], index=one.index).reindex(rows["row"]).to_numpy()
    rows["completed_at"] = pd.Series(one["completed_at"], index=one.index).reindex(rows["row"]).to_numpy()
    return rows[n <= 1].drop(columns="row").reset_index(drop=True)


def skill_panel(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per (employee, skill, consecutive reviews): ``y`` = rating change; ``course_id`` the single
    course teaching the skill completed in between (empty for controls)."""
    cr = tables["competency_ratings"][["employee_id", "skill_id", "review_date", "rating"]].dropna()
    cr = cr.astype({"employee_id": str, "skill_id": str, "rating": float})
    p = _pairs(cr, ["employee_id", "skill_id"], "rating")
    p["m0"], p["m1"] = _month_index(p["date0"]), _month_index(p["date1"])
    p = _covariates(p, tables)
    req = tables["job_skill_requirements"][["job_id", "skill_id", "required_level"]]
    p = p.merge(req.astype({"job_id": str, "skill_id": str}), on=["job_id", "skill_id"], how="left")
    cs = tables["course_skills"][["course_id", "skill_id"]].astype(str)
    comp = completions(tables["enrollments"]).merge(cs, on="course_id")
    p = _assign(p, comp, ["employee_id", "skill_id"])
    p["y"] = p["value1"] - p["value0"]
    p["group"] = p["skill_id"]
    return p


def review_panel(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per (employee, consecutive reviews): ``y`` = overall-rating change; ``course_id`` the single
    course completed in between (empty for controls)."""
    rv = tables["reviews"][["employee_id", "review_date", "overall_rating"]].dropna()
    rv = rv.astype({"employee_id": str, "overall_rating": float})
    p = _pairs(rv, ["employee_id"], "overall_rating")
    p["m0"], p["m1"] = _month_index(p["date0"]), _month_index(p["date1"])
    p["overall0"] = p["value0"]
    p = _covariates(p, tables)
    mandatory = tables["courses"].loc[tables["courses"]["mandatory"].fillna(False).astype(bool), "course_id"]
    comp = completions(tables["enrollments"])
    p = _assign(p, comp[~comp["course_id"].isin(set(mandatory.astype(str)))], ["employee_id"])
    p["y"] = p["value1"] - p["value0"]
    p["group"] = "all"
    p["left_within_year"] = _left_within_year(tables["employment_events"], p)
    return p


def _left_within_year(events: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """1.0 when the person left voluntarily within EXIT_DAYS after the later review, 0.0 when not, NaN when the
    data end before the year is over (not yet known)."""
    ev = events[(events["event_type"] == "termination")]
    ev = ev[ev["termination_type"].fillna("voluntary") == "voluntary"]
    first = ev.astype({"employee_id": str}).groupby("employee_id")["effective_date"].min()
    left = rows["employee_id"].map(first)
    end = events["effective_date"].max()
    days = (left - rows["date1"]).dt.days
    out = ((days >= 0) & (days <= EXIT_DAYS)).astype(float).to_numpy()
    return np.where((rows["date1"] + pd.Timedelta(days=EXIT_DAYS) > end).to_numpy(), np.nan, out)


def design(panel: pd.DataFrame) -> np.ndarray:
    """The covariate matrix (known at t0): one-hot t0 value, one-hot distance to the required level, one-hot
    earlier value, overall rating and KPI at t0, tenure, job level, months between the reviews."""
    v0 = panel["value0"].round().clip(1, 5).to_numpy()
    cols = [(v0 == k).astype(float) for k in range(1, 6)]
    if "required_level" in panel:
        dist = (panel["value0"] - panel["required_level"]).round().clip(-3, 2).fillna(9).to_numpy()
        cols += [(dist == k).astype(float) for k in (-3, -2, -1, 0, 1, 2, 9)]
    lag = panel["lag"].round().clip(1, 5).fillna(0).to_numpy()
    cols += [(lag == k).astype(float) for k in range(0, 6)]
    for name, fill in (("overall0", 3.0), ("kpi0", 1.0), ("tenure_years", 3.0), ("job_level", 2.0)):
        s = panel[name].astype(float)
        cols += [s.fillna(fill).to_numpy(), s.isna().to_numpy(float)]
    cols.append(panel["months_between"].fillna(3.0).to_numpy(float))
    return np.column_stack(cols)
