"""``employee_monthly``: one row per employee active at snapshot ``T``, using only rows dated before ``T``.

Everything is set-based SQL on the base tables of :mod:`features.build.base`. Every dated fact about an
employee (completions, points, enrollments, assessments, promotions, pay and manager changes, transfers)
goes into ONE running-total table, so a snapshot needs three ASOF joins (at ``T``, ``T - 3`` and
``T - 12`` months) whatever the number of features; unit-level facts are computed per (unit, month) once.
"""

from __future__ import annotations

import duckdb

from features.build.base import asof_total, cumulative, months_between, window

# A dropped enrollment has no drop date: it counts as in progress for this long after enrolling, which is
# what a reader at T could have known (a later drop is not visible at T).
DROPPED_VISIBLE = "INTERVAL 3 MONTH"

_EMP_SUMS = ("hours", "done", "n_online", "n_workshop", "n_mentoring", "points", "starts", "ends",
             "assess_sum", "assess_n", "mgr", "transfers")
_EMP_MAXES = ("last_promotion", "last_pay_change", "last_manager_change")

# Temp tables only ``employee_monthly`` reads: the build drops them once it is written.
EMPLOYEE_HELPERS = ("cum_emp", "done_lists", "rev", "emp_skill_agg", "job_skill_lists", "emp_running", "emp_rev",
                    "emp_done", "job_typical_pay", "emp_pay_change")


def _emp_source() -> str:
    """Every dated employee fact as (employee_id, d, one column per running total)."""
    def row(values: dict[str, str]) -> str:
        cols = [values.get(c, "0") + f" AS {c}" for c in _EMP_SUMS]
        cols += [values.get(c, "NULL::TIMESTAMP") + f" AS {c}" for c in _EMP_MAXES]
        return ", ".join(cols)

    return f"""
        SELECT e.employee_id, e.completed_at AS d, {row({
            "hours": "c.hours", "done": "1", "n_online": "(c.format = 'online')::INT",
            "n_workshop": "(c.format = 'workshop')::INT", "n_mentoring": "(c.format = 'mentoring')::INT"})}
        FROM enrollments e JOIN courses c USING (course_id) WHERE e.completed_at IS NOT NULL
        UNION ALL
        SELECT employee_id, date, {row({"points": "greatest(points, 0)"})} FROM points_ledger
        UNION ALL
        SELECT employee_id, enrolled_at, {row({"starts": "1"})} FROM enrollments
        UNION ALL
        SELECT employee_id, CASE WHEN completed_at IS NOT NULL THEN greatest(completed_at, enrolled_at)
                                 WHEN status = 'dropped' THEN enrolled_at + {DROPPED_VISIBLE} END,
               {row({"ends": "1"})}
        FROM enrollments
        UNION ALL
        SELECT c.hired_employee_id, a.assessed_at, {row({"assess_sum": "a.score", "assess_n": "1"})}
        FROM assessments a JOIN candidates c USING (candidate_id) WHERE c.hired_employee_id IS NOT NULL
        UNION ALL
        SELECT employee_id, effective_date, {row({
            "mgr": "manager_changed::INT", "transfers": "(event_type = 'transfer')::INT",
            "last_promotion": "CASE WHEN event_type = 'promotion' THEN effective_date END",
            "last_pay_change": "CASE WHEN pay_changed THEN effective_date END",
            "last_manager_change": "CASE WHEN manager_changed THEN effective_date END"})}
        FROM ev
    """


