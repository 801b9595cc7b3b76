"""Request and response models of the API (pydantic: fast JSON, OpenAPI with examples).

Request bodies reject unknown fields (``extra="forbid"``) and are parsed strictly: a value must have the
declared JSON type (a boolean is not a budget, a string is not a number: 422). Every prediction carries ``model`` (name,
version), ``features_as_of`` and ``stale``, and one explanation schema shared by the three models.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from features.contract import COURSE_FORMATS

Lang = Literal["en", "zh"]
CourseFormat = Literal[COURSE_FORMATS]  # type: ignore[valid-type] - the contract's tuple: an enum in OpenAPI
Scalar = float | int | bool | str | None


def _whole(v: object) -> object:
    """JSON Schema's integer: 22.0 is the integer 22; a fraction, a string or a boolean stays invalid."""
    return int(v) if isinstance(v, float) and v.is_integer() else v


WholeNumber = Annotated[int, BeforeValidator(_whole)]  # an integer field of a strict body


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# ---------------------------------------------------------------------- shared
class ModelRef(BaseModel):
    name: str
    version: str


class ModelStatus(BaseModel):
    """Present only when the model serving the answer was forced past a failed check of the promotion gate."""

    status: Literal["forced"]
    failed_checks: list[Literal["baseline", "champion", "fairness"]] = Field(
        description="The gate's checks the version failed: its strongest baseline, the champion it replaced, "
                    "its fairness audit.")
    forced_by: str = Field(description="Who put it into service past the gate (talentloop promote --force --by).")
    forced_at: str
    reason: str = Field(description="The reason recorded in the deployment log.")
    note: str = Field(description="The exception as a sentence in the requested language.")


class ContributionOut(BaseModel):
    feature: str = Field(description="Model input (or group of inputs) the contribution belongs to.")
    display_name: str = Field(description="Name a person reads, in the requested language.")
    value: Scalar = Field(description="The input's value for this prediction.")
    contribution: float = Field(description="Exact TreeSHAP contribution on the raw (log-odds / score) scale.")


