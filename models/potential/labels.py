"""The high-potential label: promoted, or rated a level higher, within 12 months of a snapshot.

For a snapshot of an employee at month start ``T`` (features use only rows dated before ``T``) the label is 1
when a promotion is dated in ``[T, T + 12 months)`` or when the latest overall rating signed off before
``T + 12 months`` (and on or after ``T``) is above the latest rating before ``T``. A snapshot is labelled only
when ``T + 12 months`` is not after the end of the data; a person who leaves within the year without either
counts as 0 (what the organisation saw). A snapshot without a rating before ``T`` (a new hire, or the first
months of an export) has no rating to rise from and is not labelled.
"""

from __future__ import annotations

import pandas as pd

HORIZON_MONTHS = 12
KEYS = ["employee_id", "event_timestamp"]


def _utc(s: pd.Series) -> pd.Series:
    s = pd.to_datetime(s)
    s = s.dt.tz_localize("UTC") if s.dt.tz is None else s.dt.tz_convert("UTC")
    return s.astype("datetime64[us, UTC]")


def labelled_until(end: pd.Timestamp, horizon: int = HORIZON_MONTHS) -> pd.Timestamp:
    """The last snapshot month whose label window ends by ``end`` (the first instant after the data)."""
    return pd.Timestamp(end) - pd.DateOffset(months=horizon)


def potential_labels(snaps: pd.DataFrame, events: pd.DataFrame, reviews: pd.DataFrame, end: pd.Timestamp,
                     horizon: int = HORIZON_MONTHS) -> pd.DataFrame:
    """``snaps`` (employee_id, event_timestamp) → those labelled, with ``promoted``, ``rating_rise`` and ``label``."""
    for col in KEYS:
        if col not in snaps.columns:
            raise ValueError(f"snapshots must have a {col!r} column")
    s = snaps[KEYS].copy()
    s["employee_id"] = s["employee_id"].astype(str)
    s["event_timestamp"] = _utc(s["event_timestamp"])
    s = s[s["event_timestamp"] <= labelled_until(end, horizon)].reset_index(drop=True)
    s["_until"] = (s["event_timestamp"] + pd.DateOffset(months=horizon)).astype("datetime64[us, UTC]")
    s["_row"] = range(len(s))

    promo = events.loc[events["event_type"] == "promotion", ["employee_id", "effective_date"]].copy()
    promo["employee_id"] = promo["employee_id"].astype(str)
    promo["d"] = _utc(promo["effective_date"])
    hit = s[["_row", "employee_id", "event_timestamp", "_until"]].merge(promo[["employee_id", "d"]], on="employee_id")
    hit = hit[(hit["d"] >= hit["event_timestamp"]) & (hit["d"] < hit["_until"])]
    s["promoted"] = s["_row"].isin(hit["_row"]).astype(int)

    rev = reviews[["employee_id", "review_date", "overall_rating"]].dropna().copy()
    rev["employee_id"] = rev["employee_id"].astype(str)
    rev["d"] = _utc(rev["review_date"])
    rev = rev.sort_values("d")
    before = _latest_before(s, rev, "event_timestamp").rename("rating_before")
    after = _latest_before(s, rev, "_until", since="event_timestamp").rename("rating_after")
    s = s.join(before).join(after)
    s = s[s["rating_before"].notna()].reset_index(drop=True)
    s["rating_rise"] = (s["rating_after"] > s["rating_before"]).fillna(False).astype(int)
    s["label"] = ((s["promoted"] == 1) | (s["rating_rise"] == 1)).astype(int)
    return s.drop(columns=["_until", "_row"])


def _latest_before(s: pd.DataFrame, rev: pd.DataFrame, at: str, since: str | None = None) -> pd.Series:
    """The latest overall rating dated before ``s[at]`` (and on or after ``s[since]``), per row of ``s``."""
    left = s[["employee_id", at] + ([since] if since else [])].assign(_i=range(len(s))).sort_values(at)
    left["_t"] = (left[at] - pd.Timedelta(microseconds=1)).astype("datetime64[us, UTC]")
    m = pd.merge_asof(left, rev[["employee_id", "d", "overall_rating"]], left_on="_t", right_on="d",
                      by="employee_id", direction="backward")
    if since:
        m.loc[m["d"] < m[since], "overall_rating"] = float("nan")
    return m.set_index("_i")["overall_rating"].sort_index().set_axis(s.index).astype(float)
