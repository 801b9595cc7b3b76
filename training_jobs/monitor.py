"""``talentloop monitor``: the champions' predictions against what happened, and drift since training.

Attrition: every month ``talentloop score attrition`` stored whose horizon has passed (the data reach the end of
the month ``as_of + horizon``), the alerts raised against who left voluntarily within the horizon (precision,
recall, base rate), calibration by risk band, and the backtest's precision for reference. Drift: the population
stability index of every model feature between the training window and the latest month of features.
Skill demand: the champion's forecast from the last month it was trained on against the demand that has
arrived since. ``needs_retraining`` when a feature's PSI reaches ``evaluation.monitoring.PSI_RETRAIN`` or the
latest months' precision fell below ``PRECISION_FALL`` times the reference.

Results: a run of the MLflow experiment ``monitoring`` (metrics per month as steps, the tables as artifacts),
``talentloop.monitor.*`` tags on the champion version (``/v1/models``, ``/metrics`` and the console read them),
and ``monitoring/latest.md`` in the version's training run (``talentloop model-card`` appends it).
"""

from __future__ import annotations

import tempfile
from contextlib import closing
from typing import Any

import mlflow
import pandas as pd

from evaluation import monitoring as mon
from features.app_db import connect
from features.offline import read_clean
from features.settings import Settings
from models.attrition.alerts import risks_at
from models.attrition.labels import KEYS, data_end, horizon_labels
from training_jobs.tracking import CHAMPION, configure, experiment, log_json, log_markdown

EXPERIMENT = "monitoring"


def run(settings: Settings, log: bool = True) -> dict[str, Any]:
    """Monitor the attrition champion (and the skill-demand champion when there is one); the report."""
    from training_jobs.score_attrition import load_champion

    client = configure(settings)
    model, version = load_champion(settings)
    mv = client.get_model_version("attrition", version)
    train_run = client.get_run(mv.run_id)
    h, min_risk = int(model.policy_.horizon), float(model.policy_.min_risk)
    events = read_clean(settings, "employment_events")
    if events.empty:
        raise ValueError("no employment events ingested: run `talentloop ingest` first")
    end = data_end(events)

    labelled = _labelled_scores(settings, events, end, h)
    outcomes = mon.alert_outcomes(labelled)
    units = _units(client, mv.run_id)
    backtest = mon.backtest_precision(units, min_risk, h)
    earlier = outcomes.iloc[: -mon.RECENT_MONTHS] if len(outcomes) >= 2 * mon.RECENT_MONTHS else outcomes.iloc[:0]
    reference = mon.pooled(earlier)["lift"] if len(earlier) else mon.backtest_lift(units, min_risk, h)
    falling = mon.precision_falling(outcomes, reference)
    recent_lift = mon.pooled(outcomes.tail(mon.RECENT_MONTHS))["lift"] if len(outcomes) else None
    calibration = mon.band_calibration(labelled, min_risk) if len(labelled) else pd.DataFrame()
    drift = _drift(settings, model, train_run.data.params.get("data_end"))
    max_psi = float(drift["psi"].max()) if len(drift) else 0.0
    drifted = drift.loc[drift["status"] == "retrain", "feature"].tolist()
    forecasts = _skill_demand(settings, client)
    pooled = mon.pooled(outcomes)
    report = {
        "model": "attrition", "version": version, "horizon": h, "min_risk": min_risk, "data_end": str(end.date()),
        "months_evaluated": len(outcomes), "months_scored": int(labelled["as_of"].nunique()) if len(labelled) else 0,
        "precision": pooled["precision"], "recall": pooled["recall"], "backtest_precision": backtest,
        "lift": pooled["lift"], "recent_lift": recent_lift, "reference_lift": reference,
        "precision_falling": falling, "max_psi": max_psi,
        "drifted_features": drifted, "needs_retraining": bool(drifted) or falling,
        "by_month": outcomes.to_dict(orient="records"), "calibration": calibration.to_dict(orient="records"),
        "drift": drift.to_dict(orient="records"), "skill_demand": forecasts,
    }
    report["markdown"] = render_markdown(report)
    if log:
        _log(settings, client, report, mv.run_id)
    return report


