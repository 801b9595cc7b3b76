"""The simulator's output: determinism, contract conformance, referential integrity and exactly recorded dirt."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.contract import CONTRACT
from features.contract import TABLES as ALL_TABLES
from features.simulator import simulate
from features.simulator.dirty import DATE_FORMATS

SMALL = {"employees": 300, "months": 24, "seed": 11}
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# the tables a simulation writes by default (the optional learning_plans needs the learning-plan flow)
TABLES = tuple(t for t in ALL_TABLES if not t.optional)


def _read(out: Path, table: str, fmt: str = "csv") -> pd.DataFrame:
    feed = CONTRACT[table].feed
    if fmt == "csv":
        return pd.read_csv(out / feed / f"{table}.csv", dtype=str, keep_default_na=False, encoding="utf-8")
    return pd.read_parquet(out / feed / f"{table}.parquet")


def _hashes(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("sim")
    paths = {"clean": base / "clean", "clean_again": base / "clean_again", "dirty": base / "dirty",
             "other_seed": base / "other", "parquet": base / "parquet"}
    simulate(paths["clean"], dirty_rate=0.0, **SMALL)
    simulate(paths["clean_again"], dirty_rate=0.0, **SMALL)
    simulate(paths["dirty"], dirty_rate=0.05, **SMALL)
    simulate(paths["other_seed"], dirty_rate=0.0, **{**SMALL, "seed": 12})
    simulate(paths["parquet"], dirty_rate=0.05, fmt="parquet", **SMALL)
    return paths


def test_same_seed_gives_byte_identical_files(runs: dict[str, Path]) -> None:
    a, b = _hashes(runs["clean"]), _hashes(runs["clean_again"])
    assert a == b
    assert len(a) == len(TABLES) + 8  # feeds, mapping.yaml and seven truth files


def test_another_seed_gives_other_data(runs: dict[str, Path]) -> None:
    a, c = _hashes(runs["clean"]), _hashes(runs["other_seed"])
    assert a["hr/employment_events.csv"] != c["hr/employment_events.csv"]
    assert a["learning/skills.csv"] == c["learning/skills.csv"]  # the taxonomy does not depend on the seed


@pytest.mark.parametrize("table", [t.name for t in TABLES])
def test_clean_tables_conform_to_the_contract(runs: dict[str, Path], table: str) -> None:
    t = CONTRACT[table]
    df = _read(runs["clean"], table)
    assert list(df.columns) == t.column_names
    assert len(df) > 0
    assert not df.duplicated(list(t.key)).any(), f"{table}: duplicate keys"
    for c in t.columns:
        s = df[c.name]
        empty = s == ""
        if not c.nullable:
            assert not empty.any(), f"{table}.{c.name} has empty values"
        v = s[~empty]
        if c.kind == "date":
            assert v.str.match(ISO).all(), f"{table}.{c.name} is not ISO"
            pd.to_datetime(v, format="%Y-%m-%d")
        elif c.kind == "int":
            v = pd.to_numeric(v).astype("int64")
        elif c.kind == "float":
            v = pd.to_numeric(v).astype(float)
        elif c.kind == "bool":
            assert set(v) <= {"true", "false"}
        if c.allowed is not None:
            assert set(v) <= set(c.allowed), f"{table}.{c.name}: {set(v) - set(c.allowed)}"
        if c.ge is not None:
            assert (v >= c.ge).all(), f"{table}.{c.name} below {c.ge}"
        if c.le is not None:
            assert (v <= c.le).all(), f"{table}.{c.name} above {c.le}"


def test_clean_output_is_referentially_intact(runs: dict[str, Path]) -> None:
    frames = {t.name: _read(runs["clean"], t.name) for t in TABLES}
    for t in TABLES:
        for c in t.columns:
            if c.ref:
                ref_table, ref_col = c.ref.split(".")
                values = set(frames[t.name][c.name]) - {""}
                missing = values - set(frames[ref_table][ref_col])
                assert not missing, f"{t.name}.{c.name}: {sorted(missing)[:5]} not in {c.ref}"
    ev = frames["employment_events"]
    managers = set(ev["manager_id"]) - {""}
    assert managers <= set(frames["employees"]["employee_id"])
    assert set(frames["reviews"]["reviewer_id"]) - {""} <= set(frames["employees"]["employee_id"])


def test_events_are_consistent_histories(runs: dict[str, Path]) -> None:
    ev = _read(runs["clean"], "employment_events")
    emp = _read(runs["clean"], "employees")
    first = ev.groupby("employee_id", sort=False).first()
    assert (first["event_type"] == "hire").all(), "every history starts with a hire"
    assert set(first.index) == set(emp["employee_id"])
    hires = ev[ev["event_type"] == "hire"].set_index("employee_id")["effective_date"]
    assert (hires.reindex(emp["employee_id"]).to_numpy() == emp["hire_date"].to_numpy()).all()
    last = ev.groupby("employee_id").tail(1)
    assert (ev.groupby("employee_id")["event_type"].apply(lambda s: (s == "termination").sum()) <= 1).all()
    term = ev[ev["event_type"] == "termination"]
    assert set(term["termination_type"]) == {"voluntary", "involuntary"}
    assert (last.loc[last["employee_id"].isin(term["employee_id"]), "event_type"] == "termination").all()
    assert (ev.loc[ev["event_type"] != "termination", "termination_type"] == "").all()


def test_reviews_rate_required_skills_and_recruiting_links_hires(runs: dict[str, Path]) -> None:
    out = runs["clean"]
    reviews, ratings = _read(out, "reviews"), _read(out, "competency_ratings")
    assert reviews["cycle_id"].str.match(r"^\d{4}Q[1-4]$").all()
    per_review = ratings.groupby(["employee_id", "cycle_id"]).size()
    assert per_review.between(6, 12).all()
    cand = _read(out, "candidates")
    hired = cand[cand["stage"] == "hired"]
    assert (hired["hired_employee_id"] != "").all()
    assert (cand.loc[cand["stage"] != "hired", "hired_employee_id"] == "").all()
    assert hired["requisition_id"].is_unique
    enr = _read(out, "enrollments")
    assert set(enr["source"]) == {"assigned", "self", "mandatory", "recommended"}
    done = enr[enr["status"] == "completed"]
    assert (done["completed_at"] >= done["enrolled_at"]).all()
    assert (enr.loc[enr["status"] != "completed", "completed_at"] == "").all()


def test_dirty_rows_are_exactly_the_recorded_ones(runs: dict[str, Path]) -> None:
    truth = pd.read_parquet(runs["dirty"] / "_truth" / "dirty_rows.parquet")
    assert set(truth["kind"]) == {"duplicate", "alias", "date_format", "missing", "out_of_range",
                                  "unknown_employee", "padded_id"}
    aliases = set(_read(runs["clean"], "course_aliases")["alias"])
    for t in TABLES:
        clean, dirty = _read(runs["clean"], t.name), _read(runs["dirty"], t.name)
        rows = truth[truth["table"] == t.name]
        assert (rows["file"] == f"{t.feed}/{t.name}.csv").all()
        dups = rows.loc[rows["kind"] == "duplicate", "row"].to_numpy()
        for r in dups:  # an exact copy of the row before it
            assert dirty.iloc[r].equals(dirty.iloc[r - 1])
        kept = dirty.drop(index=dups).reset_index(drop=True)
        assert len(kept) == len(clean)
        position = np.arange(len(dirty))
        new_row = pd.Series(np.arange(len(kept)), index=np.delete(position, dups))
        diff = kept.to_numpy() != clean.to_numpy()
        cells = rows[rows["kind"] != "duplicate"]
        expected = np.zeros_like(diff)
        for _, e in cells.iterrows():
            r, c = new_row[e["row"]], clean.columns.get_loc(e["column"])
            expected[r, c] = True
            assert clean.iat[r, c] == (e["original_value"] or "")
            assert dirty.iat[e["row"], c] == (e["written_value"] or "")
            if e["kind"] == "alias":
                assert e["written_value"] in aliases
            if e["kind"] == "date_format":
                assert any(_parses(e["written_value"], f) for f in DATE_FORMATS[1:])
        assert (diff == expected).all(), f"{t.name}: unrecorded differences"


def _parses(value: str, fmt: str) -> bool:
    try:
        pd.to_datetime(value, format=fmt)
    except ValueError:
        return False
    return True


def test_mapping_declares_the_date_formats(runs: dict[str, Path]) -> None:
    import yaml

    dirty = yaml.safe_load((runs["dirty"] / "mapping.yaml").read_text(encoding="utf-8"))
    assert dirty == {"date_formats": list(DATE_FORMATS)}
    clean = yaml.safe_load((runs["clean"] / "mapping.yaml").read_text(encoding="utf-8"))
    assert clean == {"date_formats": ["%Y-%m-%d"]}


def test_parquet_feeds_keep_dates_as_strings(runs: dict[str, Path]) -> None:
    import pyarrow.parquet as pq

    out = runs["parquet"]
    for t in TABLES:
        schema = pq.read_schema(out / t.feed / f"{t.name}.parquet")
        assert schema.names == t.column_names
        for c in t.columns:
            if c.kind in ("date", "str"):
                assert str(schema.field(c.name).type) == "string", f"{t.name}.{c.name}"
    truth = pd.read_parquet(out / "_truth" / "dirty_rows.parquet")
    assert (truth["file"].str.endswith(".parquet")).all()
    enr = _read(out, "enrollments", "parquet")
    bad = truth[(truth["table"] == "enrollments") & (truth["kind"] == "out_of_range")]
    assert (enr.loc[bad["row"], "exam_score"] == 130.0).all()


def test_truth_files(runs: dict[str, Path]) -> None:
    truth = runs["clean"] / "_truth"
    hazard = pd.read_parquet(truth / "attrition_hazard.parquet")
    assert hazard["hazard"].between(0, 1).all()
    assert str(hazard["month"].dtype).startswith("datetime64")
    assert (hazard["month"].dt.day == 1).all()
    assert not (hazard["involuntary"] & hazard["exited_voluntarily"]).any()
    ev = _read(runs["clean"], "employment_events")
    term = ev[ev["event_type"] == "termination"]
    in_window = term[term["effective_date"] >= "2023-01-01"]
    assert (in_window["termination_type"] == "voluntary").sum() == hazard["exited_voluntarily"].sum()
    skills = pd.read_parquet(truth / "skill_levels.parquet")
    assert list(skills.columns) == ["employee_id", "month", "skill_id", "true_level"]
    assert skills["true_level"].between(1, 5).all()
    effects = pd.read_parquet(truth / "course_effects.parquet")
    assert list(effects.columns) == ["course_id", "skill_id", "effect", "popularity"]
    assert effects["effect"].max() > 0.7 and effects["effect"].min() < 0.05
    demand = pd.read_parquet(truth / "skill_demand.parquet")
    assert {"org_unit_id", "skill_id", "month", "expected_demand", "expected_supply"} <= set(demand.columns)
    latent = pd.read_parquet(truth / "latent.parquet")
    assert latent["employee_id"].is_unique


def test_bad_arguments_name_the_parameter(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="employees"):
        simulate(tmp_path, employees=10)
    with pytest.raises(ValueError, match="fmt"):
        simulate(tmp_path, fmt="xlsx")
    with pytest.raises(ValueError, match="start"):
        simulate(tmp_path, start="2023-13")
    with pytest.raises(ValueError, match="dirty_rate"):
        simulate(tmp_path, dirty_rate=2.0)


def test_cli_writes_the_feeds_and_prints_a_summary(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from talentloop.cli import app

    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["simulate", "--employees", "120", "--months", "4", "--seed", "3",
                                      "--out", str(out), "--format", "parquet", "--dirty-rate", "0"])
    assert result.exit_code == 0, result.output
    assert "voluntary" in result.output.lower() and "dirty rows: 0" in result.output
    assert all((out / t.feed / f"{t.name}.parquet").exists() for t in TABLES)
    assert not any((out / t.feed / f"{t.name}.parquet").exists() for t in ALL_TABLES if t.optional)
    bad = CliRunner().invoke(app, ["simulate", "--out", str(out), "--format", "json"])
    assert bad.exit_code == 2 and "fmt" in bad.output


def test_taxonomy_and_catalog_are_grounded_and_bilingual(runs: dict[str, Path]) -> None:
    out = runs["clean"]
    jobs, skills = _read(out, "jobs"), _read(out, "skills")
    assert jobs["onet_code"].nunique() >= 12
    assert len(skills) >= 40 and (skills["category"] == "technology").sum() >= 5
    assert skills["name_zh"].str.contains(r"[\u4e00-\u9fff]").all()
    assert dict(zip(skills["name_en"], skills["name_zh"], strict=True))["Negotiation"] == "谈判技巧"
    per_job = _read(out, "job_skill_requirements").groupby("job_id").size()
    assert per_job.between(6, 12).all()
    assert set(jobs["next_job_id"]) - {""} <= set(jobs["job_id"])
    courses = _read(out, "courses")
    assert len(courses) >= 200 and set(courses["format"]) == {"online", "workshop", "mentoring"}
    assert (courses["mandatory"] == "true").sum() >= 2
    assert (courses["created_at"] >= "2023-01-01").sum() >= 10  # new courses appear during the window
    assert courses["title_zh"].str.contains(r"[\u4e00-\u9fff]").all()
    units = _read(out, "org_units")
    assert (units["unit_type"] == "division").sum() >= 3 and (units["unit_type"] == "team").sum() > 0
    attribution = "O*NET 29.2 Database by the U.S. Department of Labor"
    subset = Path(__file__).parents[1] / "features" / "simulator" / "data" / "onet_subset.csv"
    assert attribution in subset.read_text(encoding="utf-8").splitlines()[0]
