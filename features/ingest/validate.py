"""Row checks generated from the contract declaration: one generic code path for every table.

A row's fate is held in :class:`RowStatus`: accepted, an exact duplicate, or quarantined with one primary
reason (the first failing check in the order of :data:`REASONS`, columns in contract order) and its column.
All checks are vectorised masks over the whole table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.contract import Table
from features.ingest.normalise import fold_case, isin, map_values, parse_column, trim

REASONS: tuple[str, ...] = ("malformed_row", "bad_type", "bad_date", "missing_value", "not_allowed",
                            "out_of_range", "future_date", "duplicate_key", "unknown_reference")
_CODE = {r: i + 1 for i, r in enumerate(REASONS)}
DUPLICATE = 100  # status code of an exact duplicate (counted, kept once)
DRIFT_SHARE = 0.5  # a column where more than this share of non-empty values fails to parse has drifted
DRIFT_MIN_ROWS = 3  # ... and at least this many values fail (a single bad value is a row problem)
FUTURE_OK = frozenset({("headcount_plans", "plan_month")})  # dates that are about the future by nature


@dataclass
class RowStatus:
    """Per-row outcome: 0 accepted, DUPLICATE, else a reason code; ``column`` indexes the table's columns."""

    code: np.ndarray
    column: np.ndarray

    @classmethod
    def new(cls, n: int) -> RowStatus:
        return cls(np.zeros(n, dtype=np.int8), np.full(n, -1, dtype=np.int16))

    @property
    def accepted(self) -> np.ndarray:
        return self.code == 0

    @property
    def quarantined(self) -> np.ndarray:
        return (self.code > 0) & (self.code != DUPLICATE)

    def mark(self, mask: np.ndarray, reason: str, column: int = -1) -> int:
        """Give still-accepted rows in ``mask`` this reason; returns how many were newly marked."""
        new = np.asarray(mask, dtype=bool) & (self.code == 0)
        self.code[new] = DUPLICATE if reason == "duplicate" else _CODE[reason]
        self.column[new] = column
        return int(new.sum())

    def reason_counts(self) -> dict[str, int]:
        counts = np.bincount(self.code[self.quarantined], minlength=len(REASONS) + 1)
        return {r: int(counts[_CODE[r]]) for r in REASONS if counts[_CODE[r]]}


def reason_name(code: int) -> str:
    return REASONS[code - 1]


@dataclass
class Drift:
    """A contract column most of whose values fail to parse: the export changed the column's type."""

    column: str
    failed: int
    non_empty: int
    example: str


def normalise_table(strings: pd.DataFrame, table: Table, values: dict[str, dict[str, str]],
                    date_formats: list[str], unknown: dict[str, str] | None = None,
                    unknown_mapped: dict[str, int] | None = None) -> tuple[pd.DataFrame, RowStatus, list[Drift]]:
    """Trim, map value codes, fold case of coded values, map unknown codes and parse every contract column;
    then fill empty values of columns with a fallback (a Chinese name from the English one).

    ``strings`` holds the contract's column names (absent optional columns already added as empty).
    ``unknown`` maps a coded column to the value any code it does not allow becomes (instead of
    quarantining the row); how many values each column had mapped so is added to ``unknown_mapped``.
    Returns the typed frame, the status with ``bad_type`` / ``bad_date`` marked, and drifted columns.
    """
    unknown = unknown or {}
    unknown_mapped = {} if unknown_mapped is None else unknown_mapped
    status = RowStatus.new(len(strings))
    typed = pd.DataFrame(index=strings.index)
    drifts: list[Drift] = []
    for i, col in enumerate(table.columns):
        s = map_values(trim(strings[col.name]), values.get(col.name, {}))
        if col.allowed:
            s = fold_case(s, col.allowed)
            if col.name in unknown:
                unknown_mapped[col.name] = int(((s != "") & ~isin(s, col.allowed)).sum())
                s = s.where((s == "") | isin(s, col.allowed), unknown[col.name])
        typed[col.name], bad = parse_column(s, col, date_formats)
        if bad.any():
            non_empty = int((s != "").sum())
            failed = int(bad.sum())
            if failed >= DRIFT_MIN_ROWS and failed > DRIFT_SHARE * non_empty:
                drifts.append(Drift(col.name, failed, non_empty, str(s[bad].iloc[0])))
            status.mark(bad, "bad_date" if col.kind == "date" else "bad_type", i)
    for col in table.columns:
        if col.fallback is not None:
            typed[col.name] = fill_from(typed[col.name], typed[col.fallback])
    return typed, status, drifts


def fill_from(s: pd.Series, fallback: pd.Series) -> pd.Series:
    """Empty values of a text column filled from another column (dates as ISO ``YYYY-MM-DD``)."""
    empty = s.isna().to_numpy(dtype=bool)
    if not empty.any():
        return s
    if fallback.dtype.kind == "M":
        fallback = fallback.dt.strftime("%Y-%m-%d")
    out = s.astype(object)
    out[empty] = fallback[empty].astype(object).where(fallback[empty].notna(), None)
    return out.astype(s.dtype)


