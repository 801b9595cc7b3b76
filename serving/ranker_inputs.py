"""The course ranker's inputs for one employee's candidates, without reading every candidate through Feast.

The ranker's feature service (``course_ranker_v1``) joins the employee's snapshot (``employee_monthly``), each
course's facts (``course_stats``), how peers in the employee's job take it (``job_course_stats``) and the
pair features of the on-demand view (``employee_course_match``). Reading it online for every candidate is
slow: Feast decodes every row and runs the on-demand view through its own machinery. Here:

- the employee's snapshot is read online per request (one entity row, as any endpoint does);
- the course-keyed views change only when the online store is written (``talentloop features materialize``),
  so :class:`RankerInputs` reads them online once, for every catalog course and every job × course, and
  keeps them as arrays; it reads them again, in the background, when the online store's file changes
  (SQLite) or when :meth:`RankerInputs.refresh` is called (an admin reload: the only signal for Redis);
- the pair features come from the on-demand view's own transformation, the UDF registered with Feast,
  called on the candidates' rows as Feast calls it.

Which features, views and transformation are used is read from the feature service in the registry, not
listed here. The result is the service's frame as a mapping of column → array, which ``CourseRanker`` reads
as it reads a DataFrame; ``tests/test_serving_ranker_inputs.py`` checks it equals the feature service's
online read value by value, with the same ``features_as_of`` and ``stale``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger("talentloop.serving")
EMPLOYEE_KEY, COURSE_KEY, JOB_KEY = "employee_id", "course_id", "job_id"
# what candidate generation, scope checks and reasons read from the employee's snapshot
EMPLOYEE_CONTEXT = ("org_unit_id", JOB_KEY, "skill_ids", "skill_gaps", "skill_required_levels",
                    "completed_course_ids")
RETRY_SECONDS = 5.0  # a failed background re-read is tried again after this long


@dataclass(frozen=True)
class EmployeeRow:
    """One employee's snapshot as read online: feature → value, and its event time (epoch seconds)."""

    employee_id: str
    values: dict[str, Any]
    ts: float


@dataclass(frozen=True)
class CandidateFrame:
    """The feature service's columns for one employee's candidates (column → array), and their age."""

    columns: dict[str, np.ndarray]
    features_as_of: datetime | None
    stale: bool


@dataclass(frozen=True)
class _View:
    """A course-keyed view read online for every key: ``index`` maps a key tuple to its row; the last row
    (position -1) stands for keys the online store does not hold (no values, timestamp 0)."""

    keys: tuple[str, ...]
    ttl: timedelta | None
    index: dict[tuple[str, ...], int]
    values: dict[str, np.ndarray]
    ts: np.ndarray

    def positions(self, rows: Sequence[tuple[str, ...]]) -> np.ndarray:
        get = self.index.get
        return np.fromiter((get(r, -1) for r in rows), dtype=np.int64, count=len(rows))


def _number(v: Any) -> bool:
    return isinstance(v, int | float | np.number | np.bool_)


def column(values: Sequence[Any]) -> np.ndarray:
    """Values as an array: floats when every value is a number or missing (None → NaN), objects otherwise."""
    if all(v is None or _number(v) for v in values):
        return np.array([np.nan if v is None else v for v in values], dtype=float)
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):  # element by element: a list stays one element
        out[i] = v
    return out


def _per_row_lists(odfv: Any) -> Callable[[dict], dict]:
    """The on-demand view's transformation as a python-mode view is called (column → one value per row, in and
    out); a pandas-mode one gets the columns as a DataFrame and its missing values come back as None."""
    udf = odfv.feature_transformation.udf
    if odfv.mode != "pandas":
        return udf
    if odfv.name == "employee_course_match":  # the same features row by row: fastest for one employee's candidates
        from features.feature_repo.definitions import employee_course_match_rows

        return employee_course_match_rows

    def call(inputs: dict) -> dict:
        import pandas as pd

        out = udf(pd.DataFrame(inputs))
        return {c: [None if v is pd.NA else v for v in out[c].tolist()] for c in out.columns}
    return call


