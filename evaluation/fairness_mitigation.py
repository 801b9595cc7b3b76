"""What a fairness mitigation (``models.attrition.mitigation``) changes in a training set, decided with the
protected attributes (read here, for training only, never passed to the model).

:func:`apply` is the one call a training job makes: for ``drop_proxies`` the proxy check
(``evaluation.fairness_audit.proxy_check``) on every employee's latest snapshot names the features to drop; for
``reweigh`` each training row gets its employee's sex x age band group (age at the row's month) for the weights.
"""

from __future__ import annotations

import pandas as pd

from evaluation.fairness_audit import PROXY_THRESHOLD, attribute_groups, proxy_check
from models.attrition.mitigation import MITIGATIONS, check, drop_features, reweigh


def apply(name: str | None, rows: pd.DataFrame, snaps: pd.DataFrame, columns: list[str],
          employees: pd.DataFrame, threshold: float = PROXY_THRESHOLD) -> tuple[pd.DataFrame, list[str], dict]:
    """(training rows, feature columns, what was done) after mitigation ``name`` (unchanged for None)."""
    if check(name) is None:
        return rows, columns, {"name": None}
    if name == "drop_proxies":
        latest = snaps.sort_values("event_timestamp").groupby("employee_id", as_index=False).tail(1)
        proxies = proxy_check(latest, employees, threshold, columns=columns)
        drop = sorted({p["feature"] for p in proxies["flagged"]})
        kept = drop_features(columns, drop)
        pairs = [f"{p['feature']} ~ {p['attribute']} (V {p['cramers_v']:.2f})" for p in proxies["flagged"]]
        return rows, kept, {"name": name, "description": MITIGATIONS[name], "dropped": drop, "proxies": pairs}
    people = rows[["employee_id", "event_timestamp"]].assign(employee_id=rows["employee_id"].astype(str))
    attrs = [c for c in ("sex", "birth_year") if c in employees.columns]
    if not attrs:
        raise ValueError("reweigh needs sex or birth_year in employees; neither was delivered")
    people = people.merge(employees[["employee_id", *attrs]].assign(employee_id=lambda d: d["employee_id"].astype(str)),
                          on="employee_id", how="left")
    groups, _ = attribute_groups(people)
    key = groups[[c for c in ("sex", "age_band") if c in groups.columns]].astype(str).agg(" x ".join, axis=1)
    weighted = reweigh(rows.reset_index(drop=True), key)
    return weighted, columns, {"name": name, "description": MITIGATIONS[name], "groups": sorted(key.unique().tolist())}
