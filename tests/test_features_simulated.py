"""End to end on the demo company: simulate → ingest → build → apply → materialize → read."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from features.build import FEATURE_TABLES, build_features, feature_path
from features.settings import Settings

simulator = pytest.importorskip("features.simulator")
ingest_mod = pytest.importorskip("features.ingest")
pytest.importorskip("feast")

from features import store as fs  # noqa: E402


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict[str, int]]:
    home = tmp_path_factory.mktemp("features-sim")
    settings = Settings(home=home)
    simulator.simulate(home / "company", employees=300, months=24, dirty_rate=0)
    ingest_mod.ingest(home / "company", settings)
    rows = build_features(settings)
    fs.apply(settings)
    fs.materialize(settings)
    return settings, rows


def test_every_feature_table_is_filled(company) -> None:
    settings, rows = company
    assert set(rows) == set(FEATURE_TABLES) and min(rows.values()) > 0
    em = pd.read_parquet(feature_path(settings.feature_dir, "employee_monthly"))
    per_month = em.groupby("event_timestamp").size()
    assert len(per_month) >= 24 and per_month.min() > 200  # ~300 people every month, no gaps
    always_null = [c for c in fs.feature_columns("attrition_v1") if em[c].isna().all()]
    assert always_null == []
    assert (em["n_required_skills"] > 0).all()
    us = pd.read_parquet(feature_path(settings.feature_dir, "unit_skill_monthly"))
    assert (us["demand_slots"] >= us["open_req_slots"]).all() and us["demand_slots"].sum() > 0


def test_training_set_and_online_reads_agree(company) -> None:
    settings, _ = company
    em = pd.read_parquet(feature_path(settings.feature_dir, "employee_monthly"))
    last = em[em["event_timestamp"] == em["event_timestamp"].max()].sample(10, random_state=4)
    labels = last[["employee_id", "event_timestamp"]].assign(left_within_3m=0)
    train = fs.historical_features(settings, labels, "attrition_v1")
    assert list(train.columns) == ["employee_id", "event_timestamp", "left_within_3m",
                                   *fs.feature_columns("attrition_v1")]
    store = fs.feature_store(settings)
    for row in train.to_dict("records"):
        online = fs.online_features(store, "attrition_v1", [{"employee_id": row["employee_id"]}],
                                    as_of=row["event_timestamp"])
        assert not online.stale and not online.missing
        for col in fs.feature_columns("attrition_v1"):
            a, b = online.values[col][0], row[col]
            if b is None or (isinstance(b, float) and math.isnan(b)):
                assert a is None or (isinstance(a, float) and math.isnan(a))
            elif isinstance(b, float):
                assert math.isclose(a, b, rel_tol=1e-6), col
            else:
                assert a == b, col
    units = pd.read_parquet(feature_path(settings.feature_dir, "unit_skill_monthly"))
    pair = units.iloc[-1]
    demand = fs.online_features(store, "skill_demand_v1",
                                [{"org_unit_id": pair["org_unit_id"], "skill_id": pair["skill_id"]}],
                                as_of=pair["event_timestamp"])
    assert demand.values["demand_slots"] == [pair["demand_slots"]] and not demand.missing


def test_skill_demand_truth_is_the_expectation_of_the_target(company) -> None:
    """The simulator's expected demand is the expectation of ``demand_slots`` itself: exact where it is determined
    in advance (plan × requirements, the heads of units without a plan), and the new technology's requisitions,
    the only random part, match on average."""
    from evaluation.skill_demand_oracle import aggregate_up, read_expected_demand
    from features.offline import read_clean
    from features.simulator.taxonomy import ADOPTED_TECHNOLOGY

    settings, _ = company
    us = pd.read_parquet(feature_path(settings.feature_dir, "unit_skill_monthly"))
    us["month"] = us["event_timestamp"].dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")
    truth = aggregate_up(read_expected_demand(settings.home / "company" / "_truth"), read_clean(settings, "org_units"))
    joined = us.merge(truth, on=["org_unit_id", "skill_id", "month"], how="left").fillna({"expected_demand": 0.0})
    assert joined["month"].between(truth["month"].min(), truth["month"].max()).all()  # every snapshot has its truth
    tech = joined["skill_id"].isin(ADOPTED_TECHNOLOGY)
    fixed = joined[~tech]
    assert (fixed["demand_slots"] == fixed["expected_demand"]).all()
    new = joined[tech].groupby("month")[["demand_slots", "expected_demand"]].sum()
    late = new.iloc[12:]  # the adoption ramps up from month 6
    assert late["demand_slots"].sum() > 0
    assert abs(late["demand_slots"].sum() / late["expected_demand"].sum() - 1) < 0.25
