"""Writing the feeds (CSV or Parquet), the truth (Parquet), ``mapping.yaml`` and ``manifest.json``.

Dates are written as ``YYYY-MM-DD`` strings in both formats (Parquet too), so dirty date formats survive.
Output is byte-identical for the same inputs: no timestamps, no pandas metadata, fixed row order.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from features.contract import CONTRACT, FILE_FORMATS

_ARROW = {"str": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "date": pa.string()}
TRUTH_DIR = "_truth"
ISO = "%Y-%m-%d"


def feed_path(out: Path, table: str, fmt: str) -> Path:
    return out / CONTRACT[table].feed / f"{table}.{fmt}"


def clear_stale(out: Path, fmt: str) -> None:
    """Remove feed files of the other formats left by an earlier run into the same folder."""
    for table in CONTRACT:
        for other in FILE_FORMATS:
            p = feed_path(out, table, other)
            if other != fmt and p.exists():
                p.unlink()


def _arrow_column(s: pd.Series, kind: str) -> pa.Array:
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    if kind == "int":
        return pa.array(s.astype("Int64"), type=pa.int64(), from_pandas=True)
    if kind == "float":
        return pa.array(s.astype("float64"), type=pa.float64(), from_pandas=True)
    if kind == "bool":
        return pa.array(s.astype("boolean"), type=pa.bool_(), from_pandas=True)
    return pa.array(s.astype(object), type=pa.string(), from_pandas=True)


def write_feed_table(df: pd.DataFrame, path: Path, table: str, fmt: str) -> None:
    """One feed table, columns in contract order."""
    t = CONTRACT[table]
    if list(df.columns) != t.column_names:
        raise ValueError(f"{table}: columns {list(df.columns)} differ from the contract {t.column_names}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        frame = df.copy(deep=False)  # only whole columns are replaced below
        for c in t.columns:
            if c.kind == "int":
                frame[c.name] = frame[c.name].astype("Int64")
            elif c.kind == "bool":
                frame[c.name] = frame[c.name].map({True: "true", False: "false"}).astype(object)
        frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    elif fmt == "parquet":
        arrays = [_arrow_column(df[c.name], c.kind) for c in t.columns]
        schema = pa.schema([pa.field(c.name, _ARROW[c.kind], nullable=True) for c in t.columns])
        pq.write_table(pa.Table.from_arrays(arrays, schema=schema), path)
    else:
        raise ValueError(f"fmt must be csv or parquet, got {fmt!r}")


def write_truth(df: pd.DataFrame, out: Path, name: str) -> None:
    path = out / TRUTH_DIR / f"{name}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path)


class SkillLevelSink:
    """Streams the true skill levels (employee × month × required skill) into ``_truth/skill_levels.parquet``."""

    SCHEMA = pa.schema([("employee_id", pa.dictionary(pa.int32(), pa.string())),
                        ("month", pa.timestamp("us")),
                        ("skill_id", pa.dictionary(pa.int32(), pa.string())),
                        ("true_level", pa.float32())])

    def __init__(self, out: Path, start: np.datetime64, skill_ids: np.ndarray, emp_id: Callable[[np.ndarray], np.ndarray]) -> None:
        path = out / TRUTH_DIR / "skill_levels.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = pq.ParquetWriter(path, self.SCHEMA)
        self._start = start
        self._skills = pa.array(skill_ids, pa.string())
        self._emp_id = emp_id
        self.rows = 0

    def __call__(self, m: int, emp: np.ndarray, skill: np.ndarray, level: np.ndarray) -> None:
        uniq, inv = np.unique(emp, return_inverse=True)
        month = np.full(len(emp), (self._start + m).astype("datetime64[D]").astype("datetime64[us]"))
        batch = pa.record_batch([
            pa.DictionaryArray.from_arrays(pa.array(inv.astype(np.int32)), pa.array(self._emp_id(uniq), pa.string())),
            pa.array(month, pa.timestamp("us")),
            pa.DictionaryArray.from_arrays(pa.array(np.asarray(skill, np.int32)), self._skills),
            pa.array(np.asarray(level, np.float32)),
        ], schema=self.SCHEMA)
        self._writer.write_batch(batch)
        self.rows += len(emp)

    def close(self) -> None:
        self._writer.close()


def write_mapping(out: Path, date_formats: list[str]) -> None:
    """``mapping.yaml``: only the key the ingestion reader understands (``date_formats``)."""
    lines = ["# Written by talentloop simulate: date formats that occur in the feeds.", "date_formats:"]
    lines += [f'  - "{f}"' for f in date_formats]
    (out / "mapping.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_manifest(out: Path, manifest: dict) -> None:
    path = out / TRUTH_DIR / "manifest.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
