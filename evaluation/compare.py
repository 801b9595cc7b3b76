"""Champion against challengers on the same evaluation data, with bootstrap confidence intervals.

Every training job logs its out-of-sample evaluation rows as ``evaluation/units.parquet`` in its MLflow run:

- ``unit``: the cluster a bootstrap resamples whole (an employee, a series), so correlated rows stay together;
- ``key``: what the row is (e.g. ``E00012|2025-03|h3``); two versions are compared on the keys both scored;
- ``y_true`` and ``score`` for a metric over rows (ROC-AUC), or ``value`` for a mean of per-row values
  (NDCG of one employee's query, the scaled error of one forecast), plus any filter column (``horizon``).

Because the rows are each version's own backtest predictions (made by fold models that had not seen those
outcomes), the comparison is out of sample for every version, and versions trained on different data
windows are still compared on exactly the rows they share. The primary metric is recomputed on those
common rows with a percentile interval (clusters resampled with replacement), and the difference to the
champion with a *paired* interval (the same resample for both versions). Secondary metrics, baselines,
the oracle ratio, the fairness audit, the data window and the training time are read from each version's
run as logged.

The promotion rule (:func:`gate`) is non-inferiority: the candidate passes on the primary metric when the
lower end of the interval of its improvement over the champion (sign-adjusted so that higher is better)
is at least ``-tolerance``, i.e. the data rule out that it is worse by more than the tolerance; and it
passes on fairness when its run's audit passed (or the model scores no individual). ``docs/governance.md``
states the rule and the tolerances.

Length (over 450 lines): the evaluation units, the paired bootstrap, the gate and its rendering share
``ModelSpec`` and the units' layout, and change together.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from evaluation.metrics import bootstrap_ci, paired_bootstrap_diff, roc_auc

UNITS_ARTIFACT = "evaluation/units.parquet"
N_BOOT = 500
ALPHA = 0.05
MIN_COMMON_UNITS = 30
CHAMPION = "champion"
CHALLENGER = "challenger"


@dataclass(frozen=True)
class ModelSpec:
    """What ``compare`` and ``promote`` need to know about one registered model."""

    name: str
    primary: str
    primary_label: str
    logged_primary: str  # the run metric holding the primary metric on the run's own backtest
    higher_is_better: bool
    tolerance: float
    kind: Literal["auc", "mean"]
    filters: tuple[tuple[str, Any], ...] = ()
    secondary: tuple[tuple[str, str], ...] = ()
    baselines: tuple[tuple[str, str], ...] = ()
    oracle: tuple[str, str] | None = None
    scores_people: bool = True
    window: tuple[str, ...] = ()
    baseline_gate: bool = False  # a version that loses to its strongest baseline on its own backtest is refused
    # the baseline check on the quantity the model is for, when the run could measure it: (label, run metric,
    # baselines' (label, run metric)); otherwise on ``logged_primary`` against ``baselines``
    gate_on: tuple[str, str, tuple[tuple[str, str], ...]] | None = None


SPECS: dict[str, ModelSpec] = {
    "attrition": ModelSpec(
        name="attrition", primary="roc_auc_h3", primary_label="ROC-AUC at h=3", logged_primary="model_h3_roc_auc",
        higher_is_better=True,
        tolerance=0.01, kind="auc", filters=(("horizon", 3),),
        secondary=(("PR-AUC h3", "model_h3_pr_auc"), ("ECE h3", "model_h3_ece"), ("Brier h3", "model_h3_brier"),
                   ("recall@top10% h3", "model_h3_recall_at_top_10pct")),
        baselines=(("logistic ROC-AUC", "logistic_h3_roc_auc"), ("tenure KM ROC-AUC", "tenure_km_h3_roc_auc")),
        oracle=("ROC-AUC / oracle", "model_h3_roc_auc_vs_oracle"),
        window=("data_end",),
        baseline_gate=True,
    ),
    "course_ranker": ModelSpec(
        name="course_ranker", primary="ndcg_at_10", primary_label="NDCG@10", logged_primary="model_ndcg_at_10",
        higher_is_better=True,
        tolerance=0.01, kind="mean",
        secondary=(("recall@10", "model_recall_at_10"), ("uplift capture@10", "model_uplift_capture_at_10")),
        baselines=(("popularity NDCG@10", "popularity_ndcg_at_10"), ("rule NDCG@10", "rule_ndcg_at_10"),
                   ("item-item CF NDCG@10", "cf_ndcg_at_10")),
        oracle=("uplift capture / oracle", "model_vs_oracle_at_10"),
        window=("first_origin", "eval_origin"),
        baseline_gate=True,
        # the ranker ranks by expected improvement; NDCG on observed uptake rewards popular courses. Where the
        # true gains are known (simulated data) the gate compares the gain captured; elsewhere NDCG@10.
        gate_on=("uplift capture@10", "model_uplift_capture_at_10",
                 (("popularity uplift capture@10", "popularity_uplift_capture_at_10"),
                  ("rule uplift capture@10", "rule_uplift_capture_at_10"),
                  ("item-item CF uplift capture@10", "cf_uplift_capture_at_10"))),
    ),
    "skill_demand": ModelSpec(
        name="skill_demand", primary="mase_h3", primary_label="MASE at h=3", logged_primary="mase_h3_served",
        higher_is_better=False,
        tolerance=0.05, kind="mean", filters=(("horizon", 3),),
        secondary=(("80% coverage h3", "coverage_80_h3_served"), ("sMAPE h3", "smape_h3_served"),
                   ("MASE h12", "mase_h12_served")),
        baselines=(("best baseline MASE h3", "mase_h3_best_baseline"), ("naive MASE h3", "mase_h3_naive"),
                   ("AutoETS MASE h3", "mase_h3_auto_ets")),
        oracle=("oracle MASE h3", "mase_h3_oracle"),
        scores_people=False,
        window=("first_month", "last_month"),
        baseline_gate=True,
    ),
    "potential": ModelSpec(
        name="potential", primary="roc_auc", primary_label="ROC-AUC (promotion or rating up in 12 months)",
        logged_primary="model_roc_auc", higher_is_better=True, tolerance=0.01, kind="auc",
        secondary=(("PR-AUC", "model_pr_auc"), ("ECE", "model_ece"), ("Brier", "model_brier")),
        baselines=(("logistic ROC-AUC", "logistic_roc_auc"),),
        oracle=("ROC-AUC / oracle", "model_roc_auc_vs_oracle"),
        window=("data_end",),
        baseline_gate=True,
    ),
}
CLI_NAMES = {"attrition": "attrition", "course-ranker": "course_ranker", "skill-demand": "skill_demand",
             "potential": "potential"}


def spec_for(model: str) -> ModelSpec:
    """The spec of a model by its CLI name (``course-ranker``) or registered name (``course_ranker``)."""
    name = CLI_NAMES.get(model, model)
    if name not in SPECS:
        raise ValueError(f"unknown model {model!r}; choose one of {sorted(CLI_NAMES)}")
    return SPECS[name]


# ------------------------------------------------------------------------------------- evaluation units
def attrition_units(preds: pd.DataFrame) -> pd.DataFrame:
    """Units from the attrition backtest's predictions (one row per scored snapshot × horizon)."""
    ts = pd.to_datetime(preds["event_timestamp"], utc=True)
    emp = preds["employee_id"].astype(str)
    return pd.DataFrame({
        "unit": emp,
        "key": emp + "|" + ts.dt.strftime("%Y-%m") + "|h" + preds["horizon"].astype(str),
        "horizon": preds["horizon"].astype(int),
        "y_true": preds["label"].astype(int),
        "score": preds["p_model"].astype(float),
    }).reset_index(drop=True)


