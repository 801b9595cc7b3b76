"""Fairness audit figures: selection rates and impact ratios per group, calibration per group, association.

Protected attributes feed only this audit. Groups may be one column or several (intersections); rows with
a missing attribute form their own group so they stay visible.

Impact ratios (NYC Local Law 144 style): a group's selection rate divided by the highest selection rate
among *gated* groups. A group is gated (large enough to judge) when its share of rows is at least
``small_group_share`` (2%), it has at least ``min_group_size`` people (30; the ``people`` column when rows
repeat people, else rows) *and*, at the overall selection rate, at least ``min_expected`` (10) of its rows would
be expected selected and as many not selected: a share alone lets a group of a handful of people in a small
population become the reference or fail the gate on noise, and with fewer than 10 expected selections one
person more or less moves the group's impact ratio by more than 0.1 (the four-fifths line cannot be told from
noise; the Uniform Guidelines warn that the rule means little on small numbers). Smaller groups are still
reported with their counts, ``gated=False`` and status ``too_small`` (too small to judge), and never block the
gate nor serve as the reference.

Four-fifths gate, per gated group:
1. ``pass`` when the impact ratio is >= ``threshold`` (0.8);
2. otherwise ``not_significant`` when no shortfall is statistically significant: for every gated group
   whose selection rate is more than 1 / threshold times the group's, Fisher's exact test (one-sided, the
   group selected less) gives p >= ``alpha`` (0.05). The four-fifths rule alone fails small groups on
   noise; practice pairs it with a significance test. ``p_value`` is the smallest such p;
3. otherwise ``explained`` when the true outcomes explain the gap, by either of
   a. the *outcome ratio*: the group's true-outcome rate divided by the reference group's (the gated group
      with the highest selection rate) is within ``tolerance`` (absolute) of its impact ratio. Example:
      selection ratio 0.6, outcome ratio 0.65, tolerance 0.1 -> explained; outcome ratio 0.9 -> not;
   b. *calibration* (for risk scores, when ``calibration`` and ``outcome_rates`` are given): the true
      outcome rates themselves differ by more than four fifths (the group's is below ``threshold`` times that
      of every group it is significantly below), and the group and those groups are each calibrated in the
      large *relative to the whole population*: observed
      positives within ±20% of the expected ones (sum of predicted risk, rescaled by the population's
      observed / expected ratio so that a model off by the same factor everywhere is not blamed on a
      group), or a difference under 1.96 standard errors. A common threshold on a risk that means the same
      in every group selects groups in proportion to their true risk (amplified by the threshold), so the
      gap follows the outcomes (a gap in outcomes is then widened, not created, by the model); a model that
      inflates one group's risk is off in that group;
4. otherwise ``fail``.
Ungated groups get ``too_small``. ``passed`` is False only for ``fail``. Comparisons allow 1e-9 of float
rounding slack. Rows are counted as given (an employee scored in several months counts several times), so
the test is, if anything, quicker to call a shortfall significant.
"""

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency, fisher_exact

from evaluation.metrics.classification import (
    brier,
    check_binary,
    check_scores,
    expected_calibration_error,
    roc_auc,
)
from evaluation.metrics.constants import (
    CALIBRATION_RATIO_TOLERANCE,
    CALIBRATION_Z,
    DEFAULT_ASSOCIATION_BINS,
    DEFAULT_ECE_BINS,
    FOUR_FIFTHS_THRESHOLD,
    MIN_EXPECTED_SELECTED,
    MIN_GROUP_SIZE,
    OUTCOME_RATE_TOLERANCE,
    SIGNIFICANCE_ALPHA,
    SMALL_GROUP_SHARE,
)

_EPS = 1e-9
_STAT_COLS = ("n", "people", "share", "selected", "rate", "impact_ratio", "gated", "is_reference")


def _group_list(df: pd.DataFrame, group_cols: str | Sequence[str], name: str = "group_cols") -> list[str]:
    cols = [group_cols] if isinstance(group_cols, str) else list(group_cols)
    if not cols:
        raise ValueError(f"{name} is empty")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"df has no column(s) {missing} named in {name}")
    clash = [c for c in cols if c in _STAT_COLS]
    if clash:
        raise ValueError(f"{name} may not use the reserved names {clash}")
    return cols


def _groups_of(table: pd.DataFrame) -> list[str]:
    return [c for c in table.columns if c not in _STAT_COLS]


