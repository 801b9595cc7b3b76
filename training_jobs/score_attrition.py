"""``talentloop score attrition [--as-of DATE]``: score every active employee with the champion model.

Stores risk per horizon with the top drivers (English and Chinese) and the what-if levers, and raises alerts
by the threshold policy versioned with the model: risk at the policy horizon ≥ ``min_risk``
(``rule="risk"``), or the top ``top_share`` of each org unit (``rule="top-share"``). Re-running the same
month never duplicates alerts.
"""

from __future__ import annotations

import time
from contextlib import closing

import mlflow
import numpy as np
import pandas as pd

from features.offline import read_clean
from features.settings import Settings
from models.attrition import HORIZONS
from models.attrition.alerts import connect, write_scores
from models.attrition.labels import KEYS, snapshots
from training_jobs.tracking import CHAMPION, configure

SERVICE = "attrition_v1"
RULES = ("risk", "top-share")


def load_champion(settings: Settings, name: str = "attrition"):
    """(fitted model object, version) behind the ``champion`` alias."""
    from mlflow.exceptions import MlflowException

    client = configure(settings)
    try:
        version = client.get_model_version_by_alias(name, CHAMPION).version
    except MlflowException as exc:
        raise ValueError(f"{name} has no champion to score with: train it (`talentloop train {name}`), or promote a "
                         f"registered version (`talentloop promote {name} --version N`)") from exc
    loaded = mlflow.pyfunc.load_model(f"models:/{name}@{CHAMPION}")
    return loaded.unwrap_python_model().model, str(version)


def explanations(model, frame: pd.DataFrame, horizon: int) -> list[dict]:
    """Per row: base value, top contributions and reasons in both languages."""
    both = model.explain_langs(frame, horizon=horizon, langs=("en", "zh"))
    en, zh = both["en"], both["zh"]
    return [{"horizon": horizon, **e.to_dict(), "reasons": {"en": e.reasons, "zh": z.reasons}}
            for e, z in zip(en, zh, strict=True)]


def select_alerts(scored: pd.DataFrame, policy, rule: str) -> pd.Series:
    """Boolean mask of rows that become alerts under ``rule``."""
    risk = scored["alert_risk"]
    if rule == "risk":
        return risk >= policy.min_risk
    if rule == "top-share":
        rank = risk.groupby(scored["org_unit_id"]).rank(ascending=False, method="first")
        size = scored.groupby("org_unit_id")["employee_id"].transform("size")
        return rank <= np.ceil(size * policy.top_share).clip(lower=1)
    raise ValueError(f"rule must be one of {RULES}, got {rule!r}")


def run(settings: Settings, as_of: str | None = None, rule: str = "risk") -> dict:
    from features.store import historical_features
    from training_jobs.attrition import feature_window

    started = time.time()
    events = read_clean(settings, "employment_events")
    employees = read_clean(settings, "employees")
    month = _as_of_month(as_of) if as_of else feature_window(settings)[1]
    snaps = snapshots(employees, events, month, month + pd.DateOffset(months=1))
    if snaps.empty:
        raise ValueError(f"no active employees at {month.date()}; check --as-of against the ingested data")
    model, version = load_champion(settings)
    feats = historical_features(settings, snaps, SERVICE)
    feats = feats[feats[model.feature_columns_].notna().any(axis=1)].reset_index(drop=True)
    context = historical_features(settings, feats[KEYS], "employee_context_v1")
    risk = model.predict_risk(feats, HORIZONS)
    h = model.policy_.horizon
    scored = pd.DataFrame({
        "as_of": str(month.date()), "employee_id": feats["employee_id"].astype(str).to_numpy(),
        "org_unit_id": context["org_unit_id"].astype("string").to_numpy(),
        "model_version": version, "horizon": h, "alert_risk": risk[:, HORIZONS.index(h)],
    })
    scored["risks"] = [{f"h{hh}": float(r[i]) for i, hh in enumerate(HORIZONS)} for r in risk]
    # the what-if levers at the policy horizon are stored with the explanation, so the API answers the
    # default request (that horizon, levers on) without re-scoring
    scored["explanation"] = [{**e, "levers": lv} for e, lv in zip(explanations(model, feats, h),
                                                                   model.levers(feats, h), strict=True)]
    mask = select_alerts(scored, model.policy_, rule)
    alerts = scored[mask].rename(columns={"alert_risk": "risk"})
    with closing(connect(settings.app_db)) as con:
        n_scores, n_new = write_scores(con, scored, alerts)
    seconds = time.time() - started
    return {"as_of": str(month.date()), "model_version": version, "scored": n_scores, "alerts": int(mask.sum()),
            "new_alerts": n_new, "rule": rule, "min_risk": model.policy_.min_risk, "seconds": round(seconds, 2)}


def _as_of_month(as_of: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(as_of)
    except ValueError as exc:
        raise ValueError(f"--as-of must be a date like 2025-06 or 2025-06-01, got {as_of!r}") from exc
    return pd.Timestamp(ts.year, ts.month, 1, tz="UTC")