def forecast_units(
    forecasts: pd.DataFrame,
    history: pd.DataFrame,
    ids: Sequence[str],
    time_col: str,
    target_col: str,
    model: str = "lightgbm",
    season: int = 1,
) -> pd.DataFrame:
    """Units from a forecast backtest: one row per series × origin × horizon of ``model``.

    ``value`` is the absolute error over the origin's pooled naive scale (mean |y[t] − y[t − season]| over
    the training months before the origin of the series scored there), so the mean of ``value`` over one
    origin is that origin's pooled MASE. Origins whose training months never change are left out, as in
    ``evaluation.forecast_baselines.score``.
    """
    ids = list(ids)
    key = _series_key(history, ids)
    actual = pd.DataFrame({"series": key, time_col: history[time_col].to_numpy(),
                           "y": history[target_col].to_numpy(dtype=float)})
    f = forecasts[forecasts["model"] == model]
    f = pd.DataFrame({"series": _series_key(f, ids), "origin": f["origin"].to_numpy(),
                      time_col: f[time_col].to_numpy(), "horizon": f["horizon"].astype(int).to_numpy(),
                      "p50": f["p50"].to_numpy(dtype=float)})
    f = f.merge(actual, on=["series", time_col], how="inner")
    ordered = actual.sort_values(["series", time_col], kind="mergesort")
    ordered["naive_error"] = ordered.groupby("series", sort=False)["y"].diff(season).abs()
    parts = []
    for origin, block in f.groupby("origin", sort=True):
        train = ordered[(ordered[time_col] < origin) & ordered["series"].isin(block["series"].unique())]
        scale = float(train["naive_error"].mean())
        if not scale > 0:
            continue
        parts.append(block.assign(value=(block["y"] - block["p50"]).abs() / scale))
    if not parts:
        raise ValueError("no backtest origin has a changing training history; scaled errors are undefined")
    out = pd.concat(parts, ignore_index=True)
    return pd.DataFrame({
        "unit": out["series"],
        "key": out["series"] + "|" + pd.to_datetime(out["origin"]).dt.strftime("%Y-%m") + "|h"
               + out["horizon"].astype(str),
        "horizon": out["horizon"],
        "value": out["value"].astype(float),
    })


