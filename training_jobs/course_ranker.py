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
4. Fit the final model on every origin with final labels; log params, metrics, plots and a model card;
   register it (alias ``challenger``, and ``champion`` when there is none).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from evaluation import course_ranker_baselines as baselines
from evaluation import truth as truth_io
from evaluation.metrics.ranking import catalog_coverage, intra_list_diversity, ndcg_at_k, recall_at_k
from features.offline import read_clean
from features.settings import Settings
from models.course_ranker import CourseRanker, candidate_pairs, employee_gaps_at, graded_labels
from models.course_ranker.candidates import skill_levels_at
from training_jobs.tracking import experiment, log_and_register, log_json, log_markdown

SERVICE = "course_ranker_v1"
REGISTERED_NAME = "course_ranker"
TABLES = ("employment_events", "jobs", "job_skill_requirements", "competency_ratings", "assessments", "candidates",
          "courses", "course_skills", "enrollments")
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
        raise ValueError(f"{len(origins)} labelled origins from {start:%Y-%m} to {eval_origin:%Y-%m}: need "
                         f">= {horizon + 2}; use a longer history or a shorter window_months / outcome_months")
    return origins, eval_origin


def labelled_candidates(t: dict[str, pd.DataFrame], origins: list[pd.Timestamp], window_months: int,
                        outcome_months: int) -> pd.DataFrame:
    """(employee_id, course_id, job_id, event_timestamp, label) for every non-mandatory candidate at each origin."""
    courses, cs, enr = t["courses"], t["course_skills"], t["enrollments"]
    mandatory = set(courses.loc[courses["mandatory"].fillna(False).astype(bool), "course_id"])
    frames = []
    for T in origins:
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


def ranking_metrics(scored: pd.DataFrame, course_skills: pd.DataFrame, n_courses: int, k: int) -> dict[str, float]:
    """NDCG@k, recall@k (labels), catalogue coverage and intra-list diversity for every method."""
    true = scored[["employee_id", "course_id", "label"]].rename(
        columns={"employee_id": "user_id", "course_id": "item_id", "label": "relevance"})
    items = course_skills[["course_id", "skill_id"]].rename(columns={"course_id": "item_id"})
    out: dict[str, float] = {}
    for m in METHODS:
        pred = scored[["employee_id", "course_id", m]].rename(
            columns={"employee_id": "user_id", "course_id": "item_id", m: "score"})
        out[f"{m}_ndcg@{k}"] = ndcg_at_k(true, pred, k=k)
        out[f"{m}_recall@{k}"] = recall_at_k(true, pred, k=k)
        out[f"{m}_recall_improved@{k}"] = recall_at_k(true, pred, k=k, threshold=3)
        out[f"{m}_coverage@{k}"] = catalog_coverage(pred, n_items=n_courses, k=k)
        out[f"{m}_diversity@{k}"] = intra_list_diversity(pred, items, k=k)
    return out


def oracle_metrics(scored: pd.DataFrame, truth_dir: Path, t: dict[str, pd.DataFrame], k: int) -> dict[str, float]:
    """Uplift capture against the oracle for every method, and the ratios the targets are stated in."""
    from evaluation.course_ranker_oracle import observable_oracle, true_gains, uplift_report

    gains = true_gains(scored, truth_dir, t["job_skill_requirements"], t["course_skills"])
    at = pd.Timestamp(scored["event_timestamp"].iloc[0]).tz_convert("UTC").tz_localize(None)
    seen = skill_levels_at(t["competency_ratings"], at, t["assessments"], t["candidates"])
    ceiling = observable_oracle(scored, truth_dir, seen, t["job_skill_requirements"], t["course_skills"])
    out = uplift_report(scored.assign(gain=gains, observable_oracle=ceiling), [*METHODS, "observable_oracle"], k=k)
    pop = out[f"popularity_uplift_capture@{k}"]
    out[f"model_vs_oracle@{k}"] = out[f"model_uplift_capture@{k}"] / out[f"oracle_uplift_capture@{k}"]
    out[f"model_vs_popularity@{k}"] = out[f"model_uplift_capture@{k}"] / pop if pop > 0 else float("nan")
    out[f"model_vs_observable_oracle@{k}"] = (out[f"model_uplift_capture@{k}"]
                                             / out[f"observable_oracle_uplift_capture@{k}"])
    return out


