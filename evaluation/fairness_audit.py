"""Fairness audits of attrition alerts (:func:`audit_attrition`) and top-k course recommendations
(:func:`audit_recommendations`): four-fifths impact ratios per protected group, explained by true outcomes
where known, and a proxy check of the model's features. ``docs/fairness.md`` states the rules and why.

Protected attributes (``features.contract.PROTECTED_ATTRIBUTES``, table ``employees``) feed only these
audits; they are never model features. Groups: one family per attribute present (missing values form a
``(missing)`` group), ``age_band`` (under 40 / 40 and over) from ``birth_year`` and ``sex × age_band``.
A group is gated (judged) when it has at least ``MIN_GROUP_SIZE`` people, ``SMALL_GROUP_SHARE`` of them and
``MIN_EXPECTED_SELECTED`` expected selections and non-selections at the overall rate
(``evaluation.metrics.fairness``); smaller groups are reported with their counts as too small to judge
(status ``too_small``), and a family where nothing can be gated carries a ``note`` and does not fail. Every
protected attribute is audited and reported either way. Everything returned is JSON-serialisable (NaN becomes ``None``).

Length (over 450 lines): the two audits share the group building, gating, proxy check and Markdown
rendering, and are read as one unit against ``docs/fairness.md``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

from evaluation.metrics.classification import check_scores
from evaluation.metrics.constants import (
    CALIBRATION_RATIO_TOLERANCE,
    DEFAULT_ASSOCIATION_BINS,
    FOUR_FIFTHS_THRESHOLD,
    MIN_EXPECTED_SELECTED,
    MIN_GROUP_SIZE,
    OUTCOME_RATE_TOLERANCE,
    SIGNIFICANCE_ALPHA,
    SMALL_GROUP_SHARE,
)
from evaluation.metrics.fairness import (
    cramers_v_of_table,
    four_fifths_gate,
    gated_groups,
    group_calibration,
    impact_ratios,
    mutual_information_of_table,
    selection_rates,
)
from evaluation.metrics.ranking import top_k
from features.contract import PROTECTED_ATTRIBUTES
from models.wording.governance import value_name

PROXY_THRESHOLD = 0.3
AGE_BAND_CUTOFF = 40
UNDER, OVER = f"under {AGE_BAND_CUTOFF}", f"{AGE_BAND_CUTOFF} and over"
MISSING = "(missing)"
CATEGORICAL = tuple(a for a in PROTECTED_ATTRIBUTES if a != "birth_year")
KEY_COLUMNS = ("employee_id", "event_timestamp", "created_timestamp")
ATTRITION, RECOMMENDATIONS = "attrition alerts", "course recommendations"
POTENTIAL = "high-potential marks"
_CALIBRATION = ("mean_predicted", "observed_rate", "brier", "ece", "roc_auc")

_GROUPS_TEXT = (
    f"For each protected attribute (sex, age band under {AGE_BAND_CUTOFF} / {AGE_BAND_CUTOFF} and over from birth "
    f"year, ethnicity, marital status, nationality; missing values form their own group) and for sex x age band, "
    f"a group's impact ratio is its selection rate divided by the highest selection rate among gated groups (the "
    f"reference). A group is gated (judged) when it has at least {MIN_GROUP_SIZE} people, at least "
    f"{SMALL_GROUP_SHARE:.0%} of them, and at least {MIN_EXPECTED_SELECTED} selections expected and as many "
    f"non-selections expected among its rows at the overall selection rate (with fewer, one person more or less moves its impact "
    f"ratio by more than 0.1); smaller groups are reported with their counts as too small to judge, neither "
    f"gated nor the reference. The "
    f"four-fifths rule: a gated group passes when its impact ratio is at least {FOUR_FIFTHS_THRESHOLD}; when the "
    f"shortfall against every more-selected gated group is not statistically significant (one-sided Fisher exact "
    f"test, p >= {SIGNIFICANCE_ALPHA}); or, when true outcomes are known, when the gap is explained by them: the "
    f"group's outcome-rate ratio to the reference group is within {OUTCOME_RATE_TOLERANCE} of its impact ratio, "
    f"or (risk scores) the true outcome rates themselves differ by more than four fifths and the group and the "
    f"groups it falls short of are each calibrated in the large relative to "
    f"the whole population (observed positives within {CALIBRATION_RATIO_TOLERANCE:.0%} of the expected ones "
    f"rescaled by the population's observed / expected ratio, or not significantly off)."
)
_PROXY_TEXT = (
    f"Model features whose Cramer's V with a protected attribute is at least {PROXY_THRESHOLD} are listed as "
    f"possible proxies for review."
)
RULE = (
    f"An employee is selected when alerted (risk at the alert horizon >= min_risk). {_GROUPS_TEXT} The true "
    f"outcome is leaving within the horizon. The audit passes when no gated group fails. {_PROXY_TEXT}"
)
RULE_RECOMMENDATIONS = (
    f"For each course type (each value of the course's format, and of any other course column audited), an "
    f"employee is selected when at least one course of that type is among their top k recommendations. {_GROUPS_TEXT} The outcome is 1 when a course of that type is among "
    f"the employee's best top k by true (or observed) gain. The audit passes when no gated group of any course "
    f"type fails. {_PROXY_TEXT}"
)


# ---------------------------------------------------------------------------------------------- groups
def _category(values: pd.Series) -> pd.Series:
    """Values as strings, missing ones as ``(missing)``."""
    if isinstance(values.dtype, pd.CategoricalDtype):  # e.g. quantile bins: name each category once, not each row
        names = np.append(np.asarray(values.cat.categories.astype(str), dtype=object), MISSING)
        return pd.Series(names[values.cat.codes.to_numpy()], index=values.index, dtype=object)  # code -1 → missing
    return values.astype("string").fillna(MISSING).astype(str)


def age_bands(birth_year: pd.Series, at: pd.Series | pd.Timestamp) -> pd.Series:
    """``under 40`` / ``40 and over`` with age = year of ``at`` − birth year; missing birth year → ``(missing)``."""
    year = at.year if isinstance(at, pd.Timestamp) else pd.to_datetime(at, utc=True).dt.year.to_numpy()
    age = year - pd.to_numeric(birth_year, errors="raise").to_numpy(dtype=float)
    band = np.where(np.isnan(age), MISSING, np.where(age >= AGE_BAND_CUTOFF, OVER, UNDER))
    return pd.Series(band, index=birth_year.index, dtype=object)


def attribute_groups(people: pd.DataFrame, as_of: pd.Timestamp | None = None) -> tuple[pd.DataFrame, dict]:
    """Group columns for ``people`` (scored rows joined to ``employees``) and the families to audit.

    Returns (frame of group columns, {family name: [group columns]}).
    """
    groups = pd.DataFrame(index=people.index)
    families: dict[str, list[str]] = {}
    for col in CATEGORICAL:
        if col in people.columns:
            groups[col] = _category(people[col])
            families[col] = [col]
    if "birth_year" in people.columns:
        if as_of is None and "event_timestamp" not in people.columns:
            raise ValueError("age bands need as_of or an event_timestamp column in scored")
        at = pd.Timestamp(as_of) if as_of is not None else people["event_timestamp"]
        groups["age_band"] = age_bands(people["birth_year"], at)
        families["age_band"] = ["age_band"]
        if "sex" in groups.columns:
            families["sex_x_age_band"] = ["sex", "age_band"]
    return groups, families


def _with_attributes(people: pd.DataFrame, employees: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """``people`` (an ``employee_id`` column, string ids) joined to the protected attributes of ``employees``,
    with ``_matched`` True where the employee has a row; and the attributes present."""
    if "employee_id" not in employees.columns:
        raise ValueError("employees has no column 'employee_id'")
    if employees["employee_id"].astype(str).duplicated().any():
        raise ValueError("employees has more than one row per employee_id")
    attrs = [c for c in PROTECTED_ATTRIBUTES if c in employees.columns]
    emp = employees[["employee_id", *attrs]].assign(employee_id=lambda d: d["employee_id"].astype(str))
    return people.reset_index(drop=True).merge(emp.assign(_matched=True), on="employee_id", how="left"), attrs


def _require(df: pd.DataFrame, name: str, cols: Sequence[str]) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{name} has no column(s) {missing}")
    if df.empty:
        raise ValueError(f"{name} is empty")


# ---------------------------------------------------------------------------------------------- gate
def _family_table(frame: pd.DataFrame, cols: list[str], labelled: bool) -> tuple[pd.DataFrame, str | None]:
    """One family's groups through the four-fifths gate, and a note when part of the rule cannot apply."""
    rates = selection_rates(frame, cols, "selected")
    if "_person" in frame.columns:  # several snapshots per person: tests count people, not rows
        people = frame.groupby(cols, observed=True)["_person"].nunique().rename("people").reset_index()
        rates = rates.merge(people, on=cols, how="left")
    outcome = selection_rates(frame, cols, "y_true") if labelled else None
    gated = gated_groups(rates)
    note = None
    if rates["selected"].sum() == 0:
        note = "nothing to judge: no one was selected"
    elif not gated.any():
        note = (f"too small to judge: no group has at least {MIN_GROUP_SIZE} people, {SMALL_GROUP_SHARE:.0%} of them "
                f"and {MIN_EXPECTED_SELECTED} expected selections and non-selections")
    elif rates.loc[gated, "rate"].max() <= 0:
        note = "not gated: no gated group was selected"
    if note is not None:
        table = four_fifths_gate(rates.assign(gated=False, impact_ratio=np.nan, is_reference=False))
    else:
        table = impact_ratios(rates)
        usable = outcome
        if outcome is not None:
            reference = table.loc[table["is_reference"], cols].merge(outcome, on=cols)["rate"].iloc[0]
            if reference <= 0:
                note, usable = "no gap can be explained: the reference group's outcome rate is 0", None
        calibration = None
        if labelled and "risk" in frame.columns:  # risk scores: calibration within groups can explain a gap
            calibration = group_calibration(frame, cols, "y_true", "risk")
        table = four_fifths_gate(table, outcome_rates=usable, calibration=calibration)
    if outcome is not None:
        table["outcome_rate"] = table[cols].merge(outcome, on=cols, how="left")["rate"].to_numpy()
    if "risk" in frame.columns:
        means = frame.groupby(cols, observed=True)["risk"].mean().rename("mean_risk").reset_index()
        table = table.merge(means, on=cols, how="left")
        if labelled:
            calib = group_calibration(frame, cols, "y_true", "risk")[[*cols, *_CALIBRATION]]
            table = table.merge(calib, on=cols, how="left")
    return table.rename(columns={"rate": "selection_rate"}), note


