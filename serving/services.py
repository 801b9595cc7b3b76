"""What the app holds while it runs: models, feature store, org tree, keys, audit log, alert store.

Built in the lifespan (:func:`build`), never at import. Nothing here computes features: online reads go
through ``features.store.online_features`` with the feature service each model was trained with.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from features import app_db
from features.feature_repo.services import ATTRITION_SERVICE, EMPLOYEE_CONTEXT_SERVICE
from features.settings import Settings
from serving import audit
from serving import auth as auth_mod
from serving.catalog import Catalog, load_catalog, load_demand_history, load_skill_holders
from serving.ranker_inputs import RankerInputs
from serving.registry import ModelRegistry, mlflow_loader, mlflow_resolver

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger("talentloop.serving")


class CachedFeatureStore:
    """A FeatureStore whose feature services are resolved once.

    ``FeatureStore.get_feature_service`` re-reads the registry on every call by default, and that refresh
    also clears Feast's per-service request-context cache, which then dominates an online read. Serving
    resolves each service once (definitions change only with ``talentloop features apply`` + a restart or
    reload). Everything else is delegated.
    """

    def __init__(self, store: Any):
        self._store = store
        self.opened_inode: tuple[int, int] | None = None  # the SQLite online store file this store opened
        self._services: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get_feature_service(self, name: str, allow_cache: bool = True) -> Any:
        found = self._services.get(name)
        if found is None:
            with self._lock:
                found = self._store.get_feature_service(name, allow_cache=True)
                self._services = {**self._services, name: found}
        return found

    def refresh(self) -> None:
        self._store.refresh_registry()
        self._services = {}

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._store, attr)


@dataclass
class Services:
    settings: Settings
    registry: ModelRegistry
    tree: auth_mod.OrgTree
    keys: auth_mod.KeyStore
    audit: audit.AuditLog
    db: sqlite3.Connection
    store: CachedFeatureStore | None = None
    store_error: str | None = None
    catalog: Catalog | None = None  # course catalog for candidate generation
    demand_history: pd.DataFrame | None = None  # skill-demand series history (see serving.catalog)
    skill_holders: pd.DataFrame | None = None  # who holds each required skill now (skill-demand supply)
    db_lock: threading.Lock = field(default_factory=threading.Lock)
    checkpointer: app_db.Checkpointer | None = None  # copies the app database's WAL back off the request path
    _ranker_inputs: dict[str, RankerInputs] = field(default_factory=dict, init=False, repr=False)
    _inputs_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _probe: tuple[float, dict[str, str]] = field(default=(0.0, {}), init=False, repr=False)
    _probe_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def ranker_inputs(self, service_name: str) -> RankerInputs:
        """The course ranker's input builder for ``service_name`` (made once per service: reads the course
        views online, ~1 s; the champion's is made at start-up)."""
        found = self._ranker_inputs.get(service_name)
        if found is None:
            if self.store is None:
                raise RuntimeError(f"the feature store is not available: {self.store_error}")
            with self._inputs_lock:
                found = self._ranker_inputs.get(service_name)
                if found is None:
                    online = getattr(self.store.config.online_store, "path", None)  # SQLite only
                    found = RankerInputs(self.store, service_name, self.catalog.course_ids, self.catalog.job_ids,
                                         Path(online) if online else None)
                    self._ranker_inputs = {**self._ranker_inputs, service_name: found}
        return found

    def refresh_views(self) -> None:
        """Read the cached online views again (after a materialize into a store without a file to watch)."""
        for inputs in self._ranker_inputs.values():
            inputs.refresh()

    def reopen_store(self) -> None:
        """Open the feature store again (after its files were restored or replaced): a store opened earlier
        keeps reading the file it opened, even when that file was deleted."""
        store, error = _feature_store(self.settings)
        with self._inputs_lock:
            self.store, self.store_error = store, error
            self._ranker_inputs = {}
        self._probe = (0.0, {})
        if store is not None and "course_ranker" in self.registry.loaded():
            try:
                self.ranker_inputs(self.registry.get("course_ranker").model.feature_service_)
            except Exception as exc:  # noqa: BLE001 - reported by /readyz
                log.warning("course views not readable after reopening the store: %s", exc)

    def reload(self) -> dict[str, str]:
        """In this worker: load the models whose alias moved, reopen the feature store, read the views again."""
        report = self.registry.reload()
        self.reopen_store()
        return report

    def stores(self) -> dict[str, str]:
        """Each store's state: 'ok' or why it is not usable. Checked for real (a cheap query on each store),
        at most once per :data:`PROBE_SECONDS` per worker."""
        import time

        at, cached = self._probe
        if cached and time.monotonic() - at < PROBE_SECONDS:
            return cached
        with self._probe_lock:
            at, cached = self._probe
            if cached and time.monotonic() - at < PROBE_SECONDS:
                return cached
            result = {
                "feature_store": self._probe_feature_store(),
                "org_tree": "ok" if len(self.tree) else "missing: no org units ingested",
                "app_db": self._probe_app_db(),
                "model_registry": _probe_sqlite(self.settings.tracking_uri, "SELECT 1 FROM registered_models LIMIT 1"),
            }
            self._probe = (time.monotonic(), result)
            return result

    def _probe_feature_store(self) -> str:
        if self.store is None:
            return f"missing: {self.store_error}"
        registry_file = self.settings.feast_dir / "registry.db"
        if not registry_file.is_file() or registry_file.stat().st_size == 0:
            return f"missing: the Feast registry {registry_file.name} is gone or empty"
        online = getattr(self.store.config.online_store, "path", None)
        if online is None:  # Redis: one read through the store
            try:
                from features.store import online_features

                online_features(self.store, EMPLOYEE_CONTEXT_SERVICE, [{"employee_id": "__readyz__"}])
                return "ok"
            except Exception as exc:  # noqa: BLE001
                return f"unreadable: {str(exc).splitlines()[0][:200]}"
        path = Path(online)
        if not path.is_file():
            return f"missing: the online store {path.name} is gone (restore it and reload)"
        from features.feature_repo.config import PROJECT

        return _probe_sqlite(f"sqlite:///{path}", f'SELECT 1 FROM "{PROJECT}_employee_monthly" LIMIT 1',
                             opened=getattr(self.store, "opened_inode", None))

    def _probe_app_db(self) -> str:
        try:
            with self.db_lock:
                self.db.execute("SELECT 1 FROM api_keys LIMIT 1").fetchall()
            return "ok"
        except sqlite3.Error as exc:
            return f"unreadable: {exc}"

    def close(self) -> None:
        self.registry.stop()
        self.db.close()
        if self.checkpointer is not None:
            self.checkpointer.stop()


