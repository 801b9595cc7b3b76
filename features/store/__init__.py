"""The feature store of TalentLoop: apply the definitions, fill the online store, read features.

Training reads ``historical_features`` (point-in-time joins in Feast's DuckDB offline store, labels as the
entity frame); serving reads ``online_features`` from the same feature services. Feast does not apply TTL
online, so :class:`OnlineFeatures` carries ``features_as_of`` and a ``stale`` flag computed here.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import uuid
import weakref
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from features.build import FEATURE_TABLES, feature_path
from features.settings import Settings

if TYPE_CHECKING:
    from feast import FeatureStore

EVENT_TIMESTAMP = "event_timestamp"


def feature_store(settings: Settings) -> FeatureStore:
    """A FeatureStore over the workspace of ``settings`` (call :func:`apply` once before reading)."""
    from feast import FeatureStore

    from features.feature_repo.config import repo_config

    return FeatureStore(config=repo_config(settings))


def apply(settings: Settings) -> dict[str, int]:
    """Register every entity, view and service in the registry; returns object counts by kind."""
    settings.feast_dir.mkdir(parents=True, exist_ok=True)
    from features.feature_repo.definitions import repo_objects

    objects = repo_objects(settings.feature_dir.resolve())
    store = feature_store(settings)
    store.apply(list(objects.values()))
    counts: dict[str, int] = {}
    for obj in objects.values():
        kind = type(obj).__name__
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def _latest_rows(path: Path, keys: tuple[str, ...], as_of: pd.Timestamp | None) -> pd.DataFrame:
    """The newest snapshot per entity (at or before ``as_of`` when given)."""
    where = ""
    params: list[Any] = []
    if as_of is not None:
        where = f"WHERE {EVENT_TIMESTAMP} <= ?"
        params.append(_utc(as_of).to_pydatetime())
    con = duckdb.connect()
    try:
        return con.execute(
            f"SELECT * FROM read_parquet(?) {where} QUALIFY row_number() OVER "
            f"(PARTITION BY {', '.join(keys)} ORDER BY {EVENT_TIMESTAMP} DESC) = 1",
            [str(path), *params],
        ).df()
    finally:
        con.close()


def materialize(settings: Settings, as_of: pd.Timestamp | str | None = None) -> dict[str, int]:
    """Write the newest snapshot of every entity to the online store; returns rows written per view.

    Serving only needs the latest values, so this skips Feast's full-history ``materialize`` (close to two
    minutes for 100k employees × 24 months into SQLite, under a minute into Redis). SQLite gets a bulk writer producing Feast's own
    row format (:mod:`features.store.sqlite_writer`); Redis gets Feast's ``write_to_online_store``.
    """
    store = feature_store(settings)
    cutoff = None if as_of is None else _utc(as_of)
    written: dict[str, int] = {}
    for table, keys in FEATURE_TABLES.items():
        path = feature_path(settings.feature_dir, table)
        if not path.exists():
            raise FileNotFoundError(f"feature table {path} is missing: run `talentloop features build` first")
        latest = _latest_rows(path, keys, cutoff)
        if latest.empty:
            written[table] = 0
        elif settings.online_store == "sqlite":
            from features.store.sqlite_writer import write_latest

            written[table] = write_latest(store.config, store.get_feature_view(table), latest)
        else:
            store.write_to_online_store(table, latest)
            written[table] = len(latest)
    return written


def _utc(ts: Any) -> pd.Timestamp:
    out = pd.Timestamp(ts)
    if pd.isna(out):
        raise ValueError(f"expected a timestamp, got {ts!r}")
    return out.tz_localize("UTC") if out.tzinfo is None else out.tz_convert("UTC")


@lru_cache(maxsize=1)
def _definitions() -> dict[str, Any]:
    """The repo's objects for name and schema look-ups (source paths are irrelevant here)."""
    from features.feature_repo.definitions import repo_objects

    return repo_objects(Path("."))


def _service(service_name: str) -> Any:
    from features.feature_repo.services import FEATURE_SERVICES

    if service_name not in FEATURE_SERVICES:
        raise KeyError(f"unknown feature service {service_name!r}; services are {', '.join(FEATURE_SERVICES)}")
    return _definitions()[service_name]


