"""Read one export file (CSV, Parquet or XLSX) as strings, keeping each row's line number.

Every value arrives as a string (``pd.StringDtype("pyarrow")``) with empty cells as ``""`` so that emptiness
is checked explicitly later. ``line`` is the line a person sees: for CSV and XLSX the header is line 1 and the
first data row line 2; for Parquet it is the 1-based row number. Typed Parquet and XLSX dates are rendered
as ISO ``YYYY-MM-DD``. Rows whose every cell is empty ("") are dropped and counted as ``blank_rows``; CSV rows
with the wrong number of fields are kept aside as ``malformed`` (line, text) for the quarantine.
"""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

STRING = pd.StringDtype("pyarrow")


class ReadError(ValueError):
    """The file cannot be read at all (encoding, header, format)."""


@dataclass
class RawTable:
    """One file's rows as strings, under the export's own column names."""

    path: Path
    frame: pd.DataFrame
    lines: np.ndarray
    arrow_types: dict[str, pa.DataType] = field(default_factory=dict)
    malformed: list[tuple[int, str]] = field(default_factory=list)
    blank_rows: int = 0


def read_table_file(path: Path, encoding: str = "utf-8") -> RawTable:
    """Read a CSV, Parquet or XLSX file as strings; raises :class:`ReadError` naming the file."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            raw = _read_csv(path, encoding)
        elif suffix == ".parquet":
            raw = _read_parquet(path)
        elif suffix == ".xlsx":
            raw = _read_xlsx(path)
        else:
            raise ReadError(f"{path}: unsupported file type {suffix!r}")
    except (pa.ArrowInvalid, UnicodeDecodeError, OSError, zipfile.BadZipFile) as e:
        raise ReadError(f"{path}: cannot read it: {e}") from e
    return _drop_blank_rows(raw)


def _header(path: Path, encoding: str) -> list[str]:
    codec = "utf-8-sig" if encoding.replace("_", "-").lower() in ("utf-8", "utf8") else encoding
    with path.open(encoding=codec, newline="") as f:
        first = next(csv.reader(f), None)
    if not first:
        raise ReadError(f"{path}: no header line")
    names = [h.strip() for h in first]
    _check_names(path, names)
    return names


def _check_names(path: Path, names: list[str]) -> None:
    seen: set[str] = set()
    for i, n in enumerate(names, start=1):
        if not n:
            raise ReadError(f"{path}: header column {i} has no name")
        if n in seen:
            raise ReadError(f"{path}: header names column {n!r} twice")
        seen.add(n)


def _read_csv(path: Path, encoding: str) -> RawTable:
    names = _header(path, encoding)

    def read(threads: bool) -> tuple[pa.Table, list]:
        bad: list = []

        def handler(row: object) -> str:
            bad.append(row)
            return "skip"

        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(encoding=encoding, use_threads=threads, column_names=names,
                                           skip_rows=1),
            parse_options=pacsv.ParseOptions(invalid_row_handler=handler, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
        return table, bad

    table, bad = read(True)
    if bad and any(r.number is None for r in bad):
        table, bad = read(False)  # line numbers of bad rows are known only in a serial read
    bad_lines = sorted(r.number for r in bad)  # physical line numbers, header = 1
    all_lines = np.arange(2, table.num_rows + len(bad) + 2, dtype=np.int64)
    lines = np.setdiff1d(all_lines, np.asarray(bad_lines, dtype=np.int64), assume_unique=True)
    frame = table.to_pandas(types_mapper={pa.string(): STRING}.get)
    malformed = [(r.number, r.text) for r in sorted(bad, key=lambda r: r.number)]
    return RawTable(path, frame, lines, malformed=malformed)


_COMPATIBLE_AS_TEXT = (pa.types.is_string, pa.types.is_large_string, pa.types.is_integer, pa.types.is_floating,
                       pa.types.is_decimal, pa.types.is_boolean, pa.types.is_date, pa.types.is_timestamp,
                       pa.types.is_null)


def _to_text(col: pa.ChunkedArray, name: str, path: Path) -> pa.ChunkedArray:
    t = col.type
    if pa.types.is_dictionary(t):
        col = col.cast(t.value_type)
        t = col.type
    if pa.types.is_date(t) or pa.types.is_timestamp(t):
        out = pc.strftime(col, format="%Y-%m-%d")
    elif pa.types.is_null(t):
        out = pa.chunked_array([pa.array([""] * len(col), pa.string())])
    elif any(f(t) for f in _COMPATIBLE_AS_TEXT):
        out = col.cast(pa.string())
    else:
        raise ReadError(f"{path}: column {name!r} has Arrow type {t}, which holds no table values")
    return pc.fill_null(out, "")


def _read_parquet(path: Path) -> RawTable:
    table = pq.read_table(path)
    names = list(table.column_names)
    _check_names(path, names)
    types = {n: table.schema.field(n).type for n in names}
    texts = {}
    for n in names:
        t = types[n]
        if pa.types.is_dictionary(t):
            types[n] = t.value_type
        texts[n] = _to_text(table.column(n), n, path) if _text_compatible(types[n]) else None
    frame = pd.DataFrame(index=pd.RangeIndex(table.num_rows))
    for n in names:
        if texts[n] is None:  # kept as empty text; the pipeline reports the Arrow type as schema drift
            frame[n] = pd.Series([""] * table.num_rows, dtype=STRING)
        else:
            frame[n] = texts[n].to_pandas(types_mapper={pa.string(): STRING}.get)
    return RawTable(path, frame, np.arange(1, table.num_rows + 1, dtype=np.int64), arrow_types=types)


def _text_compatible(t: pa.DataType) -> bool:
    return any(f(t) for f in _COMPATIBLE_AS_TEXT)


def _cell_text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dt.datetime | dt.date):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _read_xlsx(path: Path) -> RawTable:
    """XLSX (legacy migrations): the first sheet, header in row 1; read row by row by openpyxl."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows = wb.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise ReadError(f"{path}: the first sheet is empty (no header row)")
        width = len(header)
        while width and header[width - 1] is None:
            width -= 1
        names = [_cell_text(h).strip() for h in header[:width]]
        _check_names(path, names)
        cells: list[list[str]] = []
        malformed: list[tuple[int, str]] = []
        for i, row in enumerate(rows, start=2):
            text = [_cell_text(v) for v in row]
            if any(text[width:]):
                malformed.append((i, ",".join(text)))
                cells.append([""] * width)  # placeholder row, removed below
                continue
            cells.append((text + [""] * width)[:width])
    finally:
        wb.close()
    frame = pd.DataFrame(cells, columns=names, dtype=object).astype(STRING)
    lines = np.arange(2, len(cells) + 2, dtype=np.int64)
    if malformed:
        keep = ~np.isin(lines, [m[0] for m in malformed])
        frame, lines = frame[keep].reset_index(drop=True), lines[keep]
    return RawTable(path, frame, lines, malformed=malformed)


def _drop_blank_rows(raw: RawTable) -> RawTable:
    """Drop rows whose every cell is empty (a cell of spaces is a value; its row is checked like any other)."""
    if raw.frame.empty or not len(raw.frame.columns):
        return raw
    cols = list(raw.frame.columns)
    candidates = np.flatnonzero((raw.frame[cols[0]] == "").to_numpy(dtype=bool))
    for c in cols[1:]:
        if not len(candidates):
            return raw
        candidates = candidates[(raw.frame[c].iloc[candidates] == "").to_numpy(dtype=bool)]
    if not len(candidates):
        return raw
    keep = np.ones(len(raw.frame), dtype=bool)
    keep[candidates] = False
    raw.frame = raw.frame[keep].reset_index(drop=True)
    raw.lines = raw.lines[keep]
    raw.blank_rows = len(candidates)
    return raw