def _feature_store(settings: Settings) -> tuple[CachedFeatureStore | None, str | None]:
    registry_file = settings.feast_dir / "registry.db"
    if not registry_file.exists():
        return None, f"no Feast registry at {registry_file}: run `talentloop features apply` and `materialize`"
    try:
        from features.store import feature_store, online_features

        store = CachedFeatureStore(feature_store(settings))
        online = getattr(store.config.online_store, "path", None)
        if online is not None:
            if not Path(online).is_file():
                return None, f"no online store at {online}: run `talentloop features materialize`"
            st = Path(online).stat()
            store.opened_inode = (st.st_dev, st.st_ino)
        for service in (ATTRITION_SERVICE, EMPLOYEE_CONTEXT_SERVICE):
            online_features(store, service, [{"employee_id": "__warm_up__"}])  # resolves and caches the service
        return store, None
    except Exception as exc:  # noqa: BLE001 - reported by /readyz
        log.warning("feature store not usable: %s", exc)
        return None, str(exc).splitlines()[0][:300]


PROBE_SECONDS = 1.0  # /readyz queries the stores at most this often per worker


def _probe_sqlite(uri: str, query: str, opened: tuple[int, int] | None = None) -> str:
    """'ok' when the SQLite database of ``uri`` answers ``query`` (read-only, never created); other URIs 'ok'.
    ``opened`` (device, inode) is the file the worker has open: a file replaced since needs a reload."""
    if not uri.startswith("sqlite:///"):
        return "ok"
    path = Path(uri[len("sqlite:///"):])
    if not path.is_file():
        return f"missing: {path.name} is gone"
    st = path.stat()
    if opened is not None and (st.st_dev, st.st_ino) != opened:
        return f"stale: {path.name} was replaced since this worker opened it (request a reload)"
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            con.execute(query).fetchall()
        finally:
            con.close()
        return "ok"
    except sqlite3.Error as exc:
        return f"unreadable: {path.name}: {exc}"


def reload_signal(settings: Settings) -> Path:
    """The workspace file through which a reload asked of one worker reaches every worker."""
    return settings.home / "serving-reload.token"


def build(settings: Settings, reload_seconds: float = 0.0, registry: ModelRegistry | None = None) -> Services:
    """Open the stores and load the models (slow: seconds). Called by the app's lifespan."""
    from features.offline import read_clean
    from features.workspace import relocate

    relocate(settings)  # a copied or restored workspace reads its own artifacts, never the original's
    # scores, notes, key hashes, audit log: every table, user-only; the WAL is checkpointed by a background
    # thread, not inside the commit of whichever request crosses 1,000 pages
    db = app_db.connect(settings.app_db, autocheckpoint=False)
    tree = auth_mod.OrgTree(read_clean(settings, "org_units"))
    store, store_error = _feature_store(settings)
    if registry is None:
        registry = ModelRegistry(mlflow_loader(settings.tracking_uri), mlflow_resolver(settings.tracking_uri))
    registry.load_all()
    registry.start_polling(reload_seconds)
    lock = threading.Lock()  # one connection, one lock: alerts, keys and audit share it
    svc = Services(settings=settings, registry=registry, tree=tree, keys=auth_mod.KeyStore(db, tree, lock),
                   audit=audit.AuditLog(db, lock), db=db, store=store, store_error=store_error, db_lock=lock,
                   checkpointer=app_db.Checkpointer(settings.app_db))
    svc.catalog = load_catalog(settings)
    if store is not None and "course_ranker" in registry.loaded():
        svc.ranker_inputs(registry.get("course_ranker").model.feature_service_)
    if "skill_demand" in registry.loaded():
        svc.demand_history = load_demand_history(settings, registry.get("skill_demand").model)
        svc.skill_holders = load_skill_holders(settings)
    return svc
