"""Ingestion of a tiny company: every row accounted for, each reason code, aliases, file formats."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from features.contract import CONTRACT
from features.ingest import ingest
from features.offline import read_clean
from features.settings import Settings
from tests.factories import company, write_feeds


def _quarantine(settings: Settings, table: str) -> pd.DataFrame:
    return pd.read_parquet(settings.quarantine_dir / f"{table}.parquet")


def _assert_accounting(report) -> None:
    for t in report.tables.values():
        assert t.rows_in == t.accepted + t.quarantined + t.duplicates, t.table
        assert sum(t.reasons.values()) == t.quarantined, t.table


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(home=tmp_path / "home")


def test_clean_company_is_accepted_whole(tmp_path, settings):
    tables = company()
    report = ingest(write_feeds(tmp_path / "in", tables), settings)
    assert report.ok and not report.unchanged
    _assert_accounting(report)
    assert set(report.tables) == set(tables)  # every table but the optional learning_plans
    for name, df in tables.items():
        t = report.tables[name]
        assert (t.rows_in, t.accepted, t.quarantined, t.duplicates) == (len(df), len(df), 0, 0), name
        assert len(read_clean(settings, name)) == len(df)
        assert _quarantine(settings, name).empty
    emp = read_clean(settings, "employees")
    assert str(emp["hire_date"].dtype) == "datetime64[us]" and str(emp["birth_year"].dtype) == "Int64"
    assert read_clean(settings, "courses")["mandatory"].tolist() == [False, False, True]


def test_course_aliases_and_titles_resolve_to_one_course_id(tmp_path, settings):
    report = ingest(write_feeds(tmp_path / "in", company()), settings)
    assert report.ok
    enr = read_clean(settings, "enrollments").set_index("enrollment_id")
    # 销管 (alias table), 销售管理 (title_zh), C2 (id), "Compliance" (title_en, case-insensitive too)
    assert enr["course_id"].to_dict() == {"N1": "C1", "N2": "C1", "N3": "C2", "N4": "C3"}


def test_skill_alias_and_chinese_name_resolve(tmp_path, settings):
    tables = company()
    tables["competency_ratings"].loc[0, "skill_id"] = "Sales skill"  # skill_aliases
    tables["competency_ratings"].loc[1, "skill_id"] = "谈判"  # name_zh
    ingest(write_feeds(tmp_path / "in", tables), settings)
    ratings = read_clean(settings, "competency_ratings")
    assert ratings["skill_id"].tolist()[:2] == ["S1", "S2"]


def _dirty() -> dict[str, pd.DataFrame]:
    t = company()
    cr = t["competency_ratings"]
    cr.loc[0, "rating"] = "abc"  # bad_type, CSV line 2
    cr.loc[1, "rating"] = "7"  # out_of_range, line 3
    cr.loc[2, "skill_id"] = "S404"  # unknown_reference, line 4
    cr.loc[3, "skill_id"] = "  "  # missing_value after trimming, line 5
    t["competency_ratings"] = pd.concat([cr, cr.iloc[[6]]], ignore_index=True)  # exact duplicate of line 8
    emp = t["employees"]
    emp.loc[2, "hire_date"] = "2021-02-30"  # bad_date
    emp.loc[3, "sex"] = "Female"  # case folded, accepted
    ev = t["employment_events"]
    ev.loc[1, "event_type"] = "fired"  # not_allowed
    ev.loc[2, "employee_id"] = " E3 "  # trimmed, accepted
    rv = t["reviews"]
    clash = rv.iloc[[1]].copy()
    clash["overall_rating"] = "1"
    t["reviews"] = pd.concat([rv, clash], ignore_index=True)  # duplicate_key: both E2 rows
    extra = pd.DataFrame([["ORG3", "ORG9", "Lost", "失踪", "team"], ["ORG4", "ORG3", "Lost too", "也失踪", "team"]],
                         columns=CONTRACT["org_units"].column_names)
    t["org_units"] = pd.concat([t["org_units"], extra], ignore_index=True)  # ORG9 unknown; ORG4 orphaned
    return t


def test_each_reason_code_is_quarantined_with_line_column_and_detail(tmp_path, settings):
    report = ingest(write_feeds(tmp_path / "in", _dirty()), settings)
    _assert_accounting(report)
    cr = report.tables["competency_ratings"]
    # lines 6-7 are E3's, whose employee row is quarantined (bad hire date): their reference breaks too
    assert cr.reasons == {"bad_type": 1, "missing_value": 1, "out_of_range": 1, "unknown_reference": 3}
    assert (cr.rows_in, cr.accepted, cr.duplicates) == (9, 2, 1)
    q = _quarantine(settings, "competency_ratings").set_index("line")
    assert q.loc[2, "reason"] == "bad_type" and q.loc[2, "column"] == "rating"
    assert q.loc[2, "detail"] == "rating 'abc' is not a whole number"
    assert q.loc[3, "detail"] == "rating 7 is above the maximum 5"
    assert q.loc[4, "reason"] == "unknown_reference" and "skills.skill_id" in q.loc[4, "detail"]
    assert q.loc[5, "reason"] == "missing_value" and q.loc[5, "column"] == "skill_id"
    assert set(q["source_file"]) == {"performance/competency_ratings.csv"}
    assert json.loads(q.loc[2, "raw"])["rating"] == "abc"

    eq = _quarantine(settings, "employees")
    assert eq[["line", "reason", "column"]].values.tolist() == [[4, "bad_date", "hire_date"]]
    assert "2021-02-30" in eq.loc[0, "detail"]
    assert read_clean(settings, "employees").set_index("employee_id").loc["E4", "sex"] == "female"
    evq = _quarantine(settings, "employment_events")
    assert evq["reason"].tolist() == ["not_allowed", "unknown_reference"]
    assert evq["detail"].iloc[0].startswith("event_type 'fired' is not one of hire, promotion")
    # E3's events are unknown references because E3 was quarantined (bad hire date)
    assert report.tables["employment_events"].reasons == {"not_allowed": 1, "unknown_reference": 1}
    rq = _quarantine(settings, "reviews")
    assert rq["reason"].tolist() == ["duplicate_key", "unknown_reference", "duplicate_key"]
    assert rq["line"].tolist() == [3, 4, 6]
    assert "employee_id=E2, cycle_id=2024Q1" in rq["detail"].iloc[0]
    oq = _quarantine(settings, "org_units")
    assert oq["reason"].tolist() == ["unknown_reference", "unknown_reference"]  # ORG3 and its child ORG4
    assert oq["line"].tolist() == [5, 6]
    assert read_clean(settings, "org_units")["org_unit_id"].tolist() == ["ORG0", "ORG1", "ORG2"]


def test_malformed_and_blank_csv_lines(tmp_path, settings):
    src = write_feeds(tmp_path / "in", company())
    path = src / "learning" / "points_ledger.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(2, "P9,E2,2023-02-01,5,bonus,EXTRA")  # line 3: one field too many
    lines.insert(3, ",,,,")  # line 4: blank row
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = ingest(src, settings)
    t = report.tables["points_ledger"]
    assert (t.rows_in, t.accepted, t.quarantined, t.blank_rows) == (4, 3, 1, 1)
    assert t.reasons == {"malformed_row": 1}
    q = _quarantine(settings, "points_ledger")
    assert q["line"].tolist() == [3] and json.loads(q["raw"].iloc[0])["line_text"].endswith("EXTRA")
    assert read_clean(settings, "points_ledger")["entry_id"].tolist() == ["P1", "P2", "P3"]


@pytest.mark.parametrize("fmt", ["parquet", "xlsx"])
def test_parquet_and_xlsx_inputs_give_the_same_clean_tables(tmp_path, fmt):
    ref = Settings(home=tmp_path / "csv")
    ingest(write_feeds(tmp_path / "in-csv", _dirty()), ref)
    other = Settings(home=tmp_path / fmt)
    report = ingest(write_feeds(tmp_path / f"in-{fmt}", _dirty(), fmt=fmt), other)
    _assert_accounting(report)
    for name in CONTRACT:
        pd.testing.assert_frame_equal(read_clean(other, name), read_clean(ref, name), obj=name)
    q = _quarantine(other, "competency_ratings")
    assert q["line"].tolist() == ([1, 2, 3, 4, 5, 6] if fmt == "parquet" else [2, 3, 4, 5, 6, 7])


def test_typed_parquet_columns_are_read(tmp_path, settings):
    tables = company()
    src = write_feeds(tmp_path / "in", tables)
    emp = tables["employees"].copy()
    emp["hire_date"] = pd.to_datetime(emp["hire_date"])
    emp["birth_year"] = emp["birth_year"].astype("int64")
    (src / "hr" / "employees.csv").unlink()
    emp.to_parquet(src / "hr" / "employees.parquet", index=False)
    report = ingest(src, settings)
    assert report.ok and report.tables["employees"].accepted == 6
    assert read_clean(settings, "employees")["hire_date"].iloc[0] == pd.Timestamp("2020-01-06")
