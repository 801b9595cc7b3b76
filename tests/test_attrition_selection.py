"""`talentloop train attrition` on small simulated companies: honest model selection, the baseline gate on the
first version, fewer folds with a warning, "not enough alerts to audit", and the leakage check refusing a leaky
export by name until --allow-leaky-feature. Real Feast, MLflow and the CLI; 300 people × 24 months, seed 11."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from features.settings import Settings
from tests.conftest import private_copy


def _cli(settings, *args: str):
    from talentloop.cli import app
    from talentloop.cli._common import settings as cached

    cached.cache_clear()
    try:
        return CliRunner().invoke(app, list(args), env={"TALENTLOOP_HOME": str(settings.home)})
    finally:
        cached.cache_clear()


def _card(settings, version: str) -> str:
    from training_jobs.promotion import model_card

    return model_card(settings, "attrition", version)


def test_a_small_company_trains_from_the_cli_registers_the_best_candidate_and_scores(feature_workspace, tmp_path):
    from contextlib import closing

    from evaluation.model_selection import SIMPLEST_FIRST, TIE
    from features.app_db import connect
    from models.attrition.alerts import list_alerts
    from models.attrition.simple import LogisticAttritionModel
    from training_jobs.score_attrition import load_champion

    settings = private_copy(feature_workspace, tmp_path / "ws")
    result = _cli(settings, "train", "attrition", "--folds", "9", "--json")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    out = json.loads(result.stdout)
    # the registered model is the best candidate at h=3 on the shared folds (a simpler one within the tie)
    h3 = {r["method"]: r["roc_auc"] for r in out["summary"] if r["horizon"] == 3}
    best = max(h3[m] for m in SIMPLEST_FIRST)
    assert out["chosen"] == next(m for m in SIMPLEST_FIRST if h3[m] >= best - TIE)
    assert h3["model"] == h3[out["chosen"]] and out["champion"] == out["version"] == "1"
    # on this company (seed 11) logistic regression is the best or within the tie of the best (simpler than
    # LightGBM): it is what gets registered and served
    assert h3["logistic"] >= max(h3["lightgbm"], h3["tenure_km"]) - TIE and out["chosen"] == "logistic"
    model, _ = load_champion(settings)
    assert isinstance(model, LogisticAttritionModel)
    # 24 months cannot hold 9 folds: fewer, with a warning naming the option
    assert 1 <= out["folds"] < 9
    assert any(f"only {out['folds']} of the 9 requested backtest folds" in n and "--folds" in n for n in out["notes"])
    card = _card(settings, "1")
    assert "**Chosen model: regularised logistic regression.**" in card
    assert "| candidate | ROC-AUC at h=3 | folds | chosen |" in card and "coef × (x − training mean)" in card

    scored = _cli(settings, "score", "attrition", "--json")  # batch scoring, alerts, explanations, levers
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.stdout)["alerts"] > 0
    with closing(connect(settings.app_db)) as con:
        alerts, _ = list_alerts(con, page_size=5)
    assert alerts and all(a.explanation.reasons["zh"] and a.explained.levers is not None for a in alerts)


def test_a_first_version_worse_than_its_baseline_is_not_champion(feature_workspace, tmp_path):
    from models.attrition import AttritionModel
    from training_jobs import attrition

    settings = private_copy(feature_workspace, tmp_path / "ws")
    weak = {"n_estimators": 1, "learning_rate": 0.001}  # one stump: far below logistic regression
    pinned = attrition.run(settings, n_folds=2, model_class=AttritionModel, model_params=weak, min_risk=0.99)
    assert pinned["chosen"] == "lightgbm" and not pinned["baseline_gate"]["passed"]
    assert pinned["champion"] is None and pinned["version"] == "1"  # registered as challenger only
    assert "worse beyond the tolerance" in pinned["baseline_gate"]["reason"]
    # nobody is alerted at 0.99: the audit says so instead of failing the run
    assert any(n.startswith("not enough alerts to audit") for n in pinned["notes"])
    card = _card_of(settings, "1")
    assert "not enough alerts to audit" in card.split("## Fairness audit", 1)[1]
    assert "≥ 0.990" in card
    scored = _cli(settings, "score", "attrition")
    assert scored.exit_code == 2 and "attrition has no champion to score with" in " ".join(scored.output.split())


def _card_of(settings, version: str) -> str:
    import mlflow

    from training_jobs.tracking import configure

    run_id = configure(settings).get_model_version("attrition", version).run_id
    return mlflow.artifacts.load_text(f"runs:/{run_id}/model_card.md")


@pytest.fixture(scope="module")
def leaky_workspace(tmp_path_factory, sim_feeds):
    """The small company's export with a documented leak: performance reviews kept only for voluntary leavers."""
    from features.build import build_features
    from features.ingest import ingest
    from features.store import apply, materialize

    root = tmp_path_factory.mktemp("leaky")
    feeds = root / "feeds"
    shutil.copytree(sim_feeds, feeds, ignore=shutil.ignore_patterns("_truth"))
    events = pd.read_csv(feeds / "hr" / "employment_events.csv", dtype=str)
    left = set(events.loc[(events["event_type"] == "termination") & (events["termination_type"] == "voluntary"),
                          "employee_id"])
    reviews = pd.read_csv(feeds / "performance" / "reviews.csv", dtype=str, keep_default_na=False)
    reviews[reviews["employee_id"].isin(left)].to_csv(feeds / "performance" / "reviews.csv", index=False)
    settings = Settings(home=root / "home")
    assert ingest(feeds, settings).ok
    build_features(settings)
    apply(settings)
    materialize(settings)
    return settings


