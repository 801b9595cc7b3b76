"""What serving reads from the clean tables and feature files at start-up, below the routers: the course
catalog (candidates, skills, titles, job ids) and the skill-demand series history.

Routers and the console read both from :class:`serving.services.Services`; neither is a model input by
itself (the models read their feature services).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from features.settings import Settings
from models.course_ranker import CandidateIndex


@dataclass(frozen=True)
class Catalog:
    """The course catalog (clean tables): candidates by skill, skills per course, titles, skill names, and the
    job ids (keys of the job × course features)."""

    index: CandidateIndex  # over (course_id, skill_id) and the mandatory courses
    course_skill_ids: dict[str, list[str]] = field(default_factory=dict)
    course_target_levels: dict[str, list[int]] = field(default_factory=dict)  # same order as course_skill_ids
    titles: dict[str, dict[str, str]] = field(default_factory=dict)
    skill_names: dict[str, dict[str, str]] = field(default_factory=dict)
    job_ids: tuple[str, ...] = ()

    @property
    def course_ids(self) -> list[str]:
        """Every course that can be a candidate (it teaches a skill), sorted."""
        return sorted(self.course_skill_ids)


def load_catalog(settings: Settings) -> Catalog:
    from features.offline import read_clean

    courses = read_clean(settings, "courses")
    cs_all = read_clean(settings, "course_skills")
    cs = cs_all[["course_id", "skill_id"]].astype(str)
    targets = (cs.assign(t=pd.to_numeric(cs_all["target_level"], errors="coerce").to_numpy())
               .sort_values(["course_id", "skill_id"]).groupby("course_id")["t"].agg(list).to_dict())
    skills = read_clean(settings, "skills")
    jobs = read_clean(settings, "jobs")["job_id"].astype(str)
    by_course = cs.sort_values(["course_id", "skill_id"]).groupby("course_id")["skill_id"].agg(list).to_dict()
    mandatory = frozenset(courses.loc[courses["mandatory"].fillna(False).astype(bool), "course_id"].astype(str))
    titles = {str(c): {"en": str(en), "zh": str(zh)}
              for c, en, zh in zip(courses["course_id"], courses["title_en"], courses["title_zh"], strict=True)}
    names = {str(s): {"en": str(en), "zh": str(zh)}
             for s, en, zh in zip(skills["skill_id"], skills["name_en"], skills["name_zh"], strict=True)}
    return Catalog(CandidateIndex(cs, mandatory), by_course, targets, titles, names, tuple(sorted(set(jobs))))


def load_demand_history(settings: Settings, model: Any) -> pd.DataFrame | None:
    """The monthly history of every org unit × skill series, as the forecaster was trained on it: the
    ``unit_skill_monthly`` snapshots as entity frame of a point-in-time read of the model's feature service,
    the month as ``model.time_col`` and the unit's type (a static input). None when never built."""
    from features.build import feature_path
    from features.offline import read_clean
    from features.store import EVENT_TIMESTAMP, historical_features

    path = feature_path(settings.feature_dir, "unit_skill_monthly")
    if not path.exists():
        return None
    entity = pd.read_parquet(path, columns=["org_unit_id", "skill_id", EVENT_TIMESTAMP])
    frame = historical_features(settings, entity, model.feature_service_)
    frame[model.time_col] = frame[EVENT_TIMESTAMP].dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")
    units = read_clean(settings, "org_units")[["org_unit_id", "unit_type"]].astype(str)
    return frame.drop(columns=EVENT_TIMESTAMP).merge(units, on="org_unit_id", how="left")


def load_skill_holders(settings: Settings) -> pd.DataFrame | None:
    """``employee_id, org_unit_id, skill_id`` of every person holding a required skill at the required level
    (gap ≤ 0) in the latest ``employee_monthly`` snapshot: whose leaving the skill-demand supply counts with
    the attrition model's per-person probabilities. None when never built."""
    from features.build import feature_path

    path = feature_path(settings.feature_dir, "employee_monthly")
    if not path.exists():
        return None
    latest = pd.read_parquet(path, columns=["event_timestamp"])["event_timestamp"].max()
    em = pd.read_parquet(path, columns=["employee_id", "event_timestamp", "org_unit_id", "skill_ids", "skill_gaps"],
                         filters=[("event_timestamp", "==", latest)])  # the latest snapshot only
    rows = em[["employee_id", "org_unit_id", "skill_ids", "skill_gaps"]].explode(["skill_ids", "skill_gaps"])
    rows = rows[pd.to_numeric(rows["skill_gaps"], errors="coerce") <= 0]
    return rows.rename(columns={"skill_ids": "skill_id"})[["employee_id", "org_unit_id", "skill_id"]].astype(str)
