"""Talent pool rules (talent_pool.yaml) and the monthly membership view, on the small simulated company."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from features.build import build_features, feature_path
from features.build.talent_pool import PoolRules, load_rules, rules_path
from features.settings import Settings
from tests.conftest import private_copy

pytest.importorskip("feast")


def _pool(settings: Settings) -> pd.DataFrame:
    pool = pd.read_parquet(feature_path(settings.feature_dir, "talent_pool_monthly"))
    em = pd.read_parquet(feature_path(settings.feature_dir, "employee_monthly"),
                         columns=["employee_id", "event_timestamp", "last_rating", "last_kpi_attainment",
                                  "tenure_months", "org_unit_id"])
    return pool.merge(em, on=["employee_id", "event_timestamp"], how="left", validate="one_to_one")


def test_default_rules_keep_the_top_tenth_of_each_department(feature_workspace: Settings) -> None:
    df = _pool(feature_workspace)
    rules = PoolRules()
    members = df[df["talent_pool_member"] == 1]
    assert len(members) > 0
    assert (members["tenure_months"] >= rules.min_tenure_months).all()
    assert (members["last_rating"] >= rules.min_rating).all()
    size = members.groupby(["pool_unit_id", "event_timestamp"]).size()
    head = df.groupby(["pool_unit_id", "event_timestamp"])["pool_unit_headcount"].first()
    assert (size <= (head.loc[size.index] * rules.top_share + 0.5).apply(math.floor)).all()
    # nobody outside the pool outranks a member of the same unit and month
    for (_, _), g in df[df["pool_rank"].notna()].groupby(["pool_unit_id", "event_timestamp"]):
        if g["talent_pool_member"].any():
            worst_member = g.loc[g["talent_pool_member"] == 1, "pool_rank"].max()
            assert (g.loc[g["talent_pool_member"] == 0, "pool_rank"] > worst_member).all()
            best_out = g.loc[g["talent_pool_member"] == 0, "last_rating"].max()
            assert g.loc[g["talent_pool_member"] == 1, "last_rating"].min() >= (best_out if best_out == best_out else 0)
    assert df["next_job_readiness"].dropna().between(0, 1).all()


def test_workspace_rules_change_the_pool(feature_workspace: Settings, tmp_path: Path) -> None:
    settings = private_copy(feature_workspace, tmp_path / "ws")
    before = _pool(settings)
    rules_path(settings).write_text("unit_level: division\ntop_share: 0.2\nmin_tenure_months: 0\n", encoding="utf-8")
    build_features(settings)
    after = _pool(settings)
    assert after["talent_pool_member"].sum() > 1.5 * before["talent_pool_member"].sum()
    assert after["pool_unit_id"].nunique() < before["pool_unit_id"].nunique()


@pytest.mark.parametrize(("text", "field"), [("top_share: 2\n", "top_share"), ("unit_level: floor\n", "unit_level"),
                                             ("min_rating: [1\n", "YAML"), ("colour: blue\n", "colour")])
def test_a_bad_rules_file_is_one_line_naming_the_field(tmp_path: Path, text: str, field: str) -> None:
    settings = Settings(home=tmp_path)
    rules_path(settings).write_text(text, encoding="utf-8")
    with pytest.raises(ValueError) as err:
        load_rules(settings)
    message = str(err.value)
    assert "\n" not in message and field in message and str(rules_path(settings)) in message


def test_membership_is_read_point_in_time_through_feast(feature_workspace: Settings) -> None:
    from features import store as fs

    pool = pd.read_parquet(feature_path(feature_workspace.feature_dir, "talent_pool_monthly"))
    months = sorted(pool["event_timestamp"].unique())
    sample = pool[pool["event_timestamp"] == months[-6]].sort_values("employee_id").head(20)
    got = fs.historical_features(feature_workspace, sample[["employee_id", "event_timestamp"]], "talent_pool_v1")
    got = got.sort_values("employee_id").reset_index(drop=True)
    assert got["talent_pool_member"].tolist() == sample["talent_pool_member"].tolist()