def _series_key(df: pd.DataFrame, ids: Sequence[str]) -> pd.Series:
    from models.skill_demand.series import series_key

    return series_key(df, list(ids), sep="/").reset_index(drop=True)


# ------------------------------------------------------------------------------------- versions
@dataclass
class Version:
    """One registered version as the comparison sees it."""

    version: str
    aliases: list[str]
    run_id: str
    created: pd.Timestamp
    metrics: dict[str, float]
    params: dict[str, str]
    units: pd.DataFrame | None


def load_version(client, name: str, version: str) -> Version:
    """Read a registered version, its run and its evaluation units from MLflow."""
    from mlflow.exceptions import MlflowException

    try:
        mv = client.get_model_version(name, str(version))
    except MlflowException as exc:
        raise ValueError(f"model {name!r} has no version {version!r}") from exc
    run = client.get_run(mv.run_id)
    return Version(
        version=str(mv.version), aliases=sorted(mv.aliases), run_id=mv.run_id,
        created=pd.Timestamp(mv.creation_timestamp, unit="ms", tz="UTC"),
        metrics=dict(run.data.metrics), params=dict(run.data.params), units=_units(client, mv.run_id),
    )


def _units(client, run_id: str) -> pd.DataFrame | None:
    names = {a.path for a in client.list_artifacts(run_id, "evaluation")}
    if UNITS_ARTIFACT not in names:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = client.download_artifacts(run_id, UNITS_ARTIFACT, tmp)
        return pd.read_parquet(path)


def aliases(client, name: str) -> dict[str, str]:
    """``{alias: version}`` of a registered model, versions as strings (MLflow may return ints)."""
    return {str(k): str(v) for k, v in client.get_registered_model(name).aliases.items()}


def versions_to_compare(client, name: str, chosen: Sequence[str] | None = None) -> list[Version]:
    """The champion first, then the chosen versions, or by default every version newer than the champion
    and the one holding ``challenger`` (newest last)."""
    from mlflow.exceptions import MlflowException

    try:
        current = aliases(client, name)
    except MlflowException as exc:
        raise ValueError(f"no registered model {name!r}: train it first (talentloop train …)") from exc
    champion = current.get(CHAMPION)
    if chosen:
        wanted = [str(v) for v in chosen]
    else:
        all_versions = sorted(int(mv.version) for mv in client.search_model_versions(f"name='{name}'"))
        newer = [v for v in all_versions if champion is None or v > int(champion)]
        challenger = {int(current[CHALLENGER])} if CHALLENGER in current else set()
        wanted = [str(v) for v in sorted(set(newer) | challenger)]
    order = ([champion] if champion is not None else []) + [v for v in wanted if v != champion]
    if len(order) < 1:
        raise ValueError(f"model {name!r} has no version to compare")
    return [load_version(client, name, v) for v in order]


