"""Course recommendations: ``GET /v1/employees/{employee_id}/course-recommendations`` and
``POST /v1/course-recommendations:batch`` (≤ 500 employees; more answers 413).

Per employee: the employee's snapshot (required-skill gaps, completed courses, model inputs) is read online;
candidates come from the ranker package's own rule (``models.course_ranker.CandidateIndex``: courses
teaching a skill the employee lacks, plus mandatory ones, minus completed ones) over the course catalog
indexed at start-up; the candidates' model inputs are the ranker's feature service (``course_ranker_v1``)
assembled by :class:`serving.ranker_inputs.RankerInputs` (course views kept in memory, pair features by
the on-demand view's own transformation); the model ranks under the constraints and explains only the
courses shown, with exact TreeSHAP, in one pass over the inputs (``CourseRanker.recommend_explained``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from models.wording.courses import placed_by_text, why_empty
from serving.audit import Entry
from serving.catalog import Catalog
from serving.deps import (
    EmployeeId,
    Predictor,
    RankerChampion,
    Svc,
    feature_store,
    model_dependency,
)
from serving.errors import Problem, not_found, unavailable
from serving.registry import LoadedModel
from serving.routers import API_PREFIX, PROBLEMS
from serving.schemas import (
    BatchItem,
    BatchRequest,
    BatchResponse,
    CourseFormat,
    CourseOut,
    Lang,
    ModelRef,
    Recommendations,
    explanation_out,
)

# every endpoint here needs the feature store (503 when it is not available)
router = APIRouter(prefix=API_PREFIX, tags=["course recommendations"], dependencies=[Depends(feature_store)])
MAX_BATCH = 500


def _formats(formats: list[str] | None) -> list[str] | None:
    """The allowed formats once each (validated against the enum before the handler runs); None: all."""
    return list(dict.fromkeys(formats)) if formats else None


def _skill(catalog: Catalog, skills: list[str], lang: str) -> str | None:
    """The name of a course's main skill (the largest gap it addresses), never its id."""
    if not skills:
        return None
    return (catalog.skill_names.get(skills[0]) or {}).get(lang)


