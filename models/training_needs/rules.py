"""The team-diagnosis rules, read from the workspace's ``training_needs.yaml`` (every key optional; defaults
below, docs/training-needs.md):

.. code-block:: yaml

    unit_level: team             # company | division | department | team: the groups diagnosed
    min_group: 5                 # a group needs at least this many people assessed (small groups are skipped)
    max_age_months: 24           # ratings and reviews older than this at the scoring month are ignored
    focus_below: 3               # rating and KPI findings name the group's skills most often rated below this
    courses_per_finding: 3
    rules:
      - {name: competency_below_3, kind: competency, below: 3, share: 0.8}
      - {name: rating_below_3, kind: rating, below: 3, share: 0.8}
      - {name: kpi_below_70, kind: kpi, below: 0.7, share: 0.8}

A rule fires for a group (and, for ``competency``, a skill) when at least ``share`` of the group's assessed
people are below ``below``: ``competency`` is the latest competency rating of a skill (1-5), ``rating`` the latest
overall review rating (1-5), ``kpi`` the latest KPI attainment (a fraction: 0.7 = 70 % of target; the seeds'
"80 % of a sales team score below 70"). ``job_families: [sales]`` limits a rule to people in those job families.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.points.rules import load_yaml_model

RULES_FILE = "training_needs.yaml"


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    kind: Literal["competency", "rating", "kpi"]
    below: float = Field(gt=0, le=5)
    share: float = Field(0.8, gt=0, le=1)
    job_families: list[str] = Field(default_factory=list)


def _default_rules() -> list[Rule]:
    return [Rule(name="competency_below_3", kind="competency", below=3),
            Rule(name="rating_below_3", kind="rating", below=3),
            Rule(name="kpi_below_70", kind="kpi", below=0.7)]


class NeedRules(BaseModel):
    """The team-diagnosis rules; the defaults are documented above."""

    model_config = ConfigDict(extra="forbid")

    unit_level: Literal["company", "division", "department", "team"] = "team"
    min_group: int = Field(5, ge=1, le=100_000)
    max_age_months: int = Field(24, ge=1, le=240)
    focus_below: float = Field(3, gt=0, le=5)
    courses_per_finding: int = Field(3, ge=0, le=20)
    rules: list[Rule] = Field(default_factory=_default_rules)

    @model_validator(mode="after")
    def _unique_names(self) -> NeedRules:
        names = [r.name for r in self.rules]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"rule names must be unique; repeated: {', '.join(dup)}")
        for r in self.rules:
            if r.kind == "kpi" and r.below > 3:
                raise ValueError(f"rule {r.name}: a kpi threshold is a fraction of target (0.7 = 70 %), got {r.below}")
        return self


def load_rules(home: Path) -> NeedRules:
    """The workspace's rules (defaults when there is no file); ValueError in one line naming file and field."""
    return load_yaml_model(Path(home) / RULES_FILE, NeedRules)
