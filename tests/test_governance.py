"""Data scientists' workflow on the small simulated company: compare, the promotion gate, the deployment log,
model cards and retrain, through the real training job, MLflow (SQLite) and the CLI.

Versions of the attrition model registered once for the module (each a real backtest + fit):
v1 the default model (champion), v2 the same with another seed, v3 a model that boosts the risk of women (as a
model that learned a proxy of sex would; the simulated truth has no sex effect),
v4 a model whose risks are shuffled across employees (no skill).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from models.attrition import AttritionModel
from models.attrition.model import HORIZONS
from tests.conftest import private_copy
from tests.factories import FOLDS, PARAMS, Shuffled, ensure_champion

pytestmark = pytest.mark.xdist_group("governance")  # one worker: the tests share the registry's history

class ProxyBiased(AttritionModel):
    """Five times the hazard-scale risk for the given people: a model that learned sex through a proxy (the
    truth has no sex effect). The people are passed in, not a feature: a job-family proxy alone moved with
    every change to the small company's simulation and sat at the edge of what 300 people can show."""

    def __init__(self, boosted: tuple[str, ...] = (), **params):
        super().__init__(**params)
        self.boosted = tuple(boosted)

    def predict_risk(self, df: pd.DataFrame, horizons: tuple[int, ...] = HORIZONS) -> np.ndarray:
        risk = super().predict_risk(df, horizons)
        if "employee_id" not in df:  # the registry's input example: features only
            return risk
        boosted = df["employee_id"].astype(str).isin(set(self.boosted)).to_numpy()[:, None]
        return np.where(boosted, 1 - (1 - risk) ** 5, risk)


def women(settings) -> tuple[str, ...]:
    from features.offline import read_clean

    people = read_clean(settings, "employees")[["employee_id", "sex"]]
    return tuple(people.loc[people["sex"].eq("female"), "employee_id"].astype(str))


@pytest.fixture(scope="module")
def governed(tmp_path_factory, feature_workspace):
    from training_jobs import attrition
    from training_jobs.tracking import configure

    settings = private_copy(feature_workspace, tmp_path_factory.mktemp("governed"))
    configure(settings)
    runs = {"v1": attrition.run(settings, model_params=PARAMS, n_folds=FOLDS)}
    ensure_champion(settings, "attrition")  # v1 serves (forced when its gate refused it); the rest are challengers
    runs |= {
        "v2": attrition.run(settings, model_params=PARAMS, n_folds=FOLDS, seed=7),
        "v3": attrition.run(settings, model_params={**PARAMS, "boosted": women(settings)},
                            n_folds=FOLDS, model_class=ProxyBiased),
        "v4": attrition.run(settings, model_params=PARAMS, n_folds=FOLDS, model_class=Shuffled),
    }
    assert [r["version"] for r in runs.values()] == ["1", "2", "3", "4"]
    return settings


def _cli(settings, *args: str):
    from talentloop.cli import app
    from talentloop.cli._common import settings as cached

    cached.cache_clear()
    try:
        return CliRunner().invoke(app, list(args), env={"TALENTLOOP_HOME": str(settings.home),
                                                        "TALENTLOOP_USER": "ds@test"})
    finally:
        cached.cache_clear()


def _champion(settings) -> str:
    from evaluation.compare import aliases
    from training_jobs.tracking import configure

    return aliases(configure(settings), "attrition")["champion"]


def test_compare_two_seeds_on_the_same_rows_with_intervals(governed):
    from training_jobs.promotion import compare_versions

    result = compare_versions(governed, "attrition", ["2"], n_boot=200)
    first, second = result["versions"]
    assert (first["version"], second["version"]) == ("1", "2")
    assert "champion" in first["aliases"]
    assert result["common_rows"] > 500 and result["enough_common_data"]
    for row in (first, second):
        ci = row["primary"]
        assert ci["lo"] <= ci["estimate"] <= ci["hi"] and 0.5 < ci["estimate"] < 1
        assert row["fairness"]["passed"] is not None and row["data_window"]["data_end"]
        assert row["training_seconds"] > 0 and row["baselines"]["logistic ROC-AUC"] > 0.5
        assert row["oracle"]["ROC-AUC / oracle"] > 0  # simulated data: the oracle ratio is logged
    diff = second["diff_vs_reference"]
    assert diff["estimate"] == pytest.approx(second["primary"]["estimate"] - first["primary"]["estimate"])
    assert "| 1 |" in result["markdown"] and "| 2 |" in result["markdown"]

    import mlflow

    logged = mlflow.artifacts.load_text(f"runs:/{result['comparison_run_id']}/comparison.md")
    assert logged == result["markdown"]