# ------------------------------------------------------------------------------------- comparison
def _metric_fn(spec: ModelSpec) -> Callable[[np.ndarray, np.ndarray], float]:
    if spec.kind == "auc":
        return roc_auc
    return lambda _y, v: float(np.mean(v))


def _filtered(spec: ModelSpec, units: pd.DataFrame) -> pd.DataFrame:
    for col, value in spec.filters:
        if col not in units.columns:
            raise ValueError(f"evaluation units lack the filter column {col!r}")
        units = units[units[col] == value]
    return units


def _columns(spec: ModelSpec) -> list[str]:
    return ["y_true", "score"] if spec.kind == "auc" else ["value"]


def common_rows(spec: ModelSpec, versions: Sequence[Version]) -> pd.DataFrame:
    """One row per key every given version scored: ``unit``, ``key``, the truth and one column per version."""
    frame = None
    for v in versions:
        if v.units is None:
            raise ValueError(f"version {v.version} logged no {UNITS_ARTIFACT}; retrain it to compare it")
        u = _filtered(spec, v.units)
        missing = [c for c in ["unit", "key", *_columns(spec)] if c not in u.columns]
        if missing:
            raise ValueError(f"version {v.version}'s evaluation units lack column(s) {missing}")
        u = u.drop_duplicates("key")
        if spec.kind == "auc":
            u = u[["unit", "key", "y_true", "score"]].rename(columns={"score": f"v{v.version}"})
        else:
            u = u[["unit", "key", "value"]].rename(columns={"value": f"v{v.version}"})
        if frame is None:
            frame = u
        else:
            join = ["unit", "key", "y_true"] if spec.kind == "auc" else ["unit", "key"]
            frame = frame.merge(u, on=join, how="inner")
    return frame.reset_index(drop=True)


def _ci(result) -> dict[str, float]:
    return {"estimate": result.estimate, "lo": result.lo, "hi": result.hi}


def compare(spec: ModelSpec, versions: Sequence[Version], n_boot: int = N_BOOT, alpha: float = ALPHA,
            seed: int = 0) -> dict:
    """The side-by-side comparison: the first version is the reference (normally the champion)."""
    if not versions:
        raise ValueError("no versions to compare")
    scored = [v for v in versions if v.units is not None]
    rows = common_rows(spec, scored) if scored else pd.DataFrame()
    n_units = int(rows["unit"].nunique()) if len(rows) else 0
    fn = _metric_fn(spec)
    y = rows["y_true"].to_numpy() if spec.kind == "auc" and len(rows) else np.zeros(len(rows))
    groups = rows["unit"].to_numpy() if len(rows) else None
    reference = versions[0]
    enough = n_units >= MIN_COMMON_UNITS
    out_rows = []
    for v in versions:
        col = f"v{v.version}"
        primary = diff = None
        if enough and v.units is not None:
            primary = _ci(bootstrap_ci(fn, y, rows[col].to_numpy(), n_boot=n_boot, alpha=alpha, seed=seed,
                                       groups=groups))
            if v is not reference and reference.units is not None:
                diff = _ci(paired_bootstrap_diff(fn, y, rows[col].to_numpy(), rows[f"v{reference.version}"].to_numpy(),
                                                 n_boot=n_boot, alpha=alpha, seed=seed, groups=groups))
        out_rows.append({
            "version": v.version, "aliases": v.aliases, "run_id": v.run_id, "registered_at": v.created.isoformat(),
            "data_window": {p: v.params.get(p) for p in spec.window},
            "training_seconds": v.metrics.get("training_seconds"),
            "primary": primary, "diff_vs_reference": diff,
            "logged_primary": v.metrics.get(spec.logged_primary),
            **gate_metrics(spec, v.metrics),
            "secondary": {label: v.metrics.get(key) for label, key in spec.secondary},
            "baselines": {label: v.metrics.get(key) for label, key in spec.baselines},
            "oracle": ({spec.oracle[0]: v.metrics.get(spec.oracle[1])} if spec.oracle else {}),
            "fairness": _fairness(spec, v),
            "has_units": v.units is not None,
        })
    return _jsonable({
        "model": spec.name, "primary": spec.primary, "primary_label": spec.primary_label,
        "higher_is_better": spec.higher_is_better, "tolerance": spec.tolerance,
        "reference_version": reference.version, "common_rows": len(rows), "common_units": n_units,
        "enough_common_data": enough, "n_boot": n_boot, "alpha": alpha, "versions": out_rows,
    })


