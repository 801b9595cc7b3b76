"""``talentloop train course-ranker``: candidates + graded labels → Feast → backtest → fit → log and register.

Reads top to bottom; I/O at the edges.

1. Candidate sets at monthly origins T from the clean tables (gap courses for the job and the next job,
   mandatory courses, minus completed ones) and graded labels from the ``window_months`` after T.
   Mandatory courses are dropped from the labelled sets: everyone enrols in them by rule, so their labels
   carry no choice signal (``recommend(..., mandatory_first=True)`` places them).
2. One point-in-time training set from Feast (``course_ranker_v1``), the labels as the entity frame.
3. Backtest: fit on origins whose labels were final at the evaluation origin (T + window + outcome ≤ T_eval),
   score every candidate set at T_eval; NDCG@k and recall@k on the observed labels, catalogue coverage and
   diversity; the same for the baselines (popularity within the job, rule-based, item-item CF); on
   simulated data, uplift capture against the oracle (true gain of each candidate from the truth folder).
   The four-fifths fairness audit of the backtest model's top-k per course format at the same origin
   (outcomes from the oracle's true gains when known), and the per-query evaluation units.
4. Fit the final model on every origin with final labels; log params, metrics, plots, the evaluation units
   (``evaluation/units.parquet``), the audit (``fairness/audit.json``, ``fairness/audit.md``) and a model
   card; register it (alias ``challenger``; the first version becomes ``champion`` only through the gate).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from evaluation import course_ranker_baselines as baselines
from evaluation import truth as truth_io
from evaluation.course_ranker_oracle import observable_oracle, true_gains, uplift_report
from evaluation.fairness_audit import audit_recommendations, gated_results, min_impact_ratio, render_markdown
from evaluation.metrics.ranking import (
    catalog_coverage,
    intra_list_diversity,
    ndcg_at_k,
    ndcg_per_user,
    recall_at_k,
    uplift_capture_per_user,
)
from evaluation.model_card import render
from features import progress
from features.feature_repo.services import COURSE_RANKER_SERVICE
from features.offline import read_clean
from features.settings import Settings
from models.course_ranker import CourseRanker, candidate_pairs, employee_gaps_at, graded_labels
from models.course_ranker.candidates import skill_levels_at
from training_jobs.course_ranker_history import TooLittleHistory, history_check  # noqa: F401 - the job's own check
from training_jobs.tracking import experiment, log_and_register, log_json, log_markdown

SERVICE = COURSE_RANKER_SERVICE
REGISTERED_NAME = "course_ranker"
TABLES = ("employment_events", "jobs", "job_skill_requirements", "competency_ratings", "assessments", "candidates",
          "courses", "course_skills", "enrollments", "employees")
METHODS = ("model", "popularity", "rule", "cf")


def _months(start: pd.Timestamp, end: pd.Timestamp) -> list[pd.Timestamp]:
    return list(pd.date_range(start, end, freq="MS")) if start <= end else []


def plan_origins(t: dict[str, pd.DataFrame], horizon: int, min_history_months: int) -> tuple[list, pd.Timestamp]:
    """(origins with final labels, the evaluation origin = the last of them)."""
    dated = [t["enrollments"]["enrolled_at"], t["competency_ratings"]["review_date"]]
    first = min(s.min() for s in dated if len(s))
    last = max(s.max() for s in dated if len(s))
    if pd.isna(first) or pd.isna(last):
        raise ValueError("no enrollments or competency ratings ingested: run `talentloop ingest` first")
    start = first.to_period("M").to_timestamp() + pd.DateOffset(months=min_history_months)
    data_end = last.to_period("M").to_timestamp() + pd.DateOffset(months=1)
    eval_origin = data_end - pd.DateOffset(months=horizon)
    origins = _months(start, eval_origin)
    if len(origins) < horizon + 2:
        raise TooLittleHistory(
            f"{len(origins)} labelled origins from {start:%Y-%m} to {eval_origin:%Y-%m}: need >= {horizon + 2} "
            f"({horizon} months of labels and outcomes + 2); use a history {horizon + 2 - len(origins)} month(s) "
            "longer or a shorter --window-months / --outcome-months", len(origins), horizon + 2)
    return origins, eval_origin


def labelled_candidates(t: dict[str, pd.DataFrame], origins: list[pd.Timestamp], window_months: int,
                        outcome_months: int) -> pd.DataFrame:
    """(employee_id, course_id, job_id, event_timestamp, label) for every non-mandatory candidate at each origin."""
    courses, cs, enr = t["courses"], t["course_skills"], t["enrollments"]
    mandatory = set(courses.loc[courses["mandatory"].fillna(False).astype(bool), "course_id"])
    frames = []
    for T in progress.track(origins, "course-ranker: candidate sets per origin"):
        gaps = employee_gaps_at(T, t["employment_events"], t["jobs"], t["job_skill_requirements"],
                                t["competency_ratings"], t["assessments"], t["candidates"])
        live = cs[cs["course_id"].isin(courses.loc[courses["created_at"] < T, "course_id"])
                  & ~cs["course_id"].isin(mandatory)]
        done = enr.loc[enr["completed_at"] < T, ["employee_id", "course_id"]]
        pairs = candidate_pairs(gaps, live, done)
        jobs = gaps[["employee_id", "job_id"]].drop_duplicates("employee_id")
        frames.append(pairs.merge(jobs, on="employee_id").assign(event_timestamp=T))
    pairs = pd.concat(frames, ignore_index=True)[["employee_id", "course_id", "job_id", "event_timestamp"]]
    pairs["label"] = graded_labels(pairs, enr, t["competency_ratings"], cs, window_months, outcome_months)
    pairs["event_timestamp"] = pd.to_datetime(pairs["event_timestamp"]).dt.tz_localize("UTC")
    return pairs.astype({"employee_id": str, "course_id": str, "job_id": str})


def _with_positive(df: pd.DataFrame) -> pd.DataFrame:
    keep = df.groupby(["employee_id", "event_timestamp"])["label"].transform("max") > 0
    return df[keep]


def _cap(df: pd.DataFrame, max_rows: int, seed: int) -> pd.DataFrame:
    """Whole queries sampled down to about ``max_rows`` rows (fixed seed)."""
    if len(df) <= max_rows:
        return df
    q = df[["employee_id", "event_timestamp"]].drop_duplicates()
    q = q.sample(frac=max_rows / len(df), random_state=seed)
    return df.merge(q, on=["employee_id", "event_timestamp"])


def score_methods(model: CourseRanker, frame: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """The evaluation frame with one score column per method."""
    cf = baselines.ItemCooccurrence().fit(history)
    return frame.assign(model=model.score(frame), popularity=baselines.popularity_within_job(frame),
                        rule=baselines.rule_based(frame), cf=cf.score(frame))


def _long(scored: pd.DataFrame, col: str, name: str) -> pd.DataFrame:
    """(user_id, item_id, ``name``) from the evaluation frame's ``col``, as the ranking metrics take it."""
    return scored[["employee_id", "course_id", col]].rename(
        columns={"employee_id": "user_id", "course_id": "item_id", col: name})


