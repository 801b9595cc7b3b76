"""Ingesting the demo simulator's dirty output: every row accounted for, every kind of dirt handled."""

from __future__ import annotations

import pandas as pd
import pytest

from features.contract import CONTRACT
from features.ingest import ingest
from features.settings import Settings

simulator = pytest.importorskip("features.simulator")

TRUTH = "_" + "truth"  # the simulator's answer key; tests (not features/) may read it
CLEANED = {"duplicate", "alias", "date_format", "padded_id"}  # repaired by ingestion, never quarantined for it
QUARANTINED = {"missing": "missing_value", "out_of_range": "out_of_range", "unknown_employee": "unknown_reference"}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_simulated_dirty_feeds(tmp_path, fmt):
    out = tmp_path / "company"
    simulator.simulate(out, employees=200, months=12, dirty_rate=0.05, fmt=fmt)
    settings = Settings(home=tmp_path / "home")
    report = ingest(out, settings)
    assert report.ok, report.failed_feeds
    assert report.mapping == str(out / "mapping.yaml")
    for t in report.tables.values():
        assert t.rows_in == t.accepted + t.quarantined + t.duplicates, t.table
        assert t.accepted > 0 and not t.extra_columns, t.table

    log = pd.read_parquet(out / TRUTH / "dirty_rows.parquet")
    assert set(log["kind"]) >= set(CLEANED) | set(QUARANTINED)
    quarantine = pd.concat([pd.read_parquet(settings.quarantine_dir / f"{n}.parquet").assign(table=n)
                            for n in report.tables], ignore_index=True)
    fate = log.assign(line=log["row"] + (2 if fmt == "csv" else 1)).merge(quarantine, on=["table", "line"], how="left",
                                                 suffixes=("", "_q"))
    assert len(fate) == len(log)
    # a value left empty in a column that has since become optional (or fills from another column) is accepted
    optional = fate["column"].notna() & pd.Series(
        [isinstance(c, str) and CONTRACT[t].column(c).optional for t, c in zip(fate["table"], fate["column"], strict=True)],
        index=fate.index)
    accepted_missing = fate[(fate["kind"] == "missing") & optional]
    assert accepted_missing["reason"].isna().all()
    fate = fate[~((fate["kind"] == "missing") & optional)]
    for kind, rows in fate.groupby("kind"):
        if kind in CLEANED:  # only a broken reference elsewhere (a cascade) may quarantine these rows
            assert set(rows["reason"].dropna()) <= {"unknown_reference"}, kind
            assert rows["reason"].isna().mean() > 0.5, kind
        else:
            assert (rows["reason"] == QUARANTINED[kind]).all(), kind
            assert (rows["column_q"] == rows["column"]).all(), kind
    duplicates = sum(t.duplicates for t in report.tables.values())
    cascaded = fate[(fate["kind"] == "duplicate") & fate["reason"].notna()]
    assert duplicates == (log["kind"] == "duplicate").sum() - len(cascaded)
