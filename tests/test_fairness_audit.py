"""Fairness audit of attrition alerts: the four-fifths gate on hand-made frames, age bands, proxies, and
the audit of the trained champion on the shared simulated company."""

import json

import numpy as np
import pandas as pd
import pytest

from evaluation.fairness_audit import (
    MISSING,
    OVER,
    UNDER,
    audit_attrition,
    proxy_check,
    render_markdown,
)

MIN_RISK = 0.5


def _company(rate_b_outcome: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A: 100 women, 50 alerted; B: 100 men, 30 alerted; C: 3 'other' (1.5%), none alerted.

    True outcome rate 0.5 in A, ``rate_b_outcome`` in B, 0 in C; everyone born 1980.
    """
    rows = []

    def add(sex: str, n: int, alerted: int, left: int) -> None:
        for i in range(n):
            # alerted rows score 0.9, the others 0.1; the first ``left`` rows left
            rows.append({"sex": sex, "risk": 0.9 if i < alerted else 0.1, "label": int(i < left)})

    add("female", 100, 50, 50)
    add("male", 100, 30, round(100 * rate_b_outcome))
    add("other", 3, 0, 0)
    df = pd.DataFrame(rows)
    df["employee_id"] = [f"E{i:03d}" for i in range(len(df))]
    employees = df[["employee_id", "sex"]].assign(birth_year=1980)
    return df[["employee_id", "risk", "label"]], employees


def _group(audit: dict, family: str, **group) -> dict:
    found = [g for g in audit["attributes"][family]["groups"] if g["group"] == group]
    assert len(found) == 1, (family, group)
    return found[0]


def test_unexplained_gap_fails_the_gate():
    scored, employees = _company(rate_b_outcome=0.5)
    audit = audit_attrition(scored, employees, MIN_RISK, as_of=pd.Timestamp("2025-06-01"))
    json.dumps(audit)
    male = _group(audit, "sex", sex="male")
    assert male["selection_rate"] == pytest.approx(0.3)
    assert male["impact_ratio"] == pytest.approx(0.6)
    assert male["outcome_ratio"] == pytest.approx(1.0)
    assert male["status"] == "fail" and male["gated"] is True
    assert _group(audit, "sex", sex="female")["is_reference"] is True
    assert audit["attributes"]["sex"]["failed_groups"] == [{"sex": "male"}]
    assert audit["passed"] is False
    # calibration per group with labels: the alerted half of A are exactly the leavers
    female = _group(audit, "sex", sex="female")
    assert female["mean_predicted"] == pytest.approx(0.5) and female["observed_rate"] == pytest.approx(0.5)
    assert female["roc_auc"] == pytest.approx(1.0)


def test_gap_explained_by_true_outcomes_passes_and_small_groups_never_gate():
    scored, employees = _company(rate_b_outcome=0.3)
    audit = audit_attrition(scored, employees, MIN_RISK, as_of=pd.Timestamp("2025-06-01"))
    male = _group(audit, "sex", sex="male")
    assert male["impact_ratio"] == pytest.approx(0.6) and male["outcome_ratio"] == pytest.approx(0.6)
    assert male["status"] == "explained"
    other = _group(audit, "sex", sex="other")
    assert other["share"] == pytest.approx(3 / 203) and other["impact_ratio"] == 0.0
    assert other["gated"] is False and other["status"] == "not_gated" and other["passed"] is True
    assert other["roc_auc"] is None  # one class only: NaN becomes None
    assert audit["passed"] is True
    assert set(audit["attributes"]) == {"sex", "age_band", "sex_x_age_band"}  # only attributes present
    assert audit["protected_attributes"] == {"birth_year": "age_band", "sex": "sex"}
    # the same selection gap with no labels is unexplained
    unlabelled = audit_attrition(scored, employees, MIN_RISK, outcome_col=None, as_of=pd.Timestamp("2025-06-01"))
    assert unlabelled["labelled"] is False and unlabelled["passed"] is False
    assert _group(unlabelled, "sex", sex="male")["outcome_rate"] is None
    page = render_markdown(audit)
    assert "four-fifths" in page and "explained" in page and "not_gated" in page


def test_age_band_at_as_of_and_intersections():
    n = 40
    employees = pd.DataFrame({
        "employee_id": [f"E{i}" for i in range(n)],
        "birth_year": [1985, 1986, None, 1970] * (n // 4),
        "sex": ["female", "male"] * (n // 2),
    })
    scored = pd.DataFrame({"employee_id": employees["employee_id"], "risk": np.linspace(0.05, 0.95, n)})
    min_risk = float(scored["risk"].iloc[20])  # a risk equal to min_risk is alerted
    audit = audit_attrition(scored, employees, min_risk, as_of=pd.Timestamp("2025-06-01"))
    assert audit["selected"] == 20 and audit["min_risk"] == min_risk
    bands = {g["group"]["age_band"]: g["n"] for g in audit["attributes"]["age_band"]["groups"]}
    assert bands == {OVER: 20, UNDER: 10, MISSING: 10}  # 2025-1985 = 40 is over, 2025-1986 = 39 is under
    inter = audit["attributes"]["sex_x_age_band"]
    assert inter["columns"] == ["sex", "age_band"]
    assert {(g["group"]["sex"], g["group"]["age_band"]) for g in inter["groups"]} == {
        ("female", OVER), ("female", MISSING), ("male", UNDER), ("male", OVER)}
    assert sum(g["n"] for g in inter["groups"]) == n

    # someone scored but absent from employees is kept, in the missing group of every attribute
    extra = pd.concat([scored, pd.DataFrame({"employee_id": ["NEW"], "risk": [0.99]})], ignore_index=True)
    audit = audit_attrition(extra, employees, min_risk, as_of=pd.Timestamp("2025-06-01"))
    assert audit["unmatched_employees"] == 1 and audit["n"] == n + 1
    assert _group(audit, "sex", sex=MISSING)["n"] == 1
    assert _group(audit, "sex_x_age_band", sex=MISSING, age_band=MISSING)["selected"] == 1

    # without as_of, each row is aged at its snapshot time: a year later the 1986 cohort turns 40
    later = scored.assign(event_timestamp=pd.Timestamp("2026-01-01", tz="UTC"))
    audit = audit_attrition(later, employees, 0.5, outcome_col=None)
    bands = {g["group"]["age_band"]: g["n"] for g in audit["attributes"]["age_band"]["groups"]}
    assert bands == {OVER: 30, MISSING: 10} and audit["as_of"] == "2026-01-01"
    with pytest.raises(ValueError, match="as_of"):
        audit_attrition(scored, employees, 0.5)


def test_proxy_check_flags_a_copy_of_sex_not_a_random_feature():
    rng = np.random.default_rng(0)
    n = 600
    employees = pd.DataFrame({
        "employee_id": [f"E{i}" for i in range(n)],
        "sex": rng.choice(["female", "male"], n),
        "birth_year": rng.integers(1960, 2000, n),
        "ethnicity": rng.choice(["a", "b", "c"], n),
    })
    features = pd.DataFrame({
        "employee_id": employees["employee_id"],
        "event_timestamp": pd.Timestamp("2025-06-01", tz="UTC"),
        "sex_copy": (employees["sex"] == "male").astype(float) + rng.normal(0, 0.05, n),
        "random": rng.normal(size=n),
        "family": rng.choice(["sales", "eng", None], n),
    })
    result = proxy_check(features, employees)
    json.dumps(result)
    assert result["features"] == ["sex_copy", "random", "family"]  # keys are not features
    flagged = {(p["feature"], p["attribute"]) for p in result["flagged"]}
    assert flagged == {("sex_copy", "sex")}
    top = result["flagged"][0]
    assert top["cramers_v"] > 0.9 and top["mutual_information"] > 0.5
    assert len(result["pairs"]) == 3 * 3
    assert all(p["cramers_v"] < 0.3 for p in result["pairs"] if p["feature"] != "sex_copy")
    with pytest.raises(ValueError, match="protected"):
        proxy_check(features.assign(sex=employees["sex"]), employees, columns=["sex"])


def test_audit_of_the_champion_on_the_simulated_company(trained_workspace):
    import mlflow

    from features.contract import PROTECTED_ATTRIBUTES
    from features.offline import read_clean
    from features.store import historical_features
    from models.attrition.labels import snapshots
    from training_jobs.attrition import feature_window
    from training_jobs.tracking import configure

    settings = trained_workspace
    configure(settings)  # tracking and registry URI both: other tests in this process move them
    model = mlflow.pyfunc.load_model("models:/attrition@champion").unwrap_python_model().model
    employees = read_clean(settings, "employees")
    month = feature_window(settings)[1]
    snaps = snapshots(employees, read_clean(settings, "employment_events"), month, month + pd.DateOffset(months=1))
    feats = historical_features(settings, snaps, "attrition_v1")
    feats = feats[feats[model.feature_columns_].notna().any(axis=1)].reset_index(drop=True)
    h = model.policy_.horizon
    scored = pd.DataFrame({"employee_id": feats["employee_id"], "event_timestamp": feats["event_timestamp"],
                           "risk": model.predict_risk(feats, (h,))[:, 0]})

    audit = audit_attrition(scored, employees, model.policy_.min_risk, outcome_col=None,
                            features=feats[["employee_id", *model.feature_columns_]])
    present = [a for a in PROTECTED_ATTRIBUTES if a in employees.columns]
    assert set(audit["protected_attributes"]) == set(present) and present
    for family in audit["protected_attributes"].values():
        assert family in audit["attributes"]
    assert audit["n"] == len(scored) and audit["as_of"] == str(month.date())
    assert audit["selected"] == int((scored["risk"] >= model.policy_.min_risk).sum())
    assert set(audit["proxies"]["attributes"]) == set(present)
    assert isinstance(audit["passed"], bool)
    assert json.loads(json.dumps(audit)) == audit
    page = render_markdown(audit)
    assert "four-fifths" in page and "Possible proxies" in page
