"""``unit_skill_monthly``: demand and supply of each skill in each org unit (its whole subtree) per month.

Demand is the capability need an HR planner asks for, per team (leaf unit) and month ``T``, summed up the tree:

* where the headcount plan (``headcount_plans``) has rows for the team and month ``T``: the planned heads of
  each job × the job's required skills (``job_skill_requirements``), plus the requisitions open at ``T`` that
  ask for a skill *beyond* their job's requirements (``requisition_skills``: the trend of skill requirements,
  e.g. a new technology). A requisition's own job requirements are not added again: the position it fills is
  one of the planned heads;
* where the plan has no row for the team and month: the actual headcount of each job × its required skills,
  plus every open requisition's required skills (heads + open requisitions stand for the plan).

Columns:

* ``demand_slots``: that need.
* ``head_slots``: required-skill slots of the actual headcount at ``T`` (one per employee whose job requires
  the skill).
* ``planned_slots``: planned heads × required skills for month ``T`` over the teams of the subtree that have
  a plan for ``T`` (empty when none has); ``planned_slots_ahead_k`` (k = 1-12) the same for month ``T + k``:
  the plan is known in advance, so a forecast made at ``T`` may use it for its target month.
* ``open_req_slots``: requisitions open at ``T`` that ask for the skill (``requisition_skills``, or the
  requisition job's requirements).
* ``holders_at_required``: employees whose known level (latest rating, else pre-hire assessment) reaches
  their job's required level.
* ``in_training``: employees enrolled before ``T`` and not finished at ``T`` in a course teaching the skill.

A (unit, skill) pair that ever has demand, a plan or training gets a row for every month (zeros included), so
the demand forecaster sees complete series.
"""

from __future__ import annotations

import duckdb

from features.build.base import asof_total, cumulative, window
from features.build.employee import DROPPED_VISIBLE

AHEAD_MONTHS = 12  # planned_slots_ahead_1 .. _12