def _fairness(spec: ModelSpec, v: Version) -> dict:
    if not spec.scores_people:
        return {"applicable": False, "passed": True, "min_impact_ratio": None}
    passed = v.metrics.get("fairness_passed")
    return {"applicable": True, "passed": None if passed is None else bool(passed >= 0.5),
            "min_impact_ratio": v.metrics.get("fairness_min_impact_ratio")}


def gate_metrics(spec: ModelSpec, metrics: dict[str, float]) -> dict:
    """The metric and baselines the baseline check uses when ``spec.gate_on`` applies to a run's ``metrics``
    (``gate_primary`` None otherwise)."""
    if spec.gate_on is None or metrics.get(spec.gate_on[1]) is None:
        return {"gate_primary": None, "gate_baselines": {}}
    return {"gate_primary": metrics[spec.gate_on[1]],
            "gate_baselines": {label: metrics.get(key) for label, key in spec.gate_on[2]}}


def baseline_check(spec: ModelSpec, primary: float | None, baselines: dict[str, float | None]) -> dict:
    """Whether a version is not worse than its strongest baseline on its own backtest beyond the tolerance
    (``passed``), with the sentence that says so. Models without ``baseline_gate`` always pass."""
    known = {k: float(v) for k, v in baselines.items() if v is not None}
    if not spec.baseline_gate or not known or primary is None:
        return {"applicable": False, "passed": True, "reason": None}
    pick = max if spec.higher_is_better else min
    label = pick(known, key=lambda k: known[k])
    best = known[label]
    margin = (primary - best) if spec.higher_is_better else (best - primary)
    passed = margin >= -spec.tolerance
    reason = (f"{spec.primary_label} on its own backtest {primary:.4f} against the strongest baseline ({label} "
              f"{best:.4f}): {'not worse' if passed else 'worse'} beyond the tolerance {spec.tolerance}")
    return {"applicable": True, "passed": bool(passed), "reason": reason, "baseline": label, "baseline_value": best,
            "margin": float(margin)}


def gate(comparison: dict, candidate: str) -> dict:
    """Whether ``candidate`` may replace the reference version (the champion); see the module docstring."""
    rows = {r["version"]: r for r in comparison["versions"]}
    if candidate not in rows:
        raise ValueError(f"version {candidate} is not in the comparison (versions {sorted(rows)})")
    row = rows[candidate]
    reasons = []
    if candidate == comparison["reference_version"]:
        metric_ok, improvement = True, None
        reasons.append("no champion to beat: the candidate is the only version compared")
    elif not comparison["enough_common_data"]:
        metric_ok, improvement = False, None
        reasons.append(f"only {comparison['common_units']} evaluation units in common with the champion "
                       f"(need {MIN_COMMON_UNITS}): the comparison cannot decide")
    elif row["diff_vs_reference"] is None:
        metric_ok, improvement = False, None
        missing = [v["version"] for v in comparison["versions"]
                   if v["version"] in (candidate, comparison["reference_version"]) and not v["has_units"]]
        reasons.append(f"version(s) {', '.join(missing)} logged no evaluation units (trained before "
                       "`talentloop compare` existed): the comparison cannot decide; retrain or use --force")
    else:
        d = row["diff_vs_reference"]
        sign = 1.0 if comparison["higher_is_better"] else -1.0
        improvement = {"estimate": sign * d["estimate"], "lo": min(sign * d["lo"], sign * d["hi"]),
                       "hi": max(sign * d["lo"], sign * d["hi"])}
        metric_ok = improvement["lo"] >= -comparison["tolerance"]
        verb = "passes" if metric_ok else "fails"
        reasons.append(
            f"{comparison['primary_label']}: improvement over the champion {improvement['estimate']:+.4f} "
            f"({1 - comparison['alpha']:.0%} CI {improvement['lo']:+.4f} to {improvement['hi']:+.4f}) {verb} "
            f"non-inferiority with tolerance {comparison['tolerance']}")
    vs_baseline = {"applicable": False, "passed": True}
    if comparison.get("model") in SPECS:
        spec = SPECS[comparison["model"]]
        if row.get("gate_primary") is not None:
            spec = replace(spec, primary_label=spec.gate_on[0])
            vs_baseline = baseline_check(spec, row["gate_primary"], row.get("gate_baselines", {}))
        else:
            vs_baseline = baseline_check(spec, row.get("logged_primary"), row.get("baselines", {}))
    if vs_baseline["applicable"]:
        metric_ok = metric_ok and vs_baseline["passed"]
        reasons.append(vs_baseline["reason"])
    fair = row["fairness"]
    if not fair["applicable"]:
        fairness_ok, fairness_status = True, "not_applicable"
        reasons.append("fairness: not applicable (the model scores no individual)")
    elif fair["passed"] is None:
        fairness_ok, fairness_status = False, "not_audited"
        reasons.append("fairness: no audit logged for this version")
    else:
        fairness_ok = fair["passed"]
        fairness_status = "passed" if fairness_ok else "failed"
        ratio = fair["min_impact_ratio"]
        reasons.append(f"fairness audit {'passed' if fairness_ok else 'FAILED'} (lowest impact ratio "
                       f"{'not logged' if ratio is None else f'{ratio:.3f}'})")
    return {"candidate": candidate, "champion": comparison["reference_version"],
            "passed": bool(metric_ok and fairness_ok), "metric_passed": bool(metric_ok),
            "baseline_passed": bool(vs_baseline["passed"]),
            "fairness_passed": bool(fairness_ok), "fairness_status": fairness_status, "improvement": improvement,
            "reasons": reasons}


