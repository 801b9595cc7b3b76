"""Ingest guards: a bad file never wipes a table, a differing duplicate keeps the previous version of its key,
future dates are quarantined, one run at a time holds the workspace, and a killed run's leftovers are cleaned."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from features.contract import CONTRACT
from features.ingest import ingest
from features.offline import read_clean
from features.settings import Settings
from features.workspace import WorkspaceBusy, clean_leftovers, lock
from tests.factories import company, write_feeds

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def settings(tmp_path) -> Settings:
    s = Settings(home=tmp_path / "home")
    report = ingest(write_feeds(tmp_path / "first", company()), s)
    assert report.ok
    return s


def _header_only(tables: dict[str, pd.DataFrame], name: str) -> dict[str, pd.DataFrame]:
    out = dict(tables)
    out[name] = tables[name].iloc[:0]
    return out


@pytest.mark.parametrize("table", ["employees", "points_ledger"])
def test_a_header_only_file_never_wipes_a_table(tmp_path, settings, table):
    before = {n: len(read_clean(settings, n)) for n in CONTRACT}
    src = write_feeds(tmp_path / "second", _header_only(company(), table))
    report = ingest(src, settings)
    feed = CONTRACT[table].feed
    assert not report.ok and feed in report.failed_feeds
    message = report.failed_feeds[feed]
    assert f"table '{table}' would shrink from {before[table]} to 0 rows" in message
    assert "the file has no data rows" in message and f"--allow-shrink {table}" in message
    assert {n: len(read_clean(settings, n)) for n in CONTRACT} == before  # nothing lost anywhere
    assert all(t.feed != feed for t in report.tables.values())


def test_allow_shrink_lets_an_intended_drop_through(tmp_path, settings):
    src = write_feeds(tmp_path / "second", _header_only(company(), "points_ledger"))
    report = ingest(src, settings, allow_shrink=["points_ledger"])
    assert report.ok and len(read_clean(settings, "points_ledger")) == 0
    with pytest.raises(ValueError, match="--allow-shrink names no contract table: nope"):
        ingest(src, settings, allow_shrink=["nope"])


def test_a_truncated_export_fails_by_the_share_and_the_threshold_is_configurable(tmp_path, settings):
    tables = company()
    tables["employment_events"] = tables["employment_events"].iloc[:3]  # 8 → 3 rows: a 62 % drop
    src = write_feeds(tmp_path / "second", tables)
    report = ingest(src, settings)
    assert "would shrink from 8 to 3 rows (3 rows accepted; a drop of 62%" in report.failed_feeds["hr"]
    loose = Settings(home=settings.home, max_shrink=0.7)
    assert ingest(src, loose).ok and len(read_clean(loose, "employment_events")) == 3


def test_a_differing_duplicate_keeps_the_previous_version_of_its_key(tmp_path, settings):
    tables = company()
    emp = tables["employees"]
    clash = emp[emp["employee_id"] == "E2"].assign(birth_year="1991")
    tables["employees"] = pd.concat([emp, clash], ignore_index=True)
    report = ingest(write_feeds(tmp_path / "second", tables), settings)
    assert report.ok
    t = report.tables["employees"]
    assert (t.rows_in, t.accepted, t.quarantined, t.kept_previous) == (7, 5, 2, 1)
    clean = read_clean(settings, "employees")
    assert sorted(clean["employee_id"]) == ["E1", "E2", "E3", "E4", "E5", "E6"]
    assert int(clean.loc[clean["employee_id"] == "E2", "birth_year"].iloc[0]) == 1990  # the previous version
    events = read_clean(settings, "employment_events")
    assert set(events.loc[events["employee_id"] == "E2", "event_id"]) == {"EV2", "EV8"}  # not orphaned
    q = pd.read_parquet(settings.quarantine_dir / "employees.parquet")
    assert len(q) == 2 and q["reason"].eq("duplicate_key").all()
    assert q["detail"].str.contains("the previous accepted version of this key is kept").all()


def test_a_differing_duplicate_on_the_first_ingest_has_no_previous_version(tmp_path):
    s = Settings(home=tmp_path / "home")
    tables = company()
    emp = tables["employees"]
    tables["employees"] = pd.concat([emp, emp[emp["employee_id"] == "E5"].assign(birth_year="2000")],
                                    ignore_index=True)
    report = ingest(write_feeds(tmp_path / "in", tables), s)
    assert report.tables["employees"].kept_previous == 0
    assert "E5" not in set(read_clean(s, "employees")["employee_id"])


def test_dates_after_the_ingest_time_are_quarantined_as_future_date(tmp_path, settings):
    tables = company()
    tables["employees"].loc[tables["employees"]["employee_id"] == "E6", "hire_date"] = "2099-01-01"
    tables["reviews"].loc[0, "review_date"] = "2099-03-28"
    tables["headcount_plans"].loc[0, "plan_month"] = "2099-01-01"  # plans are about the future: accepted
    report = ingest(write_feeds(tmp_path / "second", tables), settings)
    assert report.tables["employees"].reasons == {"future_date": 1}
    assert report.tables["reviews"].reasons == {"future_date": 1}
    assert report.tables["headcount_plans"].quarantined == 0
    q = pd.read_parquet(settings.quarantine_dir / "employees.parquet")
    assert q["detail"].iloc[0].startswith("hire_date 2099-01-01 is after ")
    assert "the ingest date plus the tolerance" in q["detail"].iloc[0]


def _cli(home: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "TALENTLOOP_HOME": str(home), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "talentloop", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_second_writer_is_refused_with_who_holds_the_workspace(tmp_path, settings):
    src = write_feeds(tmp_path / "second", company())
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from features.workspace import lock\n"
        f"with lock({str(settings.home)!r}, 'train attrition'):\n"
        "    print('held', flush=True); time.sleep(60)")], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(WorkspaceBusy, match=r"another run holds the workspace since .* \(pid \d+, "
                                                r"`talentloop train attrition`\)"):
            ingest(src, settings)
        p = _cli(settings.home, "ingest", str(src))
        out, err = p.communicate(timeout=120)
        assert p.returncode == 75, err
        assert "another run holds the workspace since" in " ".join(err.split())
    finally:
        holder.kill()
        holder.wait()
    p = _cli(settings.home, "features", "build")  # the lock died with its holder: nothing stale remains
    p.communicate(timeout=300)
    assert p.returncode == 0


def test_two_concurrent_ingests_never_lose_an_update(tmp_path, settings):
    a, b = company(), company()
    a["employees"].loc[a["employees"]["employee_id"] == "E3", "birth_year"] = "1996"
    b["reviews"].loc[0, "overall_rating"] = "5"
    runs = [_cli(settings.home, "ingest", str(write_feeds(tmp_path / name, t)))
            for name, t in (("a", a), ("b", b))]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in runs]
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 0], [0, 75]), results
    for code, err in results:
        if code == 75:
            assert "another run holds the workspace since" in " ".join(err.split())
    emp, rev = read_clean(settings, "employees"), read_clean(settings, "reviews")
    a_won = int(emp.loc[emp["employee_id"] == "E3", "birth_year"].iloc[0]) == 1996
    b_won = int(rev.loc[rev["employee_id"] == "E1", "overall_rating"].iloc[0]) == 5
    assert a_won or b_won
    if codes == [0, 0]:  # ran one after the other: the last one's tables are the clean state, whole
        assert a_won != b_won


def test_kill_9_mid_publish_then_the_next_run_cleans_up(tmp_path, settings):
    src = write_feeds(tmp_path / "second", company())
    (src / "hr" / "employees.csv").write_text((src / "hr" / "employees.csv").read_text() + "E7,2023-01-01,1990,"
                                               "male,han,single,CN\n")
    script = (  # stop forever just before the new clean version is switched in, then get killed
        "import sys, time, os\n"
        "import features.offline as off\n"
        "real = os.replace\n"
        "def stuck(a, b):\n"
        "    if str(b).split('/')[-1].startswith('v-'):\n"
        "        print('staged', flush=True); time.sleep(600)\n"
        "    return real(a, b)\n"
        "off.os = type('os', (), {'replace': staticmethod(stuck)})\n"
        "from features.ingest import ingest\nfrom features.settings import Settings\n"
        f"ingest({str(src)!r}, Settings(home={str(settings.home)!r}))\n")
    before = read_clean(settings, "employees")
    p = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "staged"
    finally:
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
    left = [x for x in settings.home.rglob("*") if x.name.startswith(".staging-") or x.name.endswith(".tmp")]
    assert left, "the killed run left nothing behind: the test did not stop it mid-publish"
    assert read_clean(settings, "employees").equals(before)  # readers still see the old version, whole
    report = ingest(src, settings)
    assert report.ok and sum(report.cleaned_leftovers.values()) >= len(left)
    assert not [x for x in settings.home.rglob("*") if x.name.startswith(".staging-") or x.name.endswith(".tmp")]
    assert "E7" in set(read_clean(settings, "employees")["employee_id"])


def test_the_lock_is_reentrant_and_cleans_only_leftover_names(tmp_path):
    home = tmp_path / "home"
    (home / "offline" / "clean" / ".staging-x").mkdir(parents=True)
    (home / "quarantine").mkdir()
    (home / "quarantine" / ".t.parquet.ab.tmp").write_text("x")
    (home / "quarantine" / "t.parquet").write_text("x")
    with lock(home, "one") as cleaned:
        assert cleaned == {"staging folders": 1, "temporary files": 1}
        with lock(home, "two") as again:
            assert again == {}
    assert (home / "quarantine" / "t.parquet").exists() and clean_leftovers(home) == {}
    assert oct((home).stat().st_mode & 0o777) == "0o700"
