"""``talent_pool_monthly``: talent pool (人才库 / 核心人才库) membership and readiness for the next job, per
employee and month, point in time.

Pool rules live in the workspace as ``talent_pool.yaml`` (all keys optional; defaults below, docs/talent-pool.md):

.. code-block:: yaml

    unit_level: department      # company | division | department | team: the units the pool is ranked within
    top_share: 0.10             # the top 10 % of each unit's active headcount
    min_tenure_months: 12       # only people employed this long at T
    min_rating: 3               # and whose latest overall rating is at least this (1-5)
    impact:                     # impact of loss (regrettable attrition), models.potential.impact
      performance_weight: 0.5
      pool_weight: 1.0
      potential_weight: 1.0

At each month ``T`` every active employee belongs to the unit of ``unit_level`` above (or at) their own unit
(people in a unit above that level are ranked within their own unit). Eligible people (tenure and a review
before ``T``, rating at least ``min_rating``) are ranked by the latest overall rating, then KPI attainment, then
id; the first ``round(top_share × headcount)`` (half up) are members, so a unit of fewer than 5 has no pool at 10 %. Only rows dated before ``T`` are read, as for every
other feature table.

Readiness for the next job (``jobs.next_job_id``) uses the same known skill levels as the current job's gaps
(latest competency rating, else pre-hire assessment): per required skill of the next job the gap
``max(0, required - level)``, NaN when the level is unknown; ``next_job_readiness`` is the share of the next
job's required skills whose known level meets the requirement.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import duckdb
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from features.settings import Settings

RULES_FILE = "talent_pool.yaml"


class ImpactWeights(BaseModel):
    """Weights of the impact of loss: replacement cost × (1 + performance + pool + potential terms)."""

    model_config = ConfigDict(extra="forbid")

    performance_weight: float = Field(0.5, ge=0, le=10)
    pool_weight: float = Field(1.0, ge=0, le=10)
    potential_weight: float = Field(1.0, ge=0, le=10)


class PoolRules(BaseModel):
    """The talent pool's rules; the defaults are the product's (top 10 % of each department, a year in)."""

    model_config = ConfigDict(extra="forbid")

    unit_level: Literal["company", "division", "department", "team"] = "department"
    top_share: float = Field(0.10, gt=0, le=1)
    min_tenure_months: float = Field(12, ge=0, le=600)
    min_rating: int = Field(3, ge=1, le=5)
    impact: ImpactWeights = ImpactWeights()


def rules_path(settings: Settings) -> Path:
    return settings.home / RULES_FILE


def load_rules(settings: Settings) -> PoolRules:
    """The workspace's pool rules (defaults when there is no file); ValueError in one line naming the file
    and the field on a bad file."""
    import yaml

    path = rules_path(settings)
    if not path.exists():
        return PoolRules()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected keys unit_level, top_share, min_tenure_months, min_rating")
    try:
        return PoolRules(**data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "file"
        raise ValueError(f"{path}: field {field}: {err['msg']}") from None


def create_next_job_skill(con: duckdb.DuckDBPyConnection) -> None:
    """``next_skill_agg(e, T, next_job_id, n_next_required, n_next_met, next_mean_gap, next_skill_ids,
    next_skill_gaps)`` from ``grid``, ``jobs``, ``job_skill_pos`` and ``skill_level`` (call before
    ``skill_level`` is dropped)."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE next_skill AS
        SELECT g.e, g.T, j.next_job_id, r.skill_id, r.pos, r.required_level,
               CASE WHEN l.level IS NULL THEN NULL ELSE greatest(0.0, r.required_level - l.level) END AS gap
        FROM grid g JOIN jobs j ON j.job_id = g.job_id
        JOIN job_skill_pos r ON r.job_id = j.next_job_id
        ASOF LEFT JOIN skill_level l ON l.e = g.e AND l.s = r.s AND l.B <= g.T
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE next_skill_agg AS
        SELECT e, T, any_value(next_job_id) AS next_job_id,
               count(*) AS n_next_required,
               count(*) FILTER (WHERE gap = 0) AS n_next_met,
               avg(gap) AS next_mean_gap,
               list(skill_id ORDER BY pos) AS next_skill_ids,
               list(coalesce(gap, 'NaN'::DOUBLE)::FLOAT ORDER BY pos) AS next_skill_gaps
        FROM next_skill GROUP BY e, T
    """)
    con.execute("DROP TABLE next_skill")


def talent_pool_monthly_sql(con: duckdb.DuckDBPyConnection, rules: PoolRules, employee_monthly: Path) -> str:
    """The SELECT that yields ``talent_pool_monthly`` from the written ``employee_monthly`` file."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE pool_unit AS
        SELECT c.org_unit_id,
               coalesce(max(CASE WHEN u.unit_type = '{rules.unit_level}' THEN c.ancestor_id END),
                        c.org_unit_id) AS pool_unit_id
        FROM unit_closure c JOIN org_units u ON u.org_unit_id = c.ancestor_id
        GROUP BY c.org_unit_id
    """)
    return f"""
        WITH em AS (
            SELECT m.employee_id, m.event_timestamp, m.org_unit_id, m.last_rating, m.last_kpi_attainment,
                   m.tenure_months, coalesce(p.pool_unit_id, m.org_unit_id) AS pool_unit_id
            FROM read_parquet('{employee_monthly}') m
            LEFT JOIN pool_unit p ON p.org_unit_id = m.org_unit_id),
        ranked AS (
            SELECT *,
                   count(*) OVER (PARTITION BY pool_unit_id, event_timestamp) AS pool_unit_headcount,
                   (tenure_months >= {float(rules.min_tenure_months)} AND last_rating IS NOT NULL
                    AND last_rating >= {int(rules.min_rating)}) AS eligible
            FROM em),
        ordered AS (
            SELECT *,
                   CASE WHEN eligible THEN row_number() OVER (
                       PARTITION BY pool_unit_id, event_timestamp, eligible
                       ORDER BY last_rating DESC, last_kpi_attainment DESC NULLS LAST, employee_id) END AS rk
            FROM ranked)
        SELECT o.employee_id, o.event_timestamp, o.pool_unit_id,
               o.pool_unit_headcount::BIGINT AS pool_unit_headcount,
               o.rk::BIGINT AS pool_rank,
               (coalesce(o.rk <= floor({float(rules.top_share)} * o.pool_unit_headcount + 0.5), false))::BIGINT
                   AS talent_pool_member,
               n.next_job_id,
               coalesce(n.n_next_required, 0)::BIGINT AS n_next_job_skills,
               n.next_mean_gap::FLOAT AS next_job_mean_gap,
               (n.n_next_met / nullif(n.n_next_required, 0))::FLOAT AS next_job_readiness,
               coalesce(n.next_skill_ids, []::VARCHAR[]) AS next_job_skill_ids,
               coalesce(n.next_skill_gaps, []::FLOAT[]) AS next_job_skill_gaps
        FROM ordered o
        JOIN emp_code c ON c.employee_id = o.employee_id
        LEFT JOIN next_skill_agg n ON n.e = c.e AND n.T = timezone('UTC', o.event_timestamp)::TIMESTAMP
    """