def _gate_families(frame: pd.DataFrame, families: dict[str, list[str]], labelled: bool) -> dict:
    """{family: {columns, passed, failed_groups, groups, note}} for the selection in ``frame``."""
    results = {}
    for name, cols in families.items():
        table, note = _family_table(frame, cols, labelled)
        rows = []
        for rec in table.to_dict(orient="records"):
            rows.append({"group": {c: rec.pop(c) for c in cols}, **rec})
        failed = [r["group"] for r in rows if r["status"] == "fail"]
        results[name] = {"columns": cols, "passed": not failed, "failed_groups": failed, "groups": rows,
                         "note": note}
    return results


def _rule(text: str, selection: str, proxy_threshold: float) -> dict:
    return {"text": text, "selection": selection, "four_fifths_threshold": FOUR_FIFTHS_THRESHOLD,
            "small_group_share": SMALL_GROUP_SHARE, "min_group_size": MIN_GROUP_SIZE,
            "min_expected_selected": MIN_EXPECTED_SELECTED,
            "outcome_rate_tolerance": OUTCOME_RATE_TOLERANCE, "age_band_cutoff": AGE_BAND_CUTOFF,
            "proxy_threshold": proxy_threshold}


NOT_ENOUGH_ALERTS = ("not enough alerts to audit: no one is alerted at min_risk {min_risk:.4f}, so impact ratios "
                     "are undefined (a lower --min-risk alerts more people)")

