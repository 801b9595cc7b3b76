"""What ingestion leaves in the workspace: idempotent, atomic, drift stops one feed, erasure."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from features.contract import CONTRACT, tables_of
from features.ingest import erase_employee, ingest
from features.offline import current_version_dir, read_clean
from features.settings import Settings
from tests.factories import company, write_feeds


def _snapshot(settings: Settings) -> dict[str, bytes]:
    """Every clean and quarantine file's bytes."""
    files = {}
    version = current_version_dir(settings)
    for p in sorted(version.glob("*.parquet")):
        files[f"clean/{p.name}"] = p.read_bytes()
    for p in sorted(settings.quarantine_dir.iterdir()):
        files[f"quarantine/{p.name}"] = p.read_bytes()
    return files


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Settings:
    """A workspace holding one ingest of the clean company (copied by the tests that start from it)."""
    root = tmp_path_factory.mktemp("baseline")
    settings = Settings(home=root / "home")
    ingest(write_feeds(root / "v1", company()), settings)
    return settings


def _copy(baseline: Settings, tmp_path) -> Settings:
    shutil.copytree(baseline.home, tmp_path / "home")
    return Settings(home=tmp_path / "home")


def _dirtyish() -> dict[str, pd.DataFrame]:
    t = company()
    t["competency_ratings"].loc[0, "rating"] = "9"
    t["points_ledger"].loc[0, "date"] = "yesterday"
    t["points_ledger"] = pd.concat([t["points_ledger"], t["points_ledger"].iloc[[2]]], ignore_index=True)
    return t


def test_reingesting_the_same_files_changes_nothing(tmp_path):
    settings = Settings(home=tmp_path / "home")
    src = write_feeds(tmp_path / "in", _dirtyish())
    first = ingest(src, settings)
    before = _snapshot(settings)
    second = ingest(src, settings)
    assert second.unchanged and second.clean_version == first.clean_version
    assert second.tables["competency_ratings"].reasons == {"out_of_range": 1}
    assert _snapshot(settings) == before
    assert len(list(settings.raw_dir.iterdir())) == 1
    assert len(list(settings.reports_dir.glob("ingest-2*.json"))) == 2
    (src / "mapping.yaml").write_text("date_formats: ['%Y-%m-%d']\n", encoding="utf-8")
    third = ingest(src, settings)  # a new mapping is a new input, even when the outcome is the same
    def counts(report):  # previous_rows differs by design: the first ingest had no previous version
        return {n: {**vars(t), "previous_rows": None} for n, t in report.tables.items()}

    assert not third.unchanged and counts(third) == counts(first)
    for name in CONTRACT:
        if f"clean/{name}.parquet" in before:  # (the optional learning_plans was not delivered)
            assert (current_version_dir(settings) / f"{name}.parquet").read_bytes() == before[f"clean/{name}.parquet"]


