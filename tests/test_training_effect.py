"""Training effect: the doubly robust DiD recovers a known effect where the naive comparison is fooled by
regression to the mean; the panels count a completion toward the right pair of reviews; the report job writes
its files, its stored report and its MLflow run and compares with the simulator's truth; the command refuses bad
options in one line; the API serves the stored report scoped like every other endpoint."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from features.settings import Settings
from models.training_effect import estimator, panel
from tests.serving_workspace import auth, problem

# ---------------------------------------------------------------------- the estimator on known data


def _confounded(n: int = 6000, effect: float = 0.5, seed: int = 3) -> pd.DataFrame:
    """Ratings = round(skill + noise); people rated low at t0 are much likelier to take course A (effect
    ``effect``) or course B (no effect): the takers' naive change is inflated by regression to the mean."""
    rng = np.random.default_rng(seed)
    skill = rng.normal(3.0, 0.7, n)
    lag = np.clip(np.round(skill + rng.normal(0, 0.5, n)), 1, 5)
    r0 = np.clip(np.round(skill + rng.normal(0, 0.5, n)), 1, 5)
    p = 1 / (1 + np.exp(-(-2.5 - 1.5 * (r0 - 3))))
    take = rng.random(n) < p
    course = np.where(take, np.where(rng.random(n) < 0.5, "A", "B"), None)
    gain = np.where(course == "A", effect, 0.0)
    r1 = np.clip(np.round(skill + gain + rng.normal(0, 0.5, n)), 1, 5)
    return pd.DataFrame({"employee_id": [f"e{i}" for i in range(n)], "group": "s1", "course_id": course,
                         "value0": r0, "lag": lag, "required_level": 3.0, "overall0": np.nan, "kpi0": np.nan,
                         "tenure_years": 2.0, "job_level": 2.0, "months_between": 3.0, "y": r1 - r0})


def test_doubly_robust_covers_the_true_effect_where_the_naive_difference_does_not():
    frame = _confounded()
    effects = {e.course_id: e for e in estimator.estimate(frame, panel.design(frame), min_takers=30)}
    a, b = effects["A"], effects["B"]
    assert a.ci_low <= 0.5 <= a.ci_high and b.ci_low <= 0.0 <= b.ci_high
    assert a.naive - 0.5 > 2 * a.std_error and b.naive > 2 * b.std_error  # naive: biased upward, beyond noise
    assert a.ci_low > 0.2 and b.ci_high < 0.3  # the intervals tell the two courses apart
    assert a.takers == int((frame["course_id"] == "A").sum()) and a.controls == int(frame["course_id"].isna().sum())


def test_courses_with_too_few_takers_are_left_out():
    frame = _confounded(n=2000)
    got = estimator.estimate(frame, panel.design(frame), min_takers=10_000)
    assert got == []


# ---------------------------------------------------------------------- the panels


def _tables() -> dict[str, pd.DataFrame]:
    d = pd.Timestamp
    ratings = pd.DataFrame({"employee_id": ["e1"] * 3 + ["e2"] * 3 + ["e3"] * 2,
                            "skill_id": ["s"] * 8,
                            "review_date": [d("2024-03-28"), d("2024-06-27"), d("2024-09-26")] * 2
                            + [d("2024-03-28"), d("2024-06-27")],
                            "rating": [2, 3, 3, 3, 3, 4, 2, 4]})
    enr = pd.DataFrame({"employee_id": ["e1", "e2", "e3", "e3"], "course_id": ["c1", "c1", "c1", "c2"],
                        "status": ["completed"] * 4,
                        "completed_at": [d("2024-04-15"), d("2024-06-10"), d("2024-04-02"), d("2024-05-02")]})
    reviews = ratings.drop_duplicates(["employee_id", "review_date"])[["employee_id", "review_date"]].assign(
        overall_rating=3, kpi_attainment=1.0)
    events = pd.DataFrame({"employee_id": ["e1", "e2", "e3"], "effective_date": [d("2020-01-01")] * 3,
                           "org_unit_id": ["u"] * 3, "job_id": ["j"] * 3, "base_pay": [50_000.0] * 3})
    return {"competency_ratings": ratings, "enrollments": enr, "reviews": reviews, "employment_events": events,
            "course_skills": pd.DataFrame({"course_id": ["c1", "c2"], "skill_id": ["s", "s"]}),
            "courses": pd.DataFrame({"course_id": ["c1", "c2"], "mandatory": [False, False]}),
            "jobs": pd.DataFrame({"job_id": ["j"], "level": [2]}),
            "employees": pd.DataFrame({"employee_id": ["e1", "e2", "e3"], "hire_date": [d("2020-01-01")] * 3}),
            "job_skill_requirements": pd.DataFrame({"job_id": ["j"], "skill_id": ["s"], "required_level": [3]})}