# ---------------------------------------------------------------------------------------------- audits
def audit_attrition(
    scored: pd.DataFrame,
    employees: pd.DataFrame,
    min_risk: float,
    outcome_col: str | None = "label",
    features: pd.DataFrame | None = None,
    as_of: pd.Timestamp | None = None,
    feature_columns: Sequence[str] | None = None,
    proxy_threshold: float = PROXY_THRESHOLD,
) -> dict:
    """The fairness audit of alerts ``risk >= min_risk`` (the rule is ``RULE``; see ``docs/fairness.md``).

    ``scored``: ``employee_id``, ``risk`` and, when ``outcome_col`` is not None and is a column of
    ``scored``, the true 0/1 outcome; ``event_timestamp`` dates each row when ``as_of`` is None.
    ``employees``: the clean ``employees`` table. ``features``: model inputs keyed by ``employee_id`` for the
    proxy check (columns ``feature_columns``, default every non-key column). When no one is alerted the
    impact ratios are undefined: the audit has no families, passes, and says so in ``note``.
    """
    _require(scored, "scored", ("employee_id", "risk"))
    risk = check_scores(scored["risk"], len(scored), name="scored['risk']", probabilities=True)
    labelled = outcome_col is not None and outcome_col in scored.columns
    people = scored[["employee_id"] + (["event_timestamp"] if "event_timestamp" in scored.columns else [])]
    people, attrs = _with_attributes(people.assign(employee_id=people["employee_id"].astype(str)), employees)
    groups, families = attribute_groups(people, as_of)
    frame = groups.assign(risk=risk, selected=(risk >= min_risk).astype(int), _person=people["employee_id"].to_numpy())
    if labelled:
        frame["y_true"] = scored[outcome_col].to_numpy()
    results = _gate_families(frame, families, labelled) if frame["selected"].sum() > 0 else {}
    audit = {
        "subject": ATTRITION,
        "rule": _rule(RULE, "risk >= min_risk", proxy_threshold),
        "min_risk": float(min_risk),
        "as_of": _as_of_text(as_of, people),
        "n": len(frame),
        "selected": int(frame["selected"].sum()),
        "selection_rate": float(frame["selected"].mean()),
        "labelled": labelled,
        "attributes": results,
        "passed": all(r["passed"] for r in results.values()),
    }
    if not results:  # impact ratios are undefined; like a family with no gated group, this does not fail
        audit["note"] = NOT_ENOUGH_ALERTS.format(min_risk=min_risk)
    return _finish(audit, people, attrs, employees, features, feature_columns, proxy_threshold)


