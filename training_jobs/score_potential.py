"""``talentloop score potential``: score every active employee of the latest month with the potential champion
and write the talent scores (pool membership, potential and its reasons, readiness for the next job, attrition
risk of the same month, impact of loss and expected loss) to the application database.

Run after ``talentloop score attrition`` for the same month to have risk, alerts and expected loss; without it
the talent scores carry no risk (and the result says so).
"""

from __future__ import annotations

import time
from contextlib import closing

import numpy as np
import pandas as pd

from features.app_db import connect
from features.build.talent_pool import load_rules
from features.feature_repo.services import EMPLOYEE_CONTEXT_SERVICE, TALENT_POOL_SERVICE
from features.offline import read_clean
from features.settings import Settings
from models.attrition.labels import KEYS
from models.potential import store
from models.potential.impact import impact_of_loss, regrettable, top_share_in_pool
from training_jobs.score_attrition import load_champion

RISK_HORIZON = 3  # the attrition alert horizon (models.attrition ThresholdPolicy default)
COURSES_PER_PERSON = 3


def next_job_courses(settings: Settings, month: pd.Timestamp, feats: pd.DataFrame, pool: pd.DataFrame,
                     who: np.ndarray) -> tuple[list[list[dict]], str | None]:
    """Per row of ``feats``, the course ranker champion's top picks with the next job as the target (only for
    the rows of ``who``; empty lists elsewhere), and a note when the ranker cannot be used."""
    import pyarrow.parquet as pq

    from features.build import feature_path
    from features.feature_repo.definitions import employee_course_match_udf
    from models.course_ranker.candidates import CandidateIndex
    from models.potential.readiness import next_job_frame, pick

    out: list[list[dict]] = [[] for _ in range(len(feats))]
    try:
        ranker, _ = load_champion(settings, "course_ranker")
    except ValueError:
        return out, "no course-ranker champion: readiness lists no courses (run `talentloop train course-ranker`)"
    def at_month(table: str) -> pd.DataFrame:
        frame = pq.read_table(feature_path(settings.feature_dir, table)).to_pandas()
        ts = pd.to_datetime(frame["event_timestamp"], utc=True)
        return frame[ts == ts[ts <= month].max()]

    courses = at_month("course_stats").set_index("course_id")
    job_courses = at_month("job_course_stats")
    done = at_month("employee_monthly")[["employee_id", "completed_course_ids"]].set_index("employee_id")
    reqs = read_clean(settings, "job_skill_requirements")
    required = {(str(j), str(k)): int(v) for j, k, v in zip(reqs["job_id"], reqs["skill_id"], reqs["required_level"],
                                                              strict=True)}
    cs = read_clean(settings, "course_skills")
    index = CandidateIndex(cs[["course_id", "skill_id"]])
    titles = read_clean(settings, "courses").set_index("course_id")
    numeric = [c for c in feats.columns if c not in ("employee_id", "event_timestamp")]
    for i in np.flatnonzero(who):
        job = pool["next_job_id"].iloc[i]
        if job is None or pd.isna(job):
            continue
        ids = [str(x) for x in pool["next_job_skill_ids"].iloc[i]]
        emp = str(feats["employee_id"].iloc[i])
        completed = [str(c) for c in done["completed_course_ids"].get(emp, [])] if emp in done.index else []
        frame = next_job_frame({"employee_id": emp, **feats.iloc[i][numeric].to_dict()}, str(job), ids,
                               list(pool["next_job_skill_gaps"].iloc[i]), [required.get((str(job), k), 0) for k in ids],
                               completed, courses, job_courses, index, employee_course_match_udf)
        picks = pick(ranker, frame, COURSES_PER_PERSON)
        for p in picks:
            c = p["course_id"]
            p["title"] = ({"en": str(titles.at[c, "title_en"]), "zh": str(titles.at[c, "title_zh"])}
                          if c in titles.index else {"en": c, "zh": c})
        out[i] = picks
    return out, None


def _gaps(ids: object, gaps: object, names: dict[str, dict[str, str]]) -> list[dict]:
    """The next job's skills with a gap (largest first), named in both languages."""
    out = []
    for s, g in zip(list(ids if ids is not None else []), list(gaps if gaps is not None else []), strict=False):
        if g is None or g != g:
            out.append({"skill_id": str(s), "gap": None, "name": names.get(str(s), {})})
        elif g > 0:
            out.append({"skill_id": str(s), "gap": round(float(g), 2), "name": names.get(str(s), {})})
    return sorted(out, key=lambda d: (d["gap"] is None, -(d["gap"] or 0)))


def _top_share(frame: pd.DataFrame, by: str, flag: str, share: float = 0.10) -> float | None:
    ranked = frame.dropna(subset=[by]).sort_values([by, "employee_id"], ascending=[False, True])
    n = int(np.ceil(share * len(ranked)))
    return float((ranked.head(n)[flag] == 1).mean()) if n else None


