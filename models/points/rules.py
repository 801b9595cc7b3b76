"""The points rules, read from the workspace's ``points.yaml`` (every key optional; defaults below,
docs/points.md):

.. code-block:: yaml

    year_start_month: 1          # the points year starts on the first day of this month (1 = calendar year)
    yearly_target:
      default: 100               # points a year for every job level (the seeds' example: 100 points a year)
      by_job_level: {}           # e.g. {1: 80, 5: 120}: job level (1-5) → yearly target
    prorate_new_hires: true      # people hired during the year owe the share of the year they are employed
    course_points:
      source: catalog            # catalog: the courses feed's ``points`` column first; rules: only the lines below
      per_hour: 10               # points per learning hour, when the catalog has none (or source: rules)
      per_format: {}             # points added per course of a format, e.g. {workshop: 10}
      courses: {}                # overrides per course id, e.g. {C0001: 30}
    ledger_activities: [exam_bonus]  # points-ledger activities that count toward the target besides courses

Points toward the target are *earned* points: completions of the points year (by the rules above, so a rule
change re-prices the history) plus the ledger entries of ``ledger_activities``. Redemptions (negative ledger
entries) lower the balance a person can spend, never their attainment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

RULES_FILE = "points.yaml"


class YearlyTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default: float = Field(100, gt=0, le=100_000)
    by_job_level: dict[int, float] = Field(default_factory=dict)

    def for_level(self, level: object) -> float:
        try:
            return float(self.by_job_level.get(int(level), self.default))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return float(self.default)


class CoursePoints(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Literal["catalog", "rules"] = "catalog"
    per_hour: float = Field(10, ge=0, le=10_000)
    per_format: dict[str, float] = Field(default_factory=dict)
    courses: dict[str, float] = Field(default_factory=dict)


class PointsRules(BaseModel):
    """The points rules; the defaults are the seeds' example (100 points a year for everyone)."""

    model_config = ConfigDict(extra="forbid")

    year_start_month: int = Field(1, ge=1, le=12)
    yearly_target: YearlyTarget = YearlyTarget()
    prorate_new_hires: bool = True
    course_points: CoursePoints = CoursePoints()
    ledger_activities: list[str] = Field(default_factory=lambda: ["exam_bonus"])


def rules_path(home: Path) -> Path:
    return Path(home) / RULES_FILE


def load_rules(home: Path) -> PointsRules:
    """The workspace's points rules (defaults when there is no file); ValueError in one line naming the file and
    the field on a bad file."""
    return load_yaml_model(rules_path(home), PointsRules)


def load_yaml_model(path: Path, model: type[BaseModel]) -> BaseModel:  # noqa: ANN401
    import yaml

    if not path.exists():
        return model()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of keys ({', '.join(model.model_fields)})")
    try:
        return model(**data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "file"
        raise ValueError(f"{path}: field {field}: {err['msg']}") from None