def _labelled_scores(settings: Settings, events: pd.DataFrame, end: pd.Timestamp, h: int) -> pd.DataFrame:
    """Stored scores of months whose horizon has passed: ``as_of, employee_id, risk, alerted, label``."""
    with closing(connect(settings.app_db)) as con:
        scores = risks_at(con, h)
    if scores.empty:
        return pd.DataFrame(columns=["as_of", "employee_id", "risk", "alerted", "label"])
    scores["alerted"] = scores["alert_id"].notna().astype(int)
    snaps = pd.DataFrame({"employee_id": scores["employee_id"].astype(str),
                          "event_timestamp": pd.to_datetime(scores["as_of"]).dt.tz_localize("UTC")})
    labels = horizon_labels(snaps, events, end, h)
    out = scores.assign(event_timestamp=snaps["event_timestamp"]).merge(labels, on=KEYS, how="inner")
    return out[["as_of", "employee_id", "model_version", "risk", "alerted", "label"]].dropna(subset=["risk"])


def _units(client, run_id: str) -> pd.DataFrame:
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = client.download_artifacts(run_id, "evaluation/units.parquet", tmp)
        except Exception:  # noqa: BLE001 - a run without units: no backtest reference
            return pd.DataFrame(columns=["horizon", "y_true", "score"])
        return pd.read_parquet(path)


def _drift(settings: Settings, model, trained_end: str | None) -> pd.DataFrame:
    """PSI per model feature: the training window (snapshots before the training data's end) vs the latest month."""
    from features.build import feature_path

    path = feature_path(settings.feature_dir, "employee_monthly")
    if not path.exists():
        raise ValueError(f"no employee features at {path}: run `talentloop features build`")
    from features.store import feature_columns

    # every feature of the model's feature service (a simple model may read only some of them)
    try:
        columns = list(dict.fromkeys([*model.feature_columns_, *feature_columns(model.feature_service_)]))
    except (KeyError, ValueError):  # a feature service the definitions do not hold: the model's own inputs
        columns = list(model.feature_columns_)
    import pyarrow.parquet as pq

    present = set(pq.read_schema(path).names)
    columns = [c for c in columns if c in present]
    feats = pd.read_parquet(path, columns=["event_timestamp", *columns])
    ts = pd.to_datetime(feats["event_timestamp"], utc=True)
    last = ts.max()
    latest = feats[ts == last]
    in_window = (ts < pd.Timestamp(trained_end, tz="UTC")) if trained_end else pd.Series(True, index=feats.index)
    window = feats[in_window & (ts < last)]  # the latest month is what is compared, never its own reference
    return mon.feature_drift(mon.seasonal_reference(window, last), latest, columns)


def _skill_demand(settings: Settings, client) -> dict[str, Any]:
    """The skill-demand champion's forecast from its last training month against the demand that arrived."""
    from mlflow.exceptions import MlflowException

    try:
        mv = client.get_model_version_by_alias("skill_demand", CHAMPION)
    except MlflowException:
        return {"status": "no skill-demand champion"}
    last = client.get_run(mv.run_id).data.params.get("last_month")
    if not last:
        return {"status": f"version {mv.version} logged no training window", "version": str(mv.version)}
    from training_jobs.skill_demand import IDS, TARGET, training_frame

    frame = training_frame(settings)
    origin = pd.Timestamp(last)
    arrived = frame[frame["month"] > origin]
    if arrived.empty:
        return {"status": f"no demand has arrived since the forecaster's last training month {last}",
                "version": str(mv.version), "origin": last}
    model = mlflow.pyfunc.load_model(f"models:/skill_demand/{mv.version}").unwrap_python_model().model
    forecast = model.predict(frame[frame["month"] <= origin])
    time_col = model.time_col
    table = mon.forecast_outcomes(forecast.rename(columns={time_col: "month"}), arrived, [*IDS, "month"], TARGET)
    return {"status": "evaluated", "version": str(mv.version), "origin": last,
            "by_horizon": table.to_dict(orient="records")}