def test_a_leaky_export_is_refused_by_name_and_accepted_when_allowed(leaky_workspace):
    refused = _cli(leaky_workspace, "train", "attrition", "--folds", "1")
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    text = " ".join(refused.output.split())
    assert "the leakage check flagged" in text and "last_rating" in text and "Nothing was registered" in text
    named = sorted({part.split()[0] for part in text.split("--allow-leaky-feature ")[1:]})
    assert "last_rating" in named

    allowed = _cli(leaky_workspace, "train", "attrition", "--folds", "1", "--json",
                   *[a for name in named for a in ("--allow-leaky-feature", name)])
    assert allowed.exit_code == 0, allowed.output
    out = json.loads(allowed.stdout)
    assert sorted({f["name"] for f in out["leakage"]}) == named
    card = _card(leaky_workspace, out["version"])
    assert "Leakage check before training flagged" in card and "`last_rating`" in card
    assert "registered anyway with --allow-leaky-feature" in card


def test_bad_options_fail_in_one_line():
    from talentloop.cli import app

    for args, message in ((["--folds", "0"], "--folds must be at least 1"),
                          (["--calibration-months", "0"], "--calibration-months must be at least 1"),
                          (["--min-risk", "1.5"], "--min-risk must be a probability")):
        result = CliRunner().invoke(app, ["train", "attrition", *args])
        assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_an_audit_with_no_alert_says_so_and_does_not_fail():
    from evaluation.fairness_audit import audit_attrition, render_markdown

    employees = pd.DataFrame({"employee_id": [f"E{i}" for i in range(60)], "sex": ["female", "male"] * 30,
                              "birth_year": [1980 + i % 20 for i in range(60)]})
    scored = pd.DataFrame({"employee_id": employees["employee_id"], "risk": np.linspace(0.01, 0.2, 60),
                           "label": [0, 1] * 30, "event_timestamp": pd.Timestamp("2025-01-01", tz="UTC")})
    audit = audit_attrition(scored, employees, min_risk=0.5)
    assert audit["passed"] and audit["selected"] == 0 and audit["attributes"] == {}
    assert audit["note"].startswith("not enough alerts to audit: no one is alerted at min_risk 0.5000")
    assert "Not enough alerts to audit" in render_markdown(audit)
    assert audit_attrition(scored, employees, min_risk=0.1)["attributes"]  # alerts: the families are audited
