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


def clear_stale(out: Path, fmt: str, keep: set[str] | None = None) -> None:
    """Remove feed files of the other formats left by an earlier run into the same folder, and the files of
    tables this run does not write (``keep``: the tables it writes; default every table)."""
    for table in CONTRACT:
        for other in FILE_FORMATS:
            p = feed_path(out, table, other)
            if (other != fmt or (keep is not None and table not in keep)) and p.exists():
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


def write_feed_table(df: pd.DataFrame, path: Path, table: str, fmt: str, kinds: dict[str, str] | None = None
                     ) -> None:
    """One feed table: columns in contract order, or (an export profile, ``kinds`` given for the columns the
    contract does not declare) the frame's own columns in its order."""
    t = CONTRACT[table]
    if kinds is None and list(df.columns) != t.column_names:
        raise ValueError(f"{table}: columns {list(df.columns)} differ from the contract {t.column_names}")
    declared = {c.name: c.kind for c in t.columns}
    cols = [(name, kinds[name] if kinds and name in kinds else declared[name]) for name in df.columns]
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        frame = df.copy(deep=False)  # only whole columns are replaced below
        for name, kind in cols:
            if kind == "int":
                frame[name] = frame[name].astype("Int64")
            elif kind == "bool":
                frame[name] = frame[name].map({True: "true", False: "false"}).astype(object)
        frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    elif fmt == "parquet":
        arrays = [_arrow_column(df[name], kind) for name, kind in cols]
        schema = pa.schema([pa.field(name, _ARROW[kind], nullable=True) for name, kind in cols])
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


def write_mapping(out: Path, date_formats: list[str], extra: dict | None = None) -> None:
    """``mapping.yaml``: the date formats that occur in the feeds, plus what an export profile needs."""
    lines = ["# Written by talentloop simulate: date formats that occur in the feeds.", "date_formats:"]
    lines += [f'  - "{f}"' for f in date_formats]
    text = "\n".join(lines) + "\n"
    if extra:
        import yaml

        text += "# How this export profile differs from the contract (see docs/mapping.md).\n"
        text += yaml.safe_dump(extra, allow_unicode=True, sort_keys=False, default_flow_style=False)
    (out / "mapping.yaml").write_text(text, encoding="utf-8")


def write_manifest(out: Path, manifest: dict) -> None:
    path = out / TRUTH_DIR / "manifest.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