def selection_rates(df: pd.DataFrame, group_cols: str | Sequence[str], selected_col: str) -> pd.DataFrame:
    """Per group: n, share of all rows, selected (count of 1s in ``selected_col``) and rate."""
    if df.empty:
        raise ValueError("df is empty")
    cols = _group_list(df, group_cols)
    if selected_col not in df.columns:
        raise ValueError(f"df has no column {selected_col!r} (selected_col)")
    selected = check_binary(df[selected_col], name=f"df[{selected_col!r}]")
    frame = df[cols].assign(_selected=selected)
    out = (
        frame.groupby(cols, dropna=False, observed=True, sort=True)["_selected"]
        .agg(n="size", selected="sum")
        .reset_index()
    )
    out["share"] = out["n"] / len(df)
    out["rate"] = out["selected"] / out["n"]
    return out[[*cols, "n", "share", "selected", "rate"]]


def gated_groups(
    rates: pd.DataFrame, small_group_share: float = SMALL_GROUP_SHARE, min_group_size: int = MIN_GROUP_SIZE,
    min_expected: float = MIN_EXPECTED_SELECTED,
) -> pd.Series:
    """True for the groups of ``rates`` (from ``selection_rates``) large enough to gate: share >=
    ``small_group_share``, people (or n) >= ``min_group_size`` and, when ``rates`` has ``selected`` counts,
    n (rows, the selections the ratio is computed from) × the overall selection rate and × its complement both
    >= ``min_expected``."""
    missing = [c for c in ("n", "share") if c not in rates.columns]
    if missing:
        raise ValueError(f"rates is missing column(s) {missing}; build it with selection_rates")
    if not 0 <= small_group_share < 1:
        raise ValueError(f"small_group_share must be in [0, 1), got {small_group_share!r}")
    if isinstance(min_group_size, bool) or not isinstance(min_group_size, int | np.integer) or min_group_size < 1:
        raise ValueError(f"min_group_size must be a positive integer, got {min_group_size!r}")
    if min_expected < 0:
        raise ValueError(f"min_expected must be >= 0, got {min_expected!r}")
    size = rates["people"] if "people" in rates.columns else rates["n"]
    gated = (rates["share"] >= small_group_share - _EPS) & (size >= min_group_size)
    if "selected" in rates.columns and rates["n"].sum() > 0:
        overall = float(rates["selected"].sum()) / float(rates["n"].sum())
        # rows, not people: the ratio is computed from rows, so its step for one selection is 1 / (rows x rate)
        gated &= (rates["n"] * min(overall, 1 - overall) >= min_expected - _EPS)
    return gated


def impact_ratios(
    rates: pd.DataFrame, small_group_share: float = SMALL_GROUP_SHARE, min_group_size: int = MIN_GROUP_SIZE,
    min_expected: float = MIN_EXPECTED_SELECTED,
) -> pd.DataFrame:
    """Add impact_ratio (rate / highest gated rate), gated (``gated_groups``) and is_reference.

    Raises ValueError when no group is gated or no gated group has a positive rate (ratios are undefined).
    """
    if "rate" not in rates.columns:
        raise ValueError("rates is missing column(s) ['rate']; build it with selection_rates")
    out = rates.reset_index(drop=True).copy()
    out["gated"] = gated_groups(out, small_group_share, min_group_size, min_expected)
    if not out["gated"].any():
        raise ValueError(f"no group has a share of at least small_group_share={small_group_share}, at least "
                         f"min_group_size={min_group_size} rows and min_expected={min_expected} expected "
                         "selections and non-selections")
    best = out.loc[out["gated"], "rate"].max()
    if best <= 0:
        raise ValueError("no gated group has a positive selection rate; impact ratios are undefined")
    out["impact_ratio"] = out["rate"] / best
    out["is_reference"] = False
    out.loc[out.index[out["gated"] & (out["rate"] == best)][0], "is_reference"] = True
    return out


