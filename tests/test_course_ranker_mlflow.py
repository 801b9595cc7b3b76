"""The fitted CourseRanker survives the MLflow pyfunc round trip (temporary tracking store), and its model
card has every section and summarises the fairness audit."""

from __future__ import annotations

import numpy as np
import pytest

from tests.factories import make_frame


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


def test_model_card_has_every_section_and_summarises_the_audit():
    import pandas as pd

    from evaluation.fairness_audit import audit_recommendations
    from evaluation.model_card import SECTIONS
    from models.course_ranker import CourseRanker
    from training_jobs.course_ranker import METHODS, fairness_audit, model_card

    data = make_frame(n_employees=80, n_origins=2, seed=5)
    model = CourseRanker(n_estimators=10, n_jobs=1).fit(data)
    at = data["event_timestamp"].max()
    scored = data[data["event_timestamp"] == at].assign(model=lambda d: model.score(d)).reset_index(drop=True)
    ids = scored["employee_id"].drop_duplicates().sort_values().tolist()
    # women for even ids, men for odd ids; birth years either side of 40
    employees = pd.DataFrame({"employee_id": ids, "sex": ["female", "male"] * (len(ids) // 2),
                              "birth_year": [1970, 1970, 1995, 1995] * (len(ids) // 4)})
    courses = scored[["course_id", "format"]].drop_duplicates("course_id")
    audit = fairness_audit(scored, employees, courses, model, at, k=3)
    assert audit == audit_recommendations(scored[["employee_id", "course_id", "model"]], employees, courses, 3, at,
                                          features=scored[["employee_id", *model.input_columns_]], score_col="model")
    metrics = {f"{m}_{n}@3": 0.5 for m in METHODS for n in ("ndcg", "recall", "recall_improved", "coverage",
                                                             "diversity")}
    metrics.update(eval_queries=80.0, eval_rows=float(len(scored)), final_rows=float(len(data)))
    first = pd.Timestamp("2024-01-01")
    card = model_card(model, metrics, audit, first, at, first, window=3, outcome=6, k=3, has_oracle=False)
    for section in SECTIONS:
        assert f"## {section}\n" in card
    assert "Not recorded" not in card and "Enrollment bias" in card and "| popularity |" in card
    assert "not calibrated probabilities" in card
    fairness = card.split("## Fairness audit\n")[1].split("\n## ")[0]
    assert ("**passed**" if audit["passed"] else "**FAILED**") in fairness
    assert "Lowest impact ratio among gated groups" in fairness and "fairness/audit.md" in fairness
    assert "No true outcomes" in fairness and "Possible proxies" in fairness
