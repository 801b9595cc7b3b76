"""Property: whatever corruption hits a feed, every input row is accepted, quarantined or counted as a
duplicate (or the whole feed is refused as drifted, leaving the previous state)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.contract import CONTRACT, tables_of
from features.ingest import ingest
from features.offline import read_clean
from features.settings import Settings
from tests.factories import company, write_feeds

FEEDS = ("performance", "learning")
TABLES = [t.name for f in FEEDS for t in tables_of(f) if not t.optional]  # those company() has
TRICKY = ["", " ", "  E2 ", "7", "-1", "0", "abc", "2024-13-01", "31.12.2023", "销管", "E99", "NaN", "1e3", "是",
          "Completed", "S1", "C1", "\u3000", "2023-02-01"]


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Settings:
    root = tmp_path_factory.mktemp("prop")
    s = Settings(home=root / "home")
    ingest(write_feeds(root / "v1", company()), s)
    return s


corruption = st.tuples(st.sampled_from(TABLES), st.integers(0, 50), st.integers(0, 20),
                       st.one_of(st.sampled_from(TRICKY),
                                 st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=6)))


@settings(max_examples=25, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(corruption, max_size=12),
       copies=st.lists(st.tuples(st.sampled_from(TABLES), st.integers(0, 50)), max_size=4))
def test_every_row_is_accounted_for(baseline, cells, copies):
    tables = company()
    for table, row, col, value in cells:
        df = tables[table]
        df.iloc[row % len(df), col % len(df.columns)] = value
    for table, row in copies:
        df = tables[table]
        tables[table] = pd.concat([df, df.iloc[[row % len(df)]]], ignore_index=True)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        shutil.copytree(baseline.home, home)
        s = Settings(home=home)
        src = write_feeds(Path(tmp) / "in", {n: tables[n] for n in TABLES}, feeds=FEEDS)
        report = ingest(src, s)
        for feed in FEEDS:
            names = [t.name for t in tables_of(feed) if not t.optional]
            if feed in report.failed_feeds:  # drifted: refused whole, previous state kept
                assert not set(names) & set(report.tables)
                for n in names:
                    pd.testing.assert_frame_equal(read_clean(s, n), read_clean(baseline, n))
                continue
            for n in names:
                t = report.tables[n]
                assert t.rows_in + t.blank_rows == len(tables[n]), n
                assert t.rows_in == t.accepted + t.quarantined + t.duplicates, n
                assert len(read_clean(s, n)) == t.accepted, n
                q = pd.read_parquet(s.quarantine_dir / f"{n}.parquet")
                assert len(q) == t.quarantined, n
                assert q["line"].is_unique and q["line"].between(2, len(tables[n]) + 1).all(), n
                assert set(q["reason"]) <= set(t.reasons) and set(q["column"]) <= {"", *CONTRACT[n].column_names}
                assert q["detail"].str.len().gt(0).all()