@lru_cache(maxsize=16)
def _columns(service_name: str) -> tuple[str, ...]:
    return tuple(f.name for p in _service(service_name).feature_view_projections for f in p.features)


def feature_columns(service_name: str) -> list[str]:
    """The ordered model input columns of a feature service, from the definitions (no store needed)."""
    return list(_columns(service_name))


@lru_cache(maxsize=16)
def _entity_keys(service_name: str) -> tuple[str, ...]:
    """Join keys an entity frame or entity row needs for ``service_name``."""
    objects = _definitions()
    keys: list[str] = []
    for p in _service(service_name).feature_view_projections:
        view = objects[p.name]
        sources = getattr(view, "source_feature_view_projections", None)
        views = [objects[s.name] for s in sources.values()] if sources else [view]
        for v in views:
            for entity in v.entities:
                key = objects[entity].join_key
                if key not in keys:
                    keys.append(key)
    return tuple(keys)


def service_entity_keys(service_name: str) -> list[str]:
    """Join keys an entity frame or entity row needs for ``service_name``."""
    return list(_entity_keys(service_name))


def historical_features(settings: Settings, entity_df: pd.DataFrame, service_name: str) -> pd.DataFrame:
    """Point-in-time features of ``service_name`` for each row of ``entity_df`` (rows kept in order).

    ``entity_df`` holds the service's entity keys and ``event_timestamp``; other columns (labels) pass
    through. Each row gets the newest snapshot at or before its timestamp and within the view's TTL.
    """
    missing = [c for c in [*service_entity_keys(service_name), EVENT_TIMESTAMP] if c not in entity_df.columns]
    if missing:
        raise ValueError(f"entity_df lacks column(s) {missing} needed by feature service {service_name!r}")
    order = f"__row_{uuid.uuid4().hex[:6]}"
    frame = entity_df.copy()
    frame[EVENT_TIMESTAMP] = pd.to_datetime(frame[EVENT_TIMESTAMP], utc=True).astype("datetime64[us, UTC]")
    frame[order] = range(len(frame))
    store = feature_store(settings)
    result = store.get_historical_features(entity_df=frame, features=store.get_feature_service(service_name)).to_df()
    result = result.sort_values(order).drop(columns=order).reset_index(drop=True)
    return result[[*entity_df.columns, *feature_columns(service_name)]]


@dataclass(frozen=True)
class OnlineFeatures:
    """Features read online for some entity rows, with their age.

    ``values`` maps each feature (feature-service order) to one value per entity row; ``features_as_of``
    is the oldest snapshot time among the views read; ``stale`` is True when a value is older than its
    view's TTL at ``as_of`` (default: now); ``missing`` names views with no row for some entity row.
    """

    values: dict[str, list[Any]]
    features_as_of: datetime | None
    stale: bool
    missing: tuple[str, ...] = field(default=())

    def frame(self) -> pd.DataFrame:
        """The values as a frame, one row per entity row."""
        return pd.DataFrame(self.values)


@lru_cache(maxsize=16)
def _feature_views_and_ttl(service_name: str) -> tuple[tuple[str, str, timedelta | None], ...]:
    """(feature, view, ttl) for the features of a service that come from stored views."""
    objects = _definitions()
    out = []
    for p in _service(service_name).feature_view_projections:
        ttl = getattr(objects[p.name], "ttl", None)
        if hasattr(objects[p.name], "source_feature_view_projections"):
            continue  # on-demand: computed from the views read, no timestamp of its own
        out.extend((f.name, p.name, ttl) for f in p.features)
    return tuple(out)


_SERVICES: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def _service_of(store: FeatureStore, service_name: str) -> Any:
    """The store's FeatureService object, looked up once per store (rebuilding it from the registry proto
    costs several times the online read itself)."""
    services = _SERVICES.setdefault(store, {})
    if service_name not in services:
        services[service_name] = store.get_feature_service(service_name, allow_cache=True)
    return services[service_name]


