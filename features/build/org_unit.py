"""``org_unit_monthly``: headcount, voluntary exits, open requisitions and the plan per org unit and month.

Every unit of the tree gets a row per snapshot; a unit's figures cover its whole subtree (a team counts
for its department, division and the company), through the ``unit_closure`` table built here.
"""

from __future__ import annotations

import duckdb
import pandas as pd


def unit_closure(units: pd.DataFrame) -> pd.DataFrame:
    """(ancestor_id, org_unit_id) for every unit and each of its ancestors, itself included.

    Raises ``ValueError`` on a cycle in ``parent_id``.
    """
    parent = {str(u): (None if pd.isna(p) else str(p))
              for u, p in zip(units["org_unit_id"], units["parent_id"], strict=True)}
    rows: list[tuple[str, str]] = []
    for unit in parent:
        seen: set[str] = set()
        node: str | None = unit
        while node is not None:
            if node in seen:
                raise ValueError(f"org_units.parent_id has a cycle through {node!r}")
            seen.add(node)
            rows.append((node, unit))
            node = parent.get(node)
    return pd.DataFrame(rows, columns=["ancestor_id", "org_unit_id"])


def create_closure(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``unit_closure`` from the registered ``org_units`` table."""
    closure = unit_closure(con.execute("SELECT org_unit_id, parent_id FROM org_units").df())
    con.register("_closure", closure)
    con.execute("CREATE OR REPLACE TEMP TABLE unit_closure AS SELECT * FROM _closure")
    con.unregister("_closure")


def org_unit_monthly_sql(con: duckdb.DuckDBPyConnection) -> str:
    """Roll ``unit_stats`` (made for ``employee_monthly``) up the tree; return the SELECT of ``org_unit_monthly``."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE unit_tree AS
        SELECT c.ancestor_id AS org_unit_id, l.T,
               sum(l.team_size) AS headcount, sum(l.vol_exits_12m) AS vol_exits_12m,
               sum(l.open_requisitions) AS open_requisitions
        FROM unit_stats l JOIN unit_closure c ON c.org_unit_id = l.org_unit_id
        GROUP BY ALL
    """)
    return """
        SELECT t.org_unit_id,
               timezone('UTC', t.T) AS event_timestamp,
               t.headcount::BIGINT AS headcount,
               t.vol_exits_12m::BIGINT AS vol_exits_12m,
               (t.vol_exits_12m / nullif(t.headcount, 0))::FLOAT AS vol_attrition_rate_12m,
               t.open_requisitions::BIGINT AS open_requisitions,
               p.planned_headcount::BIGINT AS planned_headcount
        FROM unit_tree t
        LEFT JOIN (SELECT c.ancestor_id AS org_unit_id, h.plan_month AS T, sum(h.planned_headcount) AS planned_headcount
                   FROM headcount_plans h JOIN unit_closure c ON c.org_unit_id = h.org_unit_id
                   GROUP BY ALL) p
            ON p.org_unit_id = t.org_unit_id AND p.T = t.T
    """
