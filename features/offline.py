"""The clean-table store: validated tables as Parquet, published atomically as one version.

Ingestion writes a complete set of clean tables into a new version folder and then swaps one pointer
file (``CURRENT``) with ``os.replace``; readers always see either the old or the new set, never a mix.
Everything downstream reads clean tables through :func:`read_clean`, with the dtypes the contract
declares.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pandas as pd

from features.contract import CONTRACT, Table
from features.settings import Settings

POINTER = "CURRENT"

_PANDAS_DTYPES = {"str": "string", "int": "Int64", "float": "float64", "bool": "boolean"}


def current_version_dir(settings: Settings) -> Path | None:
    """The folder of the published clean tables, or None before the first ingest."""
    pointer = settings.clean_dir / POINTER
    if not pointer.exists():
        return None
    return settings.clean_dir / pointer.read_text(encoding="utf-8").strip()


def conform(table: Table, df: pd.DataFrame) -> pd.DataFrame:
    """Columns in contract order with contract dtypes (dates as ``datetime64[us]``)."""
    out = pd.DataFrame(index=df.index)
    for c in table.columns:
        s = df[c.name] if c.name in df.columns else pd.Series(pd.NA, index=df.index)
        if c.kind == "date":
            out[c.name] = pd.to_datetime(s).astype("datetime64[us]")
        else:
            out[c.name] = s.astype(_PANDAS_DTYPES[c.kind])
    return out.reset_index(drop=True)


def read_clean(settings: Settings, table: str) -> pd.DataFrame:
    """One clean table with contract dtypes; an empty frame of the right shape when it was never ingested."""
    t = CONTRACT[table]
    version = current_version_dir(settings)
    path = version / f"{table}.parquet" if version else None
    if path is None or not path.exists():
        return conform(t, pd.DataFrame(columns=t.column_names))
    return conform(t, pd.read_parquet(path))


def publish_clean(settings: Settings, tables: dict[str, pd.DataFrame], keep: int = 2) -> Path:
    """Write a full set of clean tables as a new version and switch ``CURRENT`` to it atomically.

    Tables not given are carried over from the current version unchanged (a feed that failed or was not
    delivered keeps its previous state). Older versions beyond ``keep`` are removed after the switch.
    """
    settings.clean_dir.mkdir(parents=True, exist_ok=True)
    previous = current_version_dir(settings)
    name = f"v-{pd.Timestamp.now(tz='UTC'):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    staging = settings.clean_dir / f".staging-{name}"
    staging.mkdir()
    try:
        for table in CONTRACT:
            target = staging / f"{table}.parquet"
            if table in tables:
                conform(CONTRACT[table], tables[table]).to_parquet(target, index=False)
            elif previous is not None and (previous / f"{table}.parquet").exists():
                shutil.copy2(previous / f"{table}.parquet", target)
        final = settings.clean_dir / name
        os.replace(staging, final)
        tmp_pointer = settings.clean_dir / f".{POINTER}.{uuid.uuid4().hex[:8]}"
        tmp_pointer.write_text(name, encoding="utf-8")
        os.replace(tmp_pointer, settings.clean_dir / POINTER)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _prune(settings, keep)
    return final


def _prune(settings: Settings, keep: int) -> None:
    current = current_version_dir(settings)
    versions = sorted(p for p in settings.clean_dir.glob("v-*") if p.is_dir())
    for old in versions[:-keep]:
        if old != current:
            shutil.rmtree(old, ignore_errors=True)