def check_rows(typed: pd.DataFrame, table: Table, status: RowStatus) -> None:
    """missing_value, not_allowed and out_of_range, in that order, from the column declarations."""
    for i, col in enumerate(table.columns):
        if not col.nullable:
            status.mark(typed[col.name].isna().to_numpy(dtype=bool), "missing_value", i)
    for i, col in enumerate(table.columns):
        if col.allowed:
            s = typed[col.name]
            status.mark(s.notna().to_numpy(dtype=bool) & ~isin(s, col.allowed), "not_allowed", i)
    for i, col in enumerate(table.columns):
        if col.ge is None and col.le is None:
            continue
        s = typed[col.name].astype("float64")
        bad = np.zeros(len(s), dtype=bool)
        if col.ge is not None:
            bad |= (s < col.ge).to_numpy(dtype=bool, na_value=False)
        if col.le is not None:
            bad |= (s > col.le).to_numpy(dtype=bool, na_value=False)
        status.mark(bad, "out_of_range", i)


def check_future(typed: pd.DataFrame, table: Table, status: RowStatus, limit: pd.Timestamp | None) -> None:
    """``future_date`` for accepted rows with a date after ``limit`` (the ingest time plus a tolerance)."""
    if limit is None:
        return
    bound = limit.tz_convert("UTC").tz_localize(None) if limit.tzinfo is not None else limit
    for i, col in enumerate(table.columns):
        if col.kind != "date" or (table.name, col.name) in FUTURE_OK:
            continue
        s = typed[col.name]
        status.mark((s > bound).to_numpy(dtype=bool, na_value=False), "future_date", i)


_DAY_NS = 86_400 * 10**9


def _codes(s: pd.Series) -> np.ndarray:
    """Integer codes (-1 for missing), equal exactly where values are equal. Ints and dates with a compact
    range are coded by arithmetic (no hashing); everything else by ``pd.factorize``."""
    kind = s.dtype.kind
    if kind in "iuM":
        present = s.notna().to_numpy(dtype=bool)
        if not present.any():
            return np.full(len(s), -1, dtype=np.int64)
        if kind == "M":
            ints = s.to_numpy(dtype="datetime64[ns]").view("int64")
        else:
            ints = s.to_numpy(dtype="int64", na_value=0)
        values = ints[present]
        lo, hi = int(values.min()), int(values.max())
        step = _DAY_NS if kind == "M" and not (values % _DAY_NS).any() else 1
        if (hi - lo) // step < 4 * len(s) + 1024:
            return np.where(present, (ints - lo) // step, -1)
    return pd.factorize(s)[0]


def _group_ids(arrays: list[np.ndarray]) -> np.ndarray:
    """One int64 per row, equal exactly where all code arrays are equal (codes >= -1). Combines codes
    arithmetically and compresses (dense ranks) only when the product would overflow."""
    ids = np.zeros(len(arrays[0]), dtype=np.int64)
    span = 1
    for a in arrays:
        card = int(a.max(initial=-1)) + 2
        if span * card >= 2**62:
            uniques, ids = np.unique(ids, return_inverse=True)
            span = len(uniques)
        ids = ids * card + (np.asarray(a, dtype=np.int64) + 1)
        span *= card
    return ids


def _duplicates(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(repeat, shared): rows equal to an earlier row, and rows whose id occurs more than once. Sort-based
    (stable, so the first occurrence is the earliest row); exports sorted by key sort fast."""
    order = np.argsort(ids, kind="stable")
    ranked = ids[order]
    same_prev = np.zeros(len(ids), dtype=bool)
    same_prev[1:] = ranked[1:] == ranked[:-1]
    shared_sorted = same_prev.copy()
    shared_sorted[:-1] |= same_prev[1:]
    repeat, shared = np.zeros(len(ids), dtype=bool), np.zeros(len(ids), dtype=bool)
    repeat[order[same_prev]] = True
    shared[order[shared_sorted]] = True
    return repeat, shared


def check_duplicates(typed: pd.DataFrame, table: Table, status: RowStatus) -> None:
    """Exact duplicates of accepted rows are counted and kept once; then rows that share a key but differ
    in some value are *all* quarantined as ``duplicate_key`` (no way to tell which one is right).

    Works on integer codes per column, so large string tables are compared as ints.
    """
    acc = np.flatnonzero(status.accepted)
    if len(acc) < 2:
        return
    codes = {c: _codes(typed[c])[acc] for c in table.column_names}
    exact, _ = _duplicates(_group_ids(list(codes.values())))
    status.mark(_spread(acc[exact], len(typed)), "duplicate")
    keep = ~exact
    _, clash = _duplicates(_group_ids([codes[c][keep] for c in table.key]))
    status.mark(_spread(acc[keep][clash], len(typed)), "duplicate_key", table.column_names.index(table.key[0]))


def check_reference(typed: pd.DataFrame, table: Table, column: str, valid: pd.Series,
                    status: RowStatus) -> int:
    """``unknown_reference`` for accepted rows whose non-empty value is not among ``valid``."""
    s = typed[column]
    bad = s.notna().to_numpy(dtype=bool) & ~isin(s, valid)
    return status.mark(bad, "unknown_reference", table.column_names.index(column))


def _spread(rows: np.ndarray, n: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[rows] = True
    return mask