# ------------------------------------------------------------------------------------- output
def _num(value, fmt: str = "{:.4f}") -> str:
    return "–" if value is None else fmt.format(value)


def _interval(ci: dict | None) -> str:
    return "–" if ci is None else f"{ci['estimate']:.4f} [{ci['lo']:.4f}, {ci['hi']:.4f}]"


def render_markdown(comparison: dict) -> str:
    """The comparison as a Markdown page (what ``talentloop compare`` prints and logs)."""
    ref = comparison["reference_version"]
    lines = [
        f"# Comparison: {comparison['model']}", "",
        f"Primary metric **{comparison['primary_label']}** "
        f"({'higher' if comparison['higher_is_better'] else 'lower'} is better), recomputed on the "
        f"{comparison['common_rows']:,} out-of-sample evaluation rows ({comparison['common_units']:,} units) "
        f"every version scored; {1 - comparison['alpha']:.0%} percentile intervals from {comparison['n_boot']} "
        f"cluster bootstrap resamples; differences are paired against version {ref}. Gate tolerance "
        f"{comparison['tolerance']}.", "",
    ]
    if not comparison["enough_common_data"]:
        lines += [f"Too few common evaluation units (need {MIN_COMMON_UNITS}): intervals not computed.", ""]
    versions = comparison["versions"]
    extra = list(dict.fromkeys(k for v in versions for k in (*v["secondary"], *v["baselines"], *v["oracle"])))
    header = ["version", "aliases", comparison["primary_label"], f"Δ vs v{ref}", "as logged", *extra,
              "fairness", "lowest impact ratio", "data window", "training s", "registered"]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for v in versions:
        values = {**v["secondary"], **v["baselines"], **v["oracle"]}
        fair = v["fairness"]
        fair_text = "n/a" if not fair["applicable"] else {True: "passed", False: "FAILED", None: "not logged"}[
            fair["passed"]]
        window = ", ".join(f"{k} {val}" for k, val in v["data_window"].items() if val is not None) or "–"
        cells = [v["version"], ", ".join(v["aliases"]) or "–", _interval(v["primary"]),
                 _interval(v["diff_vs_reference"]), _num(v["logged_primary"]),
                 *(_num(values.get(k)) for k in extra), fair_text, _num(fair["min_impact_ratio"], "{:.3f}"),
                 window, _num(v["training_seconds"], "{:.0f}"), v["registered_at"][:16]]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    lines += ["", "\"as logged\", secondary metrics, baselines and the oracle column are each version's own "
              "backtest figures from its training run; only the primary metric is recomputed on common rows."]
    return "\n".join(lines) + "\n"


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and (math.isnan(obj) or math.isinf(obj)):
        return None
    return obj