def online_features(store: FeatureStore, service_name: str, entity_rows: list[dict[str, Any]],
                    as_of: datetime | pd.Timestamp | None = None) -> OnlineFeatures:
    """Read ``service_name`` for ``entity_rows`` from the online store and flag stale values."""
    if not entity_rows:
        raise ValueError("entity_rows is empty: give at least one entity row")
    needed = service_entity_keys(service_name)
    absent = [k for k in needed if k not in entity_rows[0]]
    if absent:
        raise ValueError(f"entity_rows lack key(s) {absent} needed by feature service {service_name!r}")
    response = store.get_online_features(features=_service_of(store, service_name), entity_rows=entity_rows)
    data = response.to_dict(include_event_timestamps=True)
    # plain datetime arithmetic: this runs on every request
    reference = _utc(as_of).to_pydatetime() if as_of is not None else datetime.now(UTC)
    oldest: int | None = None
    stale = False
    missing: list[str] = []
    seen_views: set[str] = set()
    for feature, view, ttl in _feature_views_and_ttl(service_name):
        if view in seen_views:
            continue
        seen_views.add(view)
        for ts, value in zip(data[f"{feature}__ts"], data[feature], strict=True):
            if not ts and value is None:
                missing.append(view)
                continue
            oldest = ts if oldest is None else min(oldest, ts)
            if ttl and datetime.fromtimestamp(ts, tz=UTC) + ttl < reference:
                stale = True
    values = {name: data[name] for name in feature_columns(service_name)}
    as_of_ts = None if oldest is None else datetime.fromtimestamp(oldest, tz=UTC)
    return OnlineFeatures(values=values, features_as_of=as_of_ts, stale=stale,
                          missing=tuple(dict.fromkeys(missing)))


def erase_employee_features(settings: Settings, employee_id: str) -> dict[str, int]:
    """Remove one employee from the feature files and the online store; returns rows removed per place."""
    if not isinstance(employee_id, str) or not employee_id:
        raise ValueError(f"employee_id must be a non-empty string, got {employee_id!r}")
    removed: dict[str, int] = {}
    for table, keys in FEATURE_TABLES.items():
        path = feature_path(settings.feature_dir, table)
        if "employee_id" not in keys or not path.exists():
            continue
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        con = duckdb.connect()
        try:
            (n,), = con.execute("SELECT count(*) FROM read_parquet(?) WHERE employee_id = ?",
                                [str(path), employee_id]).fetchall()
            if n:
                con.execute(f"COPY (SELECT * FROM read_parquet('{path}') WHERE employee_id <> $id) "
                            f"TO '{tmp}' (FORMAT parquet, COMPRESSION zstd)", {"id": employee_id}).fetchall()
                os.replace(tmp, path)
        finally:
            con.close()
            tmp.unlink(missing_ok=True)
        removed[f"offline:{table}"] = int(n)
    removed["online:employee_monthly"] = _erase_online(settings, employee_id)
    return removed


def _erase_online(settings: Settings, employee_id: str) -> int:
    from feast.infra.key_encoding_utils import serialize_entity_key
    from feast.protos.feast.types.EntityKey_pb2 import EntityKey
    from feast.protos.feast.types.Value_pb2 import Value

    from features.feature_repo.config import PROJECT, repo_config

    config = repo_config(settings)
    key = EntityKey(join_keys=["employee_id"], entity_values=[Value(string_val=employee_id)])
    if settings.online_store == "redis":
        import redis
        from feast.infra.online_stores.helpers import _redis_key

        host, _, rest = settings.redis_connection_string.partition(":")
        port = int(rest.split(",")[0] or 6379)
        client = redis.Redis(host=host, port=port)
        return int(client.delete(_redis_key(PROJECT, key, config.entity_key_serialization_version)))
    db = Path(config.online_store.path)
    if not db.exists():
        return 0
    blob = serialize_entity_key(key, entity_key_serialization_version=config.entity_key_serialization_version)
    with sqlite3.connect(db) as conn:
        n = 0
        for table in ("employee_monthly", "talent_pool_monthly"):  # every employee-keyed view
            with contextlib.suppress(sqlite3.OperationalError):  # the view was never materialized
                n += conn.execute(f'DELETE FROM "{PROJECT}_{table}" WHERE entity_key = ?', (blob,)).rowcount
        return n
