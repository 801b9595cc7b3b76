"""The mapping file: renames, value maps, date formats, aliases, encoding, file names, and its errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from features.contract import CONTRACT
from features.ingest import MappingError, ingest
from features.ingest.mapping import load_mapping, parse_mapping
from features.offline import read_clean
from features.settings import Settings
from tests.factories import company, write_feeds

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "mapping.example.yaml"


def _legacy_export(root: Path) -> Path:
    """The tiny company as the example mapping's legacy system would export it (GBK, Chinese headers)."""
    t = company()
    m = load_mapping(EXAMPLE)
    emp = t.pop("employees")
    emp["hire_date"] = pd.to_datetime(emp["hire_date"]).dt.strftime("%Y/%m/%d")
    emp.loc[0, "hire_date"] = "2020年01月06日"
    emp["sex"] = emp["sex"].map({"female": "女", "male": "男", "undisclosed": "未披露"})
    emp["marital_status"] = emp["marital_status"].map({"single": "未婚", "married": "已婚", "": ""})
    ev = t.pop("employment_events")
    ev["effective_date"] = pd.to_datetime(ev["effective_date"]).dt.strftime("%d.%m.%Y")
    ev["event_type"] = ev["event_type"].map({"hire": "入职", "promotion": "晋升", "termination": "离职"})
    ev["termination_type"] = ev["termination_type"].map({"voluntary": "主动", "": ""})
    t["courses"] = t["courses"].rename(columns={"mandatory": "Mandatory"})
    t["courses"]["Mandatory"] = t["courses"]["Mandatory"].map({"true": "Yes", "false": "No"})
    t["course_aliases"] = t["course_aliases"].iloc[0:0]  # 销管 arrives through the mapping's aliases instead
    t["competency_ratings"].loc[1, "skill_id"] = "议价"
    for name, df in t.items():
        folder = root / CONTRACT[name].feed
        folder.mkdir(parents=True, exist_ok=True)
        df.to_csv(folder / f"{name}.csv", index=False, encoding="gbk")
    for name, df in (("employees", emp), ("employment_events", ev)):
        tm = m.for_table(name)
        inverse = {v: k for k, v in tm.columns.items()}
        df.rename(columns=inverse).to_csv(root / "hr" / tm.file, index=False, encoding="gbk")
    return root


def test_example_mapping_turns_a_legacy_export_into_the_contract(tmp_path):
    ref = Settings(home=tmp_path / "ref")
    ingest(write_feeds(tmp_path / "plain", company()), ref)
    legacy = Settings(home=tmp_path / "legacy")
    report = ingest(_legacy_export(tmp_path / "legacy-export"), legacy, mapping=EXAMPLE)
    assert report.ok, report.failed_feeds
    assert report.mapping == str(EXAMPLE)
    assert all(t.quarantined == 0 for t in report.tables.values()), {n: t.reasons for n, t in report.tables.items()}
    for name in CONTRACT:
        if name not in ("course_aliases", "skill_aliases"):
            pd.testing.assert_frame_equal(read_clean(legacy, name), read_clean(ref, name), obj=name)
    aliases = read_clean(legacy, "course_aliases")
    assert dict(zip(aliases["alias"], aliases["course_id"], strict=True)) == {"销管": "C1", "Sales Mgmt": "C1"}
    assert report.tables["course_aliases"].rows_in == 2
    skills = read_clean(legacy, "skill_aliases")
    assert dict(zip(skills["alias"], skills["skill_id"], strict=True)) == {"Sales skill": "S1", "议价": "S2"}
    assert report.tables["employees"].source_file == "hr/员工.csv"


def test_mapping_yaml_in_the_folder_is_used_and_named(tmp_path):
    t = company()
    t["reviews"].loc[[0, 1], "review_date"] = "28/03/2024"  # two of four: row errors, not drift
    src = write_feeds(tmp_path / "in", t)
    settings = Settings(home=tmp_path / "home")
    report = ingest(src, settings)
    assert report.mapping.startswith("none") and report.tables["reviews"].reasons == {"bad_date": 2}
    (src / "mapping.yaml").write_text('date_formats: ["%d/%m/%Y"]\n', encoding="utf-8")
    report = ingest(src, settings)
    assert report.mapping == str(src / "mapping.yaml")
    assert report.tables["reviews"].accepted == 4
    assert (read_clean(settings, "reviews")["review_date"] == pd.Timestamp("2024-03-28")).all()


def test_per_table_values_and_case_folding(tmp_path):
    t = company()
    t["candidates"]["source"] = ["Referral", "网络招聘", "CAMPUS"]
    src = write_feeds(tmp_path / "in", t)
    mapping = tmp_path / "m.yaml"
    mapping.write_text("tables:\n  candidates:\n    values:\n      source: {网络招聘: job_board}\n", encoding="utf-8")
    settings = Settings(home=tmp_path / "home")
    report = ingest(src, settings, mapping=mapping)
    assert report.tables["candidates"].accepted == 3
    assert read_clean(settings, "candidates")["source"].tolist() == ["referral", "job_board", "campus"]


@pytest.mark.parametrize(("text", "names"), [
    ("colour: blue\n", "colour"),
    ("tables:\n  staff: {}\n", "tables.staff"),
    ("tables:\n  employees:\n    columns: {员工编号: staff_no}\n", "tables.employees.columns.员工编号"),
    ("tables:\n  employees:\n    values: {gender: {男: male}}\n", "tables.employees.values.gender"),
    ("tables:\n  employees:\n    file: staff.txt\n", "tables.employees.file"),
    ("tables:\n  employees:\n    colums: {}\n", "tables.employees.colums"),
    ("encoding: klingon\n", "encoding"),
    ("date_formats: []\n", "date_formats"),
    ("aliases:\n  teachers: {}\n", "aliases.teachers"),
    ("date_formats: [unclosed\n", "not valid YAML"),
])
def test_bad_mapping_is_an_error_naming_the_key(text, names):
    with pytest.raises(MappingError, match="mapping m.yaml") as e:
        parse_mapping(text, "m.yaml")
    assert names in str(e.value)


def test_yaml_yes_no_stay_strings():
    m = parse_mapping("tables:\n  courses:\n    values:\n      mandatory: {Yes: 'true', N: false}\n", "m")
    assert m.for_table("courses").values["mandatory"] == {"Yes": "true", "N": "false"}


def test_wrong_encoding_fails_the_feed_naming_the_file(tmp_path):
    t = company()
    src = write_feeds(tmp_path / "in", t)
    t["skills"].to_csv(src / "learning" / "skills.csv", index=False, encoding="gbk")
    report = ingest(src, Settings(home=tmp_path / "home"))
    assert not report.ok and set(report.failed_feeds) == {"learning"}
    assert "learning/skills.csv" in report.failed_feeds["learning"]


def test_mapping_file_override_that_is_absent_fails_the_feed(tmp_path):
    src = write_feeds(tmp_path / "in", company())
    mapping = tmp_path / "m.yaml"
    mapping.write_text("tables:\n  skills:\n    file: 技能.xlsx\n", encoding="utf-8")
    report = ingest(src, Settings(home=tmp_path / "home"), mapping=mapping)
    assert set(report.failed_feeds) == {"learning"} and "learning/技能.xlsx" in report.failed_feeds["learning"]
