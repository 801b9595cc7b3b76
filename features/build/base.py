"""Shared building blocks, computed once per build on one DuckDB connection.

* ``months``: the snapshot calendar.
* ``ev``: employment events in order, with flags for pay and manager changes.
* ``grid``: one row per employee active at ``T`` with the state in force (last event dated before ``T``).
* ``emp_skill``: one row per (employee, ``T``, required skill of the current job) with the known level
  (latest competency rating before ``T``, else the pre-hire assessment) and the gap; integer-coded
  (``emp_code``, ``unit_code``, ``skill_code``) because it is the widest table of the build (~38M rows for
  100k employees × 36 months). It is reduced at once to ``emp_skill_agg`` (per employee and ``T``) and
  ``unit_skill_head`` (per unit, skill and ``T``) and dropped, so it never competes for memory with the
  rest of the build (DuckDB spills to disk beyond its memory limit).
* :func:`cumulative` + :func:`asof_total`: windowed sums ("in the 12 months before ``T``") as the
  difference of two running totals, each found with an ASOF join, so no window ever scans raw rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pandas as pd

from features.build.talent_pool import create_next_job_skill
from features.contract import CONTRACT
from features.offline import current_version_dir, read_clean
from features.settings import Settings

MONTH_DAYS = 30.4375  # average month length used for every "months since" feature


_SQL_TYPES = {"str": "VARCHAR", "int": "BIGINT", "float": "DOUBLE", "date": "TIMESTAMP", "bool": "BOOLEAN"}


def register_clean_tables(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Load every clean table into DuckDB under its contract name, with the contract's types.

    The published Parquet files are scanned by DuckDB directly (much faster than through pandas); a table
    that was never ingested is the empty frame ``read_clean`` gives.
    """
    version = current_version_dir(settings)
    for name, table in CONTRACT.items():
        path = version / f"{name}.parquet" if version is not None else None
        if path is not None and path.exists():
            cols = ", ".join(f'CAST("{c.name}" AS {_SQL_TYPES[c.kind]}) AS "{c.name}"' for c in table.columns)
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {cols} FROM read_parquet(?)", [str(path)])
            continue
        empty = read_clean(settings, name)
        for col in empty.columns:
            if str(empty[col].dtype) == "string":
                empty[col] = empty[col].astype(object)
        con.register(f"_raw_{name}", empty)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _raw_{name}")
        con.unregister(f"_raw_{name}")


