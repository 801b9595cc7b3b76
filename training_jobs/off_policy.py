"""Off-policy evaluation of course-ranker versions on the recommendation log, for ``talentloop compare
course-ranker`` (``docs/learning-plans.md``).

The log (``models.learning_plans.store``) holds what the serving champion showed, with each course's
propensity under the exploration policy. For every logged request (an employee at the month it was served)
the candidates are rebuilt as the training job builds them (``training_jobs.course_ranker``), with the
ranker's point-in-time features from Feast; each compared version ranks them and its top k (k = the number
of courses the request showed) is the list it would have shown. The reward of a course shown is the
training job's own outcome: 1 when the employee completed it within ``window_months`` and improved on a
skill it teaches at the next review within ``outcome_months``, else 0, so only requests at least
``window_months + outcome_months`` old are evaluated. IPS and DR estimates with intervals of each
version's gain over the champion come from :mod:`evaluation.off_policy`.
"""

from __future__ import annotations

from contextlib import closing

import pandas as pd

from evaluation import off_policy as ope
from features import app_db
from features.settings import Settings
from models.learning_plans import store as plans_store

LOGGING = "logging policy"
POPULARITY = "popularity within the job (baseline)"
REWARD_FEATURES = ("avg_rating_change", "completion_rate", "max_gap_covered", "format_affinity", "hours")


def candidate_frame(settings: Settings, origins: list[pd.Timestamp], employees: list[str] | None,
                    window_months: int = 3, outcome_months: int = 6) -> pd.DataFrame:
    """Candidate rows with the ranker's features and the graded label at each origin (a month start)."""
    from features.offline import read_clean
    from features.store import historical_features
    from training_jobs.course_ranker import SERVICE, TABLES, labelled_candidates

    t = {name: read_clean(settings, name) for name in TABLES}
    pairs = labelled_candidates(t, origins, window_months, outcome_months)
    if employees is not None:
        pairs = pairs[pairs["employee_id"].isin(set(employees))]
    return historical_features(settings, pairs.reset_index(drop=True), SERVICE)


def read_logged(settings: Settings) -> pd.DataFrame:
    """The recommendation log of the workspace's application database (empty when there is none)."""
    if not settings.app_db.exists():
        return pd.DataFrame(columns=list(plans_store.LOG_COLUMNS))
    with closing(app_db.connect(settings.app_db)) as con:
        return plans_store.read_log(con)


def evaluate_versions(settings: Settings, models: dict[str, object], reference: str, window_months: int = 3,
                      outcome_months: int = 6, baseline: bool = False, keep_lists: bool = False) -> dict | None:
    """IPS / DR gains of each model (name → fitted CourseRanker) over ``reference`` on the logged requests
    whose outcome is known; None when nothing is logged. A dict with ``note`` when nothing can be evaluated.

    The logging policy itself is always reported (as :data:`LOGGING`, its on-policy value) and may be the
    ``reference``; ``baseline`` adds the popularity-within-the-job baseline (:data:`POPULARITY`);
    ``keep_lists`` keeps each ranker's lists (``lists``: name → request_id, course_id) and the logged rows
    with their rewards (``logged``), for checking against the simulator (``bench/off_policy_feeds.py``)."""
    log = read_logged(settings)
    if log.empty:
        return None
    served = pd.to_datetime(log["served_at"], utc=True, format="ISO8601")
    log = log.assign(origin=served.dt.tz_localize(None).dt.to_period("M").dt.to_timestamp())
    from features.offline import read_clean

    last = pd.to_datetime(read_clean(settings, "competency_ratings")["review_date"]).max()
    ripe = log["origin"] + pd.DateOffset(months=window_months + outcome_months) <= last
    if not ripe.any():
        return {"note": f"{log['request_id'].nunique()} logged requests, none older than "
                        f"{window_months + outcome_months} months of outcomes: nothing to evaluate yet"}
    log = log[ripe]
    if log["propensity"].ge(1.0).all():
        return {"note": "the logged lists were never randomised (exploration share 0): another ranker's "
                        "lists cannot be evaluated off-policy; see docs/learning-plans.md"}
    frame = candidate_frame(settings, sorted(log["origin"].unique()), sorted(log["employee_id"].unique()),
                            window_months, outcome_months)
    frame = frame.assign(origin=pd.to_datetime(frame["event_timestamp"]).dt.tz_localize(None))
    requests = log[["request_id", "employee_id", "origin"]].drop_duplicates("request_id")
    k = log.groupby("request_id").size().rename("k")
    cands = requests.merge(frame, on=["employee_id", "origin"]).merge(k, left_on="request_id", right_index=True)
    shown = log.merge(cands[["request_id", "course_id", "label", *REWARD_FEATURES]], on=["request_id", "course_id"])
    if shown.empty:
        return {"note": "no logged course is among the rebuilt candidates (mandatory courses are not evaluated)"}
    logged = shown.assign(reward=(shown["label"] >= 3).astype(float))
    scores = {name: model.score(cands) for name, model in models.items()}
    if baseline:
        from evaluation.course_ranker_baselines import popularity_within_job

        scores[POPULARITY] = popularity_within_job(cands)
    targets = {}
    for name, score in scores.items():
        s = cands.assign(score=score).sort_values(["request_id", "score", "course_id"], ascending=[True, False, True])
        s = s[s.groupby("request_id").cumcount() < s["k"]]
        targets[name] = s[["request_id", "course_id"]]
    q = ope.predict_rewards(cands, logged, REWARD_FEATURES)
    result = ope.evaluate(logged, targets, reference, q, logging_name=LOGGING)
    policies = log[["model_name", "model_version"]].drop_duplicates()
    result["logging_policies"] = [f"{n} {v}" for n, v in policies.itertuples(index=False)]
    result["unmatched_shown"] = int(len(log) - len(shown))
    result["support_measure"] = "shown"  # the log holds the propensities of the courses shown only
    if keep_lists:
        result["lists"], result["logged"] = targets, logged
    return result


def for_compare(settings: Settings, name: str, versions: list[str]) -> dict | None:
    """The off-policy section of ``compare``, or None when the workspace has no recommendation log.

    The versions' gains are over the first (the champion) when every logged list was shown by it (the
    serving API's log); over the logging policy otherwise (e.g. an HR suite's plans loaded from the
    ``learning_plans`` feed), so a single registered version is still compared with something. The
    popularity-within-the-job baseline is always evaluated too."""
    import mlflow

    log = read_logged(settings)
    if not log.shape[0]:
        return None
    models = {f"v{v}": mlflow.pyfunc.load_model(f"models:/{name}/{v}").unwrap_python_model().model for v in versions}
    by_champion = log["model_name"].eq(name).all() and log["model_version"].astype(str).eq(str(versions[0])).all()
    return evaluate_versions(settings, models, reference=f"v{versions[0]}" if by_champion else LOGGING,
                             baseline=True)


def render(section: dict) -> str:
    if "note" in section:
        return f"Off-policy evaluation: {section['note']}."
    text = ope.render_markdown(section)
    policies = section.get("logging_policies")
    if policies:
        text += (f"\n\nThe logging policy is what showed the lists ({', '.join(policies)}); its row is its "
                 "own value (the rewards of the courses it showed). Reward: completed within 3 months and a "
                 "targeted competency rating rose at the next review within 6. Shown: the share of a ranker's "
                 "courses that were in the logged lists; IPS sees only those, DR models the rest.")
    return text
