"""Points balances and projected year-end attainment per person, and completion rates per unit, at a month.

At month ``T`` (its first day) only rows dated before ``T`` count, as for every feature table. The points year
is the one running on the day before ``T`` (``year_start_month``), so scoring the first month of a year reports
the year just closed. For each person active at ``T``:

- ``target``: the yearly target of their job level, prorated by the months of the year they are employed
  (``prorate_new_hires``);
- ``earned``: points earned in the year so far (completions priced by the rules, plus ``ledger_activities``);
- ``projected``: ``earned`` plus the person's pace (points earned in the 12 months before ``T`` over the months
  employed in them, at most 12) times the months left in the year;
- ``attainment`` = earned / target, ``projected_attainment`` = projected / target, ``met`` and ``on_track``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.points.rules import PointsRules

DAYS_PER_MONTH = 30.4375


def as_naive(s: pd.Series) -> pd.Series:
    """Dates as tz-naive UTC datetimes (NaT when not a date)."""
    out = s if pd.api.types.is_datetime64_any_dtype(s) else pd.to_datetime(s, errors="coerce")
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_convert("UTC").dt.tz_localize(None)
    return out


def month_start(as_of: object) -> pd.Timestamp:
    ts = pd.Timestamp(as_of)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return pd.Timestamp(ts.year, ts.month, 1)


def points_year(month: pd.Timestamp, rules: PointsRules) -> tuple[pd.Timestamp, pd.Timestamp]:
    """(start, end) of the points year ``month`` falls in."""
    day = month
    start = pd.Timestamp(day.year if day.month >= rules.year_start_month else day.year - 1, rules.year_start_month, 1)
    return start, start + pd.DateOffset(years=1)


def course_points(courses: pd.DataFrame, rules: PointsRules) -> pd.Series:
    """Points per course id under the rules: override, else the catalog's points (source: catalog), else
    per_format + per_hour × hours."""
    r = rules.course_points
    ids = courses["course_id"].astype(str)
    hours = pd.to_numeric(courses["hours"], errors="coerce").fillna(0).to_numpy(dtype=float)
    fmt = courses["format"].astype(str).map(lambda f: r.per_format.get(f, 0.0)).to_numpy(dtype=float)
    pts = fmt + r.per_hour * hours
    if r.source == "catalog" and "points" in courses:
        catalog = pd.to_numeric(courses["points"], errors="coerce").to_numpy(dtype=float)
        pts = np.where(np.isnan(catalog), pts, catalog)
    out = pd.Series(np.round(pts, 1), index=ids.to_numpy(), name="points")
    for course, value in r.courses.items():
        if course in out.index:
            out[course] = float(value)
    return out[~out.index.duplicated()]


def current_state(employees: pd.DataFrame, events: pd.DataFrame, jobs: pd.DataFrame, month: pd.Timestamp
                  ) -> pd.DataFrame:
    """employee_id, org_unit_id, job_id, job_level, hire_date of everyone employed at ``month`` (their last
    employment event before it is not a termination)."""
    ev = events.assign(effective_date=as_naive(events["effective_date"]))
    ev = ev[ev["effective_date"] < month].sort_values(["employee_id", "effective_date", "event_id"])
    last = ev.groupby("employee_id", sort=False).tail(1)
    last = last[last["event_type"] != "termination"]
    hires = employees.assign(hire_date=as_naive(employees["hire_date"]))[["employee_id", "hire_date"]]
    out = last[["employee_id", "org_unit_id", "job_id"]].merge(hires, on="employee_id", how="left")
    out = out[out["hire_date"].isna() | (out["hire_date"] < month)]
    level = jobs.set_index(jobs["job_id"].astype(str))["level"] if not jobs.empty else pd.Series(dtype=float)
    out["job_level"] = out["job_id"].astype(str).map(level)
    return out.astype({"employee_id": str, "org_unit_id": str}).reset_index(drop=True)


def earned_entries(enrollments: pd.DataFrame, ledger: pd.DataFrame, prices: pd.Series, rules: PointsRules
                   ) -> pd.DataFrame:
    """employee_id, date, points, activity, course_id of every earning: completions priced by the rules, and the
    ledger's ``ledger_activities`` entries."""
    done = enrollments[enrollments["status"] == "completed"]
    done = pd.DataFrame({"employee_id": done["employee_id"].astype(str), "date": as_naive(done["completed_at"]),
                         "points": done["course_id"].astype(str).map(prices).fillna(0.0).to_numpy(dtype=float),
                         "activity": "course_completion", "course_id": done["course_id"].astype(str)})
    extra = ledger[ledger["activity"].isin(rules.ledger_activities) & (pd.to_numeric(ledger["points"]) > 0)]
    extra = pd.DataFrame({"employee_id": extra["employee_id"].astype(str), "date": as_naive(extra["date"]),
                          "points": pd.to_numeric(extra["points"]).astype(float), "activity": extra["activity"],
                          "course_id": None})
    frames = [f for f in (done, extra) if not f.empty]
    if not frames:
        return done
    return pd.concat(frames, ignore_index=True).dropna(subset=["date"])