def test_a_completion_counts_toward_the_next_review_only_before_that_reviews_month():
    p = panel.skill_panel(_tables()).set_index(["employee_id", "date0"])
    q1, q2 = pd.Timestamp("2024-03-28"), pd.Timestamp("2024-06-27")
    assert p.loc[("e1", q1), "course_id"] == "c1" and p.loc[("e1", q1), "y"] == 1.0
    assert pd.isna(p.loc[("e1", q2), "course_id"])  # a control for the next pair
    # finished in June, the month of the June review: it counts toward June → September, not March → June
    assert pd.isna(p.loc[("e2", q1), "course_id"]) and p.loc[("e2", q2), "course_id"] == "c1"
    assert ("e3", q1) not in p.index  # two courses on the skill in one pair: their effects cannot be told apart
    assert p.loc[("e1", q2), "lag"] == 2.0 and p.loc[("e1", q1), "required_level"] == 3


# ---------------------------------------------------------------------- the job on a small simulated company


@pytest.fixture(scope="module")
def small_report(tmp_path_factory, sim_feeds):
    from features.ingest import ingest
    from training_jobs.training_effect import run

    settings = Settings(home=tmp_path_factory.mktemp("te") / "home")
    assert ingest(sim_feeds, settings).ok
    rep, result = run(settings, min_takers=5)
    return settings, rep, result


def test_the_job_stores_logs_and_compares_with_the_truth(small_report):
    import mlflow

    settings, rep, result = small_report
    assert len(rep.skills) >= 5 and len(rep.courses) >= 1
    assert (rep.skills["takers"] >= 5).all() and (rep.skills["ci_low"] <= rep.skills["effect"]).all()
    measured = rep.skills["ci_low"] > 0
    assert rep.skills.loc[~measured, "cost_per_point"].isna().all()
    stored = json.loads((settings.reports_dir / "training_effect" / "company.json").read_text(encoding="utf-8"))
    assert len(stored["skills"]) == len(rep.skills) and "employee_id" not in stored["skills"][0]
    assert oct((settings.reports_dir / "training_effect" / "company.json").stat().st_mode)[-3:] == "600"
    run = mlflow.MlflowClient(settings.tracking_uri).get_run(result["run_id"])
    assert run.data.metrics["course_skill_pairs"] == len(rep.skills)
    assert "truth_pairs" in run.data.metrics  # the simulator's truth was found next to the feeds
    names = {a.path for a in mlflow.MlflowClient(settings.tracking_uri).list_artifacts(result["run_id"], "plots")}
    assert {"plots/forest.png", "plots/vs_oracle.png"} <= names


def test_the_truth_is_the_takers_rating_change_not_the_raw_parameter(small_report, sim_feeds):
    from evaluation import training_effect_oracle
    from features.offline import read_clean

    settings, rep, _ = small_report
    rows = training_effect_oracle.true_row_effects(rep.takers_rows, sim_feeds / "_truth",
                                                  read_clean(settings, "course_skills"), read_clean(settings, "reviews"))
    assert rows["true_gain"].notna().all()
    assert (rows["true_gain"] <= rows["effect"] + 1e-9).all()  # diminished at the target, capped at 5
    assert (rows["true_gain"] < rows["effect"] - 1e-6).any()
    assert (rows["true_rating_effect"] >= 0).all() and (rows["true_rating_effect"] <= rows["true_gain"] + 0.05).all()


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "html"])
def test_the_report_files_read_in_both_languages(small_report, tmp_path, fmt):
    from training_jobs.training_effect import write

    _, rep, _ = small_report
    for lang, header in (("en", "cost per point of improvement"), ("zh", "每提升一分的成本")):
        paths = write(rep, tmp_path / f"te-{lang}.{fmt}", lang)
        if fmt == "xlsx":
            text = " ".join(pd.read_excel(paths[0], sheet_name=None)[s].columns.str.cat(sep=" ")
                            for s in pd.ExcelFile(paths[0]).sheet_names)
        else:
            text = " ".join(p.read_text(encoding="utf-8-sig") for p in paths)
        assert header in text
        for bad in ("nan", "NaN", "unknown", "n/a"):
            assert f" {bad} " not in f" {text} " and f">{bad}<" not in text and f",{bad}," not in text


