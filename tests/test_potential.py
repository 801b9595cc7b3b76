"""High-potential model, talent scores, regrettable attrition, the talent-pool API and CLI, on a small simulated
company long enough for a 12-month label (400 people × 36 months). Real Feast, MLflow, SQLite and app."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.build.talent_pool import ImpactWeights
from features.settings import Settings
from models.potential.impact import impact_of_loss, top_share_in_pool
from models.potential.labels import potential_labels
from tests.factories import ensure_champion

pytest.importorskip("feast")


# ---------------------------------------------------------------------------------------------- pure parts
def test_labels_count_a_promotion_or_a_rating_level_up_within_12_months() -> None:
    ts = pd.Timestamp("2024-03-01", tz="UTC")
    snaps = pd.DataFrame({"employee_id": ["a", "b", "c", "d", "e"], "event_timestamp": [ts] * 5})
    events = pd.DataFrame({"employee_id": ["a", "b"], "event_type": ["promotion", "promotion"],
                           "effective_date": pd.to_datetime(["2024-09-10", "2025-03-05"])})  # b: too late
    reviews = pd.DataFrame({
        "employee_id": ["a", "b", "c", "c", "d", "d", "d"],
        "review_date": pd.to_datetime(["2024-01-20", "2024-01-20", "2024-01-20", "2024-12-20", "2024-01-20",
                                       "2024-06-20", "2025-02-20"]),
        "overall_rating": [3, 3, 3, 4, 4, 5, 3]})  # c rises; d rose then fell back (latest counts); e: no review
    out = potential_labels(snaps, events, reviews, pd.Timestamp("2026-01-01", tz="UTC")).set_index("employee_id")
    assert "e" not in out.index  # no rating before T: nothing to rise from
    assert out.loc["a", "label"] == 1 and out.loc["a", "promoted"] == 1
    assert out.loc["b", "label"] == 0
    assert out.loc["c", "label"] == 1 and out.loc["c", "rating_rise"] == 1
    assert out.loc["d", "label"] == 0
    late = potential_labels(snaps, events, reviews, pd.Timestamp("2025-01-01", tz="UTC"))
    assert late.empty  # the 12 months after T are not all observed


def test_impact_grows_with_performance_pool_and_potential() -> None:
    w = ImpactWeights()
    base = impact_of_loss(pd.Series([100_000.0] * 4), pd.Series([3, 5, 3, 1]), pd.Series([0, 0, 1, 0]),
                          pd.Series([0.0, 0.0, 0.0, 0.0]), w, 0.5)
    assert base[0] == pytest.approx(50_000) and base[1] > base[0] and base[2] > base[1] and base[3] < base[0]
    with_potential = impact_of_loss(pd.Series([100_000.0]), pd.Series([3]), pd.Series([0]), pd.Series([0.8]), w, 0.5)
    assert with_potential[0] == pytest.approx(50_000 * 1.8)
    alerts = pd.DataFrame({"employee_id": [f"e{i}" for i in range(20)], "risk": np.linspace(0.9, 0.3, 20),
                           "expected_loss": np.r_[np.zeros(18), [1e6, 2e6]],
                           "talent_pool_member": np.r_[np.zeros(18, int), [1, 1]]})
    assert top_share_in_pool(alerts, "expected_loss") == 1.0 and top_share_in_pool(alerts, "risk") == 0.0


# ---------------------------------------------------------------------------------------------- end to end
@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict, dict]:
    from features.build import build_features
    from features.ingest import ingest
    from features.simulator import simulate
    from features.store import apply, materialize
    from training_jobs import attrition, potential, score_attrition, score_potential

    root = tmp_path_factory.mktemp("potential")
    simulate(root / "company", employees=400, months=36, seed=3, dirty_rate=0.0)
    settings = Settings(home=root / "home")
    assert ingest(root / "company", settings).ok
    build_features(settings)
    apply(settings)
    materialize(settings)
    attrition.run(settings, model_params={"n_estimators": 120}, n_folds=2)
    ensure_champion(settings, "attrition")  # the gate is tested elsewhere; scoring needs a champion
    score_attrition.run(settings)
    result = potential.run(settings, n_folds=2, model_params={"n_estimators": 300})
    ensure_champion(settings, "potential")
    return settings, result, score_potential.run(settings)


@pytest.fixture(scope="module")
def trained(run) -> Settings:
    return run[0]


def test_training_backtests_against_logistic_and_oracle_and_registers(run) -> None:
    from mlflow import MlflowClient

    trained, result, _ = run
    methods = {r["method"]: r for r in result["summary"]}
    assert set(methods) == {"lightgbm", "logistic", "oracle"}
    assert 0.5 < methods["lightgbm"]["roc_auc"] < 1 and 0 <= methods["lightgbm"]["ece"] < 0.2
    assert methods["oracle"]["roc_auc"] >= methods["lightgbm"]["roc_auc"] - 0.05  # it sees the latent trait too
    assert {"sex", "age_band"} <= set(result["fairness"])
    client = MlflowClient(trained.tracking_uri)
    versions = client.search_model_versions("name = 'potential'")
    assert [str(v.version) for v in versions] == [str(result["version"])]
    assert result["gate"]["action"] in ("promoted", "refused")  # the first version went through the gate
    run = client.get_run(result["run_id"])
    assert "model_roc_auc" in run.data.metrics and "fairness_min_impact_ratio" in run.data.metrics


def test_talent_scores_carry_pool_potential_readiness_and_impact(run) -> None:
    from contextlib import closing

    from features.app_db import connect
    from models.potential import store

    trained, _, scored = run
    assert scored["scored"] > 300 and scored["pool_members"] > 0 and scored["attrition_scored"]
    with closing(connect(trained.app_db)) as con:
        rows, total, month = store.list_scores(con, None, members_only=True, sort="expected_loss", limit=10_000)
    frame = pd.DataFrame(rows)
    assert total == scored["pool_members"] and (frame["talent_pool_member"] == 1).all()
    assert frame["potential"].between(0, 1).all() and frame["impact"].gt(0).all()
    expected = frame["risk"] * frame["impact"]
    assert np.allclose(frame["expected_loss"], expected.round(0), atol=1)
    reasons = frame["detail"].map(lambda d: d["explanation"]["reasons"])
    assert reasons.map(lambda r: set(r) == {"en", "zh"}).all()


def test_api_lists_the_pool_and_one_potential_within_scope(trained: Settings, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from features.app_db import connect
    from features.offline import read_clean
    from serving.app import create_app
    from serving.auth import OrgTree, create_key

    home = tmp_path / "home"
    shutil.copytree(trained.home, home)
    settings = Settings(home=home)
    from features.store import apply

    apply(settings)
    units = read_clean(settings, "org_units")
    tree = OrgTree(units)
    root = units.loc[units["parent_id"].isna(), "org_unit_id"].iloc[0]
    a = sorted(tree.children[root])[0]
    con = connect(settings.app_db)
    try:
        partner = create_key(con, "hr_partner", (a,), "partner").key
        system = create_key(con, "hr_system", (), "system").key
    finally:
        con.close()
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        everyone = client.get("/v1/talent-pool", params={"members_only": "false", "page_size": 500, "lang": "zh"},
                              headers={"Authorization": f"Bearer {system}"})
        assert everyone.status_code == 200, everyone.text
        body = everyone.json()
        assert body["total"] > 300 and body["model"]["name"] == "potential"
        inside = [r for r in body["items"] if r["org_unit_id"] in tree.subtree(a)]
        outside = [r for r in body["items"] if r["org_unit_id"] not in tree.subtree(a)]
        h = {"Authorization": f"Bearer {partner}"}
        mine = client.get("/v1/talent-pool", params={"members_only": "false", "page_size": 500}, headers=h).json()
        assert {r["employee_id"] for r in mine["items"]} == {r["employee_id"] for r in inside}
        one = client.get(f"/v1/employees/{inside[0]['employee_id']}/potential", params={"lang": "zh"}, headers=h)
        assert one.status_code == 200 and 0 <= one.json()["potential"] <= 1
        assert client.get(f"/v1/employees/{outside[0]['employee_id']}/potential", headers=h).status_code == 404
        assert client.get("/v1/talent-pool", params={"org_unit": "OU-NOPE"}, headers=h).status_code == 404
        assert client.get("/v1/talent-pool", params={"sort": "height"}, headers=h).status_code == 422
        alerts = client.get("/v1/talent-pool/alerts", params={"rank": "expected_loss"},
                            headers={"Authorization": f"Bearer {system}"}).json()
        losses = [r["expected_loss"] for r in alerts["items"]]
        assert losses == sorted(losses, reverse=True) and all(r["alert_id"] for r in alerts["items"])
        assert set(alerts["top_decile_pool_share"]) == {"expected_loss", "risk"}
    audit = pd.read_sql("SELECT * FROM audit_log", __import__("sqlite3").connect(settings.app_db))
    assert {"talent-pool", "potential", "talent-pool-alerts"} <= set(audit["endpoint"])


def test_cli_exports_the_pool_as_csv_and_xlsx(run, tmp_path: Path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from talentloop.cli import app
    from talentloop.cli._common import settings as cli_settings

    trained, _, scored = run
    monkeypatch.setenv("TALENTLOOP_HOME", str(trained.home))
    cli_settings.cache_clear()
    runner = CliRunner()
    for name in ("pool.csv", "pool.xlsx"):
        out = tmp_path / name
        result = runner.invoke(app, ["talent-pool", "--out", str(out), "--lang", "zh"])
        assert result.exit_code == 0, result.output
        frame = pd.read_csv(out) if name.endswith(".csv") else pd.read_excel(out)
        assert "核心人才库" in frame.columns and len(frame) == scored["pool_members"]
        text = frame.astype(str).to_string()
        assert not any(bad in text for bad in ("nan", "None", "unknown", "n/a"))
    bad = runner.invoke(app, ["talent-pool", "--out", str(tmp_path / "pool.txt")])
    assert bad.exit_code == 2 and "--out" in bad.output
    cli_settings.cache_clear()


def test_next_job_frame_targets_the_next_jobs_gaps() -> None:
    from features.feature_repo.definitions import employee_course_match_udf
    from models.course_ranker.candidates import CandidateIndex
    from models.potential.readiness import next_job_frame

    courses = pd.DataFrame({
        "course_id": ["C1", "C2", "C3"], "format": ["online", "workshop", "online"], "level": [2, 3, 3],
        "hours": [4.0, 8.0, 2.0], "cost": [0.0, 100.0, 0.0], "mandatory": [False, False, False],
        "course_key": ["C1", "C2", "C3"], "course_skill_ids": [np.array(["S1"]), np.array(["S2"]), np.array(["S9"])],
        "course_target_levels": [np.array([4]), np.array([5]), np.array([3])]}).set_index("course_id")  # as Parquet
    index = CandidateIndex(pd.DataFrame({"course_id": ["C1", "C2", "C3"], "skill_id": ["S1", "S2", "S9"]}))
    peers = pd.DataFrame({"job_id": ["J2"], "course_id": ["C2"], "peers_taken_12m": [5], "peers_completed_total": [9]})
    employee = {"employee_id": "E1", "job_level": 2, "online_share_12m": 0.5, "workshop_share_12m": 0.5,
                "mentoring_share_12m": 0.0}
    frame = next_job_frame(employee, "J2", ["S1", "S2", "S3"], [1.0, 2.0, float("nan")], [4, 5, 4], ["C1"],
                           courses, peers, index, employee_course_match_udf)
    assert frame["course_id"].tolist() == ["C2"]  # C1 done, C3 teaches no next-job gap
    assert frame["gap_match"].iloc[0] == pytest.approx(2.0) and frame["peers_taken_12m"].iloc[0] == 5
    none = next_job_frame(employee, "J2", ["S1"], [0.0], [3], [], courses, peers, index, employee_course_match_udf)
    assert none.empty
