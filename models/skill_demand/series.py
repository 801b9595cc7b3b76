"""Long-format monthly series: validation and the wide panel the forecaster computes features on.

Input contract (mlforecast-like, names are keyword defaults): one row per series and month with
``series_id``, ``month`` and ``value``; optional exogenous columns (numbers observed each month, e.g.
open requisitions) and static columns (attributes that do not change over time, e.g. skill or unit
level). ``id_col`` may name several columns (e.g. ``("org_unit_id", "skill_id")``): together they
identify a series.

What is rejected, always with the column and the first offending rows named:

- a missing id / month / value / exogenous / static column, or an empty frame;
- an empty id, a month that does not parse, or a date that is not the first day of a month
  (``2024-03-15``): the series must be monthly, dated by the month's first day (time zones are
  converted to UTC and dropped);
- a duplicated (series, month) pair;
- a value or exogenous column that is not numeric (text such as ``"12 slots"``) or is infinite;
- a static column whose value changes within a series.

Gaps (a month missing between a series' first and last month, or a missing ``value``) are handled
by ``fill``: ``"reject"`` (default) names the series and months; ``"zero"`` inserts them with value 0
(right for counts, where no row means nothing happened); ``"ffill"`` carries the last value forward.
Exogenous columns are always carried forward over filled months.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

Fill = Literal["reject", "zero", "ffill"]
KEY = "_series_key"
_SHOW = 5


def id_columns(id_col: str | Sequence[str]) -> list[str]:
    """``id_col`` as a list of column names."""
    cols = [id_col] if isinstance(id_col, str) else list(id_col)
    if not cols:
        raise ValueError("id_col must name at least one column")
    return cols


def series_key(df: pd.DataFrame, ids: Sequence[str], sep: str = "|") -> pd.Series:
    """One string per row naming its series: the id columns as strings joined by ``sep``.

    Built once per distinct series and shared by its rows (a per-row join of 3 M rows costs minutes and
    a string object per row)."""
    cols = [df[c].astype(str) for c in ids]
    if len(cols) == 1:
        return cols[0]
    code = np.zeros(len(df), dtype=np.int64)
    for c in cols:
        part, uniques = pd.factorize(c)
        code = pd.factorize(code * len(uniques) + part)[0]
    first = np.zeros(code.max() + 1 if len(code) else 0, dtype=np.int64)
    first[code[::-1]] = np.arange(len(code))[::-1]
    labels = np.array([sep.join(c.iat[i] for c in cols) for i in first], dtype=object)
    return pd.Series(labels[code], index=df.index, name=None)


def _rows(mask: pd.Series | np.ndarray, df: pd.DataFrame) -> list:
    return list(df.index[np.asarray(mask)][:_SHOW])


def to_month(values: pd.Series, col: str) -> pd.Series:
    """Parse dates and check each is the first instant of a month; returns tz-naive timestamps."""
    try:
        ts = pd.to_datetime(values, utc=True)
    except (ValueError, TypeError) as err:
        raise ValueError(f"column {col!r} has values that are not dates: {err}") from err
    ts = ts.dt.tz_convert(None)
    bad = ts.isna()
    if bad.any():
        raise ValueError(f"column {col!r} is empty at rows {_rows(bad, values.to_frame())}")
    off = ts != ts.dt.to_period("M").dt.to_timestamp()
    if off.any():
        first = values[off].iloc[0]
        raise ValueError(
            f"column {col!r} must hold monthly dates (the first day of each month); rows "
            f"{_rows(off, values.to_frame())} are not, e.g. {first!r}"
        )
    return ts.astype("datetime64[ns]")


def _numeric(df: pd.DataFrame, col: str, allow_missing: bool) -> pd.Series:
    s = df[col]
    if not (pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)):
        parsed = pd.to_numeric(s, errors="coerce")
        bad = parsed.isna() & s.notna()
        if bad.any():
            raise ValueError(
                f"column {col!r} must be numeric; rows {_rows(bad, df)} hold {s[bad].iloc[0]!r}"
            )
        s = parsed
    s = s.astype("float64")
    if np.isinf(s).any():
        raise ValueError(f"column {col!r} is infinite at rows {_rows(np.isinf(s), df)}")
    if not allow_missing and s.isna().any():
        raise ValueError(f"column {col!r} is empty at rows {_rows(s.isna(), df)}")
    return s


def validate_long(
    df: pd.DataFrame,
    id_col: str | Sequence[str] = "series_id",
    time_col: str = "month",
    target_col: str | None = "value",
    exog_cols: Sequence[str] = (),
    static_cols: Sequence[str] = (),
    fill: Fill = "reject",
) -> pd.DataFrame:
    """A clean copy: ids as strings plus ``_series_key``, monthly ``time_col``, float values, sorted.

    ``target_col=None`` validates a frame without the target (exogenous history only). See the module
    docstring for what is rejected and how gaps are filled.
    """
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"expected a pandas DataFrame, got {type(df).__name__}")
    if fill not in ("reject", "zero", "ffill"):
        raise ValueError(f"fill must be 'reject', 'zero' or 'ffill', got {fill!r}")
    ids = id_columns(id_col)
    needed = [*ids, time_col, *([target_col] if target_col else []), *exog_cols, *static_cols]
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise ValueError(f"input is missing column(s) {missing}; it has {list(df.columns)}")
    if df.empty:
        raise ValueError("input has no rows")
    out = pd.DataFrame(index=df.index)
    for c in ids:
        empty = df[c].isna() | (df[c].astype(str).str.strip() == "")
        if empty.any():
            raise ValueError(f"id column {c!r} is empty at rows {_rows(empty, df)}")
        out[c] = df[c].astype(str)
    out[KEY] = series_key(out, ids)
    out[time_col] = to_month(df[time_col], time_col)
    if target_col:
        out[target_col] = _numeric(df, target_col, allow_missing=True)
    for c in exog_cols:
        out[c] = _numeric(df, c, allow_missing=True)
    static_cols = [c for c in static_cols if c not in ids]
    for c in static_cols:
        out[c] = df[c]
    dup = out.duplicated([KEY, time_col], keep=False)
    if dup.any():
        first = out.loc[dup].iloc[0]
        raise ValueError(
            f"duplicate ({', '.join(ids)}, {time_col}) rows {_rows(dup, out)}: series "
            f"{first[KEY]!r} has more than one row for {first[time_col]:%Y-%m}"
        )
    for c in static_cols:
        changing = out.groupby(KEY)[c].nunique(dropna=False)
        if (changing > 1).any():
            raise ValueError(f"static column {c!r} changes within series {list(changing.index[changing > 1][:_SHOW])}")
    out = out.sort_values([KEY, time_col], kind="mergesort").reset_index(drop=True)
    return _fill_gaps(out, ids, time_col, target_col, exog_cols, static_cols, fill)


def _fill_gaps(
    out: pd.DataFrame,
    ids: list[str],
    time_col: str,
    target_col: str | None,
    exog_cols: Sequence[str],
    static_cols: Sequence[str],
    fill: Fill,
) -> pd.DataFrame:
    index = out[time_col].dt.year * 12 + out[time_col].dt.month
    by = index.groupby(out[KEY])
    counts = by.size()
    spans = by.max() - by.min() + 1
    gappy = spans.index[spans != counts]
    nan_value = out[target_col].isna() if target_col else pd.Series(False, index=out.index)
    if not len(gappy) and not nan_value.any():
        return out
    if fill == "reject":
        if len(gappy):
            key = gappy[0]
            rows = out[out[KEY] == key]
            full = pd.period_range(rows[time_col].min(), rows[time_col].max(), freq="M")
            holes = [str(p) for p in full.difference(rows[time_col].dt.to_period("M"))][:_SHOW]
            raise ValueError(
                f"series {list(gappy[:_SHOW])} have missing months in {time_col!r} (e.g. {key!r} lacks "
                f"{holes}); pass fill='zero' or fill='ffill' to fill gaps"
            )
        raise ValueError(
            f"column {target_col!r} is empty at rows {_rows(nan_value, out)}; pass fill='zero' or "
            "fill='ffill' to fill them"
        )
    frames = []
    for _, g in out.groupby(KEY, sort=False):
        months = pd.date_range(g[time_col].iloc[0], g[time_col].iloc[-1], freq="MS")
        g = g.set_index(time_col).reindex(months)
        g.index.name = time_col
        g[[KEY, *ids, *static_cols]] = g[[KEY, *ids, *static_cols]].ffill()
        if exog_cols:
            g[list(exog_cols)] = g[list(exog_cols)].ffill()
        if target_col:
            g[target_col] = g[target_col].fillna(0.0) if fill == "zero" else g[target_col].ffill()
        frames.append(g.reset_index())
    filled = pd.concat(frames, ignore_index=True)[out.columns]
    if target_col and filled[target_col].isna().any():
        lead = filled.loc[filled[target_col].isna(), KEY].iloc[0]
        raise ValueError(f"series {lead!r} starts with an empty {target_col!r}; nothing to carry forward")
    return filled


@dataclass(frozen=True)
class Panel:
    """Series on a common monthly grid: ``values[s, t]`` (NaN outside a series' span)."""

    keys: np.ndarray  # series keys, sorted
    months: pd.DatetimeIndex  # the grid, first day of each month
    values: np.ndarray  # target, series × months
    exog: dict[str, np.ndarray]  # exogenous column → series × months
    static: pd.DataFrame  # static attributes and id columns, indexed by key


def to_panel(
    clean: pd.DataFrame,
    ids: Sequence[str],
    time_col: str,
    target_col: str | None,
    exog_cols: Sequence[str] = (),
    static_cols: Sequence[str] = (),
) -> Panel:
    """Pivot a frame from :func:`validate_long` to a series × months grid."""
    months = pd.date_range(clean[time_col].min(), clean[time_col].max(), freq="MS")
    keys = np.sort(clean[KEY].unique())
    row = pd.Index(keys).get_indexer(clean[KEY])
    col = months.get_indexer(clean[time_col])

    def grid(c: str) -> np.ndarray:
        a = np.full((len(keys), len(months)), np.nan)
        a[row, col] = clean[c].to_numpy(dtype=float)
        return a

    values = grid(target_col) if target_col else np.full((len(keys), len(months)), np.nan)
    static = clean.drop_duplicates(KEY).set_index(KEY)[list(dict.fromkeys([*ids, *static_cols]))].reindex(keys)
    return Panel(keys, months, values, {c: grid(c) for c in exog_cols}, static)


def _shift(a: np.ndarray, k: int) -> np.ndarray:
    """``out[:, o] = a[:, o - k]`` for origins ``o = 0..T`` (NaN where ``o - k`` is before the grid)."""
    s, t = a.shape
    out = np.full((s, t + 1), np.nan)
    if k <= t:
        out[:, k:] = a[:, : t + 1 - k]
    return out


def _rolling(a: np.ndarray, window: int, stat: str, min_periods: int = 1) -> np.ndarray:
    """Mean or sample std over the ``window`` months ending at each month, skipping NaN (cumulative sums)."""
    ok = ~np.isnan(a)
    x = np.where(ok, a, 0.0)

    def windowed(v: np.ndarray) -> np.ndarray:
        c = np.cumsum(np.pad(v, ((0, 0), (1, 0))), axis=1)
        return c[:, 1:] - c[:, :-1] if window == 1 else c[:, 1:] - np.pad(c, ((0, 0), (window - 1, 0)))[:, :-window]

    n = windowed(ok.astype(float))
    total = windowed(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
        if stat == "mean":
            out = mean
        elif stat == "std":
            var = (windowed(x * x) - n * mean**2) / (n - 1)
            out = np.sqrt(np.maximum(var, 0.0))
        else:
            raise ValueError(f"stat must be 'mean' or 'std', got {stat!r}")
    return np.where(n >= min_periods, out, np.nan)


def _slope(a: np.ndarray, window: int) -> np.ndarray:
    """Least-squares slope per month over the ``window`` months ending at each month (NaN if any missing)."""
    out = np.full(a.shape, np.nan)
    if a.shape[1] >= window:
        x = np.arange(window) - (window - 1) / 2
        views = np.lib.stride_tricks.sliding_window_view(a, window, axis=1)
        out[:, window - 1 :] = views @ (x / (x**2).sum())
    return out


def last_seen(a: np.ndarray) -> np.ndarray:
    """``out[:, o] = a[:, o - 1]``: the value of the last month before each origin ``o = 0..T`` (NaN at 0)."""
    return _shift(a, 1)


def origin_features(
    panel: Panel,
    lags: Sequence[int],
    windows: Sequence[int],
    trend_window: int,
    scale_window: int = 12,
    exog: Sequence[str] | None = None,
) -> dict[str, np.ndarray]:
    """Features per series and origin ``o = 0..T`` (the first month not seen), from months ``< o`` only.

    Every array is ``series × (T + 1)``. ``level`` is the last value, ``scale`` the mean |value| over
    the last ``scale_window`` months (1 where that is 0). Lags, rolling means / std, the trend slope and
    the mean absolute month-to-month change are divided by ``scale`` so one model fits every size of
    series; exogenous columns (``exog``, default every column of ``panel.exog``) come raw (``x_<col>``) and
    divided by scale (``x_<col>_rel``).
    """
    y = panel.values
    observed = _shift(np.cumsum(~np.isnan(y), axis=1).astype(float), 1)
    observed[:, 0] = 0.0
    scale = _shift(_rolling(np.abs(y), scale_window, "mean"), 1)
    scale = np.where((scale > 0) & np.isfinite(scale), scale, 1.0)
    feats: dict[str, np.ndarray] = {"level": _shift(y, 1), "scale": scale, "n_obs": observed}
    for k in lags:
        feats[f"lag_{k}"] = _shift(y, k) / scale
    for w in windows:
        feats[f"roll_mean_{w}"] = _shift(_rolling(y, w, "mean"), 1) / scale
        feats[f"roll_std_{w}"] = _shift(_rolling(y, w, "std", min_periods=2), 1) / scale
    feats[f"trend_{trend_window}"] = _shift(_slope(y, trend_window), 1) / scale
    diffs = np.abs(np.diff(y, axis=1, prepend=np.nan))
    feats["abs_change_12"] = _shift(_rolling(diffs, 12, "mean"), 1) / scale
    feats["log_scale"] = np.log1p(scale)
    for c in panel.exog if exog is None else exog:
        last = _shift(panel.exog[c], 1)
        feats[f"x_{c}"] = last
        feats[f"x_{c}_rel"] = last / scale
    return feats


def month_at(panel: Panel, index: np.ndarray) -> pd.Series:
    """First day of the month ``index`` months after the panel's first month."""
    first = panel.months[0]
    n = first.year * 12 + first.month - 1 + np.asarray(index, dtype=int)
    return pd.to_datetime(pd.DataFrame({"year": n // 12, "month": n % 12 + 1, "day": 1}))


def truncate(panel: Panel, origin: int, alive_only: bool) -> Panel:
    """The panel as seen at ``origin`` (months before it): every series with an observation, or with
    ``alive_only`` those observed in the last month (the ones a forecast at ``origin`` is made for)."""
    values = panel.values[:, :origin]
    seen = ~np.isnan(values)
    alive = seen[:, -1] if alive_only else seen.any(axis=1)
    return Panel(
        panel.keys[alive], panel.months[:origin], values[alive],
        {c: x[alive, :origin] for c, x in panel.exog.items()}, panel.static[alive],
    )