def balances(tables: dict[str, pd.DataFrame], rules: PointsRules, as_of: object) -> pd.DataFrame:
    """One row per person active at ``as_of`` (see the module docstring)."""
    month = month_start(as_of)
    start, end = points_year(month, rules)
    people = current_state(tables["employees"], tables["employment_events"], tables["jobs"], month)
    prices = course_points(tables["courses"], rules)
    earned = earned_entries(tables["enrollments"], tables["points_ledger"], prices, rules)
    earned = earned[earned["date"] < month]
    ytd = earned[earned["date"] >= start].groupby("employee_id")["points"].sum()
    last12 = earned[earned["date"] >= month - pd.DateOffset(months=12)].groupby("employee_id")["points"].sum()
    spendable = tables["points_ledger"]
    spendable = spendable[as_naive(spendable["date"]) < month].groupby(
        spendable["employee_id"].astype(str))["points"].sum()

    hire = people["hire_date"].fillna(start)
    months_left = (end - month).days / DAYS_PER_MONTH
    share_employed = ((end - hire.clip(lower=start)).dt.days / (end - start).days).clip(0, 1)  # of the year's days
    employed_12 = ((month - hire.clip(lower=month - pd.DateOffset(months=12))).dt.days / DAYS_PER_MONTH).clip(1, 12)
    full = people["job_level"].map(rules.yearly_target.for_level).astype(float)
    target = full * (share_employed if rules.prorate_new_hires else 1.0)
    target = target.clip(lower=full * 1 / 12)  # someone hired in the last month still owes a month's share
    out = pd.DataFrame({
        "as_of": str(month.date()), "employee_id": people["employee_id"], "org_unit_id": people["org_unit_id"],
        "job_level": people["job_level"], "year_start": str(start.date()), "year_end": str(end.date()),
        "target": target.round(1),
        "earned": people["employee_id"].map(ytd).fillna(0.0).astype(float),
        "pace_per_month": (people["employee_id"].map(last12).fillna(0.0) / employed_12).astype(float),
        "balance": people["employee_id"].map(spendable).fillna(0).astype(float),
    })
    out["projected"] = (out["earned"] + out["pace_per_month"] * months_left).round(1)
    out["remaining"] = (out["target"] - out["earned"]).clip(lower=0).round(1)
    out["attainment"] = (out["earned"] / out["target"]).round(4)
    out["projected_attainment"] = (out["projected"] / out["target"]).round(4)
    out["met"] = out["earned"] >= out["target"]
    out["on_track"] = out["projected"] >= out["target"]
    out["months_left"] = round(months_left, 2)
    return out


def unit_completion(rows: pd.DataFrame, closure: pd.DataFrame, units: list[str] | None = None) -> pd.DataFrame:
    """Per unit (each unit counts everyone in its subtree): headcount, share who met the target, share on track
    to meet it by year end, mean attainment and points earned. ``closure`` is (ancestor_id, org_unit_id)."""
    joined = rows.merge(closure, on="org_unit_id", how="inner")
    if units is not None:
        joined = joined[joined["ancestor_id"].isin(units)]
    g = joined.groupby("ancestor_id")
    out = pd.DataFrame({
        "headcount": g.size(),
        "completion_rate": g["met"].mean().round(4),
        "on_track_rate": g["on_track"].mean().round(4),
        "mean_attainment": g["attainment"].mean().round(4),
        "mean_projected_attainment": g["projected_attainment"].mean().round(4),
        "points_earned": g["earned"].sum().round(1),
    }).reset_index().rename(columns={"ancestor_id": "org_unit_id"})
    return out.sort_values("org_unit_id").reset_index(drop=True)
