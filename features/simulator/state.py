"""The simulation state: a calendar, per-employee arrays (grown on demand) and an append-only event log.

Employees are integer indices; the feed id of index ``i`` is ``E{i+1:07d}``. Dates are integer days since
1970-01-01 until the tables are written.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

EVENT_CODES = ("hire", "promotion", "transfer", "pay_change", "manager_change", "termination")
HIRE, PROMOTION, TRANSFER, PAY_CHANGE, MANAGER_CHANGE, TERMINATION = range(6)
NO_TERM, VOLUNTARY, INVOLUNTARY = 0, 1, 2


@dataclass(frozen=True)
class Calendar:
    """Month ``m`` of the simulation starts on ``month_start[m]`` (days since epoch)."""

    start: np.datetime64  # datetime64[M]
    months: int

    @property
    def month_start(self) -> np.ndarray:
        return (self.start + np.arange(self.months + 1)).astype("datetime64[D]").astype(np.int64)

    def first_day(self, m: int) -> int:
        return int((self.start + m).astype("datetime64[D]").astype(np.int64))

    def days_in(self, m: int) -> int:
        return self.first_day(m + 1) - self.first_day(m)

    def calendar_month(self, m: int) -> int:
        return int((self.start + m).astype(int) % 12) + 1

    def year(self, m: int) -> int:
        return int((self.start + m).astype(int) // 12) + 1970

    @property
    def end_day(self) -> int:
        """Last day of the window."""
        return self.first_day(self.months) - 1

    def random_days(self, m: int, n: int, rng: np.random.Generator, lo: int = 1, hi: int | None = None) -> np.ndarray:
        """Random days of month ``m`` with day-of-month in [lo, hi] (default: the whole month)."""
        hi = self.days_in(m) if hi is None else hi
        return self.first_day(m) + rng.integers(lo - 1, hi, n)


_SPEC: dict[str, tuple[type, object]] = {
    "active": (np.bool_, False), "hire_day": (np.int64, 0), "term_day": (np.int64, -1),
    "unit": (np.int32, -1), "job": (np.int32, -1), "pay": (np.float64, 0.0),
    "last_promo_m": (np.int32, -999), "last_mgr_change_m": (np.int32, -999), "last_weak_m": (np.int32, -999),
    "last_train_m": (np.int32, -999), "job_since_m": (np.int32, 0),
    "engagement": (np.float32, 0.0), "engagement0": (np.float32, 0.0), "pull_mean": (np.float32, 0.0),
    "pull": (np.float32, 0.0), "fmt_pref": (np.int8, 0), "leniency": (np.float32, 0.0),
    "last_rating": (np.int8, 0), "prev_rating": (np.int8, 0), "points": (np.int64, 0),
    "birth_year": (np.int32, 0), "sex": (np.int8, 0), "ethnicity": (np.int8, 0), "marital": (np.int8, 0),
    "nationality": (np.int8, 0), "is_head": (np.bool_, False),
    # latent potential (truth only): lifts the promotion odds and the pace of learning on the job
    "potential": (np.float32, 0.0),
}


@dataclass
class Workforce:
    """Per-employee arrays of capacity ``cap``; ``n`` is how many indices are used."""

    n_skills: int
    cap: int
    n: int = 0
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    skills: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))

    def __post_init__(self) -> None:
        self.arrays = {k: np.full(self.cap, fill, dtype=dt) for k, (dt, fill) in _SPEC.items()}
        self.skills = np.zeros((self.cap, self.n_skills), np.float32)

    def __getattr__(self, name: str) -> np.ndarray:
        arrays = self.__dict__.get("arrays")
        if arrays is not None and name in arrays:
            return arrays[name]
        raise AttributeError(name)

    def add(self, count: int) -> np.ndarray:
        """Reserve ``count`` new employee indices (growing the arrays when needed) and return them."""
        if self.n + count > self.cap:
            new_cap = max(self.cap * 2, self.n + count)
            for k, (dt, fill) in _SPEC.items():
                grown = np.full(new_cap, fill, dtype=dt)
                grown[: self.cap] = self.arrays[k]
                self.arrays[k] = grown
            sk = np.zeros((new_cap, self.n_skills), np.float32)
            sk[: self.cap] = self.skills
            self.skills = sk
            self.cap = new_cap
        idx = np.arange(self.n, self.n + count)
        self.n += count
        return idx

    def active_idx(self) -> np.ndarray:
        return np.flatnonzero(self.arrays["active"][: self.n])


def employee_ids(idx: np.ndarray) -> np.ndarray:
    """Feed ids for employee indices."""
    return np.char.add("E", np.char.zfill(np.asarray(idx + 1).astype(str), 7))


@dataclass
class EventLog:
    """Employment events, appended in chunks of arrays and concatenated once at the end."""

    chunks: list[dict[str, np.ndarray]] = field(default_factory=list)

    def add(self, kind: int, emp: np.ndarray, day: np.ndarray, unit: np.ndarray, job: np.ndarray,
            manager: np.ndarray, pay: np.ndarray, term: np.ndarray | None = None,
            reason: np.ndarray | None = None) -> None:
        n = len(emp)
        if n == 0:
            return
        self.chunks.append({
            "emp": np.asarray(emp, np.int64), "day": np.broadcast_to(np.asarray(day, np.int64), n).copy(),
            "kind": np.full(n, kind, np.int8), "unit": np.asarray(unit, np.int32).copy(),
            "job": np.asarray(job, np.int32).copy(), "manager": np.asarray(manager, np.int64).copy(),
            "pay": np.asarray(pay, np.float64).copy(),
            "term": np.zeros(n, np.int8) if term is None else np.broadcast_to(np.asarray(term, np.int8), n).copy(),
            "reason": np.full(n, -1, np.int8) if reason is None else np.broadcast_to(np.asarray(reason, np.int8), n).copy(),
        })

    def concat(self) -> dict[str, np.ndarray]:
        keys = ("emp", "day", "kind", "unit", "job", "manager", "pay", "term", "reason")
        if not self.chunks:
            return {k: np.zeros(0) for k in keys}
        return {k: np.concatenate([c[k] for c in self.chunks]) for k in keys}
