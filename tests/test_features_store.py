"""The Feast store over the built features: schema agreement, point-in-time historical reads (ties, TTL),
online/offline consistency, staleness, the feature service column lists and erasure."""

from __future__ import annotations

import math
from datetime import timedelta

import pandas as pd
import pyarrow.parquet as pq
import pytest

from features.build import FEATURE_TABLES, build_features, feature_path
from features.contract import PROTECTED_ATTRIBUTES
from features.offline import publish_clean
from features.settings import Settings
from tests.factories import make_company

feast = pytest.importorskip("feast")

from features import store as fs  # noqa: E402
from features.feature_repo.definitions import ATTRITION_NUMERIC, MONTHLY_TTL, repo_objects  # noqa: E402

SERVICES = ("attrition_v1", "course_ranker_v1", "skill_demand_v1")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = Settings(home=tmp_path_factory.mktemp("features-store"))
    publish_clean(settings, make_company(seed=5, employees=60))
    build_features(settings)
    fs.apply(settings)
    fs.materialize(settings)
    return settings


@pytest.fixture(scope="module")
def monthly(workspace: Settings) -> pd.DataFrame:
    return pd.read_parquet(feature_path(workspace.feature_dir, "employee_monthly"))


def _eq(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-6)
    if a is None or (isinstance(a, float) and math.isnan(a)) or a is pd.NA:
        return b is None or (isinstance(b, float) and math.isnan(b)) or b is pd.NA
    return a == b


def test_feature_files_match_the_declared_schemas(workspace: Settings) -> None:
    from feast.type_map import feast_value_type_to_pa

    objects = repo_objects(workspace.feature_dir)
    for table, keys in FEATURE_TABLES.items():
        schema = pq.read_schema(feature_path(workspace.feature_dir, table))
        view = objects[table]
        assert schema.names == [*keys, "event_timestamp", *(f.name for f in view.features)]
        assert str(schema.field("event_timestamp").type) == "timestamp[us, tz=UTC]"
        for f in view.features:
            declared = feast_value_type_to_pa(f.dtype.to_value_type())
            assert schema.field(f.name).type == declared, (table, f.name)


def test_feature_columns_are_stable_and_clean() -> None:
    forbidden = {"event_timestamp", "created_timestamp", *PROTECTED_ATTRIBUTES}
    for service in SERVICES:
        cols = fs.feature_columns(service)
        assert cols == fs.feature_columns(service)
        assert len(cols) == len(set(cols))
        assert not [c for c in cols if c in forbidden or c.endswith("_id") or c.endswith("_ids")]
    assert fs.feature_columns("attrition_v1")[:3] == ["job_family", "job_level", "tenure_months"]
    attrition_only = {f.name for f in ATTRITION_NUMERIC}  # pay against the job's median: attrition reads it only
    assert attrition_only and attrition_only.isdisjoint(fs.feature_columns("course_ranker_v1"))
    assert set(fs.feature_columns("attrition_v1")) - attrition_only < set(fs.feature_columns("course_ranker_v1"))
    with pytest.raises(KeyError, match="unknown feature service"):
        fs.feature_columns("attrition_v0")


def test_historical_features_are_point_in_time(workspace: Settings, monthly: pd.DataFrame) -> None:
    """Each entity row gets the newest snapshot at or before its timestamp, never one older than the TTL."""
    snaps = monthly[["employee_id", "event_timestamp"]].sample(60, random_state=1)
    offsets = [timedelta(0), -timedelta(microseconds=1), timedelta(days=13), timedelta(days=44, hours=23),
               timedelta(days=46)]
    entity = pd.concat([snaps.assign(event_timestamp=snaps["event_timestamp"] + off) for off in offsets])
    entity = entity.assign(label=range(len(entity))).reset_index(drop=True)
    got = fs.historical_features(workspace, entity, "attrition_v1")
    assert list(got["label"]) == list(entity["label"])  # order and labels pass through
    by_emp = {k: g.sort_values("event_timestamp") for k, g in monthly.groupby("employee_id")}
    checked_null = 0
    for row in got.to_dict("records"):
        hist = by_emp[row["employee_id"]]
        eligible = hist[(hist["event_timestamp"] <= row["event_timestamp"])
                        & (hist["event_timestamp"] >= row["event_timestamp"] - MONTHLY_TTL)]
        if eligible.empty:
            assert pd.isna(row["tenure_months"])
            checked_null += 1
            continue
        exp = eligible.iloc[-1]
        for col in ("tenure_months", "manager_changes_12m", "training_hours_12m", "team_size", "job_family"):
            assert _eq(row[col], exp[col]), (row["employee_id"], row["event_timestamp"], col)
    assert checked_null > 0  # the 46-day rows of leavers and the rows just before a first snapshot


def test_historical_features_need_the_entity_keys(workspace: Settings) -> None:
    entity = pd.DataFrame({"employee_id": ["E0001"], "event_timestamp": [pd.Timestamp("2024-01-01", tz="UTC")]})
    with pytest.raises(ValueError, match="course_id"):
        fs.historical_features(workspace, entity, "course_ranker_v1")


