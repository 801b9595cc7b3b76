"""Leakage checks run before the attrition model trains: features that know the outcome for the wrong reason.

A real export often leaks the label through *availability* or *timing* rather than through a value: reviews
kept only for people who left, a leaver's last review backdated, stayers' reviews dated after the data end.
Three pure checks, each returning flags ``{"name", "kind", "detail", ...}``:

- :func:`missingness_flags`: a feature whose missing rate at the snapshot differs between snapshots
  followed by a voluntary exit (leavers) and the others (stayers) by at least ``MISSINGNESS_GAP``;
- :func:`future_dated_flags`: rows of a dated table dated on or after the end of the data;
- :func:`single_feature_flags`: a feature that alone ranks leavers above stayers with a backtest ROC-AUC
  above ``SINGLE_FEATURE_AUC`` (a single HR variable predicting exits that well is almost always a leak).
  Each feature's score is its exit rate per value bin on the fold's training snapshots, applied to the
  fold's evaluation snapshots (missing values are their own bin, so missingness counts too).

:func:`refusal` turns the flags not explicitly allowed into the one-line error the training job raises.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from evaluation.metrics import roc_auc

MISSINGNESS_GAP = 0.5
SINGLE_FEATURE_AUC = 0.9
MIN_LEAVERS = 10  # fewer leaver snapshots than this and the missingness rates are not compared
N_BINS = 10
PRIOR = 20.0  # bin exit rates shrink towards the fold's overall rate with this many pseudo-snapshots


def missingness_flags(labelled: pd.DataFrame, feature_columns: Sequence[str], gap: float = MISSINGNESS_GAP,
                      label_col: str = "label") -> list[dict]:
    """Features whose missing rate among leavers (``label == 1``) and stayers differs by ``gap`` or more."""
    y = labelled[label_col].to_numpy() == 1
    if y.sum() < MIN_LEAVERS or (~y).sum() < MIN_LEAVERS:
        return []
    flags = []
    for c in feature_columns:
        missing = labelled[c].isna().to_numpy()
        leavers, stayers = float(missing[y].mean()), float(missing[~y].mean())
        if abs(leavers - stayers) >= gap:
            flags.append({"name": c, "kind": "availability", "missing_leavers": leavers, "missing_stayers": stayers,
                          "detail": f"missing for {leavers:.0%} of leavers and {stayers:.0%} of stayers at the snapshot"})
    return flags


def future_dated_flags(dated: Mapping[str, pd.DataFrame], data_end: pd.Timestamp,
                       leavers: Iterable[str] = ()) -> list[dict]:
    """Rows dated on or after ``data_end``. ``dated`` maps ``"table.column"`` to a frame with a ``date``
    column (and ``employee_id`` when the table has one, to say whose rows they are)."""
    end = pd.Timestamp(data_end)
    end = end.tz_localize("UTC") if end.tzinfo is None else end
    left = {str(e) for e in leavers}
    flags = []
    for name, frame in dated.items():
        dates = pd.to_datetime(frame["date"], errors="coerce", utc=True)
        late = (dates >= end).to_numpy()
        if not late.any():
            continue
        detail = f"{int(late.sum())} rows dated on or after the end of the data ({end:%Y-%m-%d})"
        if "employee_id" in frame.columns:
            people = frame.loc[late, "employee_id"].astype(str)
            n_left = int(people.isin(left).sum())
            detail += f", {len(people) - n_left} of them of people who stayed and {n_left} of people who left"
        flags.append({"name": name, "kind": "timing", "rows": int(late.sum()), "detail": detail})
    return flags


def bin_rates(train: pd.Series, label: np.ndarray, test: pd.Series) -> np.ndarray:
    """Each test value's exit rate in its bin of the training values (quantile bins for numbers, one bin per
    category, missing its own bin), shrunk towards the overall rate; the score of a single-feature model."""
    overall = float(label.mean())
    numeric = pd.api.types.is_numeric_dtype(train) and not pd.api.types.is_bool_dtype(train)
    if numeric and train.nunique() > N_BINS:
        edges = np.unique(np.nanquantile(train.to_numpy(dtype=float), np.linspace(0, 1, N_BINS + 1)[1:-1]))
        def key(s: pd.Series) -> np.ndarray:
            v = s.to_numpy(dtype=float)
            return np.where(np.isnan(v), -1, np.searchsorted(edges, v, side="right"))
    else:
        def key(s: pd.Series) -> np.ndarray:
            return s.astype("string").fillna("\x00missing").to_numpy(dtype=object)
    k_train, k_test = key(train), key(test)
    stats = pd.DataFrame({"k": k_train, "y": label}).groupby("k")["y"].agg(["sum", "count"])
    rate = (stats["sum"] + PRIOR * overall) / (stats["count"] + PRIOR)
    return pd.Series(k_test).map(rate).fillna(overall).to_numpy(dtype=float)


def single_feature_auc(labelled: pd.DataFrame, feature_columns: Sequence[str], folds: Sequence[tuple[np.ndarray, np.ndarray]],
                       label_col: str = "label") -> dict[str, float]:
    """Mean over folds of each feature's out-of-sample ROC-AUC; ``folds`` are (train mask, test mask) pairs."""
    y = labelled[label_col].to_numpy()
    out = {}
    for c in feature_columns:
        aucs = []
        for train, test in folds:
            if len(np.unique(y[train])) < 2 or len(np.unique(y[test])) < 2:
                continue
            aucs.append(roc_auc(y[test], bin_rates(labelled.loc[train, c], y[train], labelled.loc[test, c])))
        if aucs:
            out[c] = float(np.mean(aucs))
    return out