def create_base_tables(con: duckdb.DuckDBPyConnection, months: Sequence[pd.Timestamp]) -> None:
    """Create ``months``, ``ev``, ``grid``, ``ratings``, ``emp_assess``, ``job_skill_pos``, ``emp_skill_agg``
    and ``unit_skill_head`` (``emp_skill`` is made and dropped on the way)."""
    con.register("_months", pd.DataFrame({"T": pd.DatetimeIndex(months).astype("datetime64[us]")}))
    con.execute("CREATE OR REPLACE TEMP TABLE months AS SELECT T FROM _months")
    con.unregister("_months")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE ev AS
        WITH ordered AS (
            SELECT *, row_number() OVER (
                PARTITION BY employee_id
                ORDER BY effective_date,
                         CASE event_type WHEN 'hire' THEN 0 WHEN 'termination' THEN 2 ELSE 1 END,
                         event_id) AS seq
            FROM employment_events)
        SELECT employee_id, effective_date, event_type, org_unit_id, job_id, manager_id, base_pay,
               termination_type, seq,
               event_type NOT IN ('hire', 'termination') AND seq > 1
                   AND base_pay IS DISTINCT FROM lag(base_pay) OVER w AS pay_changed,
               event_type NOT IN ('hire', 'termination') AND seq > 1
                   AND manager_id IS DISTINCT FROM lag(manager_id) OVER w AS manager_changed,
               row_number() OVER (PARTITION BY employee_id, effective_date ORDER BY seq DESC) = 1 AS last_of_day
        FROM ordered
        WINDOW w AS (PARTITION BY employee_id ORDER BY seq)
    """)
    # Integer codes for the wide (employee × month × skill) table: carrying strings through it is slow.
    con.execute("CREATE OR REPLACE TEMP TABLE emp_code AS "
                "SELECT employee_id, (row_number() OVER ())::INTEGER AS e FROM employees")
    con.execute("CREATE OR REPLACE TEMP TABLE unit_code AS "
                "SELECT org_unit_id, (row_number() OVER ())::INTEGER AS u FROM org_units")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE skill_code AS
        SELECT skill_id, (row_number() OVER ())::INTEGER AS s
        FROM (SELECT skill_id FROM skills UNION SELECT skill_id FROM job_skill_requirements
              UNION SELECT skill_id FROM competency_ratings UNION SELECT skill_id FROM assessments)
    """)
    # Active at T: hired before T and the last event before T is not a termination.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE grid AS
        SELECT g.employee_id, g.e, g.T, g.hire_date, s.org_unit_id, uc.u, s.job_id, s.base_pay, s.manager_id
        FROM (SELECT e.employee_id, c.e, e.hire_date, m.T
              FROM employees e JOIN emp_code c USING (employee_id) JOIN months m ON e.hire_date < m.T) g
        ASOF JOIN (SELECT * FROM ev WHERE last_of_day) s
            ON s.employee_id = g.employee_id AND s.effective_date < g.T
        LEFT JOIN unit_code uc ON uc.org_unit_id = s.org_unit_id
        WHERE s.event_type <> 'termination'
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE ratings AS
        SELECT employee_id, skill_id, review_date, arg_max(rating, cycle_id) AS rating
        FROM competency_ratings GROUP BY ALL
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE emp_assess AS
        SELECT c.hired_employee_id AS employee_id, a.skill_id, a.assessed_at, avg(a.score) AS score
        FROM assessments a JOIN candidates c USING (candidate_id)
        WHERE c.hired_employee_id IS NOT NULL
        GROUP BY ALL
    """)
    # Known level per (employee, skill) from each bucket month on: the latest rating, else the latest
    # pre-hire assessment. One running table, so emp_skill needs a single ASOF join.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE skill_level AS
        SELECT e, s, B,
               coalesce(last_value(rating IGNORE NULLS) OVER w, last_value(score IGNORE NULLS) OVER w) AS level
        FROM (SELECT ec.e, sc.s, date_trunc('month', d) + INTERVAL 1 MONTH AS B,
                     arg_max(rating, d) FILTER (WHERE rating IS NOT NULL) AS rating,
                     arg_max(score, d) FILTER (WHERE score IS NOT NULL) AS score
              FROM (SELECT employee_id, skill_id, review_date AS d, rating::DOUBLE AS rating, NULL::DOUBLE AS score
                    FROM ratings
                    UNION ALL
                    SELECT employee_id, skill_id, assessed_at, NULL, score FROM emp_assess) x
              JOIN emp_code ec ON ec.employee_id = x.employee_id
              JOIN skill_code sc ON sc.skill_id = x.skill_id
              GROUP BY ALL)
        WINDOW w AS (PARTITION BY e, s ORDER BY B ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    """)
    # Required skills per job in skill_id order (pos 1..n): the order of every skill array.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE job_skill_pos AS
        SELECT r.job_id, r.skill_id, c.s, r.required_level,
               row_number() OVER (PARTITION BY r.job_id ORDER BY r.skill_id)::INTEGER AS pos
        FROM job_skill_requirements r JOIN skill_code c USING (skill_id)
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE emp_skill AS
        SELECT g.e, g.T, g.u, r.s, r.pos, r.required_level, l.level,
               CASE WHEN l.level IS NULL THEN NULL ELSE greatest(0.0, r.required_level - l.level) END AS gap
        FROM grid g JOIN job_skill_pos r ON r.job_id = g.job_id
        ASOF LEFT JOIN skill_level l ON l.e = g.e AND l.s = r.s AND l.B <= g.T
    """)
    create_next_job_skill(con)  # readiness for the next job (talent_pool_monthly) reads the same levels
    con.execute("DROP TABLE skill_level")
    _reduce_emp_skill(con)
    con.execute("DROP TABLE emp_skill")


def _reduce_emp_skill(con: duckdb.DuckDBPyConnection) -> None:
    """``emp_skill_agg(e, T, ...)``: skill counts, mean and max gap and the gap array (in ``pos`` order) per
    employee and month; ``unit_skill_head(u, s, T, slots, holders)``: required-skill slots and holders at
    the required level per unit (not its subtree), skill and month."""
    # Gap arrays by position (conditional aggregates: ordered list aggregation is far slower).
    (max_pos,), = con.execute("SELECT coalesce(max(pos), 0) FROM job_skill_pos").fetchall()
    gaps = ", ".join(f"max(CASE WHEN pos = {i} THEN coalesce(gap, 'NaN'::DOUBLE) END)::FLOAT"
                     for i in range(1, max_pos + 1))
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE emp_skill_agg AS
        SELECT e, T,
               count(*) AS n_required_skills,
               count(*) FILTER (WHERE gap > 0) AS n_skills_below_required,
               avg(gap) AS mean_skill_gap,
               max(gap) AS max_skill_gap,
               [{gaps}][1:count(*)] AS skill_gaps
        FROM emp_skill GROUP BY ALL
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE unit_skill_head AS
        SELECT u, s, T, count(*) AS slots, count(*) FILTER (WHERE level >= required_level) AS holders
        FROM emp_skill GROUP BY ALL
    """)


