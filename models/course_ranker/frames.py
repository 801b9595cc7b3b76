"""Frame access for the course ranker: checks and conversions that read a DataFrame and a column mapping alike.

A *frame* here is a DataFrame or, on the serving path, a mapping of column name → 1-D numpy array (one value
per candidate row; object arrays for lists and strings), so one employee's candidates are ranked without
building a DataFrame.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

Frame = pd.DataFrame | Mapping[str, np.ndarray]


def require(df: Frame, cols: Iterable[str], name: str) -> None:
    missing = [c for c in dict.fromkeys(cols) if c not in df]  # a DataFrame's ``in`` looks at its columns
    if missing:
        raise ValueError(f"{name} is missing column(s) {missing}")


def n_rows(df: Frame) -> int:
    """Rows of a frame (a mapping's length is that of any of its columns)."""
    if isinstance(df, pd.DataFrame):
        return len(df)
    return len(next(iter(df.values()))) if len(df) else 0


def column(df: Frame, name: str) -> np.ndarray:
    """One column as a 1-D numpy array (object dtype for lists and strings)."""
    values = df[name]
    return values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)


def rows(df: Frame, pos: np.ndarray, cols: Iterable[str]) -> dict[str, np.ndarray]:
    """The columns ``cols`` present in ``df``, restricted to the row positions ``pos``, as a mapping frame."""
    return {c: column(df, c)[pos] for c in cols if c in df}


def block(df: Frame, cols: Sequence[str]) -> np.ndarray:
    """Columns as one float matrix, missing values (None, NA, NaN) as NaN; clear error on non-numbers."""
    if not isinstance(df, pd.DataFrame):
        try:
            return np.column_stack([np.asarray(df[c], dtype=float) for c in cols])
        except (TypeError, ValueError):  # pd.NA or text: let the DataFrame path convert or name the culprits
            return block(pd.DataFrame({c: df[c] for c in cols}), cols)
    try:
        return df[list(cols)].to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        bad = [c for c in cols if pd.to_numeric(df[c].astype(object), errors="coerce").isna().sum() > df[c].isna().sum()]
        raise ValueError(f"columns {bad} must be numeric (or boolean)") from None


def as_float(s: pd.Series | np.ndarray) -> np.ndarray:
    """Numbers as floats; missing values (None, NA, NaN) and text as NaN."""
    if not isinstance(s, pd.Series):
        if s.dtype.kind in "biuf":
            return s.astype(float)
        s = pd.Series(s, dtype=object)
    if s.dtype == object or str(s.dtype) in ("boolean", "string"):
        s = pd.to_numeric(s.astype(object).where(s.notna(), np.nan), errors="coerce")
    return s.to_numpy(dtype=float, na_value=np.nan)


def as_bool(s: pd.Series | np.ndarray) -> np.ndarray:
    """Flags as booleans; missing values count as False."""
    return np.nan_to_num(as_float(s), nan=0.0) != 0