RULE_POTENTIAL = (
    f"An employee is selected when marked high potential (the potential score at or above the model's threshold, "
    f"its top share of scores). {_GROUPS_TEXT} The true outcome is a promotion or a rating level up within 12 "
    f"months. The audit passes when no gated group fails. {_PROXY_TEXT}"
)


def audit_potential(scored: pd.DataFrame, employees: pd.DataFrame, threshold: float, outcome_col: str | None = "label",
                    features: pd.DataFrame | None = None, feature_columns: Sequence[str] | None = None) -> dict:
    """The four-fifths audit of high-potential marks (``risk`` holds the potential score): the attrition audit's
    groups, gate and proxy check with the selection ``potential >= threshold``."""
    audit = audit_attrition(scored, employees, threshold, outcome_col, features, feature_columns=feature_columns)
    audit["subject"] = POTENTIAL
    audit["rule"] = {**audit["rule"], "text": RULE_POTENTIAL, "selection": "potential >= threshold"}
    if audit.get("note"):
        audit["note"] = (f"not enough high-potential marks to audit: no one scores at least {threshold:.4f}, so impact "
                         "ratios are undefined")
    return audit


def audit_recommendations(
    recs: pd.DataFrame,
    employees: pd.DataFrame,
    courses: pd.DataFrame,
    k: int,
    as_of: pd.Timestamp,
    features: pd.DataFrame | None = None,
    feature_columns: Sequence[str] | None = None,
    outcomes: pd.DataFrame | None = None,
    *,
    score_col: str = "score",
    gain_col: str = "gain",
    type_columns: Sequence[str] = ("format",),
    proxy_threshold: float = PROXY_THRESHOLD,
) -> dict:
    """The fairness audit of top-``k`` course recommendations, one block per course type.

    ``recs``: one query per employee, every candidate scored: ``employee_id``, ``course_id``, ``score_col``;
    an employee is recommended their top ``k`` (score descending, ties by course id). ``courses``:
    ``course_id`` and the ``type_columns`` whose values are the course types (default the ``format``).
    ``as_of``: the recommendation date (ages are taken at its year). ``outcomes``: ``employee_id``,
    ``course_id``, ``gain_col``, the true (simulated) or observed gain of candidates, for every employee of
    ``recs``; an employee's outcome for a type is 1 when a course of it with a positive gain is in their top
    ``k`` by gain. ``features``: the ranker's inputs keyed by ``employee_id`` for the proxy check (columns
    ``feature_columns``, default every non-key column). Returns {subject, rule, k, as_of, n, labelled,
    unmatched_employees, protected_attributes, course_types: {"format=online": {column, value, selected,
    selection_rate, outcome_rate, passed, attributes}}, passed[, proxies]}, ``attributes`` shaped as in
    :func:`audit_attrition`.
    """
    _require(recs, "recs", ("employee_id", "course_id", score_col))
    if not type_columns:
        raise ValueError("type_columns is empty: name the course column(s) whose values are course types")
    _require(courses, "courses", ("course_id", *type_columns))
    ranked = recs[["employee_id", "course_id", score_col]].astype({"employee_id": str, "course_id": str})
    if ranked.duplicated(["employee_id", "course_id"]).any():
        raise ValueError("recs has more than one row per (employee_id, course_id): audit one origin at a time")
    types = courses[["course_id", *type_columns]].astype({"course_id": str})
    if types["course_id"].duplicated().any():
        raise ValueError("courses has more than one row per course_id")
    unknown = sorted(set(ranked["course_id"]) - set(types["course_id"]))
    if unknown:
        raise ValueError(f"courses has no row for {len(unknown)} course(s) of recs, e.g. {unknown[:3]}")
    ids = pd.Series(sorted(ranked["employee_id"].unique()), name="employee_id")
    chosen = top_k(ranked, k, "employee_id", "course_id", score_col).merge(types, on="course_id")
    best = None if outcomes is None else _best_top_k(outcomes, ids, k, gain_col).merge(types, on="course_id")
    people, attrs = _with_attributes(ids.to_frame(), employees)
    groups, families = attribute_groups(people, as_of)

    blocks = {}
    offered = ranked[["course_id"]].drop_duplicates().merge(types, on="course_id")
    for col in type_columns:
        for value in sorted(offered[col].dropna().astype(str).unique()):
            frame = groups.assign(selected=_holds(chosen, col, value, ids))
            if best is not None:
                frame["y_true"] = _holds(best, col, value, ids)
            results = _gate_families(frame, families, best is not None)
            blocks[f"{col}={value}"] = {
                "column": col, "value": value, "selected": int(frame["selected"].sum()),
                "selection_rate": float(frame["selected"].mean()),
                "outcome_rate": float(frame["y_true"].mean()) if best is not None else None,
                "passed": all(r["passed"] for r in results.values()), "attributes": results,
            }
    audit = {
        "subject": RECOMMENDATIONS,
        "rule": _rule(RULE_RECOMMENDATIONS, f"a course of the type in the employee's top {k}", proxy_threshold),
        "k": int(k),
        "as_of": str(pd.Timestamp(as_of).date()),
        "n": len(ids),
        "labelled": best is not None,
        "course_types": blocks,
        "passed": all(b["passed"] for b in blocks.values()),
    }
    return _finish(audit, people, attrs, employees, features, feature_columns, proxy_threshold)