def cumulative(con: duckdb.DuckDBPyConnection, name: str, source_sql: str, keys: Sequence[str],
               date_expr: str, sums: dict[str, str], maxes: dict[str, str] | None = None) -> None:
    """Create table ``name(keys..., B, sums..., maxes...)``: running totals (and maxima) per key by bucket
    month ``B``.

    ``B`` is the first snapshot month that may see a row dated ``d`` (``d < B``), so the total at snapshot
    ``T`` is the row with the largest ``B <= T``, and the total over ``[T - k months, T)`` is
    ``total(T) - total(T - k months)``. ``maxes`` are running maxima (e.g. the date of the last promotion).
    """
    maxes = maxes or {}
    key_list = ", ".join(keys)
    inner = ", ".join([*(f"sum({expr}) AS {col}" for col, expr in sums.items()),
                       *(f"max({expr}) AS {col}" for col, expr in maxes.items())])
    running = ", ".join([*(f"sum({col}) OVER w AS {col}" for col in sums),
                         *(f"max({col}) OVER w AS {col}" for col in maxes)])
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {name} AS
        SELECT {key_list}, B, {running}
        FROM (SELECT {key_list}, date_trunc('month', {date_expr}) + INTERVAL 1 MONTH AS B, {inner}
              FROM ({source_sql}) src WHERE {date_expr} IS NOT NULL GROUP BY ALL)
        WINDOW w AS (PARTITION BY {key_list} ORDER BY B)
    """)


def asof_total(table: str, alias: str, on: dict[str, str], t_expr: str) -> str:
    """SQL for ``ASOF LEFT JOIN table alias``: the running totals of ``table`` in force at ``t_expr``."""
    conds = " AND ".join(f"{alias}.{k} = {v}" for k, v in on.items())
    return f"ASOF LEFT JOIN {table} {alias} ON {conds} AND {alias}.B <= {t_expr}"


def window(alias_now: str, alias_then: str, col: str) -> str:
    """SQL for the sum of ``col`` between two running totals (missing totals count as zero)."""
    return f"(coalesce({alias_now}.{col}, 0) - coalesce({alias_then}.{col}, 0))"


def months_between(start: str, end: str) -> str:
    """SQL for the months from ``start`` to ``end`` as a FLOAT (days / 30.4375)."""
    return f"(datediff('day', {start}, {end}) / {MONTH_DAYS})::FLOAT"
