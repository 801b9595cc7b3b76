"""``talentloop ingest DIR [--mapping FILE] [--json]``."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from talentloop.cli import _common, app
from tests.factories import company, write_feeds


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("TALENTLOOP_HOME", str(tmp_path / "home"))
    _common.settings.cache_clear()
    yield lambda *args: CliRunner().invoke(app, ["ingest", *map(str, args)])
    _common.settings.cache_clear()


def test_json_goes_alone_to_stdout_and_the_table_to_stderr(tmp_path, run):
    src = write_feeds(tmp_path / "in", company())
    result = run(src, "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] and report["totals"]["rows_in"] == report["totals"]["accepted"] == 67
    assert "mapping: none" in result.stderr and "competency_ratings" in result.stderr
    assert (tmp_path / "home" / "reports" / "ingest-latest.json").exists()
    again = run(src)
    assert again.exit_code == 0 and "nothing written" in again.stderr and again.stdout == ""


def test_a_failed_feed_exits_non_zero_and_says_why(tmp_path, run):
    t = company()
    t["courses"] = t["courses"].drop(columns=["hours"])
    result = run(write_feeds(tmp_path / "in", t), "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert list(report["failed_feeds"]) == ["learning"]
    message = result.stderr.replace("\n", "")
    assert "learning/courses.csv" in message and "'hours'" in message


def test_bad_mapping_and_missing_folder_are_clear_errors(tmp_path, run):
    src = write_feeds(tmp_path / "in", company())
    bad = tmp_path / "bad.yaml"
    bad.write_text("tables:\n  employees:\n    columns: {工号: staff_no}\n", encoding="utf-8")
    result = run(src, "--mapping", bad)
    assert result.exit_code == 2 and "tables.employees.columns.工号" in result.stderr.replace("\n", "")
    result = run(tmp_path / "nowhere")
    assert result.exit_code == 2 and "nowhere is not a folder" in result.stderr.replace("\n", "")