def test_course_ranker_pair_features(workspace: Settings, monthly: pd.DataFrame) -> None:
    snap = monthly[monthly["event_timestamp"] == monthly["event_timestamp"].max()].head(8)
    entity = snap[["employee_id", "job_id", "event_timestamp"]].merge(pd.DataFrame({"course_id": ["K0", "K3"]}),
                                                                      how="cross")
    got = fs.historical_features(workspace, entity, "course_ranker_v1")
    assert list(got.columns[-6:]) == ["gap_match", "max_gap_covered", "n_gap_skills_covered", "level_fit",
                                      "format_affinity", "already_completed"]
    courses = pd.read_parquet(feature_path(workspace.feature_dir, "course_stats"))
    for row in got.to_dict("records"):
        emp = snap[snap["employee_id"] == row["employee_id"]].iloc[0]
        crs = courses[(courses["course_id"] == row["course_id"])
                      & (courses["event_timestamp"] == row["event_timestamp"])].iloc[0]
        gaps = {s: g for s, g in zip(emp["skill_ids"], emp["skill_gaps"], strict=True) if not math.isnan(g)}
        covered = [gaps.get(s, 0.0) for s in crs["course_skill_ids"]]
        assert math.isclose(row["gap_match"], sum(covered), rel_tol=1e-6)
        assert row["n_gap_skills_covered"] == sum(g > 0 for g in covered)
        assert row["level_fit"] == crs["level"] - emp["job_level"]
        assert row["already_completed"] == (row["course_id"] in list(emp["completed_course_ids"]))


def test_online_equals_offline_at_the_latest_snapshot(workspace: Settings, monthly: pd.DataFrame) -> None:
    store = fs.feature_store(workspace)
    latest = monthly.sort_values("event_timestamp").groupby("employee_id").tail(1).sample(15, random_state=2)
    offline = fs.historical_features(workspace, latest[["employee_id", "event_timestamp"]], "attrition_v1")
    for row in offline.to_dict("records"):
        online = fs.online_features(store, "attrition_v1", [{"employee_id": row["employee_id"]}],
                                    as_of=row["event_timestamp"])
        assert online.features_as_of == row["event_timestamp"].to_pydatetime()
        for col in fs.feature_columns("attrition_v1"):
            assert _eq(online.values[col][0], row[col]), (row["employee_id"], col)


def test_online_arrays_and_multi_key_views_round_trip(workspace: Settings, monthly: pd.DataFrame) -> None:
    """The bulk SQLite writer stores what Feast reads back: arrays, NaN gaps, two-key entities."""
    store = fs.feature_store(workspace)
    latest = monthly.sort_values("event_timestamp").groupby("employee_id").tail(1).head(10)
    refs = ["employee_monthly:skill_ids", "employee_monthly:skill_gaps", "employee_monthly:completed_course_ids"]
    got = store.get_online_features(features=refs, entity_rows=[{"employee_id": e} for e in latest["employee_id"]])
    data = got.to_dict()
    for i, row in enumerate(latest.to_dict("records")):
        assert data["skill_ids"][i] == list(row["skill_ids"])
        assert data["completed_course_ids"][i] == list(row["completed_course_ids"])
        exp = [float(g) for g in row["skill_gaps"]]
        assert all(_eq(float(a), b) for a, b in zip(data["skill_gaps"][i], exp, strict=True))
    jc = pd.read_parquet(feature_path(workspace.feature_dir, "job_course_stats"))
    last = jc.sort_values("event_timestamp").groupby(["job_id", "course_id"]).tail(1).iloc[0]
    pair = store.get_online_features(features=["job_course_stats:peers_completed_total"],
                                     entity_rows=[{"job_id": last["job_id"], "course_id": last["course_id"]}])
    assert pair.to_dict()["peers_completed_total"] == [last["peers_completed_total"]]


def test_staleness_flag(workspace: Settings, monthly: pd.DataFrame) -> None:
    store = fs.feature_store(workspace)
    last = monthly[monthly["event_timestamp"] == monthly["event_timestamp"].max()].iloc[0]
    rows = [{"employee_id": last["employee_id"]}]
    fresh = fs.online_features(store, "attrition_v1", rows, as_of=last["event_timestamp"] + timedelta(days=10))
    assert not fresh.stale and fresh.features_as_of == last["event_timestamp"].to_pydatetime()
    edge = fs.online_features(store, "attrition_v1", rows, as_of=last["event_timestamp"] + MONTHLY_TTL)
    assert not edge.stale
    old = fs.online_features(store, "attrition_v1", rows,
                             as_of=last["event_timestamp"] + MONTHLY_TTL + timedelta(seconds=1))
    assert old.stale
    assert fs.online_features(store, "attrition_v1", rows).stale  # the test data are from 2024
    unknown = fs.online_features(store, "attrition_v1", [{"employee_id": "nobody"}])
    assert unknown.missing == ("employee_monthly",) and unknown.values["tenure_months"] == [None]
    with pytest.raises(ValueError, match="employee_id"):
        fs.online_features(store, "attrition_v1", [{"course_id": "K1"}])


def test_erasure_removes_the_employee_everywhere(tmp_path_factory: pytest.TempPathFactory) -> None:
    settings = Settings(home=tmp_path_factory.mktemp("features-erase"))
    publish_clean(settings, make_company(seed=9, employees=25))
    build_features(settings)
    fs.apply(settings)
    fs.materialize(settings)
    em = pd.read_parquet(feature_path(settings.feature_dir, "employee_monthly"))
    victim = em["employee_id"].iloc[0]
    store = fs.feature_store(settings)
    assert not fs.online_features(store, "attrition_v1", [{"employee_id": victim}]).missing
    removed = fs.erase_employee_features(settings, victim)
    assert removed["offline:employee_monthly"] == int((em["employee_id"] == victim).sum())
    assert removed["online:employee_monthly"] > 0
    after = pd.read_parquet(feature_path(settings.feature_dir, "employee_monthly"))
    assert victim not in set(after["employee_id"]) and len(after) == len(em) - removed["offline:employee_monthly"]
    assert fs.online_features(store, "attrition_v1", [{"employee_id": victim}]).missing == ("employee_monthly",)
    assert fs.erase_employee_features(settings, victim)["offline:employee_monthly"] == 0
    with pytest.raises(ValueError, match="employee_id"):
        fs.erase_employee_features(settings, "")