def recommend_one(svc: Svc, who: Any, champion: LoadedModel, employee_id: str, k: int, lang: str,
                  formats: list[str] | None, max_hours: float | None, budget: float | None, *, logged: bool = False
                  ) -> tuple[Recommendations, list[Entry]]:
    """Look up features, rank, explain, shape; raises 404 Problem for an unknown / out-of-scope employee.

    ``logged``: a list shown to an HR system or a person (the API endpoints): randomised with the configured
    exploration share (never under an hours or budget limit) and written to the recommendation log with its
    propensities (``serving.plan_log``).
    """
    from serving import plan_log
    from serving.ranker_inputs import column, repeat

    model, catalog = champion.model, svc.catalog
    inputs = svc.ranker_inputs(model.feature_service_)
    employee = inputs.employee(employee_id)
    if employee is None or not who.sees(employee.values["org_unit_id"]):
        raise not_found(f"employee {employee_id} not found")
    skills, gaps = employee.values["skill_ids"] or [], employee.values["skill_gaps"] or []
    lacking = {s: g for s, g in zip(skills, gaps, strict=False) if g is not None and g == g and g > 0}
    candidates = catalog.index.candidates(lacking, employee.values["completed_course_ids"] or [])
    read = inputs.frame(employee, candidates)
    courses: list[CourseOut] = []
    shown = None
    if candidates:
        n = len(candidates)
        frame = {**read.columns, "skill_ids": repeat(skills, n), "skill_gaps": repeat(gaps, n),
                 "skill_required_levels": repeat(employee.values["skill_required_levels"] or [], n),
                 "course_skill_ids": column([catalog.course_skill_ids.get(c, []) for c in candidates]),
                 "course_target_levels": column([catalog.course_target_levels.get(c, []) for c in candidates])}
        share = svc.settings.exploration_share if logged and max_hours is None and budget is None else 0.0
        depth = max(k, svc.settings.exploration_pool) if share > 0 else k
        recs, explained = model.recommend_explained(frame, k=depth, formats=formats, max_hours=max_hours,
                                                    budget=budget, lang=lang, skill_names=catalog.skill_names)
        if any(r["mandatory"] for r in recs[:k]):
            share = 0.0  # a mandatory course due is never left out by a random draw
        recs, explained, shown = plan_log.choose(recs, explained, k, share, svc.settings.exploration_pool)
        for r, e in zip(recs, explained, strict=True):
            courses.append(CourseOut(
                course_id=r["course_id"], rank=r["rank"], score=r["score"],
                title=catalog.titles.get(r["course_id"], {}).get(lang), format=r["format"], hours=r["hours"],
                cost=r["cost"], mandatory=r["mandatory"], skills_addressed=r["skills_addressed"],
                placed_by=r["placed_by"], placed_by_text=placed_by_text(
                    r["placed_by"], _skill(catalog, r["skills_addressed"], lang), lang),
                explanation=explanation_out(e, source="live")))
    entries = [Entry(who.key_id, who.role, f"{employee_id}/{c.course_id}", "course-recommendations", champion.name,
                     champion.version, c.score, [x.feature for x in c.explanation.contributions]) for c in courses]
    why = None
    if not courses:
        known = any(g is not None and g == g for g in gaps)
        reason = ("filtered" if candidates else "no_course" if lacking else "no_gap" if known or not skills
                  else "no_level")
        why = why_empty(reason, lang, len(candidates))
    result = Recommendations(employee_id=employee_id, courses=courses, candidates=len(candidates), why_empty=why,
                             model=ModelRef(name=champion.name, version=champion.version),
                             features_as_of=read.features_as_of, stale=read.stale)
    if logged and courses:
        result.request_id = plan_log.log(svc, champion, employee_id, employee.values["org_unit_id"], result, shown,
                                         share)
    return result, entries


@router.get("/employees/{employee_id}/course-recommendations", response_model=Recommendations,
            responses=PROBLEMS, summary="Top-k courses for one employee, with reasons")
async def course_recommendations(
    employee_id: EmployeeId,
    who: Predictor,
    svc: Svc,
    k: Annotated[int, Query(ge=1, le=50, description="How many courses.")] = 10,
    lang: Lang = "en",
    formats: Annotated[list[CourseFormat] | None, Query(
        description="Allowed formats, the parameter repeated (formats=online&formats=workshop); none: every format.")
    ] = None,
    max_hours: Annotated[float | None, Query(ge=0, le=10_000, description="Total hours of the list.")] = None,
    budget: Annotated[float | None, Query(ge=0, le=10_000_000, description="Total cost of the list.")] = None,
    target: Annotated[Literal["gaps", "points"], Query(
        description="gaps: the top k by expected improvement; points: at most k of the ranked courses that reach "
                    "the person's remaining yearly points target within max_hours and budget (docs/points.md).")
                      ] = "gaps",
) -> Recommendations:
    formats = _formats(formats)
    champion = model_dependency("course_ranker")(svc)  # after validation: bad input is 422 whatever the model
    if target == "points":  # up to MAX_CANDIDATES ranked and explained, then the knapsack: in the thread pool
        return await run_in_threadpool(_points_answer, svc, who, champion, employee_id, k, lang, formats,
                                       max_hours, budget)
    # one employee's top k: a few milliseconds of model work, answered on the event loop (the thread-pool
    # round trip and its GIL hand-offs cost more than they spare; docs/serving-performance.md)
    result, entries = recommend_one(svc, who, champion, employee_id, k, lang, formats, max_hours, budget,
                                    logged=True)
    svc.audit.append(entries)
    return result


def _points_answer(svc: Svc, who: Any, champion: LoadedModel, employee_id: str, k: int, lang: str,
                   formats: list[str] | None, max_hours: float | None, budget: float | None) -> Recommendations:
    result, entries = points_target(svc, who, champion, employee_id, k, lang, formats, max_hours, budget)
    svc.audit.append(entries)
    return result