def ranking_metrics(scored: pd.DataFrame, course_skills: pd.DataFrame, n_courses: int, k: int) -> dict[str, float]:
    """NDCG@k, recall@k (labels), catalogue coverage and intra-list diversity for every method."""
    true = _long(scored, "label", "relevance")
    items = course_skills[["course_id", "skill_id"]].rename(columns={"course_id": "item_id"})
    out: dict[str, float] = {}
    for m in METHODS:
        pred = _long(scored, m, "score")
        out[f"{m}_ndcg@{k}"] = ndcg_at_k(true, pred, k=k)
        out[f"{m}_recall@{k}"] = recall_at_k(true, pred, k=k)
        out[f"{m}_recall_improved@{k}"] = recall_at_k(true, pred, k=k, threshold=3)
        out[f"{m}_coverage@{k}"] = catalog_coverage(pred, n_items=n_courses, k=k)
        out[f"{m}_diversity@{k}"] = intra_list_diversity(pred, items, k=k)
    return out


def oracle_metrics(scored: pd.DataFrame, truth_dir: Path, t: dict[str, pd.DataFrame], k: int) -> dict[str, float]:
    """Uplift capture against the oracle for every method, and the ratios the targets are stated in.

    ``scored`` carries the true gain of each candidate in ``gain`` (``course_ranker_oracle.true_gains``).
    """
    at = pd.Timestamp(scored["event_timestamp"].iloc[0]).tz_convert("UTC").tz_localize(None)
    seen = skill_levels_at(t["competency_ratings"], at, t["assessments"], t["candidates"])
    ceiling = observable_oracle(scored, truth_dir, seen, t["job_skill_requirements"], t["course_skills"])
    out = uplift_report(scored.assign(observable_oracle=ceiling), [*METHODS, "observable_oracle"], k=k)
    pop = out[f"popularity_uplift_capture@{k}"]
    out[f"model_vs_oracle@{k}"] = out[f"model_uplift_capture@{k}"] / out[f"oracle_uplift_capture@{k}"]
    out[f"model_vs_popularity@{k}"] = out[f"model_uplift_capture@{k}"] / pop if pop > 0 else float("nan")
    out[f"model_vs_observable_oracle@{k}"] = (out[f"model_uplift_capture@{k}"]
                                             / out[f"observable_oracle_uplift_capture@{k}"])
    return out