def run(settings: Settings, json_out: bool = False, truth_dir: Path | None = None, *, window_months: int = 3,
        outcome_months: int = 6, min_history_months: int = 6, k: int = 10, max_train_rows: int = 400_000,
        seed: int = 0, model_params: dict | None = None) -> dict:
    """Train, evaluate and register the course ranker; returns the metrics (printed as JSON with ``json_out``).

    ``truth_dir``: the simulator's truth folder for the oracle metrics; by default the one next to the feeds
    last ingested, if they were simulated (``evaluation.truth.locate``).
    """
    from features.store import historical_features

    started = time.time()
    params = {"random_state": seed, **(model_params or {})}
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
    feats = historical_features(settings, entity, SERVICE)
    at = feats["event_timestamp"]
    final_f = feats[feats["in_final"]].reset_index(drop=True)
    train_f = feats[feats["in_final"] & (at <= cutoff)].reset_index(drop=True)
    eval_f = feats[at == eval_ts].reset_index(drop=True)
    if train_f["label"].gt(0).sum() == 0 or eval_f["label"].gt(0).sum() == 0:
        raise ValueError("no positive labels before or at the evaluation origin: too little enrollment history")

    backtest_model = CourseRanker(**params).fit(train_f)
    history = t["enrollments"][t["enrollments"]["enrolled_at"] < eval_origin]
    scored = score_methods(backtest_model, eval_f, history)
    live = t["courses"].loc[(t["courses"]["created_at"] < eval_origin) & ~t["courses"]["mandatory"].fillna(False)]
    metrics = ranking_metrics(scored, t["course_skills"], len(live), k)
    if truth_dir is not None:
        metrics.update(oracle_metrics(scored, truth_dir, t, k))
    model = CourseRanker(**params).fit(final_f)
    metrics.update({"train_rows": float(len(train_f)), "final_rows": float(len(final_f)),
                    "eval_queries": float(eval_f["employee_id"].nunique()), "eval_rows": float(len(eval_f)),
                    "best_iteration": float(model.best_iteration_), "n_trees": float(model.booster_.num_trees())})

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
        log_json(metrics, "evaluation/metrics.json")
        log_markdown(model_card(model, metrics, eval_origin, cutoff, window_months, outcome_months, k,
                                truth_dir is not None), "model_card.md")
        example = input_example(eval_f, model)
        version = log_and_register(model, REGISTERED_NAME, example,
                                   metadata={"eval_origin": str(eval_origin.date()), "k": k})
    metrics["registered_version"] = version
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


def model_card(model: CourseRanker, metrics: dict[str, float], eval_origin: pd.Timestamp, cutoff: pd.Timestamp,
               window: int, outcome: int, k: int, has_oracle: bool) -> str:
    """The Markdown model card logged with the run."""
    rows = []
    for m in METHODS:
        cells = [metrics.get(f"{m}_{n}@{k}", float("nan"))
                 for n in ("ndcg", "recall", "recall_improved", "uplift_capture", "coverage", "diversity")]
        rows.append(f"| {m} | " + " | ".join(f"{v:.3f}" for v in cells) + " |")
    oracle = ""
    if has_oracle:
        oracle = (f"\nOracle (true gains from the simulator): model captures "
                  f"{metrics[f'model_vs_oracle@{k}']:.2f} of the oracle's top-{k} gain (target ≥ 0.85) and "
                  f"{metrics[f'model_vs_popularity@{k}']:.2f}× the popularity baseline's (target ≥ 1.5). "
                  f"Ranking by the true effects with the levels a model can see (ratings, assessments) "
                  f"captures {metrics[f'observable_oracle_uplift_capture@{k}']:.2f}: the ceiling for any "
                  f"ranker on observable data.\n")
    return f"""# Course ranker

LightGBM LambdaRank over (employee, course) candidates; query = (employee, origin month).
{model.booster_.num_trees()} trees × ≤ {model.num_leaves} leaves; feature service `{SERVICE}`.

## Data and labels
Candidates at each monthly origin T: courses teaching a skill the employee lacks for their job or their next
job (latest competency rating, or the pre-hire assessment for new hires), not yet completed. Graded labels
from the {window} months after T: 0 not taken, 1 enrolled, 2 completed (within {window}+{outcome} months),
3 completed and a targeted competency rating rose at the next review. Mandatory courses are left out of the
labelled sets (enrolment by rule carries no choice signal) and are placed first by the API when asked.

## Enrollment bias
The labels are observational: people enrolled because they chose to, a manager assigned them (often after a
weak rating, picking a popular course), or a campaign made it mandatory. A 0 means "not taken", not "would
not help", so courses few people chose are under-ranked; improvement is only seen for those who enrolled,
and people who enrol may have improved anyway. Mitigations: features that say *why* a course helps (gap
covered, takers' later rating change shrunk to a prior, level fit) rather than ids; monotone constraints on
the gap features; the within-person "improved" grade. The remaining cost is measured on simulated data by
the uplift capture against an oracle that knows each course's true effect.

## Evaluation (origin {eval_origin:%Y-%m}, trained on origins ≤ {cutoff:%Y-%m})
| method | NDCG@{k} | recall@{k} | recall of improved@{k} | uplift capture@{k} | coverage | diversity |
|---|---|---|---|---|---|---|
{chr(10).join(rows)}
{oracle}
## Limitations
Scores rank; they are not probabilities. Uplift capture assumes completion (completion odds are not in the
oracle). Protected attributes are never inputs; a fairness audit of who is recommended what is separate.
"""
