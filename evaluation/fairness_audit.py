"""Fairness audit of attrition alerts: four-fifths impact ratios per protected group and a proxy check.

Protected attributes (``features.contract.PROTECTED_ATTRIBUTES``, table ``employees``) feed only this
audit; they are never model features.

The rule
--------
*Selection* is being alerted: risk at the alert horizon ``>= min_risk`` (the threshold versioned with the
model, ``policy_.min_risk``).

Groups, one family per attribute present in ``employees`` (a missing value forms its own ``(missing)``
group so it stays visible):

- ``sex``, ``ethnicity``, ``marital_status``, ``nationality`` as recorded;
- ``age_band`` from ``birth_year``: ``under 40`` or ``40 and over``, age = year of ``as_of`` (or of each
  row's snapshot ``event_timestamp``) minus ``birth_year`` (only the birth year is known);
- the intersection ``sex × age_band``.

Per group (``evaluation.metrics.fairness``): n, share of the scored rows, selection rate, impact ratio = the
group's selection rate / the highest selection rate among gated groups. Groups under 2% of the rows are
reported but not gated. A gated group passes the four-fifths gate when its impact ratio is ``>= 0.8``, or,
when true outcomes are given, when the gap is *explained*: its outcome-rate ratio to the reference group is
within 0.1 (absolute) of its impact ratio. The audit ``passed`` only when no gated group of any family
fails. With labels, each group also gets calibration (mean predicted risk vs observed rate, Brier, ECE and
ROC-AUC where both classes occur).

Proxy check: each model feature column against each protected attribute, Cramér's V (bias-corrected;
numeric columns binned into quantiles, missing values their own category). A pair with V ``>= 0.3``
(conventionally a moderate association) is listed as a possible proxy for a person to review; the proxy
list is reported beside the gate and does not decide ``passed``.

Everything returned is JSON-serialisable (NaN becomes ``None``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from evaluation.metrics.classification import check_scores
from evaluation.metrics.constants import (
    DEFAULT_ASSOCIATION_BINS,
    FOUR_FIFTHS_THRESHOLD,
    OUTCOME_RATE_TOLERANCE,
    SMALL_GROUP_SHARE,
)
from evaluation.metrics.fairness import (
    cramers_v,
    four_fifths_gate,
    group_calibration,
    impact_ratios,
    mutual_information,
    selection_rates,
)
from features.contract import PROTECTED_ATTRIBUTES

PROXY_THRESHOLD = 0.3
AGE_BAND_CUTOFF = 40
UNDER, OVER = f"under {AGE_BAND_CUTOFF}", f"{AGE_BAND_CUTOFF} and over"
MISSING = "(missing)"
CATEGORICAL = ("sex", "ethnicity", "marital_status", "nationality")
KEY_COLUMNS = ("employee_id", "event_timestamp", "created_timestamp")
_CALIBRATION = ("mean_predicted", "observed_rate", "brier", "ece", "roc_auc")

RULE = (
    f"An employee is selected when alerted (risk at the alert horizon >= min_risk). For each protected "
    f"attribute (sex, age band under {AGE_BAND_CUTOFF} / {AGE_BAND_CUTOFF} and over from birth year, ethnicity, "
    f"marital status, nationality; missing values form their own group) and for sex x age band, a group's "
    f"impact ratio is its selection rate divided by the highest selection rate among gated groups. Groups "
    f"under {SMALL_GROUP_SHARE:.0%} of employees are reported but not gated. The four-fifths rule: a gated "
    f"group passes when its impact ratio is at least {FOUR_FIFTHS_THRESHOLD}, or, when true outcomes are known, "
    f"when the gap is explained by them (the group's outcome-rate ratio to the reference group is within "
    f"{OUTCOME_RATE_TOLERANCE} of its impact ratio). The audit passes when no gated group fails. Model "
    f"features whose Cramer's V with a protected attribute is at least {PROXY_THRESHOLD} are listed as "
    f"possible proxies for review."
)


# ---------------------------------------------------------------------------------------------- groups
def _category(values: pd.Series) -> pd.Series:
    """Values as strings, missing ones as ``(missing)``."""
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


# ---------------------------------------------------------------------------------------------- audit
def _family_table(frame: pd.DataFrame, cols: list[str], labelled: bool) -> pd.DataFrame:
    table = impact_ratios(selection_rates(frame, cols, "selected"))
    outcome = selection_rates(frame, cols, "y_true") if labelled else None
    table = four_fifths_gate(table, outcome_rates=outcome)
    means = frame.groupby(cols, observed=True)["risk"].mean().rename("mean_risk").reset_index()
    table = table.merge(means, on=cols, how="left")
    if labelled:
        calib = group_calibration(frame, cols, "y_true", "risk")[[*cols, *_CALIBRATION]]
        table = table.merge(calib, on=cols, how="left")
    return table.rename(columns={"rate": "selection_rate"})


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
    """The fairness audit of alerts ``risk >= min_risk`` (the rule is in the module docstring).

    ``scored``: ``employee_id``, ``risk`` and, when ``outcome_col`` is not None and is a column of
    ``scored``, the true 0/1 outcome; ``event_timestamp`` dates each row when ``as_of`` is None.
    ``employees``: the clean ``employees`` table. ``features``: model inputs keyed by ``employee_id`` for the
    proxy check (columns ``feature_columns``, default every non-key column). Raises ValueError when no one is
    alerted (impact ratios are undefined) or the reference group has no true outcome.
    """
    for col in ("employee_id", "risk"):
        if col not in scored.columns:
            raise ValueError(f"scored has no column {col!r}")
    if "employee_id" not in employees.columns:
        raise ValueError("employees has no column 'employee_id'")
    if employees["employee_id"].astype(str).duplicated().any():
        raise ValueError("employees has more than one row per employee_id")
    if scored.empty:
        raise ValueError("scored is empty")
    risk = check_scores(scored["risk"], len(scored), name="scored['risk']", probabilities=True)
    labelled = outcome_col is not None and outcome_col in scored.columns

    attrs = [c for c in PROTECTED_ATTRIBUTES if c in employees.columns]
    people = scored[["employee_id"] + (["event_timestamp"] if "event_timestamp" in scored.columns else [])].copy()
    people["employee_id"] = people["employee_id"].astype(str)
    emp = employees[["employee_id", *attrs]].assign(employee_id=lambda d: d["employee_id"].astype(str))
    people = people.reset_index(drop=True).merge(emp.assign(_matched=True), on="employee_id", how="left")
    groups, families = attribute_groups(people, as_of)
    frame = groups.assign(risk=risk, selected=(risk >= min_risk).astype(int))
    if labelled:
        frame["y_true"] = scored[outcome_col].to_numpy()
    if frame["selected"].sum() == 0:
        raise ValueError(f"no one is alerted at min_risk={min_risk}; impact ratios are undefined")

    results = {}
    for name, cols in families.items():
        table = _family_table(frame, cols, labelled)
        rows = []
        for rec in table.to_dict(orient="records"):
            rows.append({"group": {c: rec.pop(c) for c in cols}, **rec})
        failed = [r["group"] for r in rows if r["status"] == "fail"]
        results[name] = {"columns": cols, "passed": not failed, "failed_groups": failed, "groups": rows}

    audit = {
        "rule": {
            "text": RULE, "selection": "risk >= min_risk", "four_fifths_threshold": FOUR_FIFTHS_THRESHOLD,
            "small_group_share": SMALL_GROUP_SHARE, "outcome_rate_tolerance": OUTCOME_RATE_TOLERANCE,
            "age_band_cutoff": AGE_BAND_CUTOFF, "proxy_threshold": proxy_threshold,
        },
        "min_risk": float(min_risk),
        "as_of": _as_of_text(as_of, people),
        "n": len(frame),
        "selected": int(frame["selected"].sum()),
        "selection_rate": float(frame["selected"].mean()),
        "labelled": labelled,
        "unmatched_employees": int(people["_matched"].isna().sum()),
        "protected_attributes": {a: ("age_band" if a == "birth_year" else a) for a in attrs},
        "attributes": results,
        "passed": all(r["passed"] for r in results.values()),
    }
    if features is not None:
        audit["proxies"] = proxy_check(features, employees, proxy_threshold, columns=feature_columns)
    return to_jsonable(audit)


def _as_of_text(as_of: pd.Timestamp | None, people: pd.DataFrame) -> str:
    if as_of is not None:
        return str(pd.Timestamp(as_of).date())
    if "event_timestamp" in people.columns:
        ts = pd.to_datetime(people["event_timestamp"], utc=True)
        lo, hi = str(ts.min().date()), str(ts.max().date())
        return lo if lo == hi else f"{lo}..{hi}"
    return "unknown"


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

    binned = {c: _binned(joined[c], n_bins) for c in [*cols, *attrs]}
    pairs, skipped = [], []
    for feature in cols:
        for attr in attrs:
            x, y = binned[feature], binned[attr]
            if x.nunique() < 2 or y.nunique() < 2:
                skipped.append({"feature": feature, "attribute": attr, "reason": "single category"})
                continue
            pairs.append({
                "feature": feature, "attribute": attr, "cramers_v": cramers_v(x, y, n_bins=n_bins),
                "mutual_information": mutual_information(x, y, n_bins=n_bins),
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


def _fmt(value, pct: bool = False) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.1%}" if pct else f"{value:.3f}"
    return str(value)


_COLUMNS = (
    ("n", "n", False), ("share", "share", True), ("selected", "alerted", False),
    ("selection_rate", "selection rate", True), ("impact_ratio", "impact ratio", False),
    ("mean_risk", "mean risk", False), ("outcome_rate", "outcome rate", True),
    ("outcome_ratio", "outcome ratio", False), ("observed_rate", "observed", True), ("roc_auc", "ROC-AUC", False),
    ("gated", "gated", False), ("status", "four-fifths", False),
)


def render_markdown(audit: dict) -> str:
    """A readable page: summary, the rule in words, one table per attribute, the proxy list."""
    verdict = "PASSED" if audit["passed"] else "FAILED"
    lines = [
        "# Fairness audit: attrition alerts", "",
        f"**Four-fifths gate: {verdict}.** {audit['selected']} of {audit['n']} employees alerted "
        f"({audit['selection_rate']:.1%}) at min_risk {audit['min_risk']:.4f}, as of {audit['as_of']}; "
        f"true outcomes {'given' if audit['labelled'] else 'not given'}.", "",
        "## The rule", "", audit["rule"]["text"], "",
    ]
    if audit.get("unmatched_employees"):
        lines += [f"{audit['unmatched_employees']} scored employees have no `employees` row: "
                  f"their attributes are `{MISSING}`.", ""]
    labelled = audit["labelled"]
    shown = [c for c in _COLUMNS if labelled or c[0] not in ("outcome_rate", "outcome_ratio", "observed_rate",
                                                             "roc_auc")]
    for fam in audit["attributes"].values():
        title = " × ".join(fam["columns"])
        lines += [f"## {title}: {'passed' if fam['passed'] else 'FAILED'}", ""]
        lines.append("| group | " + " | ".join(h for _, h, _ in shown) + " |")
        lines.append("|---" * (len(shown) + 1) + "|")
        for g in fam["groups"]:
            label = " / ".join(str(v) for v in g["group"].values())
            if g.get("is_reference"):
                label += " (reference)"
            lines.append(f"| {label} | " + " | ".join(_fmt(g.get(k), pct) for k, _, pct in shown) + " |")
        lines.append("")
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
    return "\n".join(lines)
