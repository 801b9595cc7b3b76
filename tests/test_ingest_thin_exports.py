"""Thin exports: absent tables and optional columns, fallbacks, derived columns, unknown codes, and the snapshot
calendar of an HR-only feed."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from features.build import build_features
from features.ingest import MappingError, ingest
from features.ingest.mapping import parse_mapping
from features.offline import read_clean
from features.settings import Settings
from talentloop.cli import app
from talentloop.cli.demo import run_step
from tests.factories import company, write_feeds


def _hr_only(t: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {k: t[k] for k in ("org_units", "jobs", "employees", "employment_events")}


def test_a_table_missing_from_a_delivered_feed_is_not_delivered_with_a_warning(tmp_path):
    t = company()
    del t["headcount_plans"], t["enrollments"]
    settings = Settings(home=tmp_path / "home")
    report = ingest(write_feeds(tmp_path / "in", t), settings)
    assert report.ok, report.failed_feeds
    assert set(report.missing_tables) == {"headcount_plans", "enrollments"}
    assert "hr/headcount_plans.<csv|parquet|xlsx> is not in the delivered feed" in report.missing_tables[
        "headcount_plans"]
    assert "headcount_plans" not in report.tables and report.tables["courses"].accepted > 0
    assert read_clean(settings, "enrollments").empty
    # a later delivery of the table is ingested; delivering without it again keeps that clean state
    ingest(write_feeds(tmp_path / "in2", company()), settings)
    kept = len(read_clean(settings, "enrollments"))
    assert kept > 0
    ingest(write_feeds(tmp_path / "in3", t), settings)
    assert len(read_clean(settings, "enrollments")) == kept


def test_chinese_names_fall_back_to_english_and_optional_columns_may_be_absent(tmp_path):
    t = company()
    t["org_units"] = t["org_units"].drop(columns=["name_zh"])
    t["jobs"] = t["jobs"].drop(columns=["title_zh", "level", "pay_band_min", "pay_band_mid", "pay_band_max"])
    t["skills"].loc[0, "name_zh"] = ""
    t["reviews"] = t["reviews"].drop(columns=["kpi_attainment", "cycle_id"])
    t["competency_ratings"] = t["competency_ratings"].drop(columns=["cycle_id"])
    settings = Settings(home=tmp_path / "home")
    report = ingest(write_feeds(tmp_path / "in", t), settings)
    assert report.ok, report.failed_feeds
    assert all(r.quarantined == 0 for r in report.tables.values()), {n: r.reasons for n, r in report.tables.items()}
    units = read_clean(settings, "org_units")
    assert (units["name_zh"] == units["name_en"]).all()
    jobs = read_clean(settings, "jobs")
    assert (jobs["title_zh"] == jobs["title_en"]).all() and jobs["pay_band_mid"].isna().all()
    assert read_clean(settings, "skills").set_index("skill_id").loc["S1", "name_zh"] == "Selling"
    reviews = read_clean(settings, "reviews")
    assert (reviews["cycle_id"] == reviews["review_date"].dt.strftime("%Y-%m-%d")).all()
    assert reviews["kpi_attainment"].isna().all()
    assert report.tables["reviews"].missing_optional_columns == ["cycle_id", "kpi_attainment"]
    rows = build_features(settings)
    assert rows["employee_monthly"] > 0


def test_derived_columns_and_unknown_codes(tmp_path):
    t = _hr_only(company())
    emp = t["employees"]
    emp["date_of_birth"] = ["1980-05-02", "14.11.1990", "", "1988-01-31", "not a date", "1997-07-07"]
    emp["grade"] = ["A", "B", "A", "Z", "B", "A"]
    emp = emp.drop(columns=["birth_year", "nationality"])
    emp["marital_status"] = ["Married", "Separated", "Domestic partnership", "", "single", "Single"]
    t["employees"] = emp
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        'date_formats: ["%Y-%m-%d", "%d.%m.%Y"]\n'
        "tables:\n  employees:\n"
        "    derive:\n      birth_year: {from: date_of_birth, part: year}\n"
        "      nationality: {from: grade, lookup: {A: CN, B: SG}}\n"
        "    values:\n      marital_status: {Separated: divorced}\n"
        "    unknown_values:\n      marital_status: undisclosed\n", encoding="utf-8")
    settings = Settings(home=tmp_path / "home")
    report = ingest(write_feeds(tmp_path / "in", t), settings, mapping=mapping)
    assert report.ok and report.tables["employees"].quarantined == 0
    assert report.tables["employees"].derived_columns == ["birth_year", "nationality"]
    assert report.tables["employees"].unknown_codes == {"marital_status": 1}
    assert "date_of_birth" not in report.tables["employees"].extra_columns
    got = read_clean(settings, "employees").set_index("employee_id").sort_index()
    assert got["birth_year"].tolist() == [1980, 1990, pd.NA, 1988, pd.NA, 1997]
    assert got["nationality"].tolist() == ["CN", "SG", "CN", pd.NA, "SG", "CN"]
    assert got["marital_status"].tolist() == ["married", "divorced", "undisclosed", pd.NA, "single", "single"]


@pytest.mark.parametrize(("text", "names"), [
    ("tables:\n  employees:\n    derive: {age: {from: dob, part: year}}\n", "tables.employees.derive.age"),
    ("tables:\n  employees:\n    derive: {birth_year: {from: dob}}\n", "exactly one of 'part' or 'lookup'"),
    ("tables:\n  employees:\n    derive: {birth_year: {from: dob, part: month}}\n", "birth_year.part"),
    ("tables:\n  employees:\n    columns: {yob: birth_year}\n    derive: {birth_year: {from: dob, part: year}}\n",
     "also mapped from an export column"),
    ("tables:\n  employees:\n    unknown_values: {marital_status: separated}\n",
     "tables.employees.unknown_values.marital_status: 'separated' is not one of"),
    ("tables:\n  employees:\n    unknown_values: {ethnicity: other}\n", "the column has no list of codes"),
])
def test_bad_derive_or_unknown_values_is_an_error_naming_the_key(text, names):
    with pytest.raises(MappingError, match="mapping m.yaml") as e:
        parse_mapping(text, "m.yaml")
    assert names in str(e.value)


def test_a_derive_source_missing_from_the_file_fails_the_feed_naming_the_column(tmp_path):
    mapping = tmp_path / "m.yaml"
    mapping.write_text("tables:\n  employees:\n    derive: {birth_year: {from: date_of_birth, part: year}}\n",
                       encoding="utf-8")
    t = _hr_only(company())
    t["employees"] = t["employees"].drop(columns=["birth_year"])
    report = ingest(write_feeds(tmp_path / "in", t), Settings(home=tmp_path / "home"), mapping=mapping)
    assert set(report.failed_feeds) == {"hr"} and "'date_of_birth'" in report.failed_feeds["hr"]


def test_an_hr_only_feed_builds_features_from_the_first_recorded_exit(tmp_path, home, capsys):
    t = _hr_only(company())
    capsys.readouterr()
    run_step(app, ["ingest", str(write_feeds(tmp_path / "in", t)), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["not_delivered"] == ["performance", "learning", "recruiting"]
    assert set(report["missing_tables"]) == {"job_skill_requirements", "headcount_plans"}
    run_step(app, ["features", "build"])
    settings = Settings(home=home)
    months = pd.read_parquet(settings.feature_dir / "employee_monthly.parquet")["event_timestamp"]
    ev = t["employment_events"]
    first_exit = pd.Timestamp(ev.loc[ev["event_type"] == "termination", "effective_date"].min())
    assert months.min().tz_convert(None) == first_exit.to_period("M").to_timestamp()
    last = pd.Timestamp(ev["effective_date"].max()).to_period("M").to_timestamp() + pd.DateOffset(months=1)
    assert months.max().tz_convert(None) == last