class ExplanationOut(BaseModel):
    """base_value + the sum of ALL contributions = raw_score (exact TreeSHAP)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "base_value": -4.1, "raw_score": -2.9, "source": "live", "complete": False,
        "contributions": [{"feature": "pay_vs_band_mid", "display_name": "Pay vs band midpoint", "value": -0.12,
                           "contribution": 0.61}],
        "reasons": ["Pay is 12% below the band midpoint"]}]})

    base_value: float
    contributions: list[ContributionOut]
    reasons: list[str] = Field(description="Sentences in the requested language, strongest driver first.")
    raw_score: float | None = Field(None, description="base_value + every contribution (null when precomputed).")
    complete: bool = Field(False, description="True when contributions lists every input (additivity checkable).")
    source: Literal["live", "precomputed"] = Field(
        "live", description="live: computed for this request; precomputed: from batch scoring of the same "
                            "model version and feature month.")


class Page(BaseModel):
    total: int
    page: int
    page_size: int


# ---------------------------------------------------------------------- attrition
class RiskPoint(BaseModel):
    horizon_months: int
    risk: float


class Lever(BaseModel):
    lever: str = Field(description="Code of the lever: pay_to_band_midpoint, promotion or complete_a_course.")
    description: str = Field(description="What to do, in the requested language (names the course when known).")
    kind: str = Field(description="'model-based what-if, not causal' (基于模型的假设推演，非因果效应).")
    text: str | None = Field(None, description="The lever as a sentence: what to do and the expected change in risk.")
    risk_before: float
    risk_after: float
    change: float = Field(description="risk_after - risk_before (negative; levers under 0.5 points are not shown).")
    raise_cost: float | None = Field(None, description="Pay lever: cost of the raise over the horizon.")
    raise_cost_annual: float | None = Field(None, description="Pay lever: cost of the raise per year.")
    exit_cost_avoided: float | None = Field(
        None, description="Pay lever: (risk_before - risk_after) × replacement cost (a multiple of annual pay).")
    replacement_cost: float | None = Field(None, description="Pay lever: replacement cost of this person.")
    cost_text: str | None = Field(None, description="Pay lever: the raise against the exit cost it avoids.")
    course_id: str | None = Field(None, description="Course lever: the recommender's first pick for the person.")


class AlertContext(BaseModel):
    """Who the alert is about and how sure it is, as an HR partner reads it (texts in the requested language)."""

    job_title: str
    org_unit_name: str
    manager_id: str | None = Field(description="The manager's employee id (null when none is on record).")
    tenure_months: float | None
    tenure_text: str
    last_rating: float | None
    rating_text: str
    band: Literal["low", "moderate", "high", "very_high"]
    band_name: str
    band_text: str = Field(description="The band with the backtest's observed exit rate at the alert horizon.")
    band_exit_rate: float | None
    risk_previous_month: float | None
    risk_change: float | None
    change_text: str = Field(description="Change since the previous month, with the drivers of that change.")
    change_drivers: list[str]


class AlertPolicy(BaseModel):
    horizon_months: int
    min_risk: float
    top_share: float


class AttritionRisk(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "employee_id": "E000123", "horizon_months": 3, "risk": 0.18,
        "risk_curve": [{"horizon_months": 1, "risk": 0.06}, {"horizon_months": 2, "risk": 0.12}],
        "above_alert_threshold": True,
        "alert_policy": {"horizon_months": 3, "min_risk": 0.15, "top_share": 0.1},
        "explanation": ExplanationOut.model_config["json_schema_extra"]["examples"][0],
        "levers": [{"lever": "pay_to_band_midpoint", "description": "Raise pay to the band midpoint",
                    "kind": "model-based what-if, not causal", "risk_before": 0.18, "risk_after": 0.11,
                    "change": -0.07}],
        "model": {"name": "attrition", "version": "3"}, "features_as_of": "2025-12-01T00:00:00Z",
        "stale": False}]})

    employee_id: str
    horizon_months: int
    risk: float = Field(description="P(voluntary exit within horizon_months), calibrated.")
    risk_curve: list[RiskPoint] = Field(description="Risk at every horizon 1..12 (non-decreasing).")
    risk_source: Literal["live", "precomputed"] = Field(
        "live", description="precomputed: from batch scoring with the same model version and feature month.")
    above_alert_threshold: bool | None = Field(
        None, description="Risk at the model's alert horizon ≥ its threshold (the policy versioned with the model).")
    alert_policy: AlertPolicy | None = None
    explanation: ExplanationOut
    levers: list[Lever] = Field(description="Model-based what-if re-scores, not causal effects.")
    levers_source: Literal["live", "precomputed"] | None = Field(
        None, description="precomputed: levers stored by batch scoring at this horizon; None when not asked for.")
    model: ModelRef
    model_status: ModelStatus | None = Field(
        None, description="Set when the serving model was forced past a failed check of the promotion gate.")
    features_as_of: datetime | None
    stale: bool


class AlertOut(BaseModel):
    alert_id: str
    as_of: str
    employee_id: str
    org_unit_id: str | None
    horizon_months: int
    risk: float
    model_version: str
    status: str
    explanation: ExplanationOut
    levers: list[Lever] = Field(default_factory=list, description="Model-based what-ifs stored by batch scoring "
                                "(not causal effects); empty for alerts scored before levers were stored.")
    context: AlertContext | None = Field(None, description="Job, unit, manager, tenure, rating, risk band and "
                                         "the change since last month; null for alerts scored before it was stored.")
    created_at: str
    updated_at: str
    model_status: ModelStatus | None = Field(
        None, description="Set when the model version that raised the alert was forced past a failed check of "
                          "the promotion gate.")


class AlertList(Page):
    items: list[AlertOut]
    alert_policy: AlertPolicy | None = Field(None, description="Threshold policy of the model in use.")


class ReviewRequest(Strict):
    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"status": "actioned", "action_taken": "stay interview", "note": "pay review scheduled"}]})

    status: Literal["acknowledged", "actioned", "dismissed"]
    action_taken: str | None = Field(None, max_length=500)
    note: str | None = Field(None, max_length=2000)


class ReviewOut(BaseModel):
    review_id: int
    status: str
    action_taken: str | None
    note: str | None
    reviewer: str
    reviewed_at: str


class ReviewResponse(BaseModel):
    alert: AlertOut
    history: list[ReviewOut]


# ---------------------------------------------------------------------- course recommendations
class CourseOut(BaseModel):
    course_id: str
    rank: int
    score: float
    title: str | None = None
    format: str | None = None
    hours: float | None = None
    cost: float | None = None
    mandatory: bool = False
    skills_addressed: list[str] = []
    placed_by: Literal["score", "diversity", "mandatory", "exploration"] = Field(
        "score", description="score: no course below it scores higher; diversity: placed in the top 3 so the "
                             "first courses cover distinct skills; mandatory: mandatory courses first; "
                             "exploration: the list was drawn at random from the ranker's top courses "
                             "(docs/learning-plans.md).")
    placed_by_text: str | None = Field(None, description="Why it sits above a higher-scored course, when it does.")
    points: float | None = Field(None, description="Training points the course earns (target=points only).")
    explanation: ExplanationOut


class PointsPlanOut(BaseModel):
    """The points plan of ``target=points``: ranked courses that reach the remaining yearly target within the
    hours and budget given (docs/points.md)."""

    as_of: str = Field(description="Month of the points balance used.")
    target: float
    earned: float
    remaining: float = Field(description="Points still needed this points year.")
    points: float = Field(description="Points the chosen courses earn.")
    hours: float
    cost: float
    reaches_target: bool
    text: str = Field(description="The plan as a sentence in the requested language.")


class Recommendations(BaseModel):
    employee_id: str
    courses: list[CourseOut]
    candidates: int = Field(description="Candidate courses ranked before constraints.")
    why_empty: str | None = Field(None, description="Why no course is recommended (only when courses is empty).")
    points_plan: PointsPlanOut | None = Field(None, description="Only with target=points.")
    model: ModelRef
    features_as_of: datetime | None
    stale: bool
    request_id: str | None = Field(None, description="Id of this list in the recommendation log; send it back "
                                                     "with a learning plan (POST .../learning-plan).")


class BatchRequest(Strict):
    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"employee_ids": ["E000001", "E000002"], "k": 5, "lang": "en"}]})

    employee_ids: list[str] = Field(min_length=1, description="At most 500 employees per call (more: 413).")
    k: WholeNumber = Field(10, ge=1, le=50)
    lang: Lang = "en"
    formats: list[CourseFormat] | None = Field(None, description="Allowed course formats (none: every format).")
    max_hours: float | None = Field(None, ge=0)
    budget: float | None = Field(None, ge=0)
    target: Literal["gaps", "points"] = Field(
        "gaps", description="gaps: each person's top k by expected improvement; points: at most k ranked courses "
                            "that reach the person's remaining yearly points target within max_hours and budget, "
                            "as target=points of the single-employee endpoint.")


class BatchItem(BaseModel):
    employee_id: str
    status: int = Field(description="200, or 404 for an employee unknown or outside the caller's scope.")
    result: Recommendations | None = None
    detail: str | None = None


class BatchResponse(BaseModel):
    items: list[BatchItem]


# ---------------------------------------------------------------------- skill demand
class Interval(BaseModel):
    p10: float | None
    p50: float | None
    p90: float | None


class SupplyBreakdown(BaseModel):
    holders: float | None = Field(None, description="People in the unit holding the skill at the required level now.")
    expected_leavers: float | None = Field(None, description="Holders expected to leave within the horizon (the "
                                           "unit's 12-month voluntary attrition rate over the horizon).")
    expected_completions: float | None = Field(None, description="People now in a course teaching the skill "
                                               "expected to complete it within the horizon.")


class SkillDemandRow(BaseModel):
    org_unit_id: str
    skill_id: str
    skill_name: str | None = None
    horizon_months: int
    month: str | None = None
    demand: Interval
    method: str | None = Field(None, description="The method serving this horizon, as a code: lightgbm, a "
                               "baseline (naive, seasonal_naive, drift, auto_ets), an equal-weight combination "
                               "(mean:a+b+...) or a backtest-weighted ensemble (ensemble:a+b).")
    method_text: str | None = Field(None, description="The same method in words, in the answer's language, e.g. "
                                    "'equal-weight mean of AutoETS and naive (last value)' / "
                                    "'等权平均：AutoETS指数平滑与朴素法（最近值）'.")
    supply: float | None = Field(description="holders - expected_leavers + expected_completions.")
    supply_breakdown: SupplyBreakdown | None = None
    gap: float | None = Field(description="demand P50 - supply (positive: shortage).")
    gap_interval: Interval | None = None
    explanation: ExplanationOut | None = None


class SkillDemand(BaseModel):
    org_unit: str | None
    horizon_months: int
    items: list[SkillDemandRow]
    model: ModelRef
    features_as_of: datetime | None
    stale: bool


# ---------------------------------------------------------------------- models, health, admin
class ModelInfo(BaseModel):
    name: str
    version: str
    alias: str
    trained_at: str | None
    loaded_at: str
    run_id: str | None
    feature_service: str | None
    metrics: dict[str, float] = Field(description="Headline metrics of the MLflow run that trained it.")
    gate: Literal["passed", "forced", "not_gated"] = Field(
        description="How it became champion: passed the promotion gate, forced past it (see model_status), or "
                    "made champion outside the gate (an alias set by hand).")
    gate_reasons: list[str] = Field(default_factory=list, description="The gate's findings, one per check.")
    gate_at: str | None = None
    gate_by: str | None = None
    fairness: Literal["passed", "failed", "not_audited", "not_applicable"] = Field(
        description="Its fairness audit (four-fifths impact ratios on the backtest; docs/fairness.md).")
    fairness_audit_date: str | None = Field(None, description="When the audit ran (the training run's start).")
    min_impact_ratio: float | None = Field(None, description="The audit's lowest impact ratio of a gated group.")
    model_status: ModelStatus | None = Field(None, description="Set when it was forced past a failed check.")
    monitoring: dict[str, float | str | None] | None = Field(
        None, description="The latest `talentloop monitor` results for this version (realised precision and "
                          "recall of alerts, drift), when it has run.")


class ModelsResponse(BaseModel):
    models: list[ModelInfo]
    missing: dict[str, str] = Field(description="Models not loaded, with the reason.")


class Health(BaseModel):
    status: str
    worker: int = Field(description="Process id of the worker that answered (several workers share the port).")


class Ready(BaseModel):
    status: Literal["ready", "not ready"]
    models: dict[str, str]
    stores: dict[str, str]
    missing: list[str]


class ReloadResponse(BaseModel):
    report: dict[str, str]
    models: list[ModelRef]


# ---------------------------------------------------------------------- shaping helpers
def explanation_out(e, complete: bool = False, source: str = "live") -> ExplanationOut:
    """From a ``models.explanation.Explanation`` (``raw_score`` null when it is not known: a stored explanation
    keeps only the top contributions)."""
    raw = e.raw_score
    return ExplanationOut(
        base_value=e.base_value,
        contributions=[ContributionOut(feature=c.feature, display_name=c.display_name, value=_scalar(c.value),
                                       contribution=c.contribution) for c in e.contributions],
        reasons=list(e.reasons), raw_score=raw if math.isfinite(raw) else None, complete=complete, source=source)


def levers_out(levers: list[dict], lang: str, horizon: int) -> list[Lever]:
    """What-if levers (as ``AttritionModel.levers`` returns them, live or stored, priced and with the course
    when known) worded in ``lang``."""
    from models.wording.levers import lever_texts

    money = ("raise_cost", "raise_cost_annual", "exit_cost_avoided", "replacement_cost")
    return [Lever(lever=r["lever"], **lever_texts(r, lang, horizon), risk_before=r["risk_before"],
                  risk_after=r["risk_after"], change=r["change"], **{k: r.get(k) for k in money},
                  course_id=(r.get("course") or {}).get("course_id"))
            for r in levers]


def stored_explanation_out(stored, lang: str, drivers: dict | None = None) -> ExplanationOut:
    """From a ``models.explanation.StoredExplanation`` (batch scoring's, both languages) in ``lang``."""
    return explanation_out(stored.in_lang(lang, drivers), source="precomputed")


def _scalar(v: object) -> Scalar:
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    try:
        return float(v)  # numpy numbers
    except (TypeError, ValueError):
        return str(v)
