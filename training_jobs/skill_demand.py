"""Training job for the skill-demand forecaster, read top to bottom.

1. Training series from the feature store: every (org unit, skill, month) snapshot of
   ``unit_skill_monthly`` is the entity frame of ``historical_features(..., "skill_demand_v1")``; the
   target is ``demand_slots``, the planner's capability need (``features.build.unit_skill``), and the plan of
   each target month (``planned_slots_ahead_h``) is a known-in-advance input.
2. Rolling-origin backtest (8 origins per horizon, horizons 1-12), one pooled model refitted every 4
   origins (``REFIT_EVERY``).
3. Baselines on the same origins (naive, seasonal naive, drift; AutoETS on a sample of series, on the
   report origins only when it is not a served candidate) and, on simulated data when ``truth_dir`` is
   given, the oracle (expected demand); the served method per horizon chosen on earlier origins.
4. Metrics per horizon: MASE (pooled, scaled by the one-step naive error of each origin's training
   months), sMAPE, weighted quantile loss and 80% interval coverage.
5. Fit the final model on every month, log parameters, metrics, fan charts and a model card to MLflow and
   register it (alias ``challenger``; ``champion`` for the first version only through the gate).

``run_generic`` does the same for any long-format CSV / Parquet file (``series_id, month, value`` by
default) so a company can forecast its own signals; see ``docs/skill-demand.md``.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from features import progress
from features.settings import Settings
from models.skill_demand import FEATURE_SERVICE, DemandForecaster
from models.skill_demand.series import Fill, to_month

REGISTERED_NAME = "skill_demand"
GENERIC_NAME = "skill_demand_generic"
IDS = ("org_unit_id", "skill_id")
TARGET = "demand_slots"
EXOG = ("open_req_slots", "open_requisitions", "planned_headcount", "headcount", "holders_at_required",
        "in_training", "vol_attrition_rate_12m")
STATIC = ("skill_id", "unit_type")
AHEAD = ("planned_slots",)  # known in advance: the headcount plan's need in the target month (planned_slots_ahead_h)
HORIZONS = tuple(range(1, 13))
ETS_SERVED_MAX_SERIES = 2000
N_WINDOWS = 8
REFIT_EVERY = 4


def training_frame(settings: Settings) -> pd.DataFrame:
    """Long frame of every unit × skill series from the feature store, with the unit's level in the tree."""
    from features.build import feature_path
    from features.offline import read_clean
    from features.store import EVENT_TIMESTAMP, historical_features

    path = feature_path(settings.feature_dir, "unit_skill_monthly")
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `talentloop features build` and `features apply` first")
    entity = pd.read_parquet(path, columns=[*IDS, EVENT_TIMESTAMP])
    frame = historical_features(settings, entity, FEATURE_SERVICE)
    frame["month"] = frame[EVENT_TIMESTAMP].dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")
    units = read_clean(settings, "org_units")[["org_unit_id", "unit_type"]].astype(str)
    frame = frame.drop(columns=EVENT_TIMESTAMP).merge(units, on="org_unit_id", how="left")
    return frame


def run(settings: Settings, truth_dir: Path | None = None, json_out: bool = False, *,
        n_windows: int = N_WINDOWS, horizons: Sequence[int] = HORIZONS, ets_max_series: int | None = 100
        ) -> dict[str, Any]:
    """Backtest, compare, fit, log and register the skill-demand forecaster; returns a summary.

    ``ets_max_series`` bounds the AutoETS baseline's sample of series (it costs ~40 ms per series and
    origin); ``n_windows`` and ``horizons`` set the backtest."""
    frame = training_frame(settings)
    model = DemandForecaster(id_col=IDS, target_col=TARGET, exog_cols=EXOG, static_cols=STATIC, ahead_cols=AHEAD,
                             feature_service=FEATURE_SERVICE, n_jobs=2)
    oracle = None
    if truth_dir is not None:
        from evaluation.skill_demand_oracle import oracle_forecasts
        from features.offline import read_clean

        org_units = read_clean(settings, "org_units")
        known = frame[[*IDS, "month", AHEAD[0]]]  # the plan as delivered, known in advance (as the model sees it)
        oracle = lambda plan: oracle_forecasts(plan, truth_dir, org_units, known=known)  # noqa: E731
    return _train_and_register(settings, frame, model, REGISTERED_NAME, oracle, json_out,
                               {"source": f"feature service {FEATURE_SERVICE}"}, n_windows, horizons,
                               ets_max_series)