def four_fifths_gate(
    impact_table: pd.DataFrame,
    outcome_rates: pd.DataFrame | None = None,
    threshold: float = FOUR_FIFTHS_THRESHOLD,
    tolerance: float = OUTCOME_RATE_TOLERANCE,
    alpha: float = SIGNIFICANCE_ALPHA,
    calibration: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Status (pass / not_significant / explained / fail / too_small) and passed per group; see the module
    docstring.

    ``outcome_rates`` has the same group columns and a ``rate`` column of true outcome rates, e.g.
    ``selection_rates(df, group_cols, "y_true")``. ``calibration`` is ``group_calibration``'s table (group
    columns, ``positives``, ``expected``, ``variance``); with it the output gains ``calibrated``. Without
    ``selected`` counts (``selection_rates``) no test is run and a shortfall is treated as significant.
    """
    missing = [c for c in ("impact_ratio", "gated", "is_reference") if c not in impact_table.columns]
    if missing:
        raise ValueError(f"impact_table is missing column(s) {missing}; build it with impact_ratios")
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance!r}")
    out = impact_table.reset_index(drop=True).copy()
    groups = _groups_of(out)
    out["outcome_rate"] = np.nan
    out["outcome_ratio"] = np.nan
    if outcome_rates is not None:
        absent = [c for c in (*groups, "rate") if c not in outcome_rates.columns]
        if absent:
            raise ValueError(f"outcome_rates is missing column(s) {absent}")
        if outcome_rates.duplicated(groups).any():
            raise ValueError("outcome_rates has more than one row per group")
        lookup = outcome_rates[[*groups, "rate"]].rename(columns={"rate": "_outcome"})
        outcome = out[groups].merge(lookup, on=groups, how="left")["_outcome"].to_numpy(dtype=float)
        if np.isnan(outcome[out["gated"].to_numpy()]).any():
            raise ValueError("outcome_rates has no rate for some gated group(s)")
        reference = outcome[out["is_reference"].to_numpy()][0]
        if reference <= 0:
            raise ValueError("the reference group's true outcome rate is 0; outcome ratios are undefined")
        out["outcome_rate"] = outcome
        out["outcome_ratio"] = outcome / reference
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    meets = out["impact_ratio"] >= threshold - _EPS
    below = _shortfalls(out, threshold)
    out["p_value"] = [min((p for _, p in pairs), default=np.nan) for pairs in below]
    significant = [any(p < alpha for _, p in pairs) for pairs in below]
    explained = (out["outcome_ratio"] - out["impact_ratio"]).abs() <= tolerance + _EPS
    if calibration is not None:
        ok = _relative_calibration(out[groups], calibration, groups)
        out["calibrated"] = ok
        outcome = out["outcome_rate"].to_numpy(dtype=float)
        by_calibration = [
            ok[i] and all(ok[j] and outcome[i] < threshold * outcome[j] - _EPS for j, p in pairs if p < alpha)
            for i, pairs in enumerate(below)
        ]
        explained = explained | np.array(by_calibration, dtype=bool)
    out["status"] = np.select(
        [~out["gated"], meets, ~np.array(significant, dtype=bool), explained],
        ["too_small", "pass", "not_significant", "explained"], default="fail",
    )
    out["passed"] = out["status"] != "fail"
    return out


def _relative_calibration(groups_frame: pd.DataFrame, calibration: pd.DataFrame, groups: list[str]) -> np.ndarray:
    """Per group: observed positives match the expected ones rescaled by the population's observed / expected."""
    absent = [c for c in (*groups, "positives", "expected", "variance") if c not in calibration.columns]
    if absent:
        raise ValueError(f"calibration is missing column(s) {absent}; build it with group_calibration")
    scale = calibration["positives"].sum() / max(float(calibration["expected"].sum()), _EPS)
    c = groups_frame.merge(calibration[[*groups, "positives", "expected", "variance"]], on=groups, how="left")
    observed, expected = c["positives"].to_numpy(float), scale * c["expected"].to_numpy(float)
    sd = np.sqrt(np.maximum(scale * c["variance"].to_numpy(float), _EPS))
    with np.errstate(divide="ignore", invalid="ignore"):
        close = np.abs(observed / expected - 1) <= CALIBRATION_RATIO_TOLERANCE + _EPS
    return np.nan_to_num(close | (np.abs(observed - expected) / sd < CALIBRATION_Z), nan=0).astype(bool)


def _effective(table: pd.DataFrame, i: int) -> tuple[int, int]:
    """(selected, n) of row ``i``, scaled down to its ``people`` when rows repeat people (several snapshots
    of one person are not independent draws)."""
    selected, n = float(table["selected"].iat[i]), float(table["n"].iat[i])
    if "people" in table.columns and 0 < table["people"].iat[i] < n:
        scale = float(table["people"].iat[i]) / n
        selected, n = selected * scale, n * scale
    return round(selected), max(round(n), 1)


def _shortfalls(table: pd.DataFrame, threshold: float) -> list[list[tuple[int, float]]]:
    """Per row: (row of a gated group selected over 1/threshold times as often, one-sided Fisher p)."""
    gated = table["gated"].to_numpy()
    rate = table["rate"].to_numpy(dtype=float) if "rate" in table.columns else table["impact_ratio"].to_numpy()
    counts = "selected" in table.columns and "n" in table.columns
    out: list[list[tuple[int, float]]] = []
    for i in range(len(table)):
        pairs = []
        for j in np.flatnonzero(gated):
            if i == j or not gated[i] or rate[i] >= threshold * rate[j] - _EPS:
                continue
            if counts:
                a, n_a = _effective(table, i)
                b, n_b = _effective(table, j)
                p = float(fisher_exact([[a, n_a - a], [b, n_b - b]], alternative="less")[1])
            else:
                p = 0.0
            pairs.append((int(j), p))
        out.append(pairs)
    return out