@pytest.mark.parametrize("fail_after", [0, 7, 30])  # staging the quarantine / publishing the clean tables
def test_a_failure_part_way_leaves_the_previous_state(tmp_path, monkeypatch, fail_after, baseline):
    settings = _copy(baseline, tmp_path)
    before = _snapshot(settings)
    version = current_version_dir(settings)
    original = pd.DataFrame.to_parquet
    calls = {"n": 0}

    def flaky(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > fail_after:
            raise OSError("disk full (injected)")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", flaky)
    with pytest.raises(OSError, match="injected"):
        ingest(write_feeds(tmp_path / "v2", _dirtyish()), settings)
    monkeypatch.setattr(pd.DataFrame, "to_parquet", original)
    assert current_version_dir(settings) == version
    assert _snapshot(settings) == before
    assert not [p for p in settings.quarantine_dir.iterdir() if p.name.endswith(".tmp")]
    assert not list(settings.clean_dir.glob(".staging-*"))
    assert read_clean(settings, "points_ledger")["entry_id"].tolist() == ["P1", "P2", "P3"]
    assert ingest(tmp_path / "v2", settings).tables["points_ledger"].duplicates == 1


DRIFT_TARGETS = [("hr", "employees", "hire_date"), ("performance", "reviews", "overall_rating"),
                 ("learning", "courses", "hours"), ("recruiting", "candidates", "applied_at")]
MARKERS = {"hr": ("org_units", "name_en", 0, "Acme renamed"),
           "performance": ("competency_ratings", "rating", 0, "5"),
           "learning": ("skills", "name_en", 2, "Spreadsheets"),
           "recruiting": ("requisitions", "reason", 1, "backfill")}


def _drift(root, tables, table: str, column: str, how: str) -> None:
    feed = CONTRACT[table].feed
    df = tables[table]
    path = root / feed / f"{table}.csv"
    if how == "missing":
        df.drop(columns=[column]).to_csv(path, index=False)
    elif how == "renamed":
        df.rename(columns={column: column.upper() + "_NEW"}).to_csv(path, index=False)
    elif how == "retyped":
        df.assign(**{column: "n/a-" + df.index.astype(str)}).to_csv(path, index=False)
    else:  # retyped Parquet column: a boolean where the contract wants a date or a number
        path.unlink()
        df.astype("string").assign(**{column: True}).to_parquet(path.with_suffix(".parquet"), index=False)


@pytest.mark.parametrize(("feed", "table", "column", "how"),
                         [(*target, how) for target in DRIFT_TARGETS for how in ("missing", "renamed", "retyped")]
                         + [(*DRIFT_TARGETS[0], "parquet-type"), (*DRIFT_TARGETS[2], "parquet-type")])
def test_schema_drift_stops_that_feed_only(tmp_path, feed, table, column, how, baseline):
    settings = _copy(baseline, tmp_path)
    before = _snapshot(settings)
    t = company()
    for name, col, row, value in MARKERS.values():  # a visible change in every feed
        t[name].loc[row, col] = value
    src = write_feeds(tmp_path / "v2", t)
    _drift(src, t, table, column, how)
    report = ingest(src, settings)
    assert not report.ok and set(report.failed_feeds) == {feed}
    message = report.failed_feeds[feed]
    assert f"feed {feed!r}" in message and f"{feed}/{table}." in message
    assert repr(column) in message or repr(column.upper() + "_NEW") in message
    if how == "renamed":
        assert "renamed?" in message
    for t_ in tables_of(feed):
        assert t_.name not in report.tables
        if t_.optional:  # learning_plans: not delivered, so there is nothing to keep
            continue
        assert (current_version_dir(settings) / f"{t_.name}.parquet").read_bytes() == before[f"clean/{t_.name}.parquet"]
        assert (settings.quarantine_dir / f"{t_.name}.parquet").read_bytes() == before[f"quarantine/{t_.name}.parquet"]
    for other, (name, col, row, value) in MARKERS.items():
        got = str(read_clean(settings, name)[col].iloc[row])
        assert (got == value) == (other != feed), (other, name)


def test_absent_feed_keeps_its_state_and_is_referenced(tmp_path, baseline):
    settings = _copy(baseline, tmp_path)
    t = company()
    new = pd.DataFrame([["E6", "2024Q1", "2024-03-28", "E1", "1.0", "4"], ["E99", "2024Q1", "2024-03-28", "", "1", "3"]],
                       columns=CONTRACT["reviews"].column_names)
    t["reviews"] = pd.concat([t["reviews"], new], ignore_index=True)
    report = ingest(write_feeds(tmp_path / "v2", t, feeds=("performance",)), settings)
    assert report.ok and report.not_delivered == ["hr", "learning", "recruiting"]
    assert set(report.tables) == {"reviews", "competency_ratings"}
    assert report.tables["reviews"].reasons == {"unknown_reference": 1}
    assert "E6" in set(read_clean(settings, "reviews")["employee_id"])
    assert len(read_clean(settings, "employees")) == 6


def test_erasure_removes_the_person_everywhere(tmp_path):
    settings = Settings(home=tmp_path / "home")
    t = company()
    bad = pd.DataFrame([["P9", "E1", "not a date", "5", "bonus"]], columns=CONTRACT["points_ledger"].column_names)
    t["points_ledger"] = pd.concat([t["points_ledger"], bad], ignore_index=True)
    ingest(write_feeds(tmp_path / "in", t), settings)
    counts = erase_employee(settings, "E1")
    # employees, event EV1, review, 2 ratings, enrollment N4 (+ the quarantined P9 in raw); manager of 6
    # events, reviewer of 3 reviews
    assert counts == {"raw_rows": 7, "raw_values_blanked": 9, "clean_rows": 6, "clean_values_blanked": 9,
                      "older_clean_versions_rows": 0, "quarantine_rows": 1, "workspace_feed_rows": 0,
                      "workspace_feed_values_blanked": 0}
    for name in CONTRACT:
        df = read_clean(settings, name)
        assert not df.astype("string").isin(["E1"]).any().any(), name
        if (settings.quarantine_dir / f"{name}.parquet").exists():  # (the optional learning_plans: not delivered)
            assert not pd.read_parquet(settings.quarantine_dir / f"{name}.parquet")["raw"].str.contains('"E1"').any()
    for path in settings.raw_dir.rglob("*.csv"):
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
        assert not raw.isin(["E1"]).any().any(), path
    assert len(read_clean(settings, "employment_events")) == 7
    assert read_clean(settings, "employment_events")["manager_id"].isna().sum() == 6  # EV5 keeps E2
    assert erase_employee(settings, "E1") == dict.fromkeys(counts, 0)


@pytest.mark.parametrize("fmt", ["parquet", "xlsx"])
def test_erasure_cascades_to_a_hired_candidates_assessments(tmp_path, fmt):
    settings = Settings(home=tmp_path / "home")
    ingest(write_feeds(tmp_path / "in", company(), fmt=fmt), settings)
    counts = erase_employee(settings, "E6")
    # employees, hire event EV7, candidate K1 (hired as E6) and K1's two assessments
    assert counts["clean_rows"] == 5 and counts["raw_rows"] == 5
    assert read_clean(settings, "assessments")["candidate_id"].tolist() == ["K2"]
    raw = next(settings.raw_dir.glob(f"*/recruiting/candidates.{fmt}"))
    kept = pd.read_parquet(raw) if fmt == "parquet" else pd.read_excel(raw, dtype=str)
    assert kept["candidate_id"].tolist() == ["K2", "K3"]
    assert ingest(next(settings.raw_dir.iterdir()), Settings(home=tmp_path / "again")).ok  # still ingestible