def run_generic(
    path: Path,
    settings: Settings,
    id_col: str | Sequence[str] = "series_id",
    time_col: str = "month",
    target_col: str = "value",
    exog_cols: Sequence[str] = (),
    static_cols: Sequence[str] = (),
    fill: Fill = "reject",
    registered_name: str = GENERIC_NAME,
    json_out: bool = False,
    n_windows: int = N_WINDOWS,
    horizons: Sequence[int] = HORIZONS,
    ets_max_series: int | None = 300,
    freq: str = "month",
    agg: str = "mean",
) -> dict[str, Any]:
    """The same job on a long-format CSV or Parquet file of series: monthly (``freq="month"``, dated by the
    first day of each month) or daily / weekly (``freq="day"`` / ``"week"``), aggregated to months by the
    ``agg`` (``mean`` or ``sum``) of each series' rows in the month."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        frame = pd.read_csv(path)
    elif path.suffix.lower() in (".parquet", ".pq"):
        frame = pd.read_parquet(path)
    else:
        raise ValueError(f"{path}: expected a .csv or .parquet file")
    if time_col not in frame.columns:
        raise ValueError(f"{path} has no column {time_col!r}; it has {list(frame.columns)}")
    if freq == "month":
        frame[time_col] = to_month(frame[time_col], time_col)
    else:
        frame = to_monthly(frame, id_col, time_col, target_col, exog_cols, static_cols, agg, str(path))
    model = DemandForecaster(id_col=id_col, time_col=time_col, target_col=target_col, exog_cols=exog_cols,
                             static_cols=static_cols, fill=fill, feature_service="generic", n_jobs=2)
    return _train_and_register(settings, frame, model, registered_name, None, json_out, {"source": str(path)},
                               n_windows, horizons, ets_max_series)


FREQS = ("month", "week", "day")
AGGS = ("mean", "sum")


def to_monthly(frame: pd.DataFrame, id_col: str | Sequence[str], time_col: str, target_col: str,
               exog_cols: Sequence[str], static_cols: Sequence[str], agg: str, source: str) -> pd.DataFrame:
    """Daily or weekly rows as monthly ones: the value and exogenous columns by ``agg`` over each series'
    rows in the month, static columns by their first value, dated by the month's first day."""
    if agg not in AGGS:
        raise ValueError(f"--agg must be one of {', '.join(AGGS)}, got {agg!r}")
    ids = [id_col] if isinstance(id_col, str) else list(id_col)
    missing = [c for c in [*ids, target_col, *exog_cols, *static_cols] if c not in frame.columns]
    if missing:
        raise ValueError(f"{source} has no column(s) {missing}; it has {list(frame.columns)}")
    when = pd.to_datetime(frame[time_col], errors="coerce", utc=True)
    if when.isna().any():
        row = int(when.isna().to_numpy().argmax())
        raise ValueError(f"{source} row {row + 2}: {time_col} {frame[time_col].iloc[row]!r} is not a date")
    numbers = [target_col, *exog_cols]
    for c in numbers:
        value = pd.to_numeric(frame[c], errors="coerce")
        bad = value.isna() & frame[c].notna()
        if bad.any():
            row = int(bad.to_numpy().argmax())
            raise ValueError(f"{source} row {row + 2}: {c} {frame[c].iloc[row]!r} is not a number")
        frame[c] = value
    frame[time_col] = when.dt.tz_localize(None).dt.to_period("M").dt.to_timestamp()
    spec = {c: agg for c in numbers} | {c: "first" for c in static_cols if c not in ids}
    return frame.groupby([*ids, time_col], sort=True).agg(spec).reset_index()