def _finish(audit: dict, people: pd.DataFrame, attrs: list[str], employees: pd.DataFrame,
            features: pd.DataFrame | None, feature_columns: Sequence[str] | None, proxy_threshold: float) -> dict:
    """What both audits add last: unmatched people, the attributes audited, the proxy check; JSON-ready."""
    audit["unmatched_employees"] = int(people["_matched"].isna().sum())
    audit["protected_attributes"] = {a: ("age_band" if a == "birth_year" else a) for a in attrs}
    if features is not None:
        audit["proxies"] = proxy_check(features, employees, proxy_threshold, columns=feature_columns)
    return to_jsonable(audit)


def _best_top_k(outcomes: pd.DataFrame, ids: pd.Series, k: int, gain_col: str) -> pd.DataFrame:
    """Each employee's top ``k`` candidates of ``outcomes`` by gain, among those with a positive gain."""
    _require(outcomes, "outcomes", ("employee_id", "course_id", gain_col))
    gains = outcomes[["employee_id", "course_id", gain_col]].astype({"employee_id": str, "course_id": str})
    absent = sorted(set(ids) - set(gains["employee_id"]))
    if absent:
        raise ValueError(f"outcomes has no row for {len(absent)} employee(s) of recs, e.g. {absent[:3]}")
    return top_k(gains[gains[gain_col] > 0], k, "employee_id", "course_id", gain_col)


