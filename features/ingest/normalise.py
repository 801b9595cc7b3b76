"""Turn trimmed export strings into contract values, vectorised.

Each parser returns the typed values and a boolean mask of the non-empty values that failed to parse.
Parsing works on the distinct values of a column (``pd.factorize``) and maps back, so a 10M-row column with
a few hundred distinct dates parses a few hundred strings. Empty strings become missing values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features.contract import Col

ISO_DATE = "%Y-%m-%d"
TRUE_WORDS = frozenset({"true", "1", "yes", "y", "是", "t"})
FALSE_WORDS = frozenset({"false", "0", "no", "n", "否", "f"})


def isin(s: pd.Series, values: object) -> np.ndarray:
    """``s.isin(values)`` as a numpy mask, computed by Arrow for text (pandas' Arrow ``isin`` loops in Python
    over the value set); a missing value is never in the set."""
    arr = pa.array(s, from_pandas=True)
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return s.isin(pd.Series(values).dropna()).to_numpy(dtype=bool)
    value_set = pc.drop_null(pc.unique(pa.array(pd.Series(values).astype(pd.StringDtype("pyarrow")),
                                                from_pandas=True)))
    got = pc.is_in(arr, value_set=value_set.cast(arr.type))
    return pc.fill_null(got, False).to_numpy(zero_copy_only=False)


def trim(s: pd.Series) -> pd.Series:
    """Strip surrounding whitespace (Unicode-aware: full-width spaces too)."""
    return s.str.strip()


def map_values(s: pd.Series, values: Mapping[str, str]) -> pd.Series:
    """Replace export value codes by contract values (exact match on the trimmed value)."""
    if not values:
        return s
    hit = isin(s, list(values))
    if not hit.any():
        return s
    out = s.copy()
    out[hit] = s[hit].map(dict(values)).astype(s.dtype)
    return out


def fold_case(s: pd.Series, allowed: tuple[str, ...]) -> pd.Series:
    """Lower-case values whose lower case is an allowed value (``Voluntary`` → ``voluntary``)."""
    lower = s.str.lower()
    fix = ~isin(s, allowed) & isin(lower, allowed)
    return s.where(~fix, lower)


def _by_distinct(s: pd.Series, parse: Callable[[pd.Series], tuple[pd.Series, np.ndarray]]
                 ) -> tuple[pd.Series, np.ndarray]:
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    u = pd.Series(np.asarray(uniques, dtype=object))
    values, bad = parse(u)
    empty_u = (u == "").to_numpy(dtype=bool)
    bad = bad & ~empty_u
    safe = np.where(codes < 0, 0, codes)
    if len(u) == 0:
        return pd.Series(pd.array([None] * len(s), dtype=values.dtype), index=s.index), np.zeros(len(s), bool)
    out = values.iloc[safe].where(~empty_u[safe] & (codes >= 0))
    out.index = s.index
    return out, bad[safe] & (codes >= 0)


def _dates(formats: list[str]) -> Callable[[pd.Series], tuple[pd.Series, np.ndarray]]:
    fmts = list(formats) + ([ISO_DATE] if ISO_DATE not in formats else [])

    def parse(u: pd.Series) -> tuple[pd.Series, np.ndarray]:
        out = pd.Series(pd.NaT, index=u.index, dtype="datetime64[ns]")
        for fmt in fmts:
            todo = out.isna()
            if not todo.any():
                break
            got = pd.to_datetime(u[todo], format=fmt, errors="coerce")
            out[todo] = got.astype("datetime64[ns]")
        return out, out.isna().to_numpy(dtype=bool)

    return parse


def _numbers(integer: bool) -> Callable[[pd.Series], tuple[pd.Series, np.ndarray]]:
    def parse(u: pd.Series) -> tuple[pd.Series, np.ndarray]:
        num = pd.to_numeric(u.str.replace(",", "", regex=False) if integer else u, errors="coerce")
        num = num.astype("float64")
        bad = ~np.isfinite(num.to_numpy(dtype="float64", na_value=np.nan))
        if integer:
            arr = num.to_numpy(dtype="float64", na_value=np.nan)
            bad |= np.where(np.isfinite(arr), arr != np.round(arr), True)
            return num.where(~bad).astype("Int64"), bad
        return num.where(~bad), bad

    return parse


def _bools(u: pd.Series) -> tuple[pd.Series, np.ndarray]:
    low = u.str.lower()
    true, false = low.isin(TRUE_WORDS), low.isin(FALSE_WORDS)
    out = pd.Series(pd.NA, index=u.index, dtype="boolean")
    out[true] = True
    out[false] = False
    return out, ~(true | false).to_numpy(dtype=bool)


def parse_column(s: pd.Series, col: Col, date_formats: list[str]) -> tuple[pd.Series, np.ndarray]:
    """Typed values of one trimmed string column and the mask of values that failed to parse.

    Dates try each declared format in turn and then ISO ``YYYY-MM-DD`` (unambiguous, and how typed
    Parquet/XLSX dates are rendered); ints accept ``3``, ``3.0`` and ``1,000``; bools accept
    true/false/1/0/yes/no/y/n/t/f/是/否 in any case.
    """
    if col.kind == "str":
        return s.where(s != ""), np.zeros(len(s), dtype=bool)
    parser = {"date": _dates(date_formats), "int": _numbers(True), "float": _numbers(False),
              "bool": _bools}[col.kind]
    return _by_distinct(s, parser)


def resolve_references(s: pd.Series, ids: pd.Series, lookup: Mapping[str, str]) -> pd.Series:
    """Replace values that are not known ids by the id their alias or title names (case-insensitive)."""
    unknown = s.notna().to_numpy(dtype=bool) & ~isin(s, ids)
    if not unknown.any() or not lookup:
        return s
    out = s.copy()
    hits = s[unknown].str.lower().map(dict(lookup))
    found = hits.notna()
    out[hits.index[found]] = hits[found].astype(s.dtype)
    return out


def name_lookup(names: list[tuple[pd.Series, pd.Series]]) -> dict[str, str]:
    """Alias → id (alias lower-cased) from (name, id) column pairs, earlier pairs winning; within one pair a
    name that names two different ids is left out (ambiguous). Catalog-sized inputs: plain Python is fine."""
    lookup: dict[str, str] = {}
    for name_col, id_col in names:
        level: dict[str, str | None] = {}
        for name, id_ in zip(name_col.tolist(), id_col.tolist(), strict=True):
            if not isinstance(name, str) or not isinstance(id_, str) or not name.strip():
                continue
            key = name.strip().lower()
            level[key] = id_ if level.get(key, id_) == id_ else None
        for key, id_ in level.items():
            if id_ is not None:
                lookup.setdefault(key, id_)
    return lookup