def group_calibration(
    df: pd.DataFrame,
    group_col: str | Sequence[str],
    y_col: str,
    p_col: str,
    n_bins: int = DEFAULT_ECE_BINS,
) -> pd.DataFrame:
    """Per group: n, positives, mean_predicted, observed_rate, expected (sum of predictions), variance (sum of
    p(1 − p)), brier, ece and roc_auc (NaN if one class)."""
    if df.empty:
        raise ValueError("df is empty")
    cols = _group_list(df, group_col, "group_col")
    for col in (y_col, p_col):
        if col not in df.columns:
            raise ValueError(f"df has no column {col!r}")
    y = check_binary(df[y_col], name=f"df[{y_col!r}]")
    p = check_scores(df[p_col], y.size, name=f"df[{p_col!r}]", probabilities=True)
    frame = df[cols].assign(_y=y, _p=p)
    rows = []
    for key, part in frame.groupby(cols, dropna=False, observed=True, sort=True):
        gy, gp = part["_y"].to_numpy(), part["_p"].to_numpy()
        auc = roc_auc(gy, gp) if gy.min() != gy.max() else np.nan
        rows.append(
            {
                **dict(zip(cols, key, strict=True)),
                "n": gy.size,
                "positives": int(gy.sum()),
                "mean_predicted": float(gp.mean()),
                "observed_rate": float(gy.mean()),
                "expected": float(gp.sum()),
                "variance": float((gp * (1 - gp)).sum()),
                "brier": brier(gy, gp),
                "ece": expected_calibration_error(gy, gp, n_bins=n_bins),
                "roc_auc": auc,
            }
        )
    return pd.DataFrame(rows)


def _codes(values, name: str, n_bins: int) -> np.ndarray:
    s = pd.Series(np.asarray(values) if not isinstance(values, pd.Series) else values.to_numpy())
    if s.empty:
        raise ValueError(f"{name} is empty")
    if s.isna().any():
        raise ValueError(f"{name} has missing values; fill or drop them first")
    numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
    if numeric and s.nunique() > n_bins:
        s = pd.qcut(s, q=n_bins, duplicates="drop")
    return pd.factorize(s, sort=True)[0]


def _contingency(x, y, n_bins: int) -> np.ndarray:
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 2:
        raise ValueError(f"n_bins must be an integer >= 2, got {n_bins!r}")
    cx = _codes(x, "x", n_bins)
    cy = _codes(y, "y", n_bins)
    if cx.size != cy.size:
        raise ValueError(f"x has {cx.size} values but y has {cy.size}")
    table = np.zeros((cx.max() + 1, cy.max() + 1))
    np.add.at(table, (cx, cy), 1)
    return table


def cramers_v(x, y, n_bins: int = DEFAULT_ASSOCIATION_BINS) -> float:
    """Bias-corrected Cramér's V (Bergsma 2013) in [0, 1]; numeric inputs with more than ``n_bins``
    distinct values are binned into quantiles first."""
    return cramers_v_of_table(_contingency(x, y, n_bins))


def cramers_v_of_table(table: np.ndarray) -> float:
    """:func:`cramers_v` of a contingency table (rows: categories of x, columns: categories of y)."""
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    r, k = table.shape
    if r < 2 or k < 2:
        raise ValueError(f"x and y need at least two categories each, got {r} and {k}")
    n = table.sum()
    if n < 2:
        raise ValueError("cramers_v needs at least two rows")
    chi2 = chi2_contingency(table, correction=False)[0]
    phi2 = max(0.0, chi2 / n - (k - 1) * (r - 1) / (n - 1))
    r_corr = r - (r - 1) ** 2 / (n - 1)
    k_corr = k - (k - 1) ** 2 / (n - 1)
    denom = min(r_corr - 1, k_corr - 1)
    if denom <= 0:
        raise ValueError(f"too few rows ({int(n)}) for a bias-corrected Cramér's V of a {r}x{k} table")
    return float(np.sqrt(phi2 / denom))


def mutual_information(x, y, n_bins: int = DEFAULT_ASSOCIATION_BINS) -> float:
    """Mutual information in nats between two categorical (or quantile-binned numeric) variables."""
    return mutual_information_of_table(_contingency(x, y, n_bins))


def mutual_information_of_table(table: np.ndarray) -> float:
    """:func:`mutual_information` of a contingency table."""
    joint = table / table.sum()
    outer = joint.sum(axis=1, keepdims=True) * joint.sum(axis=0, keepdims=True)
    nz = joint > 0
    return float(max(0.0, np.sum(joint[nz] * np.log(joint[nz] / outer[nz]))))
