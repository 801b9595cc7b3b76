"""Fairness audits of attrition alerts and course recommendations: the four-fifths gate on hand-made
frames, the minimum group size, age bands, proxies, the Markdown page, and the audit of the trained
champion on the shared simulated company."""

import json

import numpy as np
import pandas as pd
import pytest

from evaluation.fairness_audit import (
    MISSING,
    OVER,
    UNDER,
    audit_attrition,
    audit_potential,
    audit_recommendations,
    gated_results,
    min_impact_ratio,
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
    assert audit["passed"] is False and audit["subject"] == "attrition alerts"
    assert min_impact_ratio(audit) == pytest.approx(0.6)
    assert {where for where, _ in gated_results(audit)} == {"sex", "age_band", "sex_x_age_band"}
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
    assert other["gated"] is False and other["status"] == "too_small" and other["passed"] is True
    assert other["roc_auc"] is None  # one class only: NaN becomes None
    assert audit["passed"] is True
    assert set(audit["attributes"]) == {"sex", "age_band", "sex_x_age_band"}  # only attributes present
    assert audit["protected_attributes"] == {"birth_year": "age_band", "sex": "sex"}
    # the same selection gap with no labels is unexplained
    unlabelled = audit_attrition(scored, employees, MIN_RISK, outcome_col=None, as_of=pd.Timestamp("2025-06-01"))
    assert unlabelled["labelled"] is False and unlabelled["passed"] is False
    assert _group(unlabelled, "sex", sex="male")["outcome_rate"] is None
    page = render_markdown(audit)
    assert "four-fifths" in page and "explained" in page and "too small to judge" in page


def test_a_small_group_is_neither_gated_nor_the_reference():
    scored, employees = _company(rate_b_outcome=0.5)
    # 12 people of a third sex, all alerted: 5.6% of the rows but fewer than 30 people
    extra = pd.DataFrame({"employee_id": [f"X{i}" for i in range(12)], "risk": 0.9, "label": 1})
    scored = pd.concat([scored, extra], ignore_index=True)
    employees = pd.concat([employees, extra[["employee_id"]].assign(sex="x", birth_year=1980)], ignore_index=True)
    audit = audit_attrition(scored, employees, MIN_RISK, as_of=pd.Timestamp("2025-06-01"))
    x = _group(audit, "sex", sex="x")
    assert x["share"] > 0.02 and x["gated"] is False and x["is_reference"] is False
    assert _group(audit, "sex", sex="female")["is_reference"] is True
    assert audit["rule"]["min_group_size"] == 30 and "at least 30 people" in audit["rule"]["text"]


def test_potential_audit_reports_small_nationalities_as_too_small_and_names_sex_and_age_band():
    # 1,000 people, 10% marked high potential: CN 900 at 9.6%; SG 60 at 20% (12 marked), FR 40 at 5% (2 marked)
    rng = np.random.default_rng(3)
    nat = np.array(["CN"] * 900 + ["SG"] * 60 + ["FR"] * 40)
    marked = np.concatenate([np.arange(900) < 86, np.arange(60) < 12, np.arange(40) < 2])
    ids = [f"E{i:04d}" for i in range(len(nat))]
    employees = pd.DataFrame({"employee_id": ids, "nationality": nat, "sex": rng.permutation(["female", "male"] * 500),
                              "birth_year": rng.permutation([1975, 1995] * 500)})
    scored = pd.DataFrame({"employee_id": ids, "risk": np.where(marked, 0.8, 0.2),
                           "event_timestamp": pd.Timestamp("2025-06-01", tz="UTC")})
    audit = audit_potential(scored, employees, 0.7, outcome_col=None)
    sg, fr = _group(audit, "nationality", nationality="SG"), _group(audit, "nationality", nationality="FR")
    # six and four expected marks at the overall 10%: too small to judge, with their counts, never the reference
    assert (sg["status"], sg["n"], sg["selected"], sg["is_reference"]) == ("too_small", 60, 12, False)
    assert (fr["status"], fr["n"], fr["selected"]) == ("too_small", 40, 2)
    assert _group(audit, "nationality", nationality="CN")["is_reference"] is True
    assert audit["attributes"]["nationality"]["passed"] is True and audit["rule"]["min_expected_selected"] == 10
    assert set(audit["attributes"]) == {"nationality", "sex", "age_band", "sex_x_age_band"}  # every attribute run
    page = render_markdown(audit)
    summary = page.split("## The rule")[0]
    assert summary.index("- **sex**: passed") < summary.index("- **age_band**: passed") < summary.index("nationality")
    assert "too small to judge: France (40 people, 2 marked), Singapore (60 people, 12 marked)" in summary
    # a large group that falls short is still failed: CN marked at half the rate of a large KR group
    nat2 = np.array(["CN"] * 500 + ["KR"] * 500)
    scored2 = scored.assign(risk=np.where(np.concatenate([np.arange(500) < 40, np.arange(500) < 80]), 0.8, 0.2))
    audit2 = audit_potential(scored2, employees.assign(nationality=nat2), 0.7, outcome_col=None)
    assert _group(audit2, "nationality", nationality="CN")["status"] == "fail" and audit2["passed"] is False


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
    # no group reaches 30 people: reported, not gated, and the audit cannot fail on them
    assert all(g["status"] == "too_small" for g in audit["attributes"]["age_band"]["groups"])
    assert "too small to judge" in audit["attributes"]["age_band"]["note"] and audit["passed"] is True
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


# ------------------------------------------------------------------------------- course recommendations
AS_OF = pd.Timestamp("2025-06-01")
COURSES = pd.DataFrame({"course_id": ["c1", "c2", "c3", "c4"], "format": ["online", "online", "workshop", "mentoring"],
                        "level": [1, 2, 2, 3]})


def _recommended(women_workshop: int, men_workshop: int, others: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """100 women (born 1980) and 100 men (born 1990), every one with candidates c1-c4; the first
    ``women_workshop`` / ``men_workshop`` of each rank the workshop c3 first, the rest the online c1.
    ``others`` people of a third sex (born 1980) all rank the workshop first."""
    people = [("female", 1980, i < women_workshop) for i in range(100)]
    people += [("male", 1990, i < men_workshop) for i in range(100)]
    people += [("x", 1980, True)] * others
    rows, emp = [], []
    for i, (sex, born, workshop) in enumerate(people):
        eid = f"E{i:03d}"
        emp.append({"employee_id": eid, "sex": sex, "birth_year": born})
        first, second = ("c3", "c1") if workshop else ("c1", "c3")
        rows += [(eid, first, 1.0), (eid, second, 0.5), (eid, "c2", 0.4), (eid, "c4", 0.1)]
    return pd.DataFrame(rows, columns=["employee_id", "course_id", "score"]), pd.DataFrame(emp)


def _block(audit: dict, course_type: str, family: str, **group) -> dict:
    found = [g for g in audit["course_types"][course_type]["attributes"][family]["groups"] if g["group"] == group]
    assert len(found) == 1, (course_type, family, group)
    return found[0]


def test_a_biased_recommender_fails():
    recs, employees = _recommended(women_workshop=100, men_workshop=40)
    features = recs[["employee_id"]].merge(employees, on="employee_id").assign(
        workshop_share_12m=lambda d: (d["sex"] == "female").astype(float), hours=recs["score"])
    audit = audit_recommendations(recs, employees, COURSES, k=1, as_of=AS_OF,
                                  features=features[["employee_id", "workshop_share_12m", "hours"]])
    json.dumps(audit)
    assert audit["subject"] == "course recommendations" and audit["n"] == 200 and audit["k"] == 1
    assert set(audit["course_types"]) == {"format=online", "format=workshop", "format=mentoring"}
    workshop = audit["course_types"]["format=workshop"]
    assert workshop["selected"] == 140 and workshop["selection_rate"] == pytest.approx(0.7)
    male = _block(audit, "format=workshop", "sex", sex="male")
    assert male["selection_rate"] == pytest.approx(0.4) and male["impact_ratio"] == pytest.approx(0.4)
    assert male["status"] == "fail" and workshop["passed"] is False
    assert _block(audit, "format=workshop", "sex_x_age_band", sex="male", age_band=UNDER)["status"] == "fail"
    assert _block(audit, "format=online", "sex", sex="female")["impact_ratio"] == 0.0
    # nobody is recommended mentoring at k=1: reported, noted, not failed
    mentoring = audit["course_types"]["format=mentoring"]
    assert mentoring["selected"] == 0 and mentoring["passed"] is True
    assert mentoring["attributes"]["sex"]["note"] == "nothing to judge: no one was selected"
    assert audit["passed"] is False and min_impact_ratio(audit) == 0.0
    # here birth year follows sex, so the copy of sex is a proxy of both; the score-like column of neither
    assert {(p["feature"], p["attribute"]) for p in audit["proxies"]["flagged"]} == {
        ("workshop_share_12m", "sex"), ("workshop_share_12m", "birth_year")}
    page = render_markdown(audit)
    assert page.startswith("# Fairness audit: course recommendations")
    assert "## format = workshop: FAILED" in page and "| recommended |" in page and "Possible proxies" in page
    # in the top 2 everyone has an online course and the workshop: no gap left
    assert audit_recommendations(recs, employees, COURSES, k=2, as_of=AS_OF)["passed"] is True


def test_an_unbiased_recommender_passes_and_a_small_group_cannot_set_the_bar():
    # 50% of women and of men get the workshop; 12 people of a third sex all get it (share 5.7%, n < 30)
    recs, employees = _recommended(women_workshop=50, men_workshop=50, others=12)
    audit = audit_recommendations(recs, employees, COURSES, k=1, as_of=AS_OF, type_columns=("format", "level"))
    assert audit["passed"] is True and audit["labelled"] is False
    x = _block(audit, "format=workshop", "sex", sex="x")
    assert x["share"] > 0.02 and x["selection_rate"] == 1.0 and x["gated"] is False and x["status"] == "too_small"
    assert _block(audit, "format=workshop", "sex", sex="female")["impact_ratio"] == pytest.approx(1.0)
    assert {"level=1", "level=2", "level=3"} <= set(audit["course_types"])
    assert audit["course_types"]["level=2"]["selected"] == 100 + 12  # c3 is level 2
    assert "## level = 2: passed" in render_markdown(audit)


def test_a_gap_explained_by_the_outcomes_passes():
    recs, employees = _recommended(women_workshop=100, men_workshop=40)
    # the true gains rank the courses as the model does: the gap mirrors who the workshop helps
    explained = audit_recommendations(recs, employees, COURSES, k=1, as_of=AS_OF,
                                      outcomes=recs.rename(columns={"score": "gain"}))
    male = _block(explained, "format=workshop", "sex", sex="male")
    assert male["outcome_rate"] == pytest.approx(0.4) and male["outcome_ratio"] == pytest.approx(0.4)
    assert male["status"] == "explained"
    assert explained["course_types"]["format=workshop"]["outcome_rate"] == pytest.approx(0.7)
    assert explained["labelled"] is True and explained["passed"] is True
    # gains that favour the workshop for everyone do not explain the gap
    same = recs.assign(gain=np.where(recs["course_id"] == "c3", 1.0, 0.2)).drop(columns="score")
    unexplained = audit_recommendations(recs, employees, COURSES, k=1, as_of=AS_OF, outcomes=same)
    assert _block(unexplained, "format=workshop", "sex", sex="male")["status"] == "fail"
    assert unexplained["passed"] is False
    # the reference for online (men) never has online in their best top 1: no gap can be explained
    online = unexplained["course_types"]["format=online"]["attributes"]["sex"]
    assert online["note"].startswith("no gap can be explained") and online["passed"] is False


def test_audit_recommendations_errors():
    recs, employees = _recommended(women_workshop=50, men_workshop=50)
    with pytest.raises(ValueError, match=r"recs has no column\(s\) \['model'\]"):
        audit_recommendations(recs, employees, COURSES, k=1, as_of=AS_OF, score_col="model")
    with pytest.raises(ValueError, match="courses has no row for 1 course"):
        audit_recommendations(recs, employees, COURSES[COURSES["course_id"] != "c4"], k=1, as_of=AS_OF)
    with pytest.raises(ValueError, match="courses has no column"):
        audit_recommendations(recs, employees, COURSES.drop(columns="format"), k=1, as_of=AS_OF)
    with pytest.raises(ValueError, match="one row per \\(employee_id, course_id\\)"):
        audit_recommendations(pd.concat([recs, recs]), employees, COURSES, k=1, as_of=AS_OF)
    with pytest.raises(ValueError, match="outcomes has no row for 1 employee"):
        gains = recs[recs["employee_id"] != "E000"].rename(columns={"score": "gain"})
        audit_recommendations(recs, employees, COURSES, k=1, as_of=AS_OF, outcomes=gains)
    with pytest.raises(ValueError, match="k must be"):
        audit_recommendations(recs, employees, COURSES, k=0, as_of=AS_OF)
    with pytest.raises(ValueError, match="type_columns"):
        audit_recommendations(recs, employees, COURSES, k=1, as_of=AS_OF, type_columns=())


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