def render_markdown(r: dict[str, Any]) -> str:
    def pct(v):
        return "–" if v is None or v != v else f"{v:.1%}"

    lines = [f"# Monitoring: attrition v{r['version']}", "",
             f"Data through {r['data_end']}; alert horizon {r['horizon']} months, threshold {r['min_risk']:.4f}. "
             f"{r['months_evaluated']} scored months have a passed horizon. Realised precision {pct(r['precision'])}, "
             f"recall {pct(r['recall'])}; backtest precision {pct(r['backtest_precision'])}. "
             f"Largest feature PSI {r['max_psi']:.3f} (retrain at {mon.PSI_RETRAIN}). "
             f"**{'Needs retraining' if r['needs_retraining'] else 'No retraining needed'}**"
             + (f": drifted {', '.join(r['drifted_features'])}" if r["drifted_features"] else "")
             + (f"; precision is falling (latest months {r['recent_lift']:.1f}x the base rate against "
               f"{r['reference_lift']:.1f}x before)" if r["precision_falling"] else "") + ".", "",
             "| month | scored | alerts | leavers | alerts followed by an exit | precision | recall | base rate | lift |",
             "|---|---|---|---|---|---|---|---|---|"]
    for m in r["by_month"]:
        lines.append(f"| {m['as_of']} | {m['scored']} | {m['alerts']} | {m['leavers']} | {m['hits']} | "
                     f"{pct(m['precision'])} | {pct(m['recall'])} | {pct(m['base_rate'])} | "
                     + ("–" if m["lift"] is None or m["lift"] != m["lift"] else f"{m['lift']:.1f}x") + " |")
    if r["calibration"]:
        lines += ["", "| risk band | scored | mean predicted risk | observed exit rate |", "|---|---|---|---|"]
        lines += [f"| {c['band']} | {c['n']} | {pct(c['mean_risk'])} | {pct(c['observed_rate'])} |"
                  for c in r["calibration"]]
    lines += ["", "| feature | PSI | status |", "|---|---|---|"]
    lines += [f"| {d['feature']} | {d['psi']:.3f} | {d['status']} |" for d in r["drift"][:10]]
    sd = r["skill_demand"]
    lines += ["", f"Skill demand: {sd['status']}."]
    if sd.get("by_horizon"):
        lines += ["", "| horizon | series | WAPE | bias | 80% coverage |", "|---|---|---|---|---|"]
        lines += [f"| {t['horizon']} | {t['series']} | {pct(t['wape'])} | {pct(t['bias'])} | {pct(t['coverage_80'])} |"
                  for t in sd["by_horizon"]]
    return "\n".join(lines) + "\n"


def _log(settings: Settings, client, report: dict[str, Any], train_run_id: str) -> None:
    now = pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds")
    experiment(settings, EXPERIMENT)
    with mlflow.start_run(run_name=f"monitor attrition v{report['version']}",
                          tags={"talentloop.kind": "monitoring", "talentloop.model": "attrition",
                                "talentloop.version": report["version"]}) as run:
        flat = {k: report[k] for k in ("precision", "recall", "backtest_precision", "max_psi")
                if report[k] is not None}
        mlflow.log_metrics({**flat, "needs_retraining": float(report["needs_retraining"]),
                            "months_evaluated": float(report["months_evaluated"])})
        for step, m in enumerate(report["by_month"]):
            mlflow.log_metrics({k: float(m[k]) for k in ("precision", "recall", "base_rate")
                                if m[k] is not None and m[k] == m[k]}, step=step)
        log_json({k: v for k, v in report.items() if k != "markdown"}, "monitoring.json")
        log_markdown(report["markdown"], "monitoring.md")
    tags = {"at": now, "run_id": run.info.run_id, "months": str(report["months_evaluated"]),
            "precision": _num(report["precision"]), "recall": _num(report["recall"]),
            "backtest_precision": _num(report["backtest_precision"]), "max_psi": f"{report['max_psi']:.3f}",
            "needs_retraining": str(report["needs_retraining"]),
            "drifted_features": ",".join(report["drifted_features"])}
    for key, value in tags.items():
        client.set_model_version_tag("attrition", report["version"], f"talentloop.monitor.{key}", value)
    client.log_text(train_run_id, report["markdown"], "monitoring/latest.md")


def _num(v) -> str:
    return "" if v is None or v != v else f"{v:.4f}"