def create_unit_stats(con: duckdb.DuckDBPyConnection) -> None:
    """``unit_stats(org_unit_id, T, team_size, vol_exits_6m, vol_exits_12m, open_requisitions)`` per unit
    (not its subtree) and month."""
    cumulative(con, "cum_unit",
               """SELECT org_unit_id, effective_date AS d, 1 AS exits, 0 AS opened, 0 AS closed FROM ev
                  WHERE event_type = 'termination' AND termination_type = 'voluntary'
                  UNION ALL SELECT org_unit_id, opened_at, 0, 1, 0 FROM requisitions
                  UNION ALL SELECT org_unit_id, CASE WHEN closed_at IS NOT NULL
                                                     THEN greatest(closed_at, opened_at) END, 0, 0, 1
                            FROM requisitions""",
               ["org_unit_id"], "d", {"exits": "exits", "opened": "opened", "closed": "closed"})
    on = {"org_unit_id": "u.org_unit_id"}
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE unit_stats AS
        SELECT u.org_unit_id, m.T,
               coalesce(tm.team_size, 0) AS team_size,
               {window('x0', 'x6', 'exits')} AS vol_exits_6m,
               {window('x0', 'x12', 'exits')} AS vol_exits_12m,
               (coalesce(x0.opened, 0) - coalesce(x0.closed, 0)) AS open_requisitions
        FROM org_units u CROSS JOIN months m
        LEFT JOIN (SELECT org_unit_id, T, count(*) AS team_size FROM grid GROUP BY ALL) tm
            ON tm.org_unit_id = u.org_unit_id AND tm.T = m.T
        {asof_total('cum_unit', 'x0', on, 'm.T')}
        {asof_total('cum_unit', 'x6', on, 'm.T - INTERVAL 6 MONTH')}
        {asof_total('cum_unit', 'x12', on, 'm.T - INTERVAL 12 MONTH')}
    """)


def create_job_typical_pay(con: duckdb.DuckDBPyConnection) -> None:
    """``job_typical_pay(job_id, T, typical_pay)``: a job's typical base pay from the HR feed alone (an export
    without pay bands), as known at ``T``: the mean, over everyone who held the job at some snapshot up to ``T``
    (leavers and movers included), of each one's mean pay in it over those snapshots.

    Each person counts once whatever their time in the job, so the estimate tracks the band of the job rather
    than its longest-serving holders; pooling the history makes it steadier than the median of the current
    holders (a job of a 300-person company has a handful). Computed as running totals: a person-month adds the
    change of that person's mean to the job's sum of means, and their first month in the job adds one person.
    """
    con.execute("""
        CREATE OR REPLACE TEMP TABLE job_typical_pay AS
        WITH person AS (
            SELECT e, job_id, T, avg(base_pay) OVER w AS mean_pay, row_number() OVER w AS k
            FROM grid WHERE base_pay IS NOT NULL
            WINDOW w AS (PARTITION BY e, job_id ORDER BY T ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)),
        step AS (
            SELECT job_id, T, sum(mean_pay - coalesce(prev, 0)) AS d_sum, count(*) FILTER (WHERE k = 1) AS d_n
            FROM (SELECT *, lag(mean_pay) OVER (PARTITION BY e, job_id ORDER BY T) AS prev FROM person)
            GROUP BY ALL)
        SELECT job_id, T, sum(d_sum) OVER w / nullif(sum(d_n) OVER w, 0) AS typical_pay
        FROM step
        WINDOW w AS (PARTITION BY job_id ORDER BY T ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    """)


def create_emp_pay_change(con: duckdb.DuckDBPyConnection) -> None:
    """``emp_pay_change(e, T, last_pay_change_pct)``: the relative size of the last ``pay_change`` event dated
    before ``T`` (pay after / pay before, minus 1; a promotion's raise is not one), per grid row. Where pay rises
    with the last rating, its size tells something of the rating to an export without reviews."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE emp_pay_change AS
        WITH changes AS (
            SELECT c.e, date_trunc('month', x.effective_date) + INTERVAL 1 MONTH AS B,
                   arg_max(x.change, x.seq) AS change
            FROM (SELECT employee_id, effective_date, seq, event_type,
                         base_pay / nullif(lag(base_pay) OVER (PARTITION BY employee_id ORDER BY seq), 0) - 1 AS change
                  FROM ev) x
            JOIN emp_code c USING (employee_id)
            WHERE x.event_type = 'pay_change' AND x.change IS NOT NULL AND x.change <> 0
            GROUP BY ALL)
        SELECT g.e, g.T, p.change AS last_pay_change_pct
        FROM (SELECT e, T FROM grid) g
        ASOF LEFT JOIN changes p ON p.e = g.e AND p.B <= g.T
    """)


def _prepare(con: duckdb.DuckDBPyConnection) -> None:
    create_job_typical_pay(con)
    create_emp_pay_change(con)
    cumulative(con, "cum_emp", _emp_source(), ["employee_id"], "d",
               {c: c for c in _EMP_SUMS}, {c: c for c in _EMP_MAXES})
    create_unit_stats(con)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE done_lists AS
        SELECT employee_id, B,
               list_sort(list_distinct(flatten(list(ids) OVER (PARTITION BY employee_id ORDER BY B)))) AS ids
        FROM (SELECT employee_id, date_trunc('month', completed_at) + INTERVAL 1 MONTH AS B,
                     list(course_id) AS ids
              FROM enrollments WHERE completed_at IS NOT NULL GROUP BY ALL)
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE rev AS
        SELECT * FROM (
            SELECT employee_id, review_date, overall_rating, kpi_attainment,
                   lag(overall_rating) OVER (PARTITION BY employee_id ORDER BY review_date, cycle_id) AS prev_rating,
                   row_number() OVER (PARTITION BY employee_id, review_date ORDER BY cycle_id DESC) AS rn
            FROM reviews)
        WHERE rn = 1
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE job_skill_lists AS
        SELECT job_id, list(skill_id ORDER BY pos) AS skill_ids,
               list(required_level::BIGINT ORDER BY pos) AS skill_required_levels
        FROM job_skill_pos GROUP BY ALL
    """)
    # Integer employee codes on the (already aggregated) helper tables: ASOF and hash joins on the
    # 3.6M-row grid are several times faster on integers than on id strings.
    for name in ("cum_emp", "done_lists", "rev"):
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS "
                    f"SELECT c.e, x.* EXCLUDE (employee_id) FROM {name} x JOIN emp_code c USING (employee_id)")
    # Narrow per-group tables keyed by (e, T): each ASOF join carries few columns.
    emp = {"e": "g.e"}
    needed = {"c0": _EMP_SUMS, "c3": ("hours", "done", "points"),
              "c12": ("hours", "done", "points", "n_online", "n_workshop", "n_mentoring", "mgr", "transfers")}
    sums = ", ".join(f"{a}.{c} AS {a}_{c}" for a, cols in needed.items() for c in cols)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE emp_running AS
        SELECT g.e, g.T, {sums}, {", ".join(f"c0.{c}" for c in _EMP_MAXES)}
        FROM (SELECT e, T FROM grid) g
        {asof_total('cum_emp', 'c0', emp, 'g.T')}
        {asof_total('cum_emp', 'c3', emp, 'g.T - INTERVAL 3 MONTH')}
        {asof_total('cum_emp', 'c12', emp, 'g.T - INTERVAL 12 MONTH')}
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE emp_rev AS
        SELECT g.e, g.T, rv.review_date, rv.overall_rating, rv.prev_rating, rv.kpi_attainment
        FROM (SELECT e, T FROM grid) g
        ASOF LEFT JOIN rev rv ON rv.e = g.e AND rv.review_date < g.T
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE emp_done AS
        SELECT g.e, g.T, dl.ids
        FROM (SELECT e, T FROM grid) g
        {asof_total('done_lists', 'dl', emp, 'g.T')}
    """)


def employee_monthly_sql(con: duckdb.DuckDBPyConnection) -> str:
    """Prepare the helper tables and return the SELECT that yields ``employee_monthly``."""
    _prepare(con)
    t = "g.T"

    def win(col: str, months: int) -> str:
        return f"(coalesce(r.c0_{col}, 0) - coalesce(r.c{months}_{col}, 0))"

    def share(col: str) -> str:
        return f"({win(col, 12)} / nullif({win('done', 12)}, 0))::FLOAT"

    return f"""
        SELECT
            g.employee_id,
            timezone('UTC', g.T) AS event_timestamp,
            g.org_unit_id,
            g.job_id,
            g.manager_id,
            g.base_pay::FLOAT AS base_pay,
            j.family AS job_family,
            j.level::BIGINT AS job_level,
            {months_between('g.hire_date', t)} AS tenure_months,
            {months_between('coalesce(r.last_promotion, g.hire_date)', t)} AS months_since_promotion,
            {months_between('coalesce(r.last_pay_change, g.hire_date)', t)} AS months_since_pay_change,
            -- a hire is not a manager change: null when the manager has not changed since the hire
            {months_between('r.last_manager_change', t)} AS months_since_manager_change,
            ({months_between('g.hire_date', t)} < 3)::BIGINT AS new_hire,
            {win('mgr', 12)}::BIGINT AS manager_changes_12m,
            {win('transfers', 12)}::BIGINT AS transfers_12m,
            (g.base_pay / nullif(j.pay_band_mid, 0) - 1)::FLOAT AS pay_vs_band_mid,
            ((g.base_pay - j.pay_band_min) / nullif(j.pay_band_max - j.pay_band_min, 0))::FLOAT AS pay_band_position,
            rv.overall_rating::BIGINT AS last_rating,
            rv.prev_rating::BIGINT AS prev_rating,
            (rv.overall_rating - rv.prev_rating)::BIGINT AS rating_trend,
            rv.kpi_attainment::FLOAT AS last_kpi_attainment,
            {months_between('rv.review_date', t)} AS months_since_review,
            coalesce(sk.n_required_skills, 0)::BIGINT AS n_required_skills,
            coalesce(sk.n_skills_below_required, 0)::BIGINT AS n_skills_below_required,
            sk.mean_skill_gap::FLOAT AS mean_skill_gap,
            sk.max_skill_gap::FLOAT AS max_skill_gap,
            {win('hours', 3)}::FLOAT AS training_hours_3m,
            {win('hours', 12)}::FLOAT AS training_hours_12m,
            {win('points', 3)}::BIGINT AS training_points_3m,
            {win('points', 12)}::BIGINT AS training_points_12m,
            {win('done', 3)}::BIGINT AS completions_3m,
            {win('done', 12)}::BIGINT AS completions_12m,
            (coalesce(r.c0_starts, 0) - coalesce(r.c0_ends, 0))::BIGINT AS enrollments_in_progress,
            u.team_size::BIGINT AS team_size,
            u.vol_exits_6m::BIGINT AS team_vol_exits_6m,
            (u.vol_exits_6m / nullif(u.team_size, 0))::FLOAT AS team_vol_attrition_6m,
            (r.c0_assess_sum / nullif(r.c0_assess_n, 0))::FLOAT AS assessment_mean_score,
            u.open_requisitions::BIGINT AS unit_open_requisitions,
            {share('n_online')} AS online_share_12m,
            {share('n_workshop')} AS workshop_share_12m,
            {share('n_mentoring')} AS mentoring_share_12m,
            -- attrition-only inputs (ATTRITION_NUMERIC), after the shared ones as the view declares them
            (g.base_pay / nullif(median(g.base_pay) OVER (PARTITION BY g.job_id, g.T), 0) - 1)::FLOAT
                AS pay_vs_job_median,
            (g.base_pay / nullif(jt.typical_pay, 0) - 1)::FLOAT AS pay_vs_job_typical,
            pc.last_pay_change_pct::FLOAT AS last_pay_change_pct,
            coalesce(js.skill_ids, []::VARCHAR[]) AS skill_ids,
            coalesce(sk.skill_gaps, []::FLOAT[]) AS skill_gaps,
            coalesce(js.skill_required_levels, []::BIGINT[]) AS skill_required_levels,
            coalesce(dn.ids, []::VARCHAR[]) AS completed_course_ids
        FROM grid g
        JOIN jobs j ON j.job_id = g.job_id
        JOIN emp_running r ON r.e = g.e AND r.T = g.T
        JOIN emp_rev rv ON rv.e = g.e AND rv.T = g.T
        JOIN emp_done dn ON dn.e = g.e AND dn.T = g.T
        JOIN unit_stats u ON u.org_unit_id = g.org_unit_id AND u.T = g.T
        LEFT JOIN emp_skill_agg sk ON sk.e = g.e AND sk.T = g.T
        LEFT JOIN job_skill_lists js ON js.job_id = g.job_id
        LEFT JOIN job_typical_pay jt ON jt.job_id = g.job_id AND jt.T = g.T
        JOIN emp_pay_change pc ON pc.e = g.e AND pc.T = g.T
    """
