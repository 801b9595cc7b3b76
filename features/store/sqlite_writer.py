"""Bulk writes of the newest snapshots into Feast's SQLite online store.

Feast's ``write_to_online_store`` converts values column by column through generic type dispatch and
upserts one SQLite row per (entity, feature) with a separate ``execute``: Python work for every value,
minutes for 100k employees × 45 features. This writer produces the same rows (same table, entity-key
encoding, ``ValueProto`` bytes, ``value_text`` and epoch-second ``event_ts``), serialising each distinct
value of a column once, and hands SQLite one ``executemany`` per view in a single transaction over
ready-made Python lists, so no Python code runs per (entity, feature) row. Reads go through Feast.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd
from feast import FeatureView
from feast.infra.key_encoding_utils import serialize_entity_key
from feast.infra.online_stores.helpers import compute_table_id
from feast.protos.feast.types.EntityKey_pb2 import EntityKey
from feast.protos.feast.types.Value_pb2 import FloatList, Int64List, StringList, Value
from feast.repo_config import RepoConfig
from feast.types import Array, Bool, Float32, Float64, Int64, String

Encoded = tuple[bytes, str | None]
_NULL: Encoded = (Value().SerializeToString(), None)


def _scalar_encoder(field: str, text: Callable[[Any], str]) -> Callable[[Any], Encoded]:
    def encode(v: Any) -> Encoded:
        return Value(**{field: v}).SerializeToString(), text(v)

    return encode


def _list_encoder(field: str, list_type: Any) -> Callable[[Any], Encoded]:
    def encode(v: Any) -> Encoded:
        return Value(**{field: list_type(val=list(v))}).SerializeToString(), None

    return encode


def _encoder(dtype: Any) -> Callable[[Any], Encoded]:
    if dtype == String:
        return _scalar_encoder("string_val", str)
    if dtype == Int64:
        return _scalar_encoder("int64_val", lambda v: str(int(v)))
    if dtype == Float32:
        return _scalar_encoder("float_val", lambda v: str(float(v)))
    if dtype == Float64:
        return _scalar_encoder("double_val", lambda v: str(float(v)))
    if dtype == Bool:
        return _scalar_encoder("bool_val", lambda v: str(bool(v)))
    if dtype == Array(String):
        return _list_encoder("string_list_val", StringList)
    if dtype == Array(Int64):
        return _list_encoder("int64_list_val", Int64List)
    if dtype == Array(Float32):
        return _list_encoder("float_list_val", FloatList)
    raise TypeError(f"no SQLite encoder for feature type {dtype}")


def _encode_column(dtype: Any, values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(value bytes, value_text) per row of one feature column, each distinct value serialised once.

    Missing values (None, NaN, ``pd.NA``; a missing array) get the empty ``ValueProto``.
    """
    encode = _encoder(dtype)
    if isinstance(dtype, Array):  # arrays are not hashable: key them by their elements, as tuples
        keys = np.empty(len(values), dtype=object)  # (filled, not built from the list: no 2-D array)
        keys[:] = [None if v is None else tuple(v.tolist() if hasattr(v, "tolist") else v) for v in values]
        codes, uniques = pd.factorize(keys, use_na_sentinel=True)
    else:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
    uniques = uniques.tolist()
    encoded = [encode(u) for u in uniques] + [_NULL]  # code -1 (missing) takes the last entry
    blobs = np.array([e[0] for e in encoded], dtype=object)
    texts = np.array([e[1] for e in encoded], dtype=object)
    return blobs[codes], texts[codes]


def _rows(view: FeatureView, df: pd.DataFrame, version: int) -> Iterator[tuple]:
    """Feast's online rows for ``df``, entity by entity: (entity_key, feature_name, value, value_text,
    event_ts, created_ts)."""
    keys = [c.name for c in view.entity_columns]
    key_cols = [df[k].astype(str).tolist() for k in keys]
    blobs = np.empty(len(df), dtype=object)
    blobs[:] = [serialize_entity_key(EntityKey(join_keys=keys, entity_values=[Value(string_val=v) for v in kv]),
                                     entity_key_serialization_version=version)
                for kv in zip(*key_cols, strict=True)]
    ts = pd.to_datetime(df["event_timestamp"], utc=True).astype("datetime64[s, UTC]").astype("int64").to_numpy()
    names = np.array([f.name for f in view.features], dtype=object)
    values = np.empty((len(df), len(names)), dtype=object)
    texts = np.empty((len(df), len(names)), dtype=object)
    for j, f in enumerate(view.features):
        values[:, j], texts[:, j] = _encode_column(f.dtype, df[f.name])
    width = len(names)
    return zip(np.repeat(blobs, width).tolist(), np.tile(names, len(df)).tolist(), values.ravel().tolist(),
               texts.ravel().tolist(), np.repeat(ts, width).tolist(), repeat(None, len(df) * width), strict=True)


def write_latest(config: RepoConfig, view: FeatureView, df: pd.DataFrame) -> int:
    """Upsert ``df`` (entity keys, ``event_timestamp``, the view's features) into the view's SQLite table."""
    table = compute_table_id(config.project, view, config.registry.enable_online_feature_view_versioning)
    sql = (f'INSERT INTO "{table}" (entity_key, feature_name, value, value_text, event_ts, created_ts) '
           "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(entity_key, feature_name) DO UPDATE SET "
           "value = excluded.value, value_text = excluded.value_text, event_ts = excluded.event_ts, "
           "created_ts = excluded.created_ts")
    conn = sqlite3.connect(config.online_store.path)
    try:
        with conn:
            conn.executemany(sql, _rows(view, df, config.entity_key_serialization_version))
    finally:
        conn.close()
    return len(df)
