"""The fitted CourseRanker survives the MLflow pyfunc round trip (temporary tracking store)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_course_ranker import make_frame


def test_pyfunc_round_trip(tmp_path):
    mlflow = pytest.importorskip("mlflow")
    from features.settings import Settings
    from models.course_ranker import CourseRanker
    from training_jobs.course_ranker import input_example
    from training_jobs.tracking import CHAMPION, experiment, log_and_register

    data = make_frame(n_employees=40, n_origins=2, seed=3)
    model = CourseRanker(n_estimators=20, n_jobs=1).fit(data)
    example = input_example(data, model)
    settings = Settings(home=tmp_path)
    experiment(settings, "course_ranker")
    with mlflow.start_run():
        version = log_and_register(model, "course_ranker", example)
    loaded = mlflow.pyfunc.load_model(f"models:/course_ranker@{CHAMPION}")
    batch = data.head(30).reset_index(drop=True)
    batch.loc[0, "last_rating"] = np.nan  # a new hire without a review passes the signature
    out = loaded.predict(input_example(batch, model, n=len(batch)))  # numbers as float64, NaN when missing
    np.testing.assert_allclose(out["score"].to_numpy(), model.score(batch), rtol=1e-9)
    inner = loaded.unwrap_python_model().model
    assert version == "1" and inner.feature_service_ == "course_ranker_v1" and inner.columns_ == model.columns_
    assert inner.recommend(batch[batch["employee_id"] == batch["employee_id"].iloc[0]], k=3)["rank"].tolist()