# ---------------------------------------------------------------------- the command


@pytest.fixture
def cli(tmp_path, monkeypatch):
    from talentloop.cli import _common, app

    monkeypatch.setenv("TALENTLOOP_HOME", str(tmp_path / "home"))
    _common.settings.cache_clear()
    yield lambda *args: CliRunner().invoke(app, ["report", "training-effect", *map(str, args)])
    _common.settings.cache_clear()


@pytest.mark.parametrize(("args", "option"), [
    (["--out", "report.pdf"], "--out"), (["--lang", "fr"], "--lang"), (["--min-takers", "1"], "--min-takers"),
    ([], "ingest"),  # nothing ingested: says what to do
])
def test_bad_options_get_one_line_naming_them(cli, args, option):
    result = cli(*args)
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and option in lines[0] and "Traceback" not in result.output


# ---------------------------------------------------------------------- the API


def test_the_api_serves_the_stored_report_within_the_callers_scope(workspace, client, keys):
    from training_jobs.training_effect import run

    url = "/v1/training-effect"
    body = problem(client.get(url, headers=auth(keys["hr_system"])), 404)
    assert "talentloop report training-effect" in body["detail"]
    a, b = keys["units"]
    run(workspace.settings, min_takers=5, log=False)
    run(workspace.settings, org_unit=a, min_takers=3, log=False)
    got = client.get(url, params={"lang": "zh"}, headers=auth(keys["hr_system"]))
    assert got.status_code == 200, got.text
    data = got.json()
    assert data["org_unit"] is None and data["skills"]
    assert {r["verdict"] for r in data["skills"]} <= {"提升评分", "降低评分", "未见可测效果"}
    from models.wording.rules import violations

    for lang in ("en", "zh"):
        body = client.get(url, params={"lang": lang}, headers=auth(keys["hr_system"])).json()
        texts = [r[k] for r in body["skills"] for k in ("title", "skill", "verdict")]
        texts += [r[k] for r in body["courses"] for k in ("title", "verdict")]
        assert texts and not [(t, violations(t, lang)) for t in texts if violations(t, lang)]
    course = data["skills"][0]["course_id"]
    one = client.get(url, params={"course_id": course}, headers=auth(keys["data_scientist"])).json()
    assert {r["course_id"] for r in one["skills"] + one["courses"]} == {course}
    assert client.get(url, params={"org_unit": a}, headers=auth(keys["partner_a"])).json()["org_unit"] == a
    problem(client.get(url, headers=auth(keys["partner_a"])), 404)  # the company-wide report: not for a scoped key
    problem(client.get(url, params={"org_unit": b}, headers=auth(keys["partner_a"])), 404)
    problem(client.get(url, params={"org_unit": b}, headers=auth(keys["hr_system"])), 404)  # never made for b
    assert "lang" in problem(client.get(url, params={"lang": "fr"}, headers=auth(keys["hr_system"])), 422)["detail"]
    problem(client.get(url), 401)
    spec = client.get("/v1/openapi.json").json()["paths"][url]["get"]
    assert spec["security"] and "404" in spec["responses"]


def test_coverage_counts_pairs_and_courses_with_enough_takers():
    from evaluation.training_effect_oracle import summary

    frame = pd.DataFrame({
        "course_id": ["a", "a", "b", "c", "d"], "skill_id": ["s1", "s2", "s1", "s1", "s1"],
        "effect": [0.5, 0.2, 0.1, 0.8, 0.3], "ci_low": [0.3, 0.0, -0.1, 0.6, 0.1], "ci_high": [0.7, 0.4, 0.3, 1.0, 0.5],
        "takers": [100, 40, 50, 60, 10], "naive": [0.6, 0.3, 0.2, 0.9, 0.4],
        "true_rating_effect": [0.4, 0.5, 0.0, 0.7, 0.3], "true_gain": [0.4, 0.5, 0.0, 0.7, 0.3],
        "effect_parameter": [0.6, 0.6, 0.0, 1.2, 0.3]})
    got = summary(frame, min_takers=30)  # d has too few takers; a's s2 interval misses its truth
    assert got["pairs"] == 4 and got["courses"] == 3
    assert got["coverage_true_rating_effect"] == 0.75 and got["coverage_per_course"] == 1.0
    assert got["coverage_effect_parameter"] == 0.5
    with pytest.raises(ValueError, match="fewer than 3"):
        summary(frame, min_takers=70)
