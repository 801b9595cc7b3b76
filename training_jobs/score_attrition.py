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

from evaluation.risk_bands import band_edges, band_of
from features.app_db import connect
from features.feature_repo.services import ATTRITION_SERVICE, EMPLOYEE_CONTEXT_SERVICE
from features.offline import read_clean
from features.settings import Settings
from models.attrition import HORIZONS
from models.attrition.alerts import Explained, StoredScore, write_scores
from models.attrition.costs import price_levers
from models.attrition.labels import KEYS, snapshots
from models.attrition.reasons import DRIVERS
from models.explanation import StoredExplanation
from models.wording.alerts import alert_context
from models.wording.units import value_of
from training_jobs.tracking import CHAMPION, configure

SERVICE = ATTRITION_SERVICE
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


def explanations(model, frame: pd.DataFrame, horizon: int) -> list[StoredExplanation]:
    """Per row: base value, top contributions and reasons in both languages."""
    both = model.explain_langs(frame, horizon=horizon, langs=("en", "zh"))
    return [StoredExplanation.of({"en": e, "zh": z}) for e, z in zip(both["en"], both["zh"], strict=True)]


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


def active_snapshots(settings: Settings, as_of: str | None) -> tuple[pd.Timestamp, pd.DataFrame]:
    """The month to score (``as_of`` or the latest with features) and a snapshot row per employee active in it;
    ValueError naming ``--as-of`` when nobody is."""
    from training_jobs.attrition import feature_window

    events = read_clean(settings, "employment_events")
    employees = read_clean(settings, "employees")
    month = _as_of_month(as_of) if as_of else feature_window(settings)[1]
    snaps = snapshots(employees, events, month, month + pd.DateOffset(months=1))
    if snaps.empty:
        raise ValueError(f"no active employees at {month.date()}; check --as-of against the ingested data")
    return month, snaps


def run(settings: Settings, as_of: str | None = None, rule: str = "risk") -> dict:
    from features.store import historical_features

    started = time.time()
    month, snaps = active_snapshots(settings, as_of)
    model, version = load_champion(settings)
    feats = historical_features(settings, snaps, SERVICE)
    feats = feats[feats[model.feature_columns_].notna().any(axis=1)].reset_index(drop=True)
    context = historical_features(settings, feats[KEYS], EMPLOYEE_CONTEXT_SERVICE)
    risk = model.predict_risk(feats, HORIZONS)
    h = model.policy_.horizon
    levers = [price_levers(lv, pay, v, h, settings.replacement_cost_multiple) for lv, pay, v in
              zip(model.levers(feats, h), _column(context, "base_pay"), feats["pay_vs_band_mid"], strict=True)]
    contexts = alert_contexts(settings, model, feats, context, risk[:, HORIZONS.index(h)], month, h)
    scored = pd.DataFrame({
        "employee_id": feats["employee_id"].astype(str).to_numpy(),
        "org_unit_id": context["org_unit_id"].astype("string").to_numpy(), "alert_risk": risk[:, HORIZONS.index(h)],
    })
    # the what-if levers at the policy horizon are stored with the explanation, so the API answers the
    # default request (that horizon, levers on) without re-scoring
    scores = [StoredScore(str(month.date()), e, None if pd.isna(u) else str(u), version,
                          {hh: float(r[i]) for i, hh in enumerate(HORIZONS)},
                          Explained(h, ex, tuple(lv), c))
              for e, u, r, ex, lv, c in zip(scored["employee_id"], scored["org_unit_id"], risk,
                                            explanations(model, feats, h), levers, contexts, strict=True)]
    mask = select_alerts(scored, model.policy_, rule)
    with closing(connect(settings.app_db)) as con:
        n_scores, n_new = write_scores(con, scores, [s for s, m in zip(scores, mask, strict=True) if m])
    seconds = time.time() - started
    return {"as_of": str(month.date()), "model_version": version, "scored": n_scores, "alerts": int(mask.sum()),
            "new_alerts": n_new, "rule": rule, "min_risk": model.policy_.min_risk, "seconds": round(seconds, 2)}


