"""``unit_skill_monthly``: demand and supply of each skill in each org unit (its whole subtree) per month.

* ``demand_slots``: required-skill slots of the unit's headcount at ``T`` (one per employee whose job
  requires the skill) plus ``open_req_slots``.
* ``open_req_slots``: requisitions open at ``T`` that ask for the skill (``requisition_skills``, or the
  requisition job's requirements).
* ``holders_at_required``: employees whose known level (latest rating, else pre-hire assessment) reaches
  their job's required level.
* ``in_training``: employees enrolled before ``T`` and not finished at ``T`` in a course teaching the skill.

A (unit, skill) pair that ever has demand or training gets a row for every month (zeros included), so the
demand forecaster sees complete series.
"""

from __future__ import annotations

import duckdb

from features.build.base import asof_total, cumulative, window
from features.build.employee import DROPPED_VISIBLE


def unit_skill_monthly_sql(con: duckdb.DuckDBPyConnection) -> str:
    """Prepare leaf and subtree totals and return the SELECT that yields ``unit_skill_monthly``.

    Needs ``unit_skill_head``, ``grid``, ``unit_closure`` and ``unit_tree``.
    """
    con.execute("""
        CREATE OR REPLACE TEMP TABLE req_skill AS
        SELECT DISTINCT r.requisition_id, r.org_unit_id, r.opened_at,
               CASE WHEN r.closed_at IS NOT NULL THEN greatest(r.closed_at, r.opened_at) END AS closed_at, s.skill_id
        FROM requisitions r
        JOIN (SELECT requisition_id, skill_id FROM requisition_skills
              UNION SELECT q.requisition_id, j.skill_id FROM requisitions q
                    JOIN job_skill_requirements j ON j.job_id = q.job_id) s
            ON s.requisition_id = r.requisition_id
    """)
    cumulative(con, "cum_rs_open", "SELECT * FROM req_skill", ["org_unit_id", "skill_id"], "opened_at", {"n": "1"})
    cumulative(con, "cum_rs_closed", "SELECT * FROM req_skill", ["org_unit_id", "skill_id"], "closed_at", {"n": "1"})
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE in_training_leaf AS
        WITH span AS (
            SELECT employee_id, course_id,
                   date_trunc('month', enrolled_at) + INTERVAL 1 MONTH AS b_start,
                   CASE WHEN completed_at IS NOT NULL
                            THEN date_trunc('month', greatest(completed_at, enrolled_at)) + INTERVAL 1 MONTH
                        WHEN status = 'dropped'
                            THEN date_trunc('month', enrolled_at + {DROPPED_VISIBLE}) + INTERVAL 1 MONTH
                   END AS b_end
            FROM enrollments)
        SELECT g.org_unit_id, cs.skill_id, m.T, count(DISTINCT s.employee_id) AS in_training
        FROM span s
        JOIN months m ON m.T >= s.b_start AND (s.b_end IS NULL OR m.T < s.b_end)
        JOIN grid g ON g.employee_id = s.employee_id AND g.T = m.T
        JOIN course_skills cs ON cs.course_id = s.course_id
        GROUP BY ALL
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE us_leaf AS
        SELECT org_unit_id, skill_id, T,
               sum(slots) AS head_slots, sum(holders) AS holders, sum(in_training) AS in_training
        FROM (SELECT uc.org_unit_id, sc.skill_id, x.T, x.slots, x.holders, 0 AS in_training
              FROM unit_skill_head x
              JOIN unit_code uc ON uc.u = x.u JOIN skill_code sc ON sc.s = x.s
              UNION ALL
              SELECT org_unit_id, skill_id, T, 0, 0, in_training FROM in_training_leaf)
        GROUP BY ALL
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE us_pairs AS
        SELECT DISTINCT c.ancestor_id AS org_unit_id, p.skill_id
        FROM (SELECT org_unit_id, skill_id FROM us_leaf UNION SELECT org_unit_id, skill_id FROM req_skill) p
        JOIN unit_closure c ON c.org_unit_id = p.org_unit_id
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE us_tree AS
        SELECT c.ancestor_id AS org_unit_id, l.skill_id, l.T,
               sum(l.head_slots) AS head_slots, sum(l.holders) AS holders, sum(l.in_training) AS in_training
        FROM us_leaf l JOIN unit_closure c ON c.org_unit_id = l.org_unit_id
        GROUP BY ALL
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE req_tree AS
        SELECT c.ancestor_id AS org_unit_id, p.skill_id, m.T, sum({open_now}) AS open_req_slots
        FROM (SELECT DISTINCT org_unit_id, skill_id FROM req_skill) p
        CROSS JOIN months m
        {o0} {c0}
        JOIN unit_closure c ON c.org_unit_id = p.org_unit_id
        GROUP BY ALL
    """.format(
        open_now=window("o0", "c0", "n"),
        o0=asof_total("cum_rs_open", "o0", {"org_unit_id": "p.org_unit_id", "skill_id": "p.skill_id"}, "m.T"),
        c0=asof_total("cum_rs_closed", "c0", {"org_unit_id": "p.org_unit_id", "skill_id": "p.skill_id"}, "m.T"),
    ))
    return """
        SELECT p.org_unit_id, p.skill_id,
               timezone('UTC', m.T) AS event_timestamp,
               (coalesce(t.head_slots, 0) + coalesce(r.open_req_slots, 0))::BIGINT AS demand_slots,
               coalesce(t.holders, 0)::BIGINT AS holders_at_required,
               coalesce(r.open_req_slots, 0)::BIGINT AS open_req_slots,
               coalesce(t.in_training, 0)::BIGINT AS in_training,
               coalesce(u.vol_exits_12m, 0)::BIGINT AS vol_exits_12m
        FROM us_pairs p CROSS JOIN months m
        LEFT JOIN us_tree t ON t.org_unit_id = p.org_unit_id AND t.skill_id = p.skill_id AND t.T = m.T
        LEFT JOIN req_tree r ON r.org_unit_id = p.org_unit_id AND r.skill_id = p.skill_id AND r.T = m.T
        LEFT JOIN unit_tree u ON u.org_unit_id = p.org_unit_id AND u.T = m.T
    """
