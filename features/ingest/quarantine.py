"""Quarantined rows: where they came from, why, in a sentence a person understands, and the row as received.

``settings.quarantine_dir/<table>.parquet`` holds source_file, line, reason, column, detail and raw (the
original row as JSON under the export's own column names). Files are staged next to their target and
moved into place with ``os.replace`` only after the clean tables are published.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

from features.contract import Col, Table
from features.ingest.stage import MAPPING_SOURCE, StagedTable
from features.ingest.validate import reason_name

QUARANTINE_COLUMNS = ("source_file", "line", "reason", "column", "detail", "raw")
_KIND_WORDS = {"int": "a whole number", "float": "a number", "bool": "a yes/no value (true/false, 1/0, yes/no, 是/否)",
               "date": "a date", "str": "text"}


def empty_quarantine() -> pd.DataFrame:
    return _typed(pd.DataFrame({c: [] for c in QUARANTINE_COLUMNS}))


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    return df.astype({c: ("int64" if c == "line" else "string") for c in QUARANTINE_COLUMNS})


def _q(values: pd.Series) -> pd.Series:
    return "'" + values.astype("string").fillna("").astype(str) + "'"


def _num(values: pd.Series) -> pd.Series:
    return values.astype("object").map(lambda v: f"{v:g}" if isinstance(v, float) else str(v))


def _detail(reason: str, col: Col | None, table: Table, rows: np.ndarray, strings: pd.DataFrame,
            typed: pd.DataFrame, date_formats: list[str], limit: pd.Timestamp | None = None) -> pd.Series:
    """One sentence per row of one (reason, column) group."""
    n = col.name if col else ""
    if reason == "bad_type":
        return n + " " + _q(strings[n].iloc[rows].str.strip()) + f" is not {_KIND_WORDS[col.kind]}"
    if reason == "bad_date":
        return (n + " " + _q(strings[n].iloc[rows].str.strip())
                + f" matches none of the date formats {', '.join(date_formats)} (nor YYYY-MM-DD)")
    if reason == "missing_value":
        return pd.Series(f"{n} is empty but the contract requires a value", index=rows)
    if reason == "not_allowed":
        return n + " " + _q(typed[n].iloc[rows]) + f" is not one of {', '.join(col.allowed or ())}"
    if reason == "out_of_range":
        v = typed[n].iloc[rows].astype("float64")
        above = (v > col.le).to_numpy(dtype=bool) if col.le is not None else np.zeros(len(v), bool)
        text = n + " " + _num(typed[n].iloc[rows])
        return text.where(~above, text + f" is above the maximum {col.le:g}").where(
            above, text + f" is below the minimum {col.ge if col.ge is None else format(col.ge, 'g')}")
    if reason == "future_date":
        when = "the ingest date" if limit is None else f"{limit:%Y-%m-%d}, the ingest date plus the tolerance"
        return n + " " + typed[n].iloc[rows].dt.strftime("%Y-%m-%d").fillna("") + f" is after {when}"
    if reason == "duplicate_key":
        parts = [k + "=" + typed[k].iloc[rows].astype("string").fillna("").astype(str) for k in table.key]
        key = parts[0]
        for p in parts[1:]:
            key = key + ", " + p
        return "key " + key + " appears on several rows with different values; all of them are quarantined"
    if reason == "unknown_reference":
        extra = " (nor an alias or title of one)" if col.ref in ("courses.course_id", "skills.skill_id") else ""
        return n + " " + _q(typed[n].iloc[rows]) + f" is not a known {col.ref}{extra}"
    raise ValueError(f"no detail sentence for reason {reason!r}")  # pragma: no cover


def _raw_json(raw: pd.DataFrame, rows: np.ndarray) -> list[str]:
    cols = list(raw.columns)
    sub = raw.iloc[rows]
    return [orjson.dumps(dict(zip(cols, r, strict=True))).decode() for r in sub.itertuples(index=False, name=None)]


def build_quarantine(st: StagedTable) -> pd.DataFrame:
    """The quarantine frame of one staged table (rows in file order)."""
    table, status, malformed = st.table, st.status, st.malformed
    parts: list[pd.DataFrame] = []
    if malformed:
        header = len(st.raw.columns)
        parts.append(pd.DataFrame({
            "source_file": st.source_file,
            "line": [m[0] for m in malformed], "reason": "malformed_row", "column": "",
            "detail": [f"the line does not split into the header's {header} columns" for _ in malformed],
            "raw": [orjson.dumps({"line_text": m[1]}).decode() for m in malformed]}))
    q = np.flatnonzero(status.quarantined)
    if len(q):
        groups = pd.DataFrame({"row": q, "code": status.code[q], "col": status.column[q]})
        for (code, ci), g in groups.groupby(["code", "col"], sort=True):
            rows = g["row"].to_numpy()
            reason = reason_name(int(code))
            col = table.columns[int(ci)] if ci >= 0 else None
            detail = _detail(reason, col, table, rows, st.strings, st.typed, st.date_formats, st.future_limit)
            if reason == "duplicate_key" and st.kept_mask is not None:
                kept = st.kept_mask[rows]
                detail = pd.Series(np.asarray(detail, dtype=object), index=rows)
                detail[kept] = detail[kept].str.replace(
                    "all of them are quarantined",
                    "all of them are quarantined and the previous accepted version of this key is kept", regex=False)
            parts.append(pd.DataFrame({
                "source_file": np.where(rows < st.file_rows, st.source_file, MAPPING_SOURCE), "line": st.lines[rows], "reason": reason, "column": col.name if col else "",
                "detail": np.asarray(detail, dtype=object), "raw": _raw_json(st.raw, rows)}))
    if not parts:
        return empty_quarantine()
    out = pd.concat(parts, ignore_index=True)
    return _typed(out.sort_values("line", kind="stable").reset_index(drop=True)[list(QUARANTINE_COLUMNS)])


def stage_quarantine(directory: Path, table: str, frame: pd.DataFrame) -> Path:
    """Write the table's quarantine to a temporary file next to its target; returns the temp path."""
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{table}.parquet.{uuid.uuid4().hex[:8]}.tmp"
    try:
        frame.to_parquet(tmp, index=False)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def commit_quarantine(directory: Path, staged: dict[str, Path]) -> None:
    """Move every staged file into place (each move is atomic)."""
    for table, tmp in staged.items():
        os.replace(tmp, directory / f"{table}.parquet")


def discard_staged(staged: dict[str, Path]) -> None:
    for tmp in staged.values():
        tmp.unlink(missing_ok=True)