def evaluation_units(scored: pd.DataFrame, eval_origin: pd.Timestamp, k: int) -> pd.DataFrame:
    """One row per evaluated query (employee at ``eval_origin``): ``unit`` (employee_id), ``key``
    (``employee_id|YYYY-MM``), ``value`` (the model's NDCG@k on the graded labels) and, when ``scored`` has
    the true ``gain``, ``uplift_capture``.

    Only queries with at least one label > 0 are units (NDCG is undefined without a relevant item), exactly
    the queries behind ``model_ndcg@k``, so the mean of ``value`` is that metric. ``uplift_capture`` is NaN
    where the best top-k true gain is 0; ``model_uplift_capture@k`` also averages over queries with no
    relevant label, so the two means differ.
    """
    pred = _long(scored, "model", "score")
    ndcg = ndcg_per_user(_long(scored, "label", "relevance"), pred, k=k)
    users = ndcg.index.astype(str)
    units = pd.DataFrame({"unit": users, "key": users + f"|{eval_origin:%Y-%m}",
                          "value": ndcg.to_numpy(dtype=float)})
    if "gain" in scored.columns:
        uplift = uplift_capture_per_user(pred, _long(scored, "gain", "gain"), k=k)
        units["uplift_capture"] = uplift.reindex(ndcg.index).to_numpy(dtype=float)
    return units


def fairness_audit(scored: pd.DataFrame, employees: pd.DataFrame, courses: pd.DataFrame, model: CourseRanker,
                   eval_origin: pd.Timestamp, k: int) -> dict:
    """The four-fifths audit of the backtest model's top-k per course format at the evaluation origin.

    Outcomes, when ``scored`` has the true ``gain``: each employee's best top-k by true gain. The proxy check
    reads the ranker's inputs on the evaluation candidates.
    """
    outcomes = scored[["employee_id", "course_id", "gain"]] if "gain" in scored.columns else None
    return audit_recommendations(scored[["employee_id", "course_id", "model"]], employees, courses, k, eval_origin,
                                 features=scored[["employee_id", *model.input_columns_]], outcomes=outcomes,
                                 score_col="model")