def _holds(lists: pd.DataFrame, col: str, value: str, ids: pd.Series) -> np.ndarray:
    """1 for each employee of ``ids`` whose rows of ``lists`` include a course with ``col`` == ``value``."""
    hit = lists.loc[lists[col].notna() & (lists[col].astype(str) == value), "employee_id"]
    return ids.isin(set(hit)).to_numpy(dtype=int)


def _as_of_text(as_of: pd.Timestamp | None, people: pd.DataFrame) -> str:
    if as_of is not None:
        return str(pd.Timestamp(as_of).date())
    if "event_timestamp" in people.columns:
        ts = pd.to_datetime(people["event_timestamp"], utc=True)
        lo, hi = str(ts.min().date()), str(ts.max().date())
        return lo if lo == hi else f"{lo}..{hi}"
    return "unknown"


def gated_results(audit: dict) -> Iterator[tuple[str, dict]]:
    """(where, group) for every gated group of either audit; ``where`` is the family, prefixed by the course
    type for recommendations (``format=online / sex``)."""
    if "course_types" in audit:
        families = [(f"{t} / {f}", b) for t, block in audit["course_types"].items()
                    for f, b in block["attributes"].items()]
    else:
        families = list(audit["attributes"].items())
    for where, block in families:
        for g in block["groups"]:
            if g.get("gated") and g.get("impact_ratio") is not None:
                yield where, g


def min_impact_ratio(audit: dict) -> float:
    """The lowest impact ratio of any gated group of either audit (1.0 when no group is gated)."""
    return float(min((g["impact_ratio"] for _, g in gated_results(audit)), default=1.0))


# ---------------------------------------------------------------------------------------------- proxies
def _binned(values: pd.Series, n_bins: int) -> pd.Series:
    """Categories for Cramér's V: numeric columns with more than ``n_bins`` values in quantile bins (as
    ``cramers_v`` bins them), missing values their own category."""
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if numeric and values.nunique() > n_bins:
        values = pd.qcut(values, q=n_bins, duplicates="drop")
    return _category(values)


