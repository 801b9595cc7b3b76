"""The causal story, measured on the feeds of one 2,000 × 36 clean simulation (generated once)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.simulator import simulate


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("story") / "company"
    simulate(out, employees=2000, months=36, seed=5, dirty_rate=0.0, fmt="parquet")
    return out


def _read(out: Path, feed: str, table: str) -> pd.DataFrame:
    return pd.read_parquet(out / feed / f"{table}.parquet")


def _auc(score: np.ndarray, label: np.ndarray) -> float:
    ranks = pd.Series(score).rank().to_numpy()
    pos = label.astype(bool)
    return float((ranks[pos].sum() - pos.sum() * (pos.sum() + 1) / 2) / (pos.sum() * (~pos).sum()))


def _headcount(ev: pd.DataFrame, months: pd.DatetimeIndex) -> pd.Series:
    date = pd.to_datetime(ev["effective_date"])
    hires = np.sort(date[ev["event_type"] == "hire"].to_numpy())
    exits = np.sort(date[ev["event_type"] == "termination"].to_numpy())
    m = months.to_numpy()
    return pd.Series(np.searchsorted(hires, m) - np.searchsorted(exits, m), index=months)


def test_yearly_voluntary_attrition_is_between_10_and_20_percent(company: Path) -> None:
    ev = _read(company, "hr", "employment_events")
    months = pd.date_range("2023-01-01", periods=36, freq="MS")
    heads = _headcount(ev, months)
    vol = ev[(ev["event_type"] == "termination") & (ev["termination_type"] == "voluntary")]
    for year in (2023, 2024, 2025):
        exits = (vol["effective_date"].str[:4] == str(year)).sum()
        rate = exits / heads[heads.index.year == year].mean()
        assert 0.10 <= rate <= 0.20, f"{year}: {rate:.3f}"


def test_people_paid_low_in_band_leave_more(company: Path) -> None:
    ev = _read(company, "hr", "employment_events")
    jobs = _read(company, "hr", "jobs").set_index("job_id")
    before = ev[ev["effective_date"] < "2023-01-01"].groupby("employee_id").tail(1)
    before = before[before["event_type"] != "termination"]
    band = jobs.loc[before["job_id"]]
    position = (before["base_pay"].to_numpy() - band["pay_band_min"].to_numpy()) / (
        band["pay_band_max"].to_numpy() - band["pay_band_min"].to_numpy())
    vol = ev[(ev["event_type"] == "termination") & (ev["termination_type"] == "voluntary")
             & (ev["effective_date"] < "2024-01-01")]
    left = before["employee_id"].isin(vol["employee_id"]).to_numpy()
    low, high = position <= np.quantile(position, 1 / 3), position >= np.quantile(position, 2 / 3)
    assert left[low].mean() > 1.5 * left[high].mean(), (left[low].mean(), left[high].mean())


def test_observable_drivers_beat_tenure_alone(company: Path) -> None:
    hz = pd.read_parquet(company / "_truth" / "attrition_hazard.parquet")
    emp = _read(company, "hr", "employees").set_index("employee_id")
    hire = pd.to_datetime(emp.loc[hz["employee_id"].astype(str), "hire_date"]).to_numpy()
    tenure = (hz["month"].to_numpy() - hire) / np.timedelta64(1, "D")
    label = hz["exited_voluntarily"].to_numpy()
    oracle, tenure_only = _auc(hz["hazard"].to_numpy(), label), _auc(-tenure, label)
    assert oracle > tenure_only + 0.08, (oracle, tenure_only)
    # protected attributes have no effect on the true hazard
    sex = emp.loc[hz["employee_id"].astype(str), "sex"].to_numpy()
    by_sex = pd.Series(hz["hazard"].to_numpy()).groupby(sex).mean()
    assert by_sex["female"] == pytest.approx(by_sex["male"], rel=0.15)


def test_strong_courses_improve_the_next_review_more_than_non_takers(company: Path) -> None:
    enr = _read(company, "learning", "enrollments")
    effects = pd.read_parquet(company / "_truth" / "course_effects.parquet")
    ratings = _read(company, "performance", "competency_ratings")
    cycles = ratings.groupby("cycle_id")["review_date"].min().sort_index()
    ratings["ci"] = cycles.index.get_indexer(ratings["cycle_id"])
    done = enr[enr["status"] == "completed"].merge(effects, on="course_id")
    done["pre"] = np.searchsorted(cycles.to_numpy(), done["enrolled_at"].to_numpy()) - 1
    done["post"] = np.searchsorted(cycles.to_numpy(), done["completed_at"].to_numpy(), side="right") + 1
    done = done[(done["pre"] >= 0) & (done["post"] < len(cycles))]
    r = ratings[["employee_id", "skill_id", "ci", "rating"]]
    done = done.merge(r.rename(columns={"ci": "pre", "rating": "before"}), on=["employee_id", "skill_id", "pre"])
    done = done.merge(r.rename(columns={"ci": "post", "rating": "after"}), on=["employee_id", "skill_id", "post"])
    # comparable non-takers: same skill, same two cycles, same rating before, no completed course on the skill
    pairs = done[["pre", "post"]].drop_duplicates()
    base = r.rename(columns={"ci": "pre", "rating": "before"}).merge(pairs, on="pre")
    base = base.merge(r.rename(columns={"ci": "post", "rating": "after"}), on=["employee_id", "skill_id", "post"])
    takers = done[["employee_id", "skill_id"]].drop_duplicates().assign(taker=True)
    base = base.merge(takers, on=["employee_id", "skill_id"], how="left")
    base = base[base["taker"].isna()]
    keys = ["skill_id", "pre", "post", "before"]
    norm = (base["after"] - base["before"]).groupby([base[k] for k in keys]).agg(["mean", "size"])
    norm = norm[norm["size"] >= 5]["mean"].rename("expected")
    done = done.join(norm, on=keys).dropna(subset=["expected"])
    done["uplift"] = done["after"] - done["before"] - done["expected"]
    strong = done.loc[done["effect"] >= 0.7, "uplift"].mean()
    weak = done.loc[done["effect"] <= 0.1, "uplift"].mean()
    assert strong > 0.3, strong
    assert strong > weak + 0.25, (strong, weak)


def test_popularity_does_not_follow_the_true_effect(company: Path) -> None:
    effects = pd.read_parquet(company / "_truth" / "course_effects.parquet")
    enr = _read(company, "learning", "enrollments")
    taken = enr[enr["source"] == "self"].groupby("course_id").size()
    best = effects.groupby("course_id")["effect"].max()
    joined = pd.concat([best, taken.rename("n")], axis=1).fillna(0)
    assert joined["effect"].rank().corr(joined["n"].rank()) < 0.05


def test_sales_and_service_plans_peak_in_q4(company: Path) -> None:
    plans = _read(company, "hr", "headcount_plans")
    jobs = _read(company, "hr", "jobs").set_index("job_id")
    plans["family"] = jobs.loc[plans["job_id"], "family"].to_numpy()
    plans["month"] = pd.to_datetime(plans["plan_month"]).dt.month
    plans["year"] = pd.to_datetime(plans["plan_month"]).dt.year
    seasonal = plans["family"].isin(["sales", "customer_service"])
    for year in (2023, 2024, 2025):
        p = plans[plans["year"] == year]
        s, o = p[seasonal[p.index]], p[~seasonal[p.index]]
        q3 = s[s["month"].between(7, 9)]["planned_headcount"].sum() / 3
        q4 = s[s["month"] >= 10]["planned_headcount"].sum() / 3
        assert q4 > 1.12 * q3, (year, q3, q4)
        oq3 = o[o["month"].between(7, 9)]["planned_headcount"].sum() / 3
        oq4 = o[o["month"] >= 10]["planned_headcount"].sum() / 3
        assert oq4 < 1.06 * oq3


def test_the_adopting_division_asks_for_the_new_technology(company: Path) -> None:
    req = _read(company, "recruiting", "requisitions")
    skills = _read(company, "recruiting", "requisition_skills")
    asks = skills.loc[skills["skill_id"] == "SK-AWS", "requisition_id"].unique()  # no job requires AWS
    req["asks"] = req["requisition_id"].isin(asks)
    share = req.groupby(req["opened_at"].str[:4])["asks"].mean()
    assert share["2025"] > 3 * share["2023"], share
    demand = pd.read_parquet(company / "_truth" / "skill_demand.parquet")
    aws = demand[demand["skill_id"] == "SK-AWS"].groupby("month")["expected_demand"].sum()
    assert aws.iloc[-1] > 2 * aws.iloc[0]