def lightgbm_threads(default: int = 2) -> int:
    """LightGBM threads: ``OMP_NUM_THREADS`` when set (tests set 1; the demo gives each training it runs side
    by side its share), else ``default``. LightGBM's ``num_threads`` overrides OpenMP's own setting, and more
    threads than free cores make its spinning threads wait on each other: 100 LambdaRank rounds on 200k rows
    took 54 s with one thread and 214 s with two on a busy 2-core machine."""
    try:
        return max(1, int(os.environ.get("OMP_NUM_THREADS", "")))
    except ValueError:
        return default


def run(settings: Settings, json_out: bool = False, truth_dir: Path | None = None, *, window_months: int = 3,
        outcome_months: int = 6, min_history_months: int = 6, k: int = 10, max_train_rows: int = 400_000,
        seed: int = 0, model_params: dict | None = None) -> dict:
    """Train, evaluate and register the course ranker; returns the metrics (printed as JSON with ``json_out``).

    ``truth_dir``: the simulator's truth folder for the oracle metrics; by default the one next to the feeds
    last ingested, if they were simulated (``evaluation.truth.locate``).
    """
    from features.store import historical_features

    started = time.time()
    params = {"random_state": seed, "feature_service": SERVICE, "n_jobs": lightgbm_threads(), **(model_params or {})}
    truth_dir = truth_dir if truth_dir is not None else truth_io.locate(settings)
    t = {name: read_clean(settings, name) for name in TABLES}
    horizon = window_months + outcome_months
    origins, eval_origin = plan_origins(t, horizon, min_history_months)
    cands = labelled_candidates(t, origins, window_months, outcome_months)
    eval_ts = pd.Timestamp(eval_origin, tz="UTC")
    cutoff = eval_ts - pd.DateOffset(months=horizon)
    final = _cap(_with_positive(cands), max_train_rows, seed)
    keys = ["employee_id", "course_id", "event_timestamp"]
    entity = cands.merge(final[keys].assign(in_final=True), on=keys, how="left")
    entity = entity[entity["in_final"].notna() | (entity["event_timestamp"] == eval_ts)]
    entity = entity.assign(in_final=entity["in_final"].eq(True)).reset_index(drop=True)
    with progress.step("course-ranker: point-in-time features from Feast"):
        feats = historical_features(settings, entity, SERVICE)
    at = feats["event_timestamp"]
    final_f = feats[feats["in_final"]].reset_index(drop=True)
    train_f = feats[feats["in_final"] & (at <= cutoff)].reset_index(drop=True)
    eval_f = feats[at == eval_ts].reset_index(drop=True)
    if train_f["label"].gt(0).sum() == 0 or eval_f["label"].gt(0).sum() == 0:
        raise ValueError("no positive labels before or at the evaluation origin: too little enrollment history")

    with progress.step("course-ranker: backtest model"):
        backtest_model = CourseRanker(**params).fit(train_f)
    history = t["enrollments"][t["enrollments"]["enrolled_at"] < eval_origin]
    scored = score_methods(backtest_model, eval_f, history)
    live = t["courses"].loc[(t["courses"]["created_at"] < eval_origin) & ~t["courses"]["mandatory"].fillna(False)]
    metrics = ranking_metrics(scored, t["course_skills"], len(live), k)
    if truth_dir is not None:
        scored = scored.assign(gain=true_gains(scored, truth_dir, t["job_skill_requirements"], t["course_skills"]))
        metrics.update(oracle_metrics(scored, truth_dir, t, k))
    units = evaluation_units(scored, eval_origin, k)
    with progress.step("course-ranker: fairness audit"):
        audit = fairness_audit(scored, t["employees"], t["courses"], backtest_model, eval_origin, k)
    with progress.step("course-ranker: final model"):
        model = CourseRanker(**params).fit(final_f)
    metrics.update({"train_rows": float(len(train_f)), "final_rows": float(len(final_f)),
                    "eval_queries": float(eval_f["employee_id"].nunique()), "eval_rows": float(len(eval_f)),
                    "best_iteration": float(model.best_iteration_), "n_trees": float(model.booster_.num_trees()),
                    "prior_strength_fitted": float(model.prior_strength_),
                    "fairness_passed": float(audit["passed"]), "fairness_min_impact_ratio": min_impact_ratio(audit)})

    experiment(settings, REGISTERED_NAME)
    with mlflow.start_run(run_name=f"course-ranker-{pd.Timestamp.now(tz='UTC'):%Y%m%dT%H%M}"):
        mlflow.log_params({**{k_: v for k_, v in model.__dict__.items() if not k_.endswith("_")},
                           "feature_service": SERVICE, "window_months": window_months,
                           "outcome_months": outcome_months, "first_origin": str(origins[0].date()),
                           "eval_origin": str(eval_origin.date()), "train_cutoff": str(cutoff.date()),
                           "oracle": truth_dir is not None, "k": k})
        mlflow.log_metrics({_key(name): float(v) for name, v in metrics.items() if np.isfinite(v)})
        mlflow.log_metric("training_seconds", time.time() - started)
        with tempfile.TemporaryDirectory() as tmp:
            for path in _plots(metrics, model, Path(tmp), k):
                mlflow.log_artifact(str(path), artifact_path="plots")
            units.to_parquet(Path(tmp) / "units.parquet", index=False)
            mlflow.log_artifact(str(Path(tmp) / "units.parquet"), artifact_path="evaluation")
        log_json(metrics, "evaluation/metrics.json")
        log_json(audit, "fairness/audit.json")
        log_markdown(render_markdown(audit), "fairness/audit.md")
        log_markdown(model_card(model, metrics, audit, origins[0], eval_origin, cutoff, window_months,
                                outcome_months, k, truth_dir is not None), "model_card.md")
        example = input_example(eval_f, model)
        version = log_and_register(model, REGISTERED_NAME, example,
                                   metadata={"eval_origin": str(eval_origin.date()), "k": k})
    metrics["registered_version"] = version
    from training_jobs.promotion import gate_new_version

    gated = gate_new_version(settings, REGISTERED_NAME, version)  # the first version too goes through the gate
    if gated is not None:
        metrics["gate"] = {k: gated[k] for k in ("action", "gate_summary", "seq")}
    if json_out:
        print(json.dumps(metrics, indent=2, default=str))
    return metrics