@router.post("/course-recommendations:batch", response_model=BatchResponse, responses={
    **PROBLEMS, 413: {"description": f"More than {MAX_BATCH} employees."}},
    summary=f"Recommendations for up to {MAX_BATCH} employees")
def course_recommendations_batch(body: BatchRequest, who: Predictor, svc: Svc,
                                 champion: RankerChampion) -> BatchResponse:
    if len(body.employee_ids) > MAX_BATCH:
        raise Problem(413, f"employee_ids has {len(body.employee_ids)} entries; at most {MAX_BATCH} per call")
    formats = _formats(body.formats)
    items, entries = [], []
    for employee_id in body.employee_ids:
        try:
            if body.target == "points":
                result, audit_rows = points_target(svc, who, champion, employee_id, body.k, body.lang, formats,
                                                   body.max_hours, body.budget)
            else:
                result, audit_rows = recommend_one(svc, who, champion, employee_id, body.k, body.lang, formats,
                                                   body.max_hours, body.budget, logged=True)
        except Problem as exc:
            if exc.status != 404:
                raise
            items.append(BatchItem(employee_id=employee_id, status=404, detail=exc.detail))
            continue
        items.append(BatchItem(employee_id=employee_id, status=200, result=result))
        entries += audit_rows
    svc.audit.append(entries)
    return BatchResponse(items=items)


def points_target(svc: Svc, who: Any, champion: LoadedModel, employee_id: str, k: int, lang: str,
                  formats: list[str] | None, max_hours: float | None, budget: float | None):  # noqa: ANN201
    """``target=points`` of the course recommendations: the ranker's candidates (unconstrained, best first, at
    most ``models.points.plan.MAX_CANDIDATES``), then the knapsack picks at most ``k`` of them that reach the
    person's remaining points within ``max_hours`` and ``budget``; the list picked is written to the
    recommendation log (propensity 1). Returns (Recommendations, audit entries)."""
    from models.points import store
    from models.points.plan import MAX_CANDIDATES, plan
    from models.points.store import NOT_SCORED
    from models.wording.needs import plan_text
    from serving import plan_log
    from serving.schemas import PointsPlanOut

    with svc.db_lock:
        if store.latest_month(svc.db) is None:
            raise unavailable(NOT_SCORED)
        row = store.employee_balance(svc.db, employee_id)
        prices = store.course_points(svc.db)
    ranked, entries = recommend_one(svc, who, champion, employee_id, MAX_CANDIDATES, lang, formats, None, None)
    if row is None:
        raise not_found(f"employee {employee_id} has no points balance (not employed at the last points scoring)")
    courses = ranked.courses
    result = plan([prices.get(c.course_id, 0.0) for c in courses], [c.hours or 0.0 for c in courses],
                  [c.cost or 0.0 for c in courses], [c.score for c in courses], float(row["remaining"]),
                  max_hours, budget, k)
    chosen = [courses[i].model_copy(update={"points": prices.get(courses[i].course_id, 0.0)}) for i in result.chosen]
    kept = {c.course_id for c in chosen}
    entries = [e for e in entries if e.subject.rsplit("/", 1)[-1] in kept]
    text = plan_text(result.reaches_target, result.points, float(row["remaining"]), result.hours, len(chosen), lang)
    out = ranked.model_copy(update={"courses": chosen, "points_plan": PointsPlanOut(
        as_of=row["as_of"], target=row["target"], earned=row["earned"], remaining=row["remaining"],
        points=result.points, hours=result.hours, cost=result.cost, reaches_target=result.reaches_target,
        text=text)})
    if chosen:  # logged as shown, each course with propensity 1 (the knapsack draws nothing at random)
        out.request_id = plan_log.log(svc, champion, employee_id, row.get("org_unit_id"), out, None, 0.0)
    return out, entries
