"""Bulk writes of the newest snapshots into Feast's SQLite online store.

Feast's ``write_to_online_store`` converts values column by column through generic type dispatch and
upserts one SQLite row per (entity, feature) with a separate ``execute``: ~50 µs per value here, i.e.
minutes for 100k employees × 45 features. This writer produces the same rows (same table, entity-key
encoding, ``ValueProto`` bytes, ``value_text`` and epoch-second ``event_ts``) with cached serialisation
per distinct value and one ``executemany`` per view in a single transaction. Reads go through Feast.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

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


def _is_null(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def _scalar_encoder(field: str, text: Callable[[Any], str]) -> Callable[[Any], Encoded]:
    cache: dict[Any, Encoded] = {}

    def encode(v: Any) -> Encoded:
        if _is_null(v):
            return _NULL
        hit = cache.get(v)
        if hit is None:
            hit = cache[v] = (Value(**{field: v}).SerializeToString(), text(v))
        return hit

    return encode


def _list_encoder(field: str, list_type: Any) -> Callable[[Any], Encoded]:
    cache: dict[tuple, Encoded] = {}

    def encode(v: Any) -> Encoded:
        if v is None:
            return _NULL
        key = tuple(v.tolist() if hasattr(v, "tolist") else v)
        hit = cache.get(key)
        if hit is None:
            hit = cache[key] = (Value(**{field: list_type(val=list(key))}).SerializeToString(), None)
        return hit

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


def _rows(view: FeatureView, df: pd.DataFrame, version: int) -> Iterable[tuple]:
    keys = [c.name for c in view.entity_columns]
    key_cols = [df[k].astype(str).tolist() for k in keys]
    ts = pd.to_datetime(df["event_timestamp"], utc=True).astype("datetime64[s, UTC]").astype("int64").tolist()
    columns = [(f.name, _encoder(f.dtype), df[f.name].tolist()) for f in view.features]
    for i in range(len(df)):
        entity = EntityKey(join_keys=keys, entity_values=[Value(string_val=c[i]) for c in key_cols])
        blob = serialize_entity_key(entity, entity_key_serialization_version=version)
        for name, encode, values in columns:
            value, text = encode(values[i])
            yield (blob, name, value, text, ts[i], None)


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