def input_example(frame: pd.DataFrame, model: CourseRanker, n: int = 5) -> pd.DataFrame:
    """Rows of what a pyfunc caller passes: ids, ``format`` and every other input as float64 (NaN when missing).

    MLflow refuses int64 → float64 and NaN in integer columns, so the signature declares numbers as float64.
    """
    cols = [c for c in model.input_columns_ if c != "format"]
    example = frame[["employee_id", "course_id", *model.input_columns_]].head(n).reset_index(drop=True)
    return example.astype({c: "float64" for c in cols})


def _key(name: str) -> str:
    """MLflow metric names allow no '@'."""
    return name.replace("@", "_at_")


def _plots(metrics: dict[str, float], model: CourseRanker, out: Path, k: int) -> list[Path]:
    from evaluation.plots import _plt

    plt = _plt()
    names = [f"ndcg@{k}", f"recall@{k}", f"uplift_capture@{k}"]
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.2
    for i, m in enumerate(METHODS):
        vals = [metrics.get(f"{m}_{n}", np.nan) for n in names]
        ax.bar(np.arange(len(names)) + i * width, vals, width, label=m)
    ax.set_xticks(np.arange(len(names)) + 1.5 * width, names)
    ax.set_title("Course ranker vs baselines (evaluation origin)")
    ax.legend()
    p1 = out / "methods.png"
    fig.tight_layout()
    fig.savefig(p1, dpi=100)
    plt.close(fig)
    imp = pd.Series(model.booster_.feature_importance("gain"), index=model.columns_).sort_values().tail(15)
    fig, ax = plt.subplots(figsize=(7, 5))
    imp.plot.barh(ax=ax)
    ax.set_title("Feature importance (gain)")
    p2 = out / "feature_importance.png"
    fig.tight_layout()
    fig.savefig(p2, dpi=100)
    plt.close(fig)
    return [p1, p2]


