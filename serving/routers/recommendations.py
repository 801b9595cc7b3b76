"""Course recommendations: ``GET /v1/employees/{employee_id}/course-recommendations`` and
``POST /v1/course-recommendations:batch`` (≤ 500 employees; more answers 413).

Per employee: the employee's required-skill gaps and completed courses are read online from the declared
``employee_monthly`` view; candidates come from the ranker package's own rule
(``models.course_ranker.candidate_courses``: courses teaching a skill the employee lacks, plus mandatory
ones, minus completed ones) over the course catalog loaded at start-up; the candidates' model inputs are
read online through the ranker's feature service (``course_ranker_v1``, pair features computed by its
on-demand view); the model ranks under the constraints and explains the courses shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Query

from features.contract import COURSE_FORMATS
from features.settings import Settings
from serving.audit import Entry
from serving.deps import (
    EmployeeId,
    Predictor,
    RankerChampion,
    Store,
    Svc,
    bad_request,
    employee_features,
    model_dependency,
)
from serving.errors import Problem
from serving.registry import LoadedModel
from serving.routers import API_PREFIX, PROBLEMS
from serving.schemas import (
    BatchItem,
    BatchRequest,
    BatchResponse,
    CourseOut,
    Lang,
    ModelRef,
    Recommendations,
    explanation_out,
)

router = APIRouter(prefix=API_PREFIX, tags=["course recommendations"])
MAX_BATCH = 500
EMPLOYEE_ARRAYS = ("skill_ids", "skill_gaps", "skill_required_levels", "completed_course_ids")


@dataclass(frozen=True)
class Catalog:
    """The course catalog (clean tables): skills per course, mandatory courses, titles, skill names."""

    course_skills: Any  # DataFrame (course_id, skill_id)
    course_skill_ids: dict[str, list[str]] = field(default_factory=dict)
    mandatory: frozenset[str] = frozenset()
    titles: dict[str, dict[str, str]] = field(default_factory=dict)
    skill_names: dict[str, dict[str, str]] = field(default_factory=dict)


def load_catalog(settings: Settings) -> Catalog:
    from features.offline import read_clean

    courses = read_clean(settings, "courses")
    cs = read_clean(settings, "course_skills")[["course_id", "skill_id"]].astype(str)
    skills = read_clean(settings, "skills")
    by_course = cs.sort_values(["course_id", "skill_id"]).groupby("course_id")["skill_id"].agg(list).to_dict()
    mandatory = frozenset(courses.loc[courses["mandatory"].fillna(False).astype(bool), "course_id"].astype(str))
    titles = {str(c): {"en": str(en), "zh": str(zh)}
              for c, en, zh in zip(courses["course_id"], courses["title_en"], courses["title_zh"], strict=True)}
    names = {str(s): {"en": str(en), "zh": str(zh)}
             for s, en, zh in zip(skills["skill_id"], skills["name_en"], skills["name_zh"], strict=True)}
    return Catalog(cs, by_course, mandatory, titles, names)


def _formats(formats: list[str] | None) -> list[str] | None:
    if not formats:
        return None
    out = [f.strip() for item in formats for f in item.split(",") if f.strip()]
    bad = [f for f in out if f not in COURSE_FORMATS]
    if bad:
        raise bad_request("formats", f"formats must be among {', '.join(COURSE_FORMATS)}; got {', '.join(bad)}")
    return out


def recommend_one(svc: Svc, store: Any, who: Any, champion: LoadedModel, employee_id: str, k: int, lang: str,
                  formats: list[str] | None, max_hours: float | None, budget: float | None
                  ) -> tuple[Recommendations, list[Entry]]:
    """Look up features, rank, explain, shape; raises 404 Problem for an unknown / out-of-scope employee."""
    from features.store import online_features
    from models.course_ranker import candidate_courses

    model, catalog = champion.model, svc.catalog
    context = employee_features(svc, store, who, employee_id, "employee_context_v1")
    job_id = context.values["job_id"][0]
    arrays = store.get_online_features(features=[f"employee_monthly:{c}" for c in EMPLOYEE_ARRAYS],
                                       entity_rows=[{"employee_id": employee_id}]).to_dict()
    skills, gaps = arrays["skill_ids"][0] or [], arrays["skill_gaps"][0] or []
    lacking = {s: g for s, g in zip(skills, gaps, strict=False) if g is not None and g == g and g > 0}
    candidates = candidate_courses(lacking, catalog.course_skills, arrays["completed_course_ids"][0] or [],
                                   catalog.mandatory)["course_id"].tolist()
    courses: list[CourseOut] = []
    feats_as_of, stale = context.features_as_of, context.stale
    if candidates:
        feats = online_features(store, model.feature_service_,
                                [{"employee_id": employee_id, "course_id": c, "job_id": job_id} for c in candidates])
        frame = feats.frame().assign(
            employee_id=employee_id, course_id=candidates, skill_ids=[skills] * len(candidates),
            skill_gaps=[gaps] * len(candidates),
            skill_required_levels=[arrays["skill_required_levels"][0] or []] * len(candidates),
            course_skill_ids=[catalog.course_skill_ids.get(c, []) for c in candidates])
        feats_as_of, stale = feats.features_as_of, feats.stale or stale
        recs = model.recommend(frame, k=k, formats=formats, max_hours=max_hours, budget=budget)
        ids = recs["course_id"].tolist()
        explained = model.explain(frame, lang=lang, course_ids=ids, skill_names=catalog.skill_names) if ids else []
        for r, e in zip(recs.itertuples(index=False), explained, strict=True):
            courses.append(CourseOut(
                course_id=r.course_id, rank=int(r.rank), score=float(r.score),
                title=catalog.titles.get(r.course_id, {}).get(lang), format=r.format, hours=float(r.hours),
                cost=float(r.cost), mandatory=bool(r.mandatory), skills_addressed=list(r.skills_addressed),
                explanation=explanation_out(e, source="live")))
    entries = [Entry(who.key_id, who.role, f"{employee_id}/{c.course_id}", "course-recommendations", champion.name,
                     champion.version, c.score, [x.feature for x in c.explanation.contributions]) for c in courses]
    return Recommendations(employee_id=employee_id, courses=courses, candidates=len(candidates),
                           model=ModelRef(name=champion.name, version=champion.version),
                           features_as_of=feats_as_of, stale=stale), entries


@router.get("/employees/{employee_id}/course-recommendations", response_model=Recommendations,
            responses=PROBLEMS, summary="Top-k courses for one employee, with reasons")
async def course_recommendations(
    employee_id: EmployeeId,
    who: Predictor,
    svc: Svc,
    store: Store,
    k: Annotated[int, Query(ge=1, le=50, description="How many courses.")] = 10,
    lang: Lang = "en",
    formats: Annotated[list[str] | None, Query(description="Allowed formats (repeat or comma-separate): "
                                                             + ", ".join(COURSE_FORMATS))] = None,
    max_hours: Annotated[float | None, Query(ge=0, le=10_000, description="Total hours of the list.")] = None,
    budget: Annotated[float | None, Query(ge=0, le=10_000_000, description="Total cost of the list.")] = None,
) -> Recommendations:
    formats = _formats(formats)
    champion = model_dependency("course_ranker")(svc)  # after validation: bad input is 422 whatever the model
    result, entries = recommend_one(svc, store, who, champion, employee_id, k, lang, formats, max_hours, budget)
    svc.audit.append(entries)
    return result


@router.post("/course-recommendations:batch", response_model=BatchResponse, responses={
    **PROBLEMS, 413: {"description": f"More than {MAX_BATCH} employees."}},
    summary=f"Recommendations for up to {MAX_BATCH} employees")
def course_recommendations_batch(body: BatchRequest, who: Predictor, svc: Svc, store: Store,
                                 champion: RankerChampion) -> BatchResponse:
    if len(body.employee_ids) > MAX_BATCH:
        raise Problem(413, f"employee_ids has {len(body.employee_ids)} entries; at most {MAX_BATCH} per call")
    formats = _formats(body.formats)
    items, entries = [], []
    for employee_id in body.employee_ids:
        try:
            result, audit_rows = recommend_one(svc, store, who, champion, employee_id, body.k, body.lang, formats,
                                               body.max_hours, body.budget)
        except Problem as exc:
            if exc.status != 404:
                raise
            items.append(BatchItem(employee_id=employee_id, status=404, detail=exc.detail))
            continue
        items.append(BatchItem(employee_id=employee_id, status=200, result=result))
        entries += audit_rows
    svc.audit.append(entries)
    return BatchResponse(items=items)