def _train_and_register(settings, frame, model, registered_name, oracle, json_out, tags, n_windows, horizons,
                        ets_max_series, n_report=None) -> dict[str, Any]:
    import mlflow

    from evaluation.compare import forecast_units
    from evaluation.forecast_baselines import baseline_backtest, score
    from evaluation.forecast_selection import (
        SERVED,
        coverage_by_size,
        report_origins,
        selection_frame,
        served_backtest,
    )
    from models.skill_demand.baselines import REFITTED_MAX_SERIES
    from training_jobs.tracking import experiment, log_and_register, log_json, log_markdown

    ids = list(model.id_col) if not isinstance(model.id_col, str) else [model.id_col]
    n_series, n_months = len(frame[ids].drop_duplicates()), frame[model.time_col].nunique()
    n_report = n_report or max(1, n_windows // 2)
    if not 1 <= n_report < n_windows:
        raise ValueError(f"--windows must be at least 2 (got {n_windows}): the earlier half chooses the method per "
                         "horizon, the later half reports it")
    n_origins = len({n_months - h - i for h in horizons for i in range(n_windows)})
    with progress.step("backtest origins", total=n_origins) as advance:
        cv = model.cross_validation(frame, n_windows=n_windows, horizons=horizons, refit_every=REFIT_EVERY,
                                    progress=advance)
    plan = cv[[*ids, "origin", model.time_col, "horizon"]]
    methods = [cv.drop(columns=[model.target_col, "method"], errors="ignore").assign(model="lightgbm")]
    # AutoETS costs 40-250 ms a series at every forecast: on large panels it is a baseline, not a served method,
    # and it is needed on the report origins only
    ets_served = n_series <= ETS_SERVED_MAX_SERIES
    methods.append(baseline_backtest(frame, plan, ids, model.time_col, model.target_col,
                                     models=("seasonal_naive", "naive", "drift")))
    ets_plan = plan if ets_served else plan[report_origins(plan, n_report).to_numpy()]
    # damped ETS and ARIMA (served candidates, refitted at every origin) on small panels only
    refitted = ("ets_damped", "arima") if n_series <= REFITTED_MAX_SERIES else ()
    with progress.step("AutoETS baseline", total=None):
        methods.append(baseline_backtest(frame, ets_plan, ids, model.time_col, model.target_col,
                                         models=("auto_ets", *refitted), ets_max_series=ets_max_series))
    methods = pd.concat(methods, ignore_index=True)
    candidates = methods if ets_served else methods[methods["model"] != "auto_ets"]
    candidates = candidates.reset_index(drop=True)
    chosen_on = selection_frame(candidates, frame, ids, model.time_col, model.target_col)
    served, _ = served_backtest(candidates, frame, ids, model.time_col, model.target_col, n_report,
                                nonnegative=bool(frame[model.target_col].min() >= 0), frame=chosen_on)
    forecasts = [methods[report_origins(methods, n_report).to_numpy()], served.drop(columns="method")]
    if oracle is not None:
        late = plan[report_origins(plan, n_report).to_numpy()]
        forecasts.append(oracle(late))
    forecasts = pd.concat(forecasts, ignore_index=True)
    table = score(forecasts, frame, ids, model.time_col, model.target_col, reference=SERVED)
    with progress.step("final fit", total=None):
        model.fit(frame)
    model.select(chosen_on)

    by_size = coverage_by_size(served, frame, ids, model.time_col, model.target_col)
    months = frame[model.time_col]
    summary = _summary(table, n_series, n_months) | {
        "coverage_by_size": {str(g): {int(h): float(v) for h, v in by_size[g].items() if pd.notna(v)}
                             for g in by_size.columns},
        "n_windows": n_windows, "n_report": n_report, "first_month": f"{months.min():%Y-%m}",
        "last_month": f"{months.max():%Y-%m}", "table": table.to_dict(orient="records"),
        "methods": {int(h): c["method"] for h, c in model.selection_.items()}}
    units = forecast_units(forecasts, frame, ids, model.time_col, model.target_col, model=SERVED)
    experiment(settings, registered_name)
    with mlflow.start_run(run_name=f"{registered_name}-train", tags=tags) as active:
        mlflow.log_params({k: v for k, v in model.get_params().items() if not isinstance(v, tuple | list)}
                          | {"horizons_backtest": str(tuple(horizons)), "n_windows": n_windows, "n_series": n_series,
                             "n_months": n_months, "first_month": summary["first_month"],
                             "last_month": summary["last_month"]})
        mlflow.log_metrics({k: v for k, v in summary["metrics"].items() if pd.notna(v)}
                           | {f"coverage_80_h{h}_served_largest10": v
                              for h, v in summary["coverage_by_size"].get("largest 10%", {}).items()})
        mlflow.set_tags({f"method_h{h}": m for h, m in summary["methods"].items()})
        log_json(table.to_dict(orient="records"), "evaluation/metrics.json")
        log_json({str(h): c["method"] for h, c in model.calibration_.items()}, "evaluation/calibration.json")
        log_json({str(h): {k: v for k, v in c.items()} for h, c in model.selection_.items()},
                 "evaluation/selection.json")
        with tempfile.TemporaryDirectory() as tmp:
            png = fan_chart(model, frame, Path(tmp) / "fan_chart.png")
            mlflow.log_artifact(str(png), artifact_path="plots")
            units.to_parquet(Path(tmp) / "units.parquet", index=False)
            mlflow.log_artifact(str(Path(tmp) / "units.parquet"), artifact_path="evaluation")
        log_markdown(model_card(registered_name, model, table, summary), "model_card.md")
        example = _input_example(frame, model, ids)
        version = log_and_register(model, registered_name, example,
                                   metadata={"horizons": model.horizons_, "quantiles": model.quantiles_})
        summary.update(version=version, run_id=active.info.run_id, registered_name=registered_name)
    from training_jobs.promotion import gate_new_version

    gated = gate_new_version(settings, registered_name, version)  # the first version too goes through the gate
    if gated is not None:
        summary["gate"] = {k: gated[k] for k in ("action", "gate_summary", "seq")}
    if json_out:
        print(json.dumps(summary, indent=2, default=str))
    return summary


def fan_chart(model: DemandForecaster, frame: pd.DataFrame, path: Path, n: int = 4) -> Path:
    """History and P10-P50-P90 forecast of the ``n`` series with the most demand (matplotlib, Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ids, t, y = list(model.id_cols_), model.time_col, model.target_col
    last = frame[frame[t] == frame[t].max()]
    top = last.nlargest(n, y)[ids]
    history = frame.merge(top, on=ids)
    forecast = model.predict(history)
    fig, axes = plt.subplots(len(top), 1, figsize=(8, 2.4 * len(top)), squeeze=False)
    for ax, (_, key) in zip(axes[:, 0], top.iterrows(), strict=True):
        h = history[(history[ids] == key.to_numpy()).all(axis=1)].tail(24)
        f = forecast[(forecast[ids].astype(str) == key.astype(str).to_numpy()).all(axis=1)]
        ax.plot(h[t], h[y], color="black", label="observed")
        ax.fill_between(f[t], f["p10"], f["p90"], alpha=0.3, label="P10-P90")
        ax.plot(f[t], f["p50"], label="P50")
        ax.set_title(" / ".join(str(v) for v in key), fontsize=9)
        ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def model_card(name: str, model: DemandForecaster, table: pd.DataFrame, summary: dict[str, Any]) -> str:
    """The Markdown model card: every section of ``evaluation.model_card.SECTIONS``."""
    from evaluation.model_card import markdown_table, render

    targets = "\n".join(f"- {k}: {'met' if v else 'NOT met'}" for k, v in summary["targets"].items())
    from models.skill_demand.selection import describe

    cover = summary["metrics"].get("coverage_80_h3_served", float("nan"))
    methods = "\n".join(f"- h = {h}: {describe(c)} (scaled error {c['scores'][c['method']]:.3f} on "
                         f"{c['rows']:,} backtest rows)" for h, c in sorted(model.selection_.items()))
    return render(f"Skill demand ({name})", {
        "Purpose": f"Forecast `{model.target_col}` per {', '.join(model.id_cols_)} and month, "
                   f"{min(model.horizons_)}-{max(model.horizons_)} months ahead with P10 / P50 / P90, and, with "
                   "supply (holders − expected leavers + expected completions), the gap an org unit must close "
                   "by hiring or training.",
        "Data window": f"{summary['series']:,} series × {summary['months']} months, "
                       f"{summary.get('first_month', '?')} to {summary.get('last_month', '?')} "
                       f"(feature service `{model.feature_service_}`).",
        "Features": f"Lags {list(model.lags)}, rolling means / std {list(model.windows)}, {model.trend_window}-month "
                    f"trend, calendar, static {list(model.static_cols)}, exogenous {list(model.exog_cols)} (known "
                    "up to the forecast origin only), known in advance for the target month "
                    f"{list(model.ahead_cols) or 'none'} (the headcount plan's need). No person-level data.",
        "Training setup": f"Global LightGBM, direct multi-horizon ({model.horizon_model}: one model with the "
                          f"horizon as a feature; {model.n_estimators} trees × {model.num_leaves} leaves), shared "
                          f"by every series; rolling-origin backtest with {summary['n_windows']} origins per "
                          f"horizon, refit every {REFIT_EVERY} origins on the months before; the final model on "
                          "every month. Explanations: exact TreeSHAP, drivers in English and Chinese.\n\n"
                          "Served method per horizon (where the backtest has every member, an equal-weight mean: "
                          "naive, damped ETS, ARIMA and LightGBM up to 3 months, naive and AutoETS beyond; "
                          "otherwise naive, or another baseline, LightGBM or a backtest-weighted "
                          "ensemble only where it beats it significantly across the backtest origins; a horizon "
                          "served by a baseline is explained by its method, not by tree contributions):\n\n"
                          + methods,
        "Metrics vs baselines": markdown_table(table) + f"\n\nScored on the last {summary['n_report']} origins per "
                                "horizon; `served` there is the method chosen on the rows whose target month is "
                                "before that origin. MASE is pooled per origin (scaled by the one-step "
                                "naive error of the months before the origin) and averaged over origins. "
                                "`auto_ets` runs on a random sample of series; compare it with "
                                "`served_on_auto_ets_rows`.\n\nTargets (against the strongest baseline):\n\n" + targets,
        "Calibration": "Per-horizon split-conformal intervals around the served P50: the 10% and 90% quantiles of "
                       "its scaled backtest residuals, never narrower than a shorter horizon's; backtest coverage "
                       f"of the 80% interval at h = 3: {cover:.1%} (every horizon in the table above). The "
                       "residual quantile is taken per bin of series scale (Mondrian conformal), so a large "
                       "series gets the errors of large series, not those of the many small ones. Coverage by "
                       "series size (series ranked by mean level):\n\n" + _size_table(summary),
        "Fairness audit": "Not applicable: forecasts are per org unit × skill and score no individual; protected "
                          "attributes are not read.",
        "Known limitations": "Supply is an expectation: leavers from the unit's 12-month voluntary attrition rate "
                             "unless per-employee exit probabilities are passed; completions from people now in "
                             "training only. New series (no history) get forecasts from the size-free features "
                             f"only; series shorter than {model.min_history} months do not train. A reorganisation "
                             "(units merged or split) breaks series history.",
        "Intended uses": "Workforce and training planning per org unit: how many people with which skill, where "
                         "to hire and whom to train.",
        "Out-of-scope uses": "Decisions about individuals; budgets without human review; units or skills far "
                             "outside the history.",
    })


BASELINE_MODELS = ("naive", "seasonal_naive", "drift", "auto_ets")


def _size_table(summary: Mapping[str, Any]) -> str:
    """The served 80% coverage per horizon and series size as a Markdown table."""
    groups = summary.get("coverage_by_size") or {}
    horizons = sorted({h for cov in groups.values() for h in cov})
    if not horizons:
        return "(no report rows)"
    lines = ["| h | " + " | ".join(groups) + " |", "|---|" + "---|" * len(groups)]
    for h in horizons:
        cells = [f"{cov[h]:.1%}" if h in cov else "no rows" for cov in groups.values()]
        lines.append(f"| {h} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _summary(table: pd.DataFrame, n_series: int, n_months: int) -> dict[str, Any]:
    """Flat metrics for MLflow, the served forecast's ratio to the strongest baseline per horizon, and the
    targets (MASE at h = 3 no worse than the strongest baseline; 80% coverage in 75-88% at every horizon)."""
    metrics: dict[str, float] = {}
    for row in table.itertuples():
        for m in ("mase", "smape", "wape", "wql", "coverage_80"):
            value = getattr(row, m)
            if pd.notna(value):
                metrics[f"{m}_h{row.horizon}_{row.model}"] = float(value)
    for h in sorted(table["horizon"].unique()):
        ratios = {}
        for b in BASELINE_MODELS:  # AutoETS is compared with the served forecast on its own sample of series
            ref = metrics.get(f"mase_h{h}_served_on_auto_ets_rows" if b == "auto_ets" else f"mase_h{h}_served")
            base = metrics.get(f"mase_h{h}_{b}")
            if ref is not None and base:
                ratios[b] = ref / base
        if ratios:
            strongest = max(ratios, key=ratios.get)
            metrics[f"mase_h{h}_best_baseline"] = metrics[f"mase_h{h}_{strongest}"]
            metrics[f"mase_ratio_h{h}_vs_best_baseline"] = ratios[strongest]
    ratio3 = metrics.get("mase_ratio_h3_vs_best_baseline", float("nan"))
    covers = [v for k, v in metrics.items() if k.startswith("coverage_80_h") and k.endswith("_served")]
    targets = {
        "mase_h3_at_most_best_baseline": bool(ratio3 <= 1.0),
        "coverage_80_within_75_88_every_horizon": bool(covers) and all(0.75 <= c <= 0.88 for c in covers),
    }
    return {"series": n_series, "months": n_months, "metrics": metrics, "targets": targets}


def _input_example(frame: pd.DataFrame, model: DemandForecaster, ids: list[str]) -> pd.DataFrame:
    """The last 13 months of three series, with the columns the pyfunc needs (static ones come from the model)."""
    keys = frame[ids].drop_duplicates().head(3)
    rows = frame.merge(keys, on=ids)
    rows = rows[rows[model.time_col] >= rows[model.time_col].max() - pd.DateOffset(months=12)]
    cols = [*ids, model.time_col, model.target_col, *model.exog_cols, *model.ahead_input_columns()]
    extra = [c for c in ("holders_at_required", "in_training", "vol_attrition_rate_12m") if c in rows.columns]
    example = rows[list(dict.fromkeys([*cols, *extra]))].reset_index(drop=True)
    numbers = [c for c in example.columns if c not in ids and pd.api.types.is_numeric_dtype(example[c])]
    return example.astype({c: "float64" for c in numbers})  # counts may be missing at serving time
