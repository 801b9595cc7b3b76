"""Feature-service names are declared once (``features.feature_repo.services``) and each model's inputs are
bound to its service's columns (``features.store.feature_columns``), so a model can't drift from what Feast
serves it."""

from __future__ import annotations

import inspect

import pytest

from features.feature_repo.services import (
    ATTRITION_SERVICE,
    COURSE_RANKER_CONTEXT_SERVICE,
    COURSE_RANKER_SERVICE,
    FEATURE_SERVICES,
    SKILL_DEMAND_SERVICE,
)
from features.store import feature_columns, service_entity_keys
from tests.factories import make_frame


def test_every_declared_name_is_a_defined_service_and_back():
    from feast import FeatureService

    from features.feature_repo.definitions import repo_objects

    defined = {name for name, obj in repo_objects(".").items() if isinstance(obj, FeatureService)}
    assert defined == set(FEATURE_SERVICES)
    with pytest.raises(KeyError, match="unknown feature service 'attrition_v0'"):
        feature_columns("attrition_v0")


def test_attrition_models_default_to_the_attrition_service_and_its_job_reads_it():
    import training_jobs.attrition
    import training_jobs.score_attrition
    from models.attrition import AttritionModel
    from models.attrition.simple import LogisticAttritionModel, TenureAttritionModel

    for cls in (AttritionModel, LogisticAttritionModel, TenureAttritionModel):
        assert inspect.signature(cls).parameters["feature_service"].default == ATTRITION_SERVICE, cls.__name__
    assert training_jobs.attrition.SERVICE == training_jobs.score_attrition.SERVICE == ATTRITION_SERVICE


def test_the_registered_attrition_model_reads_exactly_its_service_columns(trained_workspace):
    import mlflow

    from training_jobs.tracking import configure

    configure(trained_workspace)
    model = mlflow.pyfunc.load_model("models:/attrition@champion").unwrap_python_model().model
    assert model.feature_service_ == ATTRITION_SERVICE
    assert model.feature_columns_ == feature_columns(model.feature_service_)


def test_course_ranker_inputs_are_columns_of_its_services():
    from models.course_ranker.model import EXPLAIN_COLUMNS, INPUT_COLUMNS

    served = set(feature_columns(COURSE_RANKER_SERVICE))
    assert set(INPUT_COLUMNS) <= served, sorted(set(INPUT_COLUMNS) - served)
    context = set(feature_columns(COURSE_RANKER_CONTEXT_SERVICE)) | set(service_entity_keys(COURSE_RANKER_SERVICE))
    assert set(EXPLAIN_COLUMNS) <= served | context, sorted(set(EXPLAIN_COLUMNS) - served - context)


def test_the_course_ranker_keeps_the_service_its_job_passes():
    import training_jobs.course_ranker
    from models.course_ranker import CourseRanker

    assert training_jobs.course_ranker.SERVICE == COURSE_RANKER_SERVICE
    data = make_frame(n_employees=30, n_origins=2, seed=2)
    assert CourseRanker(n_estimators=5, n_jobs=1).fit(data).feature_service_ == COURSE_RANKER_SERVICE
    other = CourseRanker(n_estimators=5, n_jobs=1, feature_service="course_ranker_v2").fit(data)
    assert other.feature_service_ == "course_ranker_v2"


def test_skill_demand_inputs_are_columns_of_its_service():
    import training_jobs.skill_demand as job
    from models.skill_demand import FEATURE_SERVICE

    assert FEATURE_SERVICE == SKILL_DEMAND_SERVICE
    served = set(feature_columns(SKILL_DEMAND_SERVICE))
    assert {job.TARGET, *job.EXOG} <= served, sorted({job.TARGET, *job.EXOG} - served)
    # static columns: the series keys and the unit's type, joined from the clean org units by the job
    assert set(job.IDS) == set(service_entity_keys(SKILL_DEMAND_SERVICE))
    assert set(job.STATIC) - set(job.IDS) == {"unit_type"}