def run(settings: Settings, as_of: str | None = None) -> dict:
    from features.store import historical_features
    from training_jobs.score_attrition import active_snapshots

    started = time.time()
    month, snaps = active_snapshots(settings, as_of)
    model, version = load_champion(settings, "potential")
    rules = load_rules(settings)
    feats = historical_features(settings, snaps, model.feature_service_)
    feats = feats[feats[model.feature_columns_].notna().any(axis=1)].reset_index(drop=True)
    pool = historical_features(settings, feats[KEYS], TALENT_POOL_SERVICE)
    context = historical_features(settings, feats[KEYS], EMPLOYEE_CONTEXT_SERVICE)
    p = model.predict_proba(feats)
    high = (p >= model.threshold_).astype(int)
    both = model.explain_langs(feats, langs=("en", "zh"))
    skills = read_clean(settings, "skills")
    names = {str(r.skill_id): {"en": str(r.name_en), "zh": str(r.name_zh)} for r in skills.itertuples()}

    frame = pd.DataFrame({
        "as_of": str(month.date()), "employee_id": feats["employee_id"].astype(str).to_numpy(),
        "org_unit_id": context["org_unit_id"].astype("string").to_numpy(),
        "pool_unit_id": pool["pool_unit_id"].astype("string").to_numpy(),
        "talent_pool_member": pd.to_numeric(pool["talent_pool_member"]).fillna(0).astype(int).to_numpy(),
        "pool_rank": pd.to_numeric(pool["pool_rank"], errors="coerce").to_numpy(),
        "potential": p, "high_potential": high,
        "next_job_id": pool["next_job_id"].astype("string").to_numpy(),
        "readiness": pd.to_numeric(pool["next_job_readiness"], errors="coerce").to_numpy(),
        "model_version": version})
    with closing(connect(settings.app_db)) as con:
        risk = store.attrition_month(con, str(month.date()), RISK_HORIZON)
    frame = frame.merge(risk, on="employee_id", how="left")
    frame["risk_horizon"] = RISK_HORIZON
    frame["impact"] = np.round(impact_of_loss(context["base_pay"], feats["last_rating"], frame["talent_pool_member"],
                                              frame["potential"], rules.impact, settings.replacement_cost_multiple), 0)
    frame["expected_loss"] = np.round(pd.to_numeric(frame["risk"], errors="coerce") * frame["impact"], 0)
    frame["regrettable"] = regrettable(feats["last_rating"], frame["talent_pool_member"], high).astype(int)
    frame["detail"] = [
        {"explanation": {**en.to_dict(), "reasons": {"en": en.reasons, "zh": zh.reasons}},
         "next_job_gaps": _gaps(ids, gaps, names), "next_job_mean_gap": None if g != g else float(g),
         "last_rating": None if r != r else int(r), "base_pay": None if pay != pay else float(pay),
         "replacement_cost_multiple": settings.replacement_cost_multiple, "impact_weights": rules.impact.model_dump(),
         "potential_threshold": model.threshold_}
        for en, zh, ids, gaps, g, r, pay in zip(
            both["en"], both["zh"], pool["next_job_skill_ids"], pool["next_job_skill_gaps"],
            pd.to_numeric(pool["next_job_mean_gap"], errors="coerce"), pd.to_numeric(feats["last_rating"], errors="coerce"),
            pd.to_numeric(context["base_pay"], errors="coerce"), strict=True)]
    wanted = ((frame["talent_pool_member"] == 1) | (frame["high_potential"] == 1)).to_numpy()
    courses, course_note = next_job_courses(settings, month, feats, pool, wanted)
    for detail, picks in zip(frame["detail"], courses, strict=True):
        detail["next_job_courses"] = picks
    with closing(connect(settings.app_db)) as con:
        n = store.write(con, frame)
    alerts = frame[frame["alert_id"].notna()]
    result = {"as_of": str(month.date()), "model_version": version, "scored": n,
              "pool_members": int(frame["talent_pool_member"].sum()), "high_potential": int(high.sum()),
              "attrition_scored": bool(frame["risk"].notna().any()), "alerts": int(len(alerts)),
              "alerts_in_pool": int(alerts["talent_pool_member"].sum()),
              "top_decile_pool_share_by_expected_loss": top_share_in_pool(alerts, "expected_loss"),
              "top_decile_pool_share_by_risk": top_share_in_pool(alerts, "risk"),
              # everyone scored: the top 10 % by expected loss against the top 10 % by risk (an alert rule by
              # expected loss instead of risk)
              "everyone_top_decile_pool_share_by_expected_loss": top_share_in_pool(frame, "expected_loss"),
              "everyone_top_decile_pool_share_by_risk": top_share_in_pool(frame, "risk"),
              "everyone_top_decile_regrettable_share_by_expected_loss": _top_share(frame, "expected_loss", "regrettable"),
              "everyone_top_decile_regrettable_share_by_risk": _top_share(frame, "risk", "regrettable"),
              "seconds": round(time.time() - started, 2)}
    result["with_next_job_courses"] = int(sum(1 for c in courses if c))
    if course_note:
        result["course_note"] = course_note
    if not result["attrition_scored"]:
        result["note"] = (f"attrition was not scored for {month.date()}: run `talentloop score attrition` first for "
                          "risk, alerts and expected loss")
    return result
