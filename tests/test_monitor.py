"""``talentloop monitor`` on a simulated company reorganised in its later months (``simulate(reorg_at=...)``): the
reorganisation moves every team's manager and fades the old drivers of exits, so monitoring must flag feature
drift and falling alert precision, and say so in its exit code, in MLflow, in the champion's tags and in the
model card. Real simulator, Feast, MLflow and application database; the PSI on hand-made frames."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from evaluation import monitoring as mon
from features.settings import Settings

pytestmark = pytest.mark.xdist_group("monitor")
EMPLOYEES, MONTHS, REORG = 700, 24, 14  # 2023-01 .. 2024-12, reorganised in 2024-03


def test_psi_is_zero_for_the_same_population_and_large_for_a_shift():
    rng = np.random.default_rng(0)
    a = pd.Series(rng.normal(0, 1, 5000))
    assert mon.psi(a, pd.Series(rng.normal(0, 1, 5000))) < 0.02
    assert mon.psi(a, pd.Series(rng.normal(1, 1, 5000))) > mon.PSI_RETRAIN
    cats = pd.Series(["a"] * 500 + ["b"] * 500)
    assert mon.psi(cats, pd.Series(["a"] * 900 + ["b"] * 100)) > mon.PSI_RETRAIN


def test_a_calendar_cycle_is_not_drift():
    # months since the last (December) review: 0 every December, 11 every November
    ts = pd.date_range("2022-01-01", "2024-12-01", freq="MS", tz="UTC")
    window = pd.DataFrame({"event_timestamp": np.repeat(ts[:-1], 50), "since": np.repeat(ts[:-1].month % 12, 50)})
    latest = pd.DataFrame({"event_timestamp": [ts[-1]] * 50, "since": [ts[-1].month % 12] * 50})
    assert mon.feature_drift(window, latest, ["since"])["psi"].iloc[0] > mon.PSI_RETRAIN  # against the whole year
    same = mon.seasonal_reference(window, ts[-1])
    assert set(same["event_timestamp"]) == {pd.Timestamp("2023-12-01", tz="UTC")}  # a year before
    assert mon.feature_drift(same, latest, ["since"])["status"].iloc[0] == "stable"


def test_alert_outcomes_count_precision_and_recall_per_month():
    labelled = pd.DataFrame({"as_of": ["2024-01-01"] * 4 + ["2024-02-01"] * 2, "alerted": [1, 1, 0, 0, 1, 0],
                             "label": [1, 0, 1, 0, 0, 1]})
    out = mon.alert_outcomes(labelled).set_index("as_of")
    assert out.loc["2024-01-01", ["alerts", "leavers", "hits"]].tolist() == [2, 2, 1]
    assert out.loc["2024-01-01", "precision"] == 0.5 and out.loc["2024-01-01", "recall"] == 0.5
    assert out.loc["2024-02-01", "precision"] == 0 and mon.pooled(out.reset_index())["precision"] == pytest.approx(1 / 3)


@pytest.fixture(scope="module")
def reorganised(tmp_path_factory) -> Settings:
    from features.build import build_features
    from features.ingest import ingest
    from features.simulator import simulate
    from features.store import apply, materialize
    from training_jobs import attrition, score_attrition
    from training_jobs.promotion import promote

    root = tmp_path_factory.mktemp("reorganised")
    simulate(root / "company", employees=EMPLOYEES, months=MONTHS, seed=3, dirty_rate=0, reorg_at=REORG)
    settings = Settings(home=root / "home")
    assert ingest(root / "company", settings).ok
    build_features(settings)
    apply(settings)
    materialize(settings)
    result = attrition.run(settings, n_folds=2, model_params={"n_estimators": 300})
    if result["champion"] is None:  # the gate is not under test here
        promote(settings, "attrition", result["version"], force=True, reason="test: monitoring", by="test")
    for month in pd.period_range("2023-07", "2024-09", freq="M"):
        score_attrition.run(settings, as_of=str(month))
    return settings


def test_monitoring_flags_drift_after_a_reorganisation(reorganised):
    from typer.testing import CliRunner

    from talentloop.cli import app
    from talentloop.cli._common import settings as cached

    cached.cache_clear()
    try:
        result = CliRunner().invoke(app, ["monitor", "--json"], env={"TALENTLOOP_HOME": str(reorganised.home)})
    finally:
        cached.cache_clear()
    assert result.exit_code == 3, result.output  # needs retraining
    report = json.loads(result.stdout)
    months = pd.DataFrame(report["by_month"])
    assert months["as_of"].tolist() == [str(m.start_time.date()) for m in pd.period_range("2023-07", "2024-09", freq="M")]
    assert report["needs_retraining"] and report["max_psi"] >= mon.PSI_RETRAIN and report["drifted_features"]
    bands = {c["band"]: c for c in report["calibration"]}
    assert sum(c["n"] for c in bands.values()) == int(months["scored"].sum())

    from training_jobs.promotion import model_card
    from training_jobs.tracking import configure

    client = configure(reorganised)
    tags = client.get_model_version("attrition", report["version"]).tags
    assert tags["talentloop.monitor.needs_retraining"] == "True"
    assert float(tags["talentloop.monitor.precision"]) == pytest.approx(report["precision"], abs=1e-4)
    assert client.get_experiment_by_name("monitoring") is not None
    assert "## Monitoring: attrition" in model_card(reorganised, "attrition")


def test_monitoring_flags_falling_precision_after_a_reorganisation(reorganised):
    from training_jobs.monitor import run

    report = run(reorganised, log=False)
    months = pd.DataFrame(report["by_month"])
    before = mon.pooled(months[months["as_of"] < "2024-03-01"])["lift"]
    after = mon.pooled(months[months["as_of"] >= "2024-06-01"])["lift"]
    assert after < 0.7 * before, (before, after)  # precision over base rate: the alerts lost their value
    assert report["precision_falling"]