def test_unfair_model_fails_its_audit_and_the_gate(governed):
    import mlflow

    from training_jobs.tracking import configure

    client = configure(governed)
    run_id = client.get_model_version("attrition", "3").run_id
    audit = json.loads(mlflow.artifacts.load_text(f"runs:/{run_id}/fairness/audit.json"))
    failed = {fam for fam, block in audit["attributes"].items() if not block["passed"]}
    assert not audit["passed"] and failed & {"sex", "sex_x_age_band"}, failed
    checked = {(p["feature"], p["attribute"]) for p in audit["proxies"]["pairs"]}
    assert ("job_family", "sex") in checked  # the proxy is measured (its Cramér's V is in the audit)
    fair_id = client.get_model_version("attrition", "1").run_id
    fair = json.loads(mlflow.artifacts.load_text(f"runs:/{fair_id}/fairness/audit.json"))
    assert fair["passed"], fair["attributes"]  # the same model without the boost passes

    before = _champion(governed)
    result = _cli(governed, "promote", "attrition", "--version", "3")
    assert result.exit_code == 3, result.output
    assert "refused" in result.output and "fairness audit FAILED" in result.output
    assert _champion(governed) == before


def test_gate_refuses_a_worse_model_accepts_a_better_one_and_force_needs_a_reason(governed):
    from training_jobs.promotion import REFUSED, promote

    event = promote(governed, "attrition", "4", n_boot=200)
    assert event["action"] == REFUSED and not event["gate"]["metric_passed"]
    worse = event["gate"]["improvement"]
    assert worse["estimate"] < 0 and worse["lo"] < -0.01, event["gate"]["reasons"]  # worse beyond the tolerance
    assert _champion(governed) == "1"

    with pytest.raises(ValueError, match="--reason"):
        promote(governed, "attrition", "4", force=True)
    forced = promote(governed, "attrition", "4", force=True, reason="test: make the weak model champion")
    assert forced["action"] == "forced" and _champion(governed) == "4"

    better = promote(governed, "attrition", "1", n_boot=200)  # v1 against the shuffled champion
    assert better["gate"]["improvement"]["estimate"] > 0, better["gate"]["reasons"]
    if better["action"] != "promoted":  # 300 people: the interval may not decide (the gate then keeps the champion)
        assert not better["gate"]["metric_passed"] and better["gate"]["improvement"]["lo"] < -0.01
        promote(governed, "attrition", "1", force=True, reason="test: restore the better model")
    assert _champion(governed) == "1"

    with pytest.raises(ValueError, match="already the champion"):
        promote(governed, "attrition", "1")
    with pytest.raises(ValueError, match="no version '99'"):
        promote(governed, "attrition", "99")


def test_deployment_log_is_append_only_and_shown_by_the_cli(governed):
    from training_jobs.promotion import deployments, promote

    before = deployments(governed, "attrition")
    promote(governed, "attrition", "4", by="reviewer")  # refused: logged all the same
    after = deployments(governed, "attrition")
    assert len(after) == len(before) + 1
    assert [{k: v for k, v in e.items()} for e in after[: len(before)]] == before  # history untouched
    assert [e["seq"] for e in after] == list(range(1, len(after) + 1))
    last = after[-1]
    assert (last["by"], last["action"], last["candidate"], last["gate_passed"]) == ("reviewer", "refused", "4", False)
    assert last["from_version"] == last["to_version"] == _champion(governed)

    shown = _cli(governed, "deployments", "attrition", "--json")
    assert shown.exit_code == 0, shown.output
    assert [e["seq"] for e in json.loads(shown.stdout)] == [e["seq"] for e in after]


def test_model_card_has_every_section(governed):
    from evaluation.model_card import SECTIONS

    result = _cli(governed, "model-card", "attrition", "--version", "3")
    assert result.exit_code == 0, result.output
    for section in SECTIONS:
        assert f"## {section}\n" in result.stdout
    assert "_Not recorded" not in result.stdout
    assert "FAILED" in result.stdout.split("## Fairness audit", 1)[1]  # v3's card reports its failed audit
    missing = _cli(governed, "model-card", "attrition", "--version", "99")
    assert missing.exit_code == 2 and "no version" in missing.output


def test_retrain_trains_compares_and_reports_the_outcome_as_an_exit_code(governed, sim_feeds):
    from training_jobs.promotion import deployments

    n_before = len(deployments(governed, "attrition"))
    result = _cli(governed, "retrain", "attrition", "--feeds", str(sim_feeds), "--json")
    assert result.exit_code in (0, 3), result.output
    out = json.loads(result.stdout)
    assert out["steps"]["ingest"]["ok"] and out["steps"]["ingest"]["unchanged"]  # same feeds: nothing new
    assert out["version"] == "5" and out["exit_code"] == result.exit_code
    log = deployments(governed, "attrition")
    assert len(log) == n_before + 1 and log[-1]["candidate"] == "5"
    assert (log[-1]["action"] == "promoted") == (result.exit_code == 0) == (_champion(governed) == "5")

    bad = _cli(governed, "retrain", "attrition", "--feeds", str(governed.home / "no-such-folder"))
    assert bad.exit_code == 2 and "not a folder" in bad.output


def test_a_champion_without_evaluation_units_cannot_be_beaten_only_overridden():
    from evaluation.compare import gate

    row = {"fairness": {"applicable": True, "passed": True, "min_impact_ratio": 0.9}, "diff_vs_reference": None}
    comparison = {"reference_version": "1", "enough_common_data": True, "common_units": 500,
                  "versions": [{**row, "version": "1", "has_units": False}, {**row, "version": "2", "has_units": True}]}
    report = gate(comparison, "2")
    assert not report["passed"] and report["fairness_passed"]
    assert "version(s) 1 logged no evaluation units" in report["reasons"][0]