def fairness_summary(audit: dict) -> str:
    """The model card's summary of the recommendation audit (the tables are the run's ``fairness/audit.md``)."""
    lines = [f"Four-fifths audit of the backtest model's top-{audit['k']} recommendations per course format at "
             f"{audit['as_of']} ({audit['n']:,} employees): **{'passed' if audit['passed'] else 'FAILED'}**. "
             + ("A gap is explained when the oracle's best top-k by true gain shows the same gap."
                if audit["labelled"] else "No true outcomes (real data): every gap below four-fifths fails.")]
    gated = [(f"{where}: " + " / ".join(str(v) for v in g["group"].values()), g) for where, g in gated_results(audit)]
    if not gated:
        lines.append("No group could be gated (see the notes in the audit).")
    else:
        label, g = min(gated, key=lambda lg: lg[1]["impact_ratio"])
        lines.append(f"Lowest impact ratio among gated groups: {g['impact_ratio']:.3f} ({label}, status {g['status']}).")
    failed = [label for label, g in gated if g["status"] == "fail"]
    if failed:
        lines.append("Failing groups: " + "; ".join(failed) + ".")
    flagged = audit.get("proxies", {}).get("flagged", [])
    lines.append(f"Possible proxies of a protected attribute (Cramér's V ≥ {audit['rule']['proxy_threshold']}): "
                 + (", ".join(f"`{p['feature']}`~{p['attribute']} ({p['cramers_v']:.2f})" for p in flagged)
                    if flagged else "none") + ".")
    lines.append("Full tables: `fairness/audit.md` (and `fairness/audit.json`) in this run.")
    return " ".join(lines)


