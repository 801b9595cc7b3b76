"""Every champion goes through the gate, the first version included, through the real training job, MLflow
(SQLite) and the serving app: a version worse than its strongest baseline is refused even with no champion, an
unfair version is refused, and a version forced past the gate by a named person is visible in ``/v1/models``
and in the risk and alert answers (``model_status``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from models.attrition import AttritionModel
from models.attrition.model import HORIZONS
from tests.conftest import private_copy
from tests.factories import FOLDS, PARAMS, Shuffled

pytestmark = pytest.mark.xdist_group("gate-first")


class TenureBiased(AttritionModel):
    """Alerts only long-serving people: a strong risk boost from ``min_tenure`` months of tenure, a tenth of the
    risk below. Tenure goes with age, so people under 40 are hardly ever alerted (the truth has no such effect)."""

    def __init__(self, min_tenure: float = 36, **params):
        super().__init__(**params)
        self.min_tenure = min_tenure

    def predict_risk(self, df: pd.DataFrame, horizons: tuple[int, ...] = HORIZONS) -> np.ndarray:
        risk = super().predict_risk(df, horizons)
        long = (pd.to_numeric(df["tenure_months"], errors="coerce").fillna(0).to_numpy() >= self.min_tenure)[:, None]
        return np.where(long, 1 - (1 - risk) ** 10, risk / 10)


@pytest.fixture(scope="module")
def ungoverned(tmp_path_factory, feature_workspace):
    from training_jobs.tracking import configure

    settings = private_copy(feature_workspace, tmp_path_factory.mktemp("gate-first"))
    configure(settings)
    return settings


def _aliases(settings) -> dict[str, str]:
    from evaluation.compare import aliases
    from training_jobs.tracking import configure

    return aliases(configure(settings), "attrition")


def test_first_versions_are_refused_forced_and_shown(ungoverned, monkeypatch):
    from training_jobs import attrition, score_attrition
    from training_jobs.promotion import DEPLOYMENTS_EXPERIMENT, FORCED, REFUSED, deployments, promote
    from training_jobs.tracking import configure

    # v1: no ranking skill, worse than its logistic baseline: refused although there is no champion
    weak = attrition.run(ungoverned, model_params=PARAMS, n_folds=FOLDS, model_class=Shuffled)
    assert weak["version"] == "1" and weak["gate"]["action"] == REFUSED
    assert not weak["gate"]["gate"]["baseline_passed"], weak["gate"]["gate"]["reasons"]
    assert "champion" not in _aliases(ungoverned) and weak["champion"] is None
    assert configure(ungoverned).get_experiment_by_name(DEPLOYMENTS_EXPERIMENT) is not None  # from the first run
    log = deployments(ungoverned, "attrition")
    assert [(e["seq"], e["action"], e["candidate"]) for e in log] == [(1, REFUSED, "1")]

    # v2: alerts go to long tenure, which goes with age: its fairness audit fails, so the gate refuses it
    biased = attrition.run(ungoverned, model_params={**PARAMS, "min_tenure": 36}, n_folds=FOLDS,
                           model_class=TenureBiased)
    assert biased["gate"]["action"] == REFUSED and biased["gate"]["gate"]["fairness_status"] == "failed"
    assert "champion" not in _aliases(ungoverned)

    # a named person forces it, with a reason; the log keeps who and why
    forced = promote(ungoverned, "attrition", "2", force=True, reason="test: audit under review", by="Ana Li")
    assert forced["action"] == FORCED and _aliases(ungoverned)["champion"] == "2"
    last = deployments(ungoverned, "attrition")[-1]
    assert (last["by"], last["action"], last["reason"], last["gate_passed"]) == (
        "Ana Li", FORCED, "test: audit under review", False)
    score_attrition.run(ungoverned)

    from features.app_db import connect
    from serving.app import create_app
    from serving.auth import create_key

    con = connect(ungoverned.app_db)
    key = create_key(con, "admin", (), "gate-test").key
    con.close()
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(create_app(ungoverned), raise_server_exceptions=False) as client:
        models = {m["name"]: m for m in client.get("/v1/models", headers=headers).json()["models"]}
        att = models["attrition"]
        assert (att["version"], att["gate"], att["fairness"]) == ("2", "forced", "failed")
        assert att["fairness_audit_date"] and att["min_impact_ratio"] < 0.8 and att["gate_by"] == "Ana Li"
        status = att["model_status"]
        assert status["failed_checks"][-1] == "fairness" and status["reason"] == "test: audit under review"
        assert "Ana Li" in status["note"] and "fairness audit" in status["note"]

        alerts = client.get("/v1/attrition-alerts", params={"page_size": 5, "lang": "zh"}, headers=headers).json()
        assert alerts["items"] and all(a["model_status"]["status"] == "forced" for a in alerts["items"])
        assert "公平性审计" in alerts["items"][0]["model_status"]["note"]
        employee = alerts["items"][0]["employee_id"]
        risk = client.get(f"/v1/employees/{employee}/attrition-risk", headers=headers).json()
        assert risk["model_status"]["forced_by"] == "Ana Li"
