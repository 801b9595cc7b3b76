"""Dirt: the defects of real exports, applied to a fraction of the rows of every table after the clean tables
are built, and recorded exactly (``_truth/dirty_rows.parquet``). The truth itself is never dirtied.

A dirty row has exactly one defect. Kinds: ``duplicate`` (an exact copy of a clean row, written right
after it), ``alias`` (enrollments.course_id replaced by a course alias or Chinese title listed in
``course_aliases``), ``date_format`` (a date in another format), ``missing`` (a required value left
empty), ``out_of_range`` (rating 7, exam score 130, KPI −0.2, assessment 6.5), ``unknown_employee`` (an
employee id nobody has) and ``padded_id`` (an id with surrounding spaces).

Master data (the org tree, jobs, skills, the course catalog and their link and alias tables) only gets the
harmless kinds, duplicates and padded ids: in real migrations these small tables are curated by hand, and a
single quarantined job or org unit would take every row that refers to it down with it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.contract import CONTRACT

DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y", "%Y%m%d")
KINDS = ("duplicate", "alias", "date_format", "missing", "out_of_range", "unknown_employee", "padded_id")
OUT_OF_RANGE = {
    "reviews": {"overall_rating": 7, "kpi_attainment": -0.2},
    "competency_ratings": {"rating": 7},
    "enrollments": {"exam_score": 130.0},
    "assessments": {"score": 6.5},
}
MASTER_DATA = ("org_units", "jobs", "job_skill_requirements", "skills", "skill_aliases", "courses",
               "course_aliases", "course_skills")
LOG_COLUMNS = ("feed", "table", "file", "row", "kind", "column", "original_value", "written_value")


# Columns a ``missing`` defect may hit besides the contract's required ones: these were required when the
# simulator's output was fixed and have since become optional. Kept so that the same seed writes the same
# files; an empty value in them is accepted at ingest (their features are absent for that row).
FORMERLY_REQUIRED = {"employment_events": ("base_pay",), "reviews": ("kpi_attainment",), "requisitions": ("reason",)}


def _applicable(name: str, present: object = None) -> dict[str, list[str]]:
    """Kind → columns it may hit in table ``name`` (``duplicate`` hits whole rows); with ``present`` (the
    columns an export profile writes), only those columns, and only kinds left with a column."""
    kinds = _kinds(name)
    if present is None:
        return kinds
    cols = set(present)
    return {k: [c for c in v if c in cols] for k, v in kinds.items() if k == "duplicate" or any(c in cols for c in v)}


def _kinds(name: str) -> dict[str, list[str]]:
    t = CONTRACT[name]
    dates = [c.name for c in t.columns if c.kind == "date"]
    required = [c.name for c in t.columns if not c.nullable or c.name in FORMERLY_REQUIRED.get(name, ())]
    ids = [c.name for c in t.columns if c.kind == "str" and (c.name in t.key or c.ref)]
    if name in MASTER_DATA:
        return {"duplicate": [], "padded_id": ids} if ids else {"duplicate": []}
    kinds = {"duplicate": [], "missing": required}
    if name == "enrollments":
        kinds["alias"] = ["course_id"]
    if dates:
        kinds["date_format"] = dates
    if name in OUT_OF_RANGE:
        kinds["out_of_range"] = list(OUT_OF_RANGE[name])
    if "employee_id" in t.column_names and name != "employees":
        kinds["unknown_employee"] = ["employee_id"]
    if ids:
        kinds["padded_id"] = ids
    return kinds


def _reformat(iso: list[str], fmt: str) -> list[str]:
    y, m, d = (np.array([v[a:b] for v in iso], object) for a, b in ((0, 4), (5, 7), (8, 10)))
    return {"%Y/%m/%d": y + "/" + m + "/" + d, "%d.%m.%Y": d + "." + m + "." + y, "%Y%m%d": y + m + d}[fmt].tolist()


def _text(v: object) -> str | None:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    return str(v)


def dirty_table(name: str, df: pd.DataFrame, rate: float, rng: np.random.Generator, fmt: str,
                aliases: dict[str, list[str]]) -> tuple[pd.DataFrame, list[dict]]:
    """One table with ``round(rate × rows)`` dirty rows, and the log of what was done (final row numbers).

    ``df`` is changed in place (the caller hands over a table it no longer needs)."""
    n = len(df)
    k = int(round(rate * n))
    if k == 0:
        return df, []
    kinds = _applicable(name, None if list(df.columns) == CONTRACT[name].column_names else df.columns)
    names = sorted(kinds, key=KINDS.index)
    kind_of = rng.choice(len(names), k)
    rows = np.sort(rng.choice(n, k, replace=False))
    rng.shuffle(rows)
    log: list[dict] = []
    dup_src = []
    changed: dict[str, tuple[list[int], list[object]]] = {}
    cols = {c: df[c] for c in df.columns}
    for row, ki in zip(rows.tolist(), kind_of.tolist(), strict=True):
        kind = names[ki]
        if kind == "duplicate":
            dup_src.append(row)
            continue
        options = [c for c in kinds[kind] if _text(cols[c].iat[row]) is not None]
        if kind == "alias":
            options = [c for c in options if aliases.get(cols[c].iat[row])]
        if not options:
            continue
        col = options[int(rng.integers(0, len(options)))]
        before = cols[col].iat[row]
        after = _dirty_value(kind, before, OUT_OF_RANGE.get(name, {}).get(col), aliases, rng)
        changed.setdefault(col, ([], []))
        changed[col][0].append(row)
        changed[col][1].append(after)
        log.append({"row": row, "kind": kind, "column": col, "original_value": _text(before),
                    "written_value": _text(after)})
    for col, (r, v) in changed.items():
        df[col] = _with_values(cols[col], CONTRACT[name].column(col).kind, r, v)
    dup_src = np.sort(np.array(dup_src, np.int64))
    if len(dup_src):
        order = np.sort(np.r_[np.arange(n), dup_src], kind="stable")
        df = df.iloc[order].reset_index(drop=True)
    shift = lambda r: int(r + np.searchsorted(dup_src, r, side="left"))  # noqa: E731
    for e in log:
        e["row"] = shift(e["row"])
    for r in dup_src.tolist():
        log.append({"row": shift(r) + 1, "kind": "duplicate", "column": None, "original_value": None,
                    "written_value": None})
    feed = CONTRACT[name].feed
    for e in log:
        e.update({"feed": feed, "table": name, "file": f"{feed}/{name}.{fmt}"})
    return df, log


def _dirty_value(kind: str, before: object, out_of_range: object, aliases: dict[str, list[str]],
                 rng: np.random.Generator) -> object:
    """The value a dirty row of this kind gets in place of ``before`` (``out_of_range``: the column's)."""
    if kind == "alias":
        choices = aliases[before]
        return choices[int(rng.integers(0, len(choices)))]
    if kind == "date_format":
        return _reformat([before], DATE_FORMATS[1 + int(rng.integers(0, 3))])[0]
    if kind == "missing":
        return None
    if kind == "out_of_range":
        return out_of_range
    if kind == "unknown_employee":
        return f"E9{int(rng.integers(0, 1_000_000)):06d}"
    return f" {before} " if rng.random() < 0.5 else f"  {before}"


def _with_values(series: pd.Series, kind: str, rows: list[int], values: list[object]) -> pd.Series:
    """A copy of a column with ``values`` written at the row positions ``rows`` (a dtype that holds them)."""
    if kind == "int":
        series = series.astype("Int64")
    elif kind == "float":
        series = series.astype("float64")
        values = [np.nan if x is None else x for x in values]
    else:
        series = series.astype(object)
    series = series.copy()
    series.iloc[np.array(rows)] = values if kind != "int" else pd.array(values, dtype="Int64")
    return series


def alias_map(course_aliases: pd.DataFrame) -> dict[str, list[str]]:
    """course_id → its aliases, in table order."""
    aliases: dict[str, list[str]] = {}
    for alias, cid in zip(course_aliases["alias"], course_aliases["course_id"], strict=True):
        aliases.setdefault(cid, []).append(alias)
    return aliases


def log_frame(log: list[dict]) -> pd.DataFrame:
    """The dirty-row log as the ``dirty_rows`` truth table."""
    frame = pd.DataFrame(log, columns=list(LOG_COLUMNS))
    frame["row"] = frame["row"].astype("int64")
    frame = frame.sort_values(["feed", "table", "row"], kind="stable").reset_index(drop=True)
    return frame