def proxy_check(
    features: pd.DataFrame,
    employees: pd.DataFrame,
    threshold: float = PROXY_THRESHOLD,
    columns: Sequence[str] | None = None,
    n_bins: int = DEFAULT_ASSOCIATION_BINS,
) -> dict:
    """Cramér's V of every feature column against every protected attribute; pairs ``>= threshold`` flagged.

    ``features`` is keyed by ``employee_id`` (several rows per employee are fine); ``columns`` defaults to
    every column except the keys. A feature or attribute with a single category is skipped (V is 0).
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
    if "employee_id" not in features.columns or "employee_id" not in employees.columns:
        raise ValueError("features and employees both need an employee_id column")
    cols = [c for c in features.columns if c not in KEY_COLUMNS] if columns is None else list(columns)
    missing = [c for c in cols if c not in features.columns]
    if missing:
        raise ValueError(f"features lacks column(s) {missing}")
    leaked = [c for c in cols if c in PROTECTED_ATTRIBUTES]
    if leaked:
        raise ValueError(f"protected attribute(s) {leaked} must not be model features")
    attrs = [c for c in PROTECTED_ATTRIBUTES if c in employees.columns]
    emp = employees[["employee_id", *attrs]].assign(employee_id=lambda d: d["employee_id"].astype(str))
    joined = features[["employee_id", *cols]].assign(employee_id=lambda d: d["employee_id"].astype(str))
    joined = joined.merge(emp, on="employee_id", how="left")

    codes = {c: pd.factorize(_binned(joined[c], n_bins), sort=True)[0] for c in [*cols, *attrs]}  # once per column
    pairs, skipped = [], []
    for feature in cols:
        for attr in attrs:
            x, y = codes[feature], codes[attr]
            nx, ny = int(x.max()) + 1, int(y.max()) + 1
            if nx < 2 or ny < 2:
                skipped.append({"feature": feature, "attribute": attr, "reason": "single category"})
                continue
            table = np.bincount(x * ny + y, minlength=nx * ny).reshape(nx, ny).astype(float)
            pairs.append({
                "feature": feature, "attribute": attr, "cramers_v": cramers_v_of_table(table),
                "mutual_information": mutual_information_of_table(table),
            })
    flagged = sorted((p for p in pairs if p["cramers_v"] >= threshold - 1e-9), key=lambda p: -p["cramers_v"])
    return to_jsonable({"threshold": threshold, "n_rows": len(joined), "features": cols, "attributes": attrs,
                        "flagged": flagged, "pairs": pairs, "skipped": skipped})


# ---------------------------------------------------------------------------------------------- output
def to_jsonable(obj):
    """Plain floats, ints, strings, bools, lists and dicts; NaN and missing values become None."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, bool | np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return None if math.isnan(obj) or math.isinf(obj) else float(obj)
    if isinstance(obj, str) or obj is None:
        return obj
    if obj is pd.NA or obj is pd.NaT:
        return None
    if isinstance(obj, pd.Timestamp):
        return obj.isoformat()
    raise TypeError(f"cannot make {type(obj).__name__} JSON-serialisable: {obj!r}")


_STATUS_TEXT = {"too_small": "too small to judge", "not_significant": "not significant"}
_FIRST = ("sex", "age_band", "sex_x_age_band")  # the attributes the issue names come first in the summary


def _fmt(value, pct: bool = False) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.1%}" if pct else f"{value:.3f}"
    return _STATUS_TEXT.get(str(value), str(value))


def _summary_lines(families: dict, selected: str) -> list[str]:
    """One line per attribute (sex and age band first): verdict, the lowest judged impact ratio, and the
    groups too small to judge with their counts."""
    lines = []
    for name in sorted(families, key=lambda f: (_FIRST.index(f) if f in _FIRST else len(_FIRST), f)):
        fam = families[name]
        judged = [g["impact_ratio"] for g in fam["groups"] if g.get("gated") and g.get("impact_ratio") is not None]
        small = [f"{' / '.join(value_name(v, 'en', k) for k, v in g['group'].items())} "
                 f"({g.get('people') or g['n']} people, {g['selected']} {selected})"
                 for g in fam["groups"] if g.get("status") == "too_small"]
        text = f"- **{' × '.join(fam['columns'])}**: {'passed' if fam['passed'] else 'FAILED'}"
        text += f", lowest impact ratio {min(judged):.3f}" if judged else ", no group large enough to judge"
        if small:
            text += f"; too small to judge: {', '.join(small)}"
        lines.append(text)
    return [*lines, ""]


_COLUMNS = (
    ("n", "n", False), ("share", "share", True), ("selected", "selected", False),
    ("selection_rate", "selection rate", True), ("impact_ratio", "impact ratio", False),
    ("mean_risk", "mean risk", False), ("outcome_rate", "outcome rate", True),
    ("outcome_ratio", "outcome ratio", False), ("observed_rate", "observed", True), ("calibrated", "calibrated", False),
    ("roc_auc", "ROC-AUC", False), ("p_value", "shortfall p", False), ("gated", "gated", False),
    ("status", "four-fifths", False),
)


