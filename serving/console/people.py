"""What the HR suite says about a person at an alert's month: job title, unit name, manager, tenure, last rating.

Read once at start-up from the workspace's clean tables (``employment_events``, ``employees``, ``reviews``,
``jobs``, ``org_units``) and looked up per alert *as of the alert's month*: the state after the latest
employment event on or before that date, the latest review signed off by then. The employees' skill gaps (for
the unit overview) come from the latest ``employee_monthly`` feature snapshot, the same values the models see.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from features.settings import Settings


@dataclass(frozen=True)
class Person:
    """One person as of a date; ``None`` fields are not on file (worded by the page, never shown raw)."""

    employee_id: str
    job_title: dict[str, str] | None
    unit_id: str | None
    unit_name: dict[str, str] | None
    manager_id: str | None
    manager_title: dict[str, str] | None
    tenure_months: int | None
    rating: int | None
    rating_cycle: str | None


@dataclass
class _History:
    dates: list[str] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)

    def at(self, day: str) -> tuple | None:
        i = bisect.bisect_right(self.dates, day)
        return self.rows[i - 1] if i else None


class People:
    """Per-employee histories of job, unit and manager, reviews, hire dates; names of jobs and units."""

    def __init__(self, events: pd.DataFrame, employees: pd.DataFrame, reviews: pd.DataFrame, jobs: pd.DataFrame,
                 units: pd.DataFrame, gaps: pd.DataFrame | None = None):
        self.jobs = {str(j): {"en": str(en), "zh": str(zh)}
                     for j, en, zh in zip(jobs["job_id"], jobs["title_en"], jobs["title_zh"], strict=True)}
        self.units = {str(u): {"en": str(en), "zh": str(zh)}
                      for u, en, zh in zip(units["org_unit_id"], units["name_en"], units["name_zh"], strict=True)}
        self.hired = {str(e): _iso(h) for e, h in zip(employees["employee_id"], employees["hire_date"], strict=True)
                      if not pd.isna(h)}
        self.events: dict[str, _History] = {}
        ev = events.sort_values(["employee_id", "effective_date", "event_id"], kind="mergesort")
        for e, d, j, u, m in zip(ev["employee_id"].astype(str), ev["effective_date"], ev["job_id"], ev["org_unit_id"],
                                 ev["manager_id"], strict=True):
            h = self.events.setdefault(e, _History())
            h.dates.append(_iso(d))
            h.rows.append((_str(j), _str(u), _str(m)))
        self.reviews: dict[str, _History] = {}
        rv = reviews.sort_values(["employee_id", "review_date", "cycle_id"], kind="mergesort")
        for e, d, c, r in zip(rv["employee_id"].astype(str), rv["review_date"], rv["cycle_id"], rv["overall_rating"],
                              strict=True):
            h = self.reviews.setdefault(e, _History())
            h.dates.append(_iso(d))
            h.rows.append((str(c), int(r)))
        self._cache: dict[tuple[str, str], Person] = {}
        self.gaps = gaps if gaps is not None else pd.DataFrame(columns=["employee_id", "org_unit_id", "skill_id", "gap"])

    def unit_name(self, unit: str | None) -> dict[str, str] | None:
        return self.units.get(unit) if unit is not None else None

    def at(self, employee_id: str, as_of: str) -> Person:
        """The person as of ``as_of`` (cached: the tables only change with a restart)."""
        key = (employee_id, as_of[:10])
        found = self._cache.get(key)
        if found is None:
            found = self._at(employee_id, key[1])
            if len(self._cache) < 200_000:
                self._cache[key] = found
        return found

    def _at(self, employee_id: str, day: str) -> Person:
        state = self.events.get(employee_id)
        job = unit = manager = None
        if state is not None and (row := state.at(day)) is not None:
            job, unit, manager = row
        manager_job = None
        if manager is not None and (mstate := self.events.get(manager)) is not None and (mrow := mstate.at(day)):
            manager_job = mrow[0]
        tenure = None
        if (hired := self.hired.get(employee_id)) is not None and hired <= day:
            a, b = date.fromisoformat(hired), date.fromisoformat(day)
            tenure = (b.year - a.year) * 12 + (b.month - a.month) - (1 if b.day < a.day else 0)
        review = self.reviews.get(employee_id)
        last = review.at(day) if review is not None else None
        return Person(employee_id, self.jobs.get(job) if job else None, unit, self.unit_name(unit), manager,
                      self.jobs.get(manager_job) if manager_job else None, tenure,
                      None if last is None else last[1], None if last is None else last[0])


def _iso(v: object) -> str:
    return str(pd.Timestamp(v).date())


def _str(v: object) -> str | None:
    return None if v is None or (isinstance(v, float) and np.isnan(v)) or pd.isna(v) else str(v)


def skill_gaps(settings: Settings) -> pd.DataFrame:
    """Employees below their job's required level at the latest feature snapshot: employee_id, org_unit_id,
    skill_id, gap (levels short, > 0)."""
    from features.build import feature_path

    path = feature_path(settings.feature_dir, "employee_monthly")
    cols = ["employee_id", "org_unit_id", "event_timestamp", "skill_ids", "skill_gaps"]
    if not path.exists():
        return pd.DataFrame(columns=["employee_id", "org_unit_id", "skill_id", "gap"])
    df = pd.read_parquet(path, columns=cols)
    df = df[df["event_timestamp"] == df["event_timestamp"].max()]
    long = df.explode(["skill_ids", "skill_gaps"], ignore_index=True)
    long = long.rename(columns={"skill_ids": "skill_id", "skill_gaps": "gap"})
    long["gap"] = pd.to_numeric(long["gap"], errors="coerce")
    long = long[long["gap"] > 0]
    return long[["employee_id", "org_unit_id", "skill_id", "gap"]].astype(
        {"employee_id": str, "org_unit_id": str, "skill_id": str, "gap": float}).reset_index(drop=True)


def load(settings: Settings) -> People:
    from features.offline import read_clean

    return People(read_clean(settings, "employment_events"), read_clean(settings, "employees"),
                  read_clean(settings, "reviews"), read_clean(settings, "jobs"), read_clean(settings, "org_units"),
                  skill_gaps(settings))