def _column(frame: pd.DataFrame, name: str) -> list:
    return frame[name].tolist() if name in frame.columns else [None] * len(frame)


def alert_contexts(settings: Settings, model, feats: pd.DataFrame, context: pd.DataFrame, risk: np.ndarray,
                   month: pd.Timestamp, h: int) -> list[dict]:
    """Per scored row, what an alert shows about the person (models.wording.alerts): job title, unit name,
    manager, tenure, last rating, risk band with its observed exit rate, and the change since the previous
    month with the drivers of that change (the difference of the two months' explanations, same model)."""
    from features.store import historical_features

    jobs = read_clean(settings, "jobs").set_index("job_id")
    units = read_clean(settings, "org_units").set_index("org_unit_id")
    bands = getattr(model, "risk_bands_", None)
    edges = band_edges(model.policy_.min_risk)
    prev_keys = pd.DataFrame({"employee_id": feats["employee_id"].to_numpy(),
                              "event_timestamp": month - pd.DateOffset(months=1)})
    prev = historical_features(settings, prev_keys, SERVICE)
    has_prev = prev[model.feature_columns_].notna().any(axis=1).to_numpy()
    prev_risk = np.full(len(feats), np.nan)
    change = np.zeros((len(feats), len(model.feature_columns_)))
    if has_prev.any():
        rows = prev.loc[has_prev].reset_index(drop=True)
        prev_risk[has_prev] = model.predict_risk(rows, (h,))[:, 0]
        _, now_c, _ = model.contributions(feats.loc[has_prev].reset_index(drop=True), horizon=h)
        _, before_c, _ = model.contributions(rows, horizon=h)
        change[has_prev] = (now_c - before_c)[:, :len(model.feature_columns_)]
    values = feats[model.feature_columns_].astype(object).where(feats[model.feature_columns_].notna(), None)
    out = []
    for i in range(len(feats)):
        job = context["job_id"].iloc[i] if "job_id" in context else None
        unit = context["org_unit_id"].iloc[i] if "org_unit_id" in context else None
        previous = None if np.isnan(prev_risk[i]) else float(prev_risk[i])
        drivers: dict[str, list[str]] = {"en": [], "zh": []}
        if previous is not None and abs(risk[i] - previous) >= 0.005:
            sign = np.sign(risk[i] - previous)
            order = [j for j in np.argsort(-sign * change[i]) if sign * change[i, j] > 0][:2]
            row = values.iloc[i].to_dict()
            for j in order:
                name = model.feature_columns_[j]
                driver = DRIVERS.get(name)
                for lang in ("en", "zh"):
                    text = driver.reason(row[name], lang, row) if driver else None
                    if text:
                        drivers[lang].append(text)
        out.append(alert_context(
            job_title=_names(jobs, job, "title"), unit_name=_names(units, unit, "name"),
            manager_id=_column(context, "manager_id")[i], tenure_months=feats["tenure_months"].iloc[i],
            last_rating=feats["last_rating"].iloc[i] if "last_rating" in feats else None, risk=float(risk[i]),
            band=band_of(float(risk[i]), edges), bands=bands, horizon=h, previous_risk=previous,
            change_drivers=drivers, first_month=(value_of(feats["tenure_months"].iloc[i]) or 99.0) < 1))
    return out


def _names(table: pd.DataFrame, key: object, prefix: str) -> dict[str, str] | None:
    if key is None or pd.isna(key) or key not in table.index:
        return None
    row = table.loc[key]
    return {lang: str(row[f"{prefix}_{lang}"]) for lang in ("en", "zh") if pd.notna(row.get(f"{prefix}_{lang}"))}


def _as_of_month(as_of: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(as_of)
    except ValueError as exc:
        raise ValueError(f"--as-of must be a date like 2025-06 or 2025-06-01, got {as_of!r}") from exc
    return pd.Timestamp(ts.year, ts.month, 1, tz="UTC")