def single_feature_flags(aucs: Mapping[str, float], threshold: float = SINGLE_FEATURE_AUC) -> list[dict]:
    """Features whose own backtest ROC-AUC exceeds ``threshold``."""
    return [{"name": c, "kind": "single feature", "roc_auc": a,
             "detail": f"on its own it ranks leavers with a backtest ROC-AUC of {a:.3f} (above {threshold})"}
            for c, a in sorted(aucs.items(), key=lambda kv: -kv[1]) if a > threshold]


def snapshot_folds(labelled: pd.DataFrame, fold_origins: Sequence[pd.Timestamp], horizon: int,
                   eval_months: int = 3) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) masks of labelled snapshots per origin: train snapshots' outcome windows end by the
    origin; test snapshots are the ``eval_months`` months from it."""
    ts = labelled["event_timestamp"]
    folds = []
    for origin in fold_origins:
        train = (ts + pd.DateOffset(months=horizon) <= origin).to_numpy()
        test = ((ts >= origin) & (ts < origin + pd.DateOffset(months=eval_months))).to_numpy()
        if train.any() and test.any():
            folds.append((train, test))
    return folds


def refusal(flags: Sequence[dict], allowed: Iterable[str] = ()) -> str | None:
    """The one-line refusal for flags whose name is not in ``allowed`` (None when nothing blocks)."""
    ok = set(allowed)
    blocking = [f for f in flags if f["name"] not in ok]
    if not blocking:
        return None
    listed = "; ".join(f"{f['name']} ({f['detail']})" for f in blocking)
    return (f"the leakage check flagged {listed}. Nothing was registered: fix the export, or pass "
            + " ".join(f"--allow-leaky-feature {f['name']}" for f in blocking) + " to register anyway")


def card_section(flags: Sequence[dict], allowed: Iterable[str] = ()) -> str:
    """The model card's words on the leakage check."""
    if not flags:
        return ("Leakage check before training: no feature's availability or timing differs between leavers and "
                f"stayers (missing-rate gap below {MISSINGNESS_GAP:.0%}), no table has rows dated after the data end, "
                f"and no single feature reaches a backtest ROC-AUC above {SINGLE_FEATURE_AUC}.")
    ok = set(allowed)
    lines = ["Leakage check before training flagged:", ""]
    lines += [f"- `{f['name']}` ({f['kind']}): {f['detail']}; "
              + ("registered anyway with --allow-leaky-feature." if f["name"] in ok else "not allowed.")
              for f in flags]
    return "\n".join(lines)