def unit_skill_monthly_sql(con: duckdb.DuckDBPyConnection) -> str:
    """Prepare leaf and subtree totals and return the SELECT that yields ``unit_skill_monthly``.

    Needs ``unit_skill_head``, ``grid``, ``unit_closure`` and ``unit_tree``.
    """
    # every skill a requisition asks for; ``beyond``: not among its job's requirements
    con.execute("""
        CREATE OR REPLACE TEMP TABLE req_skill AS
        SELECT r.requisition_id, r.org_unit_id, r.opened_at,
               CASE WHEN r.closed_at IS NOT NULL THEN greatest(r.closed_at, r.opened_at) END AS closed_at,
               s.skill_id, bool_and(s.beyond) AS beyond
        FROM requisitions r
        JOIN (SELECT q.requisition_id, x.skill_id, j.skill_id IS NULL AS beyond
              FROM requisition_skills x JOIN requisitions q ON q.requisition_id = x.requisition_id
              LEFT JOIN job_skill_requirements j ON j.job_id = q.job_id AND j.skill_id = x.skill_id
              UNION ALL
              SELECT q.requisition_id, j.skill_id, FALSE FROM requisitions q
              JOIN job_skill_requirements j ON j.job_id = q.job_id) s
            ON s.requisition_id = r.requisition_id
        GROUP BY ALL
    """)
    sums = {"n": "1", "nb": "beyond::INTEGER"}
    cumulative(con, "cum_rs_open", "SELECT * FROM req_skill", ["org_unit_id", "skill_id"], "opened_at", sums)
    cumulative(con, "cum_rs_closed", "SELECT * FROM req_skill", ["org_unit_id", "skill_id"], "closed_at", sums)
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
    # the headcount plan per team, skill and planned month M (any month, the future included), and which
    # team-months have a plan at all (a planned job without required skills still makes the month planned)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE plan_cover_leaf AS
        SELECT DISTINCT org_unit_id, date_trunc('month', plan_month)::TIMESTAMP AS M FROM headcount_plans
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE plan_leaf AS
        SELECT h.org_unit_id, j.skill_id, date_trunc('month', h.plan_month)::TIMESTAMP AS M,
               sum(h.planned_headcount) AS plan_slots
        FROM headcount_plans h JOIN job_skill_requirements j ON j.job_id = h.job_id
        GROUP BY ALL
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE req_leaf AS
        SELECT p.org_unit_id, p.skill_id, m.T, {open_all} AS open_all, {open_beyond} AS open_beyond
        FROM (SELECT DISTINCT org_unit_id, skill_id FROM req_skill) p
        CROSS JOIN months m
        {o0} {c0}
    """.format(
        open_all=window("o0", "c0", "n"), open_beyond=window("o0", "c0", "nb"),
        o0=asof_total("cum_rs_open", "o0", {"org_unit_id": "p.org_unit_id", "skill_id": "p.skill_id"}, "m.T"),
        c0=asof_total("cum_rs_closed", "c0", {"org_unit_id": "p.org_unit_id", "skill_id": "p.skill_id"}, "m.T"),
    ))
    con.execute("DELETE FROM req_leaf WHERE open_all = 0")
    # per team, skill and T: the planner's need (plan where the team has one for T, else actual heads)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE us_leaf AS
        WITH parts AS (
            SELECT uc.org_unit_id, sc.skill_id, x.T, x.slots AS head_slots, x.holders, 0 AS in_training,
                   0 AS plan_slots, 0 AS open_all, 0 AS open_beyond
            FROM unit_skill_head x JOIN unit_code uc ON uc.u = x.u JOIN skill_code sc ON sc.s = x.s
            UNION ALL
            SELECT org_unit_id, skill_id, T, 0, 0, in_training, 0, 0, 0 FROM in_training_leaf
            UNION ALL
            SELECT l.org_unit_id, l.skill_id, m.T, 0, 0, 0, l.plan_slots, 0, 0
            FROM plan_leaf l JOIN months m ON m.T = l.M
            UNION ALL
            SELECT org_unit_id, skill_id, T, 0, 0, 0, 0, open_all, open_beyond FROM req_leaf),
        leaf AS (
            SELECT org_unit_id, skill_id, T, sum(head_slots) AS head_slots, sum(holders) AS holders,
                   sum(in_training) AS in_training, sum(plan_slots) AS plan_slots, sum(open_all) AS open_all,
                   sum(open_beyond) AS open_beyond
            FROM parts GROUP BY ALL)
        SELECT l.*,
               CASE WHEN c.org_unit_id IS NOT NULL THEN l.plan_slots + l.open_beyond
                    ELSE l.head_slots + l.open_all END AS demand
        FROM leaf l LEFT JOIN plan_cover_leaf c ON c.org_unit_id = l.org_unit_id AND c.M = l.T
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE us_pairs AS
        SELECT DISTINCT c.ancestor_id AS org_unit_id, p.skill_id
        FROM (SELECT org_unit_id, skill_id FROM us_leaf UNION SELECT org_unit_id, skill_id FROM req_skill
              UNION SELECT org_unit_id, skill_id FROM plan_leaf) p
        JOIN unit_closure c ON c.org_unit_id = p.org_unit_id
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE us_tree AS
        SELECT c.ancestor_id AS org_unit_id, l.skill_id, l.T,
               sum(l.demand) AS demand, sum(l.head_slots) AS head_slots, sum(l.holders) AS holders,
               sum(l.in_training) AS in_training, sum(l.open_all) AS open_req_slots
        FROM us_leaf l JOIN unit_closure c ON c.org_unit_id = l.org_unit_id
        GROUP BY ALL
    """)
    # the plan of the subtree for months T .. T + 12 (known in advance): empty where no team of it has a plan
    con.execute("""
        CREATE OR REPLACE TEMP TABLE plan_cover_tree AS
        SELECT DISTINCT c.ancestor_id AS org_unit_id, p.M
        FROM plan_cover_leaf p JOIN unit_closure c ON c.org_unit_id = p.org_unit_id
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE plan_tree AS
        SELECT c.ancestor_id AS org_unit_id, p.skill_id, p.M, sum(p.plan_slots) AS slots
        FROM plan_leaf p JOIN unit_closure c ON c.org_unit_id = p.org_unit_id
        GROUP BY ALL
    """)
    ahead = ",\n".join(
        f"max(CASE WHEN v.M = m.T + INTERVAL {k} MONTH THEN coalesce(pt.slots, 0) END) AS "
        + ("planned_slots" if k == 0 else f"planned_slots_ahead_{k}")
        for k in range(AHEAD_MONTHS + 1))
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE us_plan AS
        SELECT p.org_unit_id, p.skill_id, m.T, {ahead}
        FROM us_pairs p CROSS JOIN months m
        JOIN plan_cover_tree v ON v.org_unit_id = p.org_unit_id AND v.M >= m.T
             AND v.M <= m.T + INTERVAL {AHEAD_MONTHS} MONTH
        LEFT JOIN plan_tree pt ON pt.org_unit_id = p.org_unit_id AND pt.skill_id = p.skill_id AND pt.M = v.M
        GROUP BY ALL
    """)
    planned = ", ".join(f"a.{c}::BIGINT AS {c}" for c in plan_columns())
    return f"""
        SELECT p.org_unit_id, p.skill_id,
               timezone('UTC', m.T) AS event_timestamp,
               coalesce(t.demand, 0)::BIGINT AS demand_slots,
               coalesce(t.head_slots, 0)::BIGINT AS head_slots,
               coalesce(t.holders, 0)::BIGINT AS holders_at_required,
               coalesce(t.open_req_slots, 0)::BIGINT AS open_req_slots,
               coalesce(t.in_training, 0)::BIGINT AS in_training,
               coalesce(u.vol_exits_12m, 0)::BIGINT AS vol_exits_12m,
               {planned}
        FROM us_pairs p CROSS JOIN months m
        LEFT JOIN us_tree t ON t.org_unit_id = p.org_unit_id AND t.skill_id = p.skill_id AND t.T = m.T
        LEFT JOIN unit_tree u ON u.org_unit_id = p.org_unit_id AND u.T = m.T
        LEFT JOIN us_plan a ON a.org_unit_id = p.org_unit_id AND a.skill_id = p.skill_id AND a.T = m.T
    """


def plan_columns() -> list[str]:
    """``planned_slots`` and ``planned_slots_ahead_1`` .. ``_12``."""
    return ["planned_slots", *(f"planned_slots_ahead_{k}" for k in range(1, AHEAD_MONTHS + 1))]
