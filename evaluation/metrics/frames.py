"""Validation shared by the metrics that take long frames (one row per key pair)."""

from __future__ import annotations

import pandas as pd


def check_long_frame(df: pd.DataFrame, name: str, cols: tuple[str, ...]) -> None:
    """``df`` is a non-empty DataFrame with ``cols`` and no duplicate rows on the first two (the key)."""
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{name} is missing column(s) {missing}")
    if df.empty:
        raise ValueError(f"{name} is empty")
    if df.duplicated(list(cols[:2])).any():
        raise ValueError(f"{name} has duplicate ({cols[0]}, {cols[1]}) rows")