def model_card(model: CourseRanker, metrics: dict[str, float], audit: dict, first_origin: pd.Timestamp,
               eval_origin: pd.Timestamp, cutoff: pd.Timestamp, window: int, outcome: int, k: int,
               has_oracle: bool) -> str:
    """The Markdown model card logged with the run: every section of ``evaluation.model_card.SECTIONS``."""
    rows = []
    for m in METHODS:
        cells = [metrics.get(f"{m}_{n}@{k}", float("nan"))
                 for n in ("ndcg", "recall", "recall_improved", "uplift_capture", "coverage", "diversity")]
        rows.append(f"| {m} | " + " | ".join(f"{v:.3f}" for v in cells) + " |")
    oracle = ""
    if has_oracle:
        oracle = (f"\n\nOracle (true gains from the simulator): model captures "
                  f"{metrics[f'model_vs_oracle@{k}']:.2f} of the oracle's top-{k} gain (target ≥ 0.85) and "
                  f"{metrics[f'model_vs_popularity@{k}']:.2f}× the popularity baseline's (target ≥ 1.5). "
                  f"Ranking by the true effects with the levels a model can see (ratings, assessments) "
                  f"captures {metrics[f'observable_oracle_uplift_capture@{k}']:.2f}: the ceiling for any "
                  f"ranker on observable data; the model reaches {metrics[f'model_vs_observable_oracle@{k}']:.2f} "
                  f"of it (target ≥ 0.85).")
    return render("Course ranker (course_ranker)", {
        "Purpose": "Rank, for each employee, the courses most likely to close their skill gaps and lift their "
                   "next review (measured improvement, not popularity), with the gaps each course addresses as "
                   "reasons in English or Chinese.",
        "Data window": f"Monthly origins T from {first_origin:%Y-%m} to {eval_origin:%Y-%m}, each with labels "
                       f"from the {window} months after T and outcomes up to {window}+{outcome} months later. "
                       f"Backtest: trained on origins ≤ {cutoff:%Y-%m}, evaluated at {eval_origin:%Y-%m} "
                       f"({int(metrics['eval_queries']):,} queries, {int(metrics['eval_rows']):,} candidates). "
                       f"Final model: {int(metrics['final_rows']):,} rows of origins with final labels.\n\n"
                       "Candidates at each origin: courses teaching a skill the employee lacks for their job or "
                       "their next job (latest competency rating, or the pre-hire assessment for new hires), not "
                       "yet completed. Graded labels: 0 not taken, 1 enrolled, 2 completed (within "
                       f"{window}+{outcome} months), 3 completed and a targeted competency rating rose at the next "
                       "review. Mandatory courses are left out of the labelled sets (enrolment by rule carries no "
                       "choice signal) and are placed first by the API when asked.",
        "Features": f"Feature service `{SERVICE}`; model columns: " + ", ".join(f"`{c}`" for c in model.columns_)
                    + ". No ids, job or org-unit codes; protected attributes (sex, age, ethnicity, marital status, "
                      "nationality) are never inputs.",
        "Training setup": "Score = an uplift estimate plus a gated LambdaRank term. Uplift estimate: "
                          "`expected_gain` = takers' improvement on the course's skills (empirical-Bayes shrunk "
                          f"towards the catalogue mean, prior strength {model.prior_strength_:.1f} takers) × "
                          "gap skills covered, capped by the gap covered, scaled by its spread on the "
                          "training rows. LambdaRank: LightGBM over (employee, course) candidates on the graded "
                          f"labels, query = (employee, origin month), {model.booster_.num_trees()} trees × ≤ "
                          f"{model.num_leaves} leaves, gap features monotone increasing; added with weight "
                          f"{model.tree_weight:g} (in units of its spread) for courses that cover a gap of the "
                          "current job; courses covering none (next-job candidates) follow, ordered by takers' "
                          "improvement. The tree weight was chosen on a differently seeded company and an earlier "
                          "origin, not on the evaluation origin below (`docs/course-ranker.md`).\n\n"
                          "Enrollment bias: the labels are observational. People enrolled because they chose to, "
                          "a manager assigned them (often after a weak rating, picking a popular course), or a "
                          "campaign made it mandatory. A 0 means \"not taken\", not \"would not help\", so "
                          "courses few people chose are under-ranked; improvement is only seen for those who "
                          "enrolled, and people who enrol may have improved anyway. Mitigations: features that say "
                          "*why* a course helps (gap covered, takers' later rating change shrunk to a prior, level "
                          "fit) rather than ids; monotone constraints on the gap features; the within-person "
                          "\"improved\" grade; the labels steer only the LambdaRank term, so uptake cannot outvote "
                          "the uplift estimate. The remaining cost is measured on simulated data by the uplift "
                          "capture against an oracle that knows each course's true effect.",
        "Metrics vs baselines": f"Evaluation origin {eval_origin:%Y-%m}, trained on origins ≤ {cutoff:%Y-%m}. "
                                "Baselines: popularity within the job, rule-based (largest gap, most takers), "
                                "item-item collaborative filtering. Per-query NDCG units: "
                                "`evaluation/units.parquet`.\n\n"
                                f"| method | NDCG@{k} | recall@{k} | recall of improved@{k} | uplift capture@{k} "
                                "| coverage | diversity |\n|---|---|---|---|---|---|---|\n" + "\n".join(rows) + oracle,
        "Calibration": "Scores rank courses within one employee's candidates; they are not calibrated "
                       "probabilities of enrolling, completing or improving, and are not comparable across "
                       "employees. No probability is derived from them.",
        "Fairness audit": fairness_summary(audit),
        "Known limitations": "Uplift capture assumes completion (completion odds are not in the oracle). Labels "
                             "carry enrollment bias (see Training setup). The evaluation and the fairness audit "
                             "cover one origin. Courses without takers rank on a catalogue prior until they have "
                             "some; reasons describe the model, not a causal effect of a course.",
        "Intended uses": "Suggesting courses to an employee, their manager or HR partner, with the reasons in view "
                         "and constraints (formats, hours, budget) applied; planning training offers.",
        "Out-of-scope uses": "Mandatory assignment of training without human review; any decision about pay, "
                             "promotion, performance rating or dismissal; use on populations or catalogues unlike "
                             "the training data.",
    })
