"""Phase 1 of an ingest, per table: read the file, apply the mapping, catch schema drift, parse and run the
row checks. The result (:class:`StagedTable`) waits for phase 2 (duplicates and references)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from features.contract import Col, Table
from features.ingest.errors import FeedError
from features.ingest.mapping import Derive, Mapping
from features.ingest.normalise import parse_column, trim
from features.ingest.reader import STRING, ReadError, read_table_file
from features.ingest.validate import RowStatus, check_rows, normalise_table

_ARROW_OK = {
    "str": (pa.types.is_string, pa.types.is_large_string, pa.types.is_integer, pa.types.is_null),
    "int": (pa.types.is_integer, pa.types.is_floating, pa.types.is_decimal, pa.types.is_string,
            pa.types.is_large_string, pa.types.is_null),
    "float": (pa.types.is_integer, pa.types.is_floating, pa.types.is_decimal, pa.types.is_string,
              pa.types.is_large_string, pa.types.is_null),
    "date": (pa.types.is_date, pa.types.is_timestamp, pa.types.is_string, pa.types.is_large_string,
             pa.types.is_null),
    "bool": (pa.types.is_boolean, pa.types.is_integer, pa.types.is_string, pa.types.is_large_string,
             pa.types.is_null),
}
MAPPING_SOURCE = "(mapping aliases)"
DATE_COL = Col("derived", "date", "A date a derived column is computed from.", nullable=True)


@dataclass
class StagedTable:
    """One table after phase 1."""

    table: Table
    feed: str
    source_file: str
    raw: pd.DataFrame  # as read, export column names (for the quarantine's raw JSON)
    strings: pd.DataFrame  # as read, contract column names
    typed: pd.DataFrame  # parsed contract values
    status: RowStatus
    lines: np.ndarray
    file_rows: int  # rows from the file; rows after them come from the mapping's aliases
    date_formats: list[str]
    malformed: list[tuple[int, str]] = field(default_factory=list)
    blank_rows: int = 0
    extra_columns: list[str] = field(default_factory=list)
    missing_optional_columns: list[str] = field(default_factory=list)
    derived_columns: list[str] = field(default_factory=list)
    unknown_codes: dict[str, int] = field(default_factory=dict)


def stage_table(table: Table, path: Path, source: Path, mapping: Mapping,
                extra_rows: dict[str, str] | None = None) -> StagedTable:
    """Read and check one table's file; raises :class:`FeedError` on unreadable files and schema drift.

    ``extra_rows`` (alias → id) are the mapping's aliases appended to an alias table.
    """
    rel = path.relative_to(source).as_posix()
    tm = mapping.for_table(table.name)
    encoding = mapping.encoding
    try:
        raw = read_table_file(path, encoding)
    except ReadError as e:
        raise FeedError(table.feed, rel, str(e)) from e
    renames = {k: v for k, v in tm.columns.items() if k in raw.frame.columns}
    for export, target in renames.items():
        if target in raw.frame.columns and export != target:
            raise FeedError(table.feed, rel, f"both {export!r} (mapped to {target!r}) and {target!r} are present",
                            target)
    strings = _with_derived(table, rel, raw.frame.rename(columns=renames, copy=False), raw.frame, tm.derive,
                            mapping.date_formats_for(table.name))
    derived = list(tm.derive)
    known = set(table.column_names)
    used = {rule.source for rule in tm.derive.values()}
    extra = [c for c in raw.frame.columns if renames.get(c, c) not in known and c not in used]
    missing_optional: list[str] = []
    for col in table.columns:
        if col.name in strings.columns:
            continue
        if not col.optional:
            hint = f"; columns not in the contract: {', '.join(extra)} (renamed? map it in the mapping's " \
                   f"tables.{table.name}.columns)" if extra else ""
            raise FeedError(table.feed, rel, f"required column is missing{hint}", col.name)
        missing_optional.append(col.name)
    _check_arrow_types(table, rel, raw.arrow_types, renames)
    strings = strings[[c for c in table.column_names if c in strings.columns]]
    for name in missing_optional:
        strings[name] = pd.Series("", index=strings.index, dtype=STRING)
    strings = strings[table.column_names]
    raw_frame, lines = raw.frame, raw.lines
    file_rows = len(strings)
    if extra_rows:
        key_col, id_col = table.column_names[0], table.column_names[1]
        added = pd.DataFrame({key_col: list(extra_rows), id_col: list(extra_rows.values())}, dtype=STRING)
        strings = pd.concat([strings, added], ignore_index=True)
        raw_frame = pd.concat([raw_frame, added], ignore_index=True).fillna("")
        lines = np.concatenate([lines, np.zeros(len(added), dtype=np.int64)])
    formats = mapping.date_formats_for(table.name)
    unknown_codes: dict[str, int] = {}
    typed, status, drifts = normalise_table(strings, table, tm.values, formats, tm.unknown_values, unknown_codes)
    if drifts:
        d = drifts[0]
        kind = table.column(d.column).kind
        raise FeedError(table.feed, rel, f"{d.failed} of {d.non_empty} non-empty values do not parse as {kind} "
                        f"(e.g. {d.example!r}): the column's type changed (retyped)", d.column)
    check_rows(typed, table, status)
    return StagedTable(table=table, feed=table.feed, source_file=rel, raw=raw_frame, strings=strings,
                       typed=typed, status=status, lines=lines, file_rows=file_rows, date_formats=formats,
                       malformed=raw.malformed, blank_rows=raw.blank_rows, extra_columns=extra,
                       missing_optional_columns=missing_optional, derived_columns=derived,
                       unknown_codes={c: n for c, n in unknown_codes.items() if n})


def _with_derived(table: Table, rel: str, strings: pd.DataFrame, frame: pd.DataFrame, derive: dict[str, Derive],
                  date_formats: list[str]) -> pd.DataFrame:
    """``strings`` plus the columns the mapping derives from the file's own columns."""
    if not derive:
        return strings
    strings = strings.copy(deep=False)
    for target, rule in derive.items():
        if target in strings.columns:
            raise FeedError(table.feed, rel, f"the mapping derives {target!r} but the file has it too", target)
        if rule.source not in frame.columns:
            raise FeedError(table.feed, rel, f"the mapping derives {target!r} from {rule.source!r}, which the "
                            "file does not have", rule.source)
        strings[target] = derive_column(frame[rule.source], rule, date_formats)
    return strings


def _check_arrow_types(table: Table, rel: str, arrow_types: dict[str, pa.DataType], renames: dict[str, str]) -> None:
    """A Parquet file's column types can hold the contract's kinds (else the column was retyped)."""
    for col in table.columns:
        export = next((k for k, v in renames.items() if v == col.name), col.name)
        t = arrow_types.get(export)
        if t is not None and not any(ok(t) for ok in _ARROW_OK[col.kind]):
            raise FeedError(table.feed, rel, f"Parquet type {t} cannot hold a {col.kind} column (retyped)", col.name)


def derive_column(source: pd.Series, rule: Derive, date_formats: list[str]) -> pd.Series:
    """The text of a derived contract column: the year of a date, or a lookup of the trimmed value
    (a value that parses as no date, or is not in the lookup, becomes empty)."""
    text = trim(source)
    if rule.part == "year":
        dates, _ = parse_column(text, DATE_COL, date_formats)
        years = dates.dt.year.astype("Int64").astype(STRING)
        return years.fillna("").astype(STRING)
    return text.map(rule.lookup or {}).fillna("").astype(STRING)