def _family_lines(families: dict, heading: str, selected: str) -> list[str]:
    """One table per family; a column is shown when some group of some family has a value for it."""
    groups = [g for fam in families.values() for g in fam["groups"]]
    shown = [c for c in _COLUMNS if any(g.get(c[0]) is not None for g in groups)]
    header = [selected if key == "selected" else title for key, title, _ in shown]
    lines = []
    for fam in families.values():
        lines += [f"{heading} {' × '.join(fam['columns'])}: {'passed' if fam['passed'] else 'FAILED'}", ""]
        if fam.get("note"):
            lines += [f"_{fam['note']}._", ""]
        lines += ["| group | " + " | ".join(header) + " |", "|---" * (len(shown) + 1) + "|"]
        for g in fam["groups"]:
            label = " / ".join(value_name(v, "en", k) for k, v in g["group"].items())
            if g.get("is_reference"):
                label += " (reference)"
            lines.append(f"| {label} | " + " | ".join(_fmt(g.get(key), pct) for key, _, pct in shown) + " |")
        lines.append("")
    return lines


def render_markdown(audit: dict) -> str:
    """A readable page for either audit: summary, the rule in words, one table per attribute (per course
    type for recommendations), the proxy list."""
    verdict = "PASSED" if audit["passed"] else "FAILED"
    outcomes = f"true outcomes {'given' if audit['labelled'] else 'not given'}"
    if "course_types" in audit:
        lines = ["# Fairness audit: course recommendations", "",
                 f"**Four-fifths gate: {verdict}.** Top-{audit['k']} recommendations of {audit['n']} employees "
                 f"as of {audit['as_of']}, {len(audit['course_types'])} course types; {outcomes}.", ""]
    elif audit.get("subject") == POTENTIAL:
        lines = ["# Fairness audit: high-potential marks", "",
                 f"**Four-fifths gate: {verdict}.** {audit['selected']} of {audit['n']} employee snapshots marked high "
                 f"potential ({audit['selection_rate']:.1%}) at threshold {audit['min_risk']:.4f}, as of "
                 f"{audit['as_of']}; {outcomes}.", ""]
    else:
        lines = ["# Fairness audit: attrition alerts", "",
                 f"**Four-fifths gate: {verdict}.** {audit['selected']} of {audit['n']} employees alerted "
                 f"({audit['selection_rate']:.1%}) at min_risk {audit['min_risk']:.4f}, as of {audit['as_of']}; "
                 f"{outcomes}.", ""]
    if audit.get("note"):
        lines += [f"**{audit['note'][0].upper()}{audit['note'][1:]}.**", ""]
    if audit.get("attributes"):
        lines += _summary_lines(audit["attributes"], "marked" if audit.get("subject") == POTENTIAL else "alerts")
    lines += ["## The rule", "", audit["rule"]["text"], ""]
    if audit.get("unmatched_employees"):
        lines += [f"{audit['unmatched_employees']} scored employees have no `employees` row: "
                  f"their attributes are `{MISSING}`.", ""]
    if "course_types" in audit:
        for block in audit["course_types"].values():
            share = f"{block['selected']} of {audit['n']} employees ({block['selection_rate']:.1%})"
            best = "" if block["outcome_rate"] is None else (
                f"; {block['outcome_rate']:.1%} have one in their best top {audit['k']} by gain")
            lines += [f"## {block['column']} = {block['value']}: {'passed' if block['passed'] else 'FAILED'}", "",
                      f"{share} have a course of this type in their top {audit['k']}{best}.", ""]
            lines += _family_lines(block["attributes"], "###", "recommended")
    else:
        lines += _family_lines(audit["attributes"], "##", "marked" if audit.get("subject") == POTENTIAL else "alerted")
    if "proxies" in audit:
        prox = audit["proxies"]
        lines += ["## Possible proxies", "",
                  f"Model features with Cramér's V ≥ {prox['threshold']} against a protected attribute "
                  f"({len(prox['pairs'])} pairs checked on {prox['n_rows']} rows):", ""]
        if prox["flagged"]:
            lines += ["| feature | attribute | Cramér's V | mutual information (nats) |", "|---|---|---|---|"]
            lines += [f"| {p['feature']} | {p['attribute']} | {p['cramers_v']:.3f} | {p['mutual_information']:.3f} |"
                      for p in prox["flagged"]]
        else:
            lines.append("None above the threshold.")
        lines.append("")
    if audit.get("attribution"):  # where a failed audit comes from (evaluation.fairness_attribution)
        from evaluation.fairness_attribution import render_markdown as attribution_markdown

        lines += ["#" + attribution_markdown(audit["attribution"]), ""]
    return "\n".join(lines)
