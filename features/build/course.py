"""``course_stats`` (per course and month) and ``job_course_stats`` (per job, course and month).

``avg_rating_change`` is the improvement the course is known for at ``T``: for each taker and each skill
the course teaches, the competency rating at the first review after completion minus the rating at the
last review before enrolment, counted only once that later review happened before ``T``.
"""

from __future__ import annotations

import duckdb

from features.build.base import asof_total, cumulative, months_between, window


def _prepare(con: duckdb.DuckDBPyConnection) -> None:
    cumulative(con, "cum_c_enr", "SELECT * FROM enrollments", ["course_id"], "enrolled_at", {"n": "1"})
    cumulative(con, "cum_c_done", "SELECT * FROM enrollments", ["course_id"], "completed_at",
               {"n": "1", "exam_sum": "coalesce(exam_score, 0)", "exam_n": "(exam_score IS NOT NULL)::INT"})
    con.execute("""
        CREATE OR REPLACE TEMP TABLE course_uplift AS
        SELECT e.course_id, after.review_date AS known_at, (after.rating - before.rating) AS change
        FROM enrollments e
        JOIN course_skills cs ON cs.course_id = e.course_id
        ASOF JOIN ratings before
            ON before.employee_id = e.employee_id AND before.skill_id = cs.skill_id
           AND before.review_date < e.enrolled_at
        ASOF JOIN ratings after
            ON after.employee_id = e.employee_id AND after.skill_id = cs.skill_id
           AND e.completed_at < after.review_date
        WHERE e.completed_at IS NOT NULL
    """)
    cumulative(con, "cum_c_uplift", "SELECT * FROM course_uplift", ["course_id"], "known_at",
               {"s": "change", "n": "1"})
    con.execute("""
        CREATE OR REPLACE TEMP TABLE course_skill_lists AS
        SELECT course_id, list(skill_id ORDER BY skill_id) AS course_skill_ids,
               list(target_level::BIGINT ORDER BY skill_id) AS course_target_levels
        FROM course_skills GROUP BY ALL
    """)
    # The job a taker held on the day of enrolment.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE enr_job AS
        SELECT e.employee_id, e.course_id, e.enrolled_at, e.completed_at, s.job_id
        FROM enrollments e
        ASOF JOIN (SELECT * FROM ev WHERE last_of_day) s
            ON s.employee_id = e.employee_id AND s.effective_date <= e.enrolled_at
    """)
    cumulative(con, "cum_jc_enr", "SELECT * FROM enr_job", ["job_id", "course_id"], "enrolled_at", {"n": "1"})
    cumulative(con, "cum_jc_done", "SELECT * FROM enr_job", ["job_id", "course_id"], "completed_at", {"n": "1"})


def course_stats_sql(con: duckdb.DuckDBPyConnection) -> str:
    """Prepare course totals and return the SELECT that yields ``course_stats`` (courses created before T)."""
    _prepare(con)
    c = {"course_id": "k.course_id"}
    return f"""
        SELECT k.course_id,
               timezone('UTC', m.T) AS event_timestamp,
               k.format,
               k.hours::FLOAT AS hours,
               k.level::BIGINT AS level,
               k.cost::FLOAT AS cost,
               k.points::BIGINT AS points,
               k.mandatory::BOOLEAN AS mandatory,
               {months_between('k.created_at', 'm.T')} AS course_age_months,
               {window('n0', 'n12', 'n')}::BIGINT AS takers_12m,
               coalesce(n0.n, 0)::BIGINT AS takers_total,
               (coalesce(d0.n, 0) / nullif(n0.n, 0))::FLOAT AS completion_rate,
               (u0.s / nullif(u0.n, 0))::FLOAT AS avg_rating_change,
               (d0.exam_sum / nullif(d0.exam_n, 0))::FLOAT AS avg_exam_score,
               k.course_id AS course_key,
               coalesce(sl.course_skill_ids, []::VARCHAR[]) AS course_skill_ids,
               coalesce(sl.course_target_levels, []::BIGINT[]) AS course_target_levels
        FROM courses k JOIN months m ON k.created_at < m.T
        {asof_total('cum_c_enr', 'n0', c, 'm.T')}
        {asof_total('cum_c_enr', 'n12', c, 'm.T - INTERVAL 12 MONTH')}
        {asof_total('cum_c_done', 'd0', c, 'm.T')}
        {asof_total('cum_c_uplift', 'u0', c, 'm.T')}
        LEFT JOIN course_skill_lists sl ON sl.course_id = k.course_id
    """


def job_course_stats_sql(con: duckdb.DuckDBPyConnection) -> str:
    """The SELECT that yields ``job_course_stats``: from the first month a peer in the job took the course."""
    on = {"job_id": "p.job_id", "course_id": "p.course_id"}
    return f"""
        SELECT p.job_id, p.course_id,
               timezone('UTC', m.T) AS event_timestamp,
               {window('n0', 'n12', 'n')}::BIGINT AS peers_taken_12m,
               coalesce(d0.n, 0)::BIGINT AS peers_completed_total
        FROM (SELECT DISTINCT job_id, course_id FROM enr_job WHERE job_id IS NOT NULL) p
        CROSS JOIN months m
        {asof_total('cum_jc_enr', 'n0', on, 'm.T')}
        {asof_total('cum_jc_enr', 'n12', on, 'm.T - INTERVAL 12 MONTH')}
        {asof_total('cum_jc_done', 'd0', on, 'm.T')}
        WHERE n0.n IS NOT NULL
    """