def repeat(value: Any, n: int) -> np.ndarray:
    """``value`` on every one of ``n`` rows (as :func:`column` would hold it)."""
    if value is None or _number(value):
        return np.full(n, np.nan if value is None else float(value))
    out = np.empty(n, dtype=object)
    out.fill(value)
    return out


class RankerInputs:
    """Builds a feature service's frame for one employee's candidate courses (see the module docstring).

    ``store``: the serving FeatureStore; ``courses``: every course that can be a candidate; ``jobs``: every
    job id (keys of the job × course view); ``service_name``: the model's feature service.
    """

    def __init__(self, store: Any, service_name: str, courses: Sequence[str], jobs: Sequence[str],
                 online_path: Path | None = None):
        self.store = store
        self.service_name = service_name
        self.courses = list(courses)
        self.jobs = list(jobs)
        self.online_path = online_path
        service = store.get_feature_service(service_name)
        on_demand = {v.name: v for v in store.list_on_demand_feature_views()}
        self.columns: list[str] = []  # the service's features, in order
        # on-demand views: (udf, its source view → features, the outputs the service serves)
        self.transforms: list[tuple[Callable[[dict], dict], dict[str, list[str]], list[str]]] = []
        wanted: dict[str, list[str]] = {}  # stored view → features read from it
        for p in service.feature_view_projections:
            names = [f.name for f in p.features]
            self.columns += names
            if p.name in on_demand:
                odfv = on_demand[p.name]
                sources = {v.name: [f.name for f in v.features]
                           for v in odfv.source_feature_view_projections.values()}
                self.transforms.append((_per_row_lists(odfv), sources, names))
                for view, features in sources.items():
                    wanted.setdefault(view, []).extend(features)
            else:
                wanted.setdefault(p.name, []).extend(names)
        self.employee_view = ""
        self.course_views: dict[str, tuple[tuple[str, ...], list[str], timedelta | None]] = {}
        for name, features in wanted.items():
            view = store.get_feature_view(name)
            keys = tuple(view.join_keys)
            features = list(dict.fromkeys(features))
            if keys == (EMPLOYEE_KEY,):
                self.employee_view = name
                self.employee_features = list(dict.fromkeys([*EMPLOYEE_CONTEXT, *features]))
                self.employee_ttl = view.ttl
            elif keys in ((COURSE_KEY,), (JOB_KEY, COURSE_KEY)):
                self.course_views[name] = (keys, features, view.ttl)
            else:
                raise ValueError(f"feature service {service_name} reads view {name} keyed by {list(keys)}; "
                                 f"serving reads employee, course and job × course views only")
        if not self.employee_view:
            raise ValueError(f"feature service {service_name} reads no employee view")
        self._refs = [f"{self.employee_view}:{f}" for f in self.employee_features]
        self._served = set(self.columns)
        self._lock = threading.Lock()
        self._loading = False
        self._tried = 0.0
        self._version = self._store_version()
        self._views = self._read_views()

    # ------------------------------------------------------------------ per request
    def employee(self, employee_id: str) -> EmployeeRow | None:
        """The employee's snapshot read online; None when the online store holds no row for them."""
        self._check_fresh()
        data = self.store.get_online_features(features=self._refs, entity_rows=[{EMPLOYEE_KEY: employee_id}]
                                              ).to_dict(include_event_timestamps=True)
        ts = data[f"{self.employee_features[0]}__ts"][0]
        if not ts:
            return None
        return EmployeeRow(employee_id, {f: data[f][0] for f in self.employee_features}, float(ts))

    def frame(self, employee: EmployeeRow, candidates: Sequence[str], now: datetime | None = None
              ) -> CandidateFrame:
        """The service's columns for ``candidates`` (plus ``employee_id`` and ``course_id``), the oldest
        snapshot read and whether any is older than its view's TTL at ``now``."""
        n = len(candidates)
        views = self._views
        values = employee.values
        cols: dict[str, np.ndarray] = {EMPLOYEE_KEY: repeat(employee.employee_id, n),
                                       COURSE_KEY: column(list(candidates))}
        rows: dict[str, dict[str, np.ndarray]] = {}
        ages = [(employee.ts, self.employee_ttl)]
        for name, view in views.items():
            keys = [(values.get(JOB_KEY), c) for c in candidates] if view.keys == (JOB_KEY, COURSE_KEY) \
                else [(c,) for c in candidates]
            pos = view.positions(keys)
            rows[name] = {f: v[pos] for f, v in view.values.items()}
            present = view.ts[pos]
            present = present[present > 0]
            if len(present):
                ages.append((float(present.min()), view.ttl))
        cols.update({f: repeat(values[f], n) for f in self.employee_features if f in self._served})
        for view_rows in rows.values():
            cols.update({f: v for f, v in view_rows.items() if f in self._served})
        for udf, sources, outputs in self.transforms:  # called with what Feast gives it: values per row
            inputs = {}
            for view, features in sources.items():
                inputs.update({f: rows[view][f] if view in rows else [values[f]] * n for f in features})
            result = udf(inputs)
            for f in outputs:
                cols[f] = column(result[f])
        reference = now or datetime.now(UTC)
        oldest = min(ts for ts, _ in ages)
        stale = any(ttl and datetime.fromtimestamp(ts, tz=UTC) + ttl < reference for ts, ttl in ages)
        return CandidateFrame(cols, datetime.fromtimestamp(oldest, tz=UTC), bool(stale))

    # ------------------------------------------------------------------ the cached views
    def refresh(self) -> None:
        """Read the course-keyed views again now (e.g. after a materialize into Redis)."""
        version = self._store_version()
        self._views = self._read_views()
        self._version = version

    def _read_views(self) -> dict[str, _View]:
        out = {}
        for name, (keys, features, ttl) in self.course_views.items():
            rows = ([(j, c) for j in self.jobs for c in self.courses] if keys == (JOB_KEY, COURSE_KEY)
                    else [(c,) for c in self.courses])
            data = {f"{features[0]}__ts": [], **{f: [] for f in features}}
            if rows:
                data = self.store.get_online_features(
                    features=[f"{name}:{f}" for f in features],
                    entity_rows=[dict(zip(keys, r, strict=True)) for r in rows],
                ).to_dict(include_event_timestamps=True)
            ts = [t or 0 for t in data[f"{features[0]}__ts"]]
            values = {f: column([*data[f], None]) for f in features}  # + the row standing for absent keys
            out[name] = _View(keys, ttl, {r: i for i, r in enumerate(rows)}, values,
                              np.array([*ts, 0], dtype=float))
        return out

    def _store_version(self) -> tuple[int, int] | None:
        """What changes when the SQLite online store is written (None for a store without a file)."""
        if self.online_path is None:
            return None
        try:
            st = os.stat(self.online_path)
        except FileNotFoundError:
            return None
        return st.st_mtime_ns, st.st_size

    def _check_fresh(self) -> None:
        """Start a background re-read when the online store changed (requests keep the arrays they have)."""
        if self.online_path is None or self._store_version() == self._version:
            return
        with self._lock:
            if self._loading or time.monotonic() - self._tried < RETRY_SECONDS:
                return
            self._loading, self._tried = True, time.monotonic()
        threading.Thread(target=self._reload, name="ranker-views", daemon=True).start()

    def _reload(self) -> None:
        try:
            self.refresh()
            log.info("course views re-read for %s after an online store change", self.service_name)
        except Exception:  # the old arrays stay in use; tried again after RETRY_SECONDS
            log.exception("course views of %s could not be re-read", self.service_name)
        finally:
            self._loading = False
