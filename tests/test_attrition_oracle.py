"""The attrition oracles: the full-information one (realised latent terms) and the process oracle (the law of
the latent terms, integrated out), on hand-made truth folders and on the simulator's truth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import roc_auc_score

from evaluation.attrition_oracle import (
    LatentTerm,
    has_process_truth,
    latent_terms,
    oracle_risk,
    process_oracle_risk,
    profile_hidden,
    profile_oracle_risk,
)

LAW = {"engagement": {"coefficient": -0.5, "mean_sd": 0.0, "start_sd": 1.0, "rho": 0.98, "sd": 0.18},
       "outside_pull": {"coefficient": 1.0, "mean_sd": 0.35, "start_sd": 0.3, "rho": 0.85, "sd": 0.2}}
ZERO = {k: {**v, "mean_sd": 0.0, "start_sd": 0.0, "sd": 0.0} for k, v in LAW.items()}
MONTHS = pd.date_range("2024-01-01", periods=8, freq="MS")


def _write(truth: Path, df: pd.DataFrame, law: dict | None, hidden: tuple[str, ...] = ()) -> Path:
    truth.mkdir(parents=True, exist_ok=True)
    if law is not None:
        df.attrs["latent_process"] = law
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), truth / "attrition_hazard.parquet")
    (truth / "manifest.json").write_text(json.dumps({"hidden_logit": list(hidden)} if hidden else {}))
    return truth


def _simulate(n: int, law: dict, seed: int = 0, first: np.ndarray | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """People with a constant observable logit, latent terms drawn from ``law`` and exits drawn from the full
    hazard; returns (truth rows while employed, exit month index or -1)."""
    rng = np.random.default_rng(seed)
    first = np.zeros(n, int) if first is None else first
    obs = rng.normal(-3.5, 0.8, n)
    terms = [LatentTerm(**p) for p in law.values()]
    mean = [rng.normal(0, t.mean_sd, n) for t in terms]
    dev = [t.rho * rng.normal(0, t.start_sd, n) for t in terms]
    exit_m = np.full(n, -1)
    rows = []
    for j in range(len(MONTHS)):
        for i, t in enumerate(terms):
            if j:
                dev[i] = np.where(j > first, t.rho * dev[i], dev[i])
            dev[i] = dev[i] + np.where(j >= first, rng.normal(0, t.sd, n), 0.0)
        latent = [m + d for m, d in zip(mean, dev, strict=True)]
        logit = obs + sum(t.coefficient * v for t, v in zip(terms, latent, strict=True))
        hz = 1 / (1 + np.exp(-logit))
        here = (exit_m < 0) & (j >= first)
        leave = here & (rng.random(n) < hz)
        exit_m[leave] = j
        idx = np.flatnonzero(here)
        rows.append(pd.DataFrame({"employee_id": [f"E{i:05d}" for i in idx], "month": MONTHS[j], "hazard": hz[idx],
                                  "involuntary": False, "exited_voluntarily": leave[idx], "logit_observable": obs[idx],
                                  "engagement_latent": latent[0][idx], "outside_pull": latent[1][idx]}))
    return pd.concat(rows, ignore_index=True), exit_m


def _snapshots(n: int, month: int = 0) -> pd.DataFrame:
    return pd.DataFrame({"employee_id": [f"E{i:05d}" for i in range(n)],
                         "event_timestamp": pd.Timestamp(MONTHS[month], tz="UTC")})


def test_without_latent_variance_the_process_oracle_is_the_full_oracle(tmp_path: Path) -> None:
    df, _ = _simulate(300, ZERO)
    truth = _write(tmp_path / "_truth", df, ZERO)
    later = _snapshots(300, 2)
    later = later[later["employee_id"].isin(df.loc[df["month"] == MONTHS[2], "employee_id"])]
    rows = pd.concat([_snapshots(300, 0), later], ignore_index=True)
    full = oracle_risk(truth, rows, (1, 3, 6))
    process = process_oracle_risk(truth, rows, (1, 3, 6), draws=16)
    np.testing.assert_allclose(process, full, rtol=1e-5, atol=1e-9)  # equal up to the float32 latent paths


def test_with_latent_variance_the_process_oracle_is_calibrated_but_less_sharp(tmp_path: Path) -> None:
    n = 6000
    df, exit_m = _simulate(n, LAW, seed=1)
    truth = _write(tmp_path / "_truth", df, LAW)
    rows = _snapshots(n)
    y = ((exit_m >= 0) & (exit_m < 3)).astype(int)
    full = oracle_risk(truth, rows, (3,))[:, 0]
    process = process_oracle_risk(truth, rows, (3,), draws=400)[:, 0]
    assert roc_auc_score(y, full) > roc_auc_score(y, process) + 0.02
    assert roc_auc_score(y, process) > 0.6
    assert process.std() < full.std()
    # the latent terms are integrated out, not dropped: same expected number of leavers as the full oracle
    assert process.mean() == pytest.approx(full.mean(), rel=0.03)
    assert process.mean() == pytest.approx(y.mean(), rel=0.1)


def test_first_month_risk_is_the_integral_over_the_latent_law(tmp_path: Path) -> None:
    df = pd.DataFrame({"employee_id": ["E00000", "E00001"], "month": MONTHS[0], "hazard": 0.05,
                       "involuntary": False, "exited_voluntarily": False, "logit_observable": [-3.0, -1.0],
                       "engagement_latent": 0.0, "outside_pull": 0.0})
    truth = _write(tmp_path / "_truth", df, LAW)
    risk = process_oracle_risk(truth, _snapshots(2), (1,), draws=200_000)[:, 0]
    # logit = obs + c_e·e + c_p·p, e ~ N(0, rho²·1 + sd²), p ~ N(0, 0.35² + rho²·0.3² + sd²): one normal
    e, p = LAW["engagement"], LAW["outside_pull"]
    var = (e["coefficient"] ** 2 * (e["rho"] ** 2 * e["start_sd"] ** 2 + e["sd"] ** 2)
           + p["coefficient"] ** 2 * (p["mean_sd"] ** 2 + p["rho"] ** 2 * p["start_sd"] ** 2 + p["sd"] ** 2))
    x, w = np.polynomial.hermite_e.hermegauss(60)
    for obs, r in zip((-3.0, -1.0), risk, strict=True):
        exact = float(np.sum(w / (1 + np.exp(-(obs + np.sqrt(var) * x)))) / np.sqrt(2 * np.pi))
        assert r == pytest.approx(exact, rel=0.01)
        assert r > 1 / (1 + np.exp(-obs))  # E[sigmoid] above sigmoid(E) in the left tail: latent spread adds risk


def test_survival_to_the_snapshot_lowers_the_expected_pull(tmp_path: Path) -> None:
    # one person employed since month 0, one hired at month 6; the same observable logit at month 6
    df = pd.DataFrame({"employee_id": ["E00000"] * 7 + ["E00001"], "month": [*MONTHS[:7], MONTHS[6]],
                       "hazard": 0.05, "involuntary": False, "exited_voluntarily": False, "logit_observable": -1.5,
                       "engagement_latent": 0.0, "outside_pull": 0.0})
    truth = _write(tmp_path / "_truth", df, LAW)
    rows = _snapshots(2, month=6)
    veteran, newcomer = process_oracle_risk(truth, rows, (1,), draws=50_000)[:, 0]
    assert veteran < newcomer - 0.01


def test_a_truth_without_the_latent_process_has_only_the_full_oracle(tmp_path: Path) -> None:
    df, _ = _simulate(50, LAW)
    truth = _write(tmp_path / "_truth", df[["employee_id", "month", "hazard", "involuntary", "exited_voluntarily"]],
                   None)
    assert not has_process_truth(truth) and not has_process_truth(None)
    assert oracle_risk(truth, _snapshots(50), (3,)).shape == (50, 1)
    with pytest.raises(ValueError, match="latent process"):
        process_oracle_risk(truth, _snapshots(50), (3,))


@pytest.fixture(scope="module")
def sim_truth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh small simulation (not the session's cached feeds, which may predate the truth columns)."""
    from features.simulator import simulate

    out = tmp_path_factory.mktemp("sim") / "company"
    simulate(out, employees=400, months=18, seed=5, dirty_rate=0.0)
    return out / "_truth"


def test_simulator_truth_splits_the_logit_into_observable_and_latent_terms(sim_truth: Path) -> None:
    truth = sim_truth
    terms = latent_terms(truth)
    assert terms is not None and set(terms) == {"engagement", "outside_pull"}
    hz = pd.read_parquet(truth / "attrition_hazard.parquet")
    logit = np.log(hz["hazard"] / (1 - hz["hazard"]))
    rebuilt = (hz["logit_observable"] + terms["engagement"].coefficient * hz["engagement_latent"]
               + terms["outside_pull"].coefficient * hz["outside_pull"])
    np.testing.assert_allclose(rebuilt, logit, atol=1e-6)
    # the start law: one AR step from the initial draw before the first month's hazard
    first = hz.groupby("employee_id", observed=True)["month"].transform("min") == hz["month"]
    e, p = terms["engagement"], terms["outside_pull"]
    sd_e = np.sqrt(e.mean_sd ** 2 + e.rho ** 2 * e.start_sd ** 2 + e.sd ** 2)
    sd_p = np.sqrt(p.mean_sd ** 2 + p.rho ** 2 * p.start_sd ** 2 + p.sd ** 2)
    assert hz.loc[first, "engagement_latent"].std() == pytest.approx(sd_e, rel=0.1)
    assert hz.loc[first, "outside_pull"].std() == pytest.approx(sd_p, rel=0.1)
    # the process oracle's expected leavers match the full oracle's on the simulated company
    rows = hz.loc[hz["month"] == hz["month"].sort_values().unique()[6], ["employee_id", "month"]]
    rows = rows.rename(columns={"month": "event_timestamp"})
    full, process = oracle_risk(truth, rows, (3,)), process_oracle_risk(truth, rows, (3,), draws=400)
    assert process.mean() == pytest.approx(full.mean(), rel=0.15)


def test_tracking_latent_engagement_draws_no_random_number() -> None:
    from features.simulator.dynamics import _drift
    from features.simulator.state import Workforce
    from features.simulator.taxonomy import build_taxonomy

    tax = build_taxonomy()
    out = []
    for track in (False, True):
        wf = Workforce(tax.n_skills, cap=50)
        wf.add(40)
        wf.arrays["active"][:40] = True
        wf.arrays["job"][:40] = 0
        wf.arrays["engagement"][:40] = np.linspace(-1, 1, 40)
        rng = np.random.default_rng(3)
        _drift(wf, tax, rng, np.zeros(50) if track else None)
        out.append((wf.arrays["engagement"].copy(), wf.arrays["pull"].copy(), rng.random()))
    assert np.array_equal(out[0][0], out[1][0]) and np.array_equal(out[0][1], out[1][1])
    assert out[0][2] == out[1][2]


def test_summary_reports_the_ratio_to_each_oracle() -> None:
    from evaluation.attrition_backtest import flat_metrics, summarise

    auc = {"model": 0.70, "logistic": 0.69, "process_oracle": 0.73, "oracle": 0.78}
    metrics = pd.DataFrame([{"fold": f, "origin": None, "horizon": 3, "method": m, "roc_auc": a, "pr_auc": a / 5}
                            for f in range(2) for m, a in auc.items()])
    flat = flat_metrics(summarise(metrics))
    assert flat["model_h3_roc_auc_vs_oracle"] == pytest.approx(0.70 / 0.78)
    assert flat["model_h3_roc_auc_vs_process_oracle"] == pytest.approx(0.70 / 0.73)
    assert flat["process_oracle_h3_roc_auc"] == pytest.approx(0.73)


def test_the_job_passes_only_the_tuned_parameters_a_model_class_accepts() -> None:
    from models.attrition import AttritionModel
    from training_jobs.attrition import TUNED_PARAMS, tuned_params

    class Narrow(AttritionModel):
        def __init__(self, num_leaves: int = 15, random_state: int = 0):
            super().__init__(num_leaves=num_leaves, random_state=random_state)

    assert tuned_params(Narrow) == {"num_leaves": TUNED_PARAMS["num_leaves"]}
    assert set(tuned_params(AttritionModel)) <= set(TUNED_PARAMS)
    assert {"num_leaves", "min_child_samples", "learning_rate", "calibration_months"} <= set(tuned_params(AttritionModel))


def test_a_hidden_part_the_same_for_everyone_is_read_as_if_seen(tmp_path: Path) -> None:
    df, _ = _simulate(400, ZERO, seed=2)  # no latent variance: both oracles are exact, no Monte Carlo noise
    df = df.assign(logit_reviews=0.3)
    truth = _write(tmp_path / "_truth", df, ZERO, hidden=("logit_reviews",))
    assert profile_hidden(truth) == ("logit_reviews",)
    rows = _snapshots(400)
    np.testing.assert_allclose(profile_oracle_risk(truth, rows, (1, 3), draws=64),
                               process_oracle_risk(truth, rows, (1, 3), draws=64), rtol=1e-5)


def test_the_profile_oracle_integrates_out_what_the_export_does_not_hold(tmp_path: Path) -> None:
    n = 6000
    rng = np.random.default_rng(4)
    df, exit_m = _simulate(n, ZERO, seed=3)
    # half the people carry a hidden +1.5 on the logit all along (already part of logit_observable); redraw exits
    flag = pd.Series(rng.random(n) < 0.5, index=[f"E{i:05d}" for i in range(n)])
    df = df[df["month"] == MONTHS[0]].copy()
    df["logit_reviews"] = 1.5 * flag.reindex(df["employee_id"]).to_numpy()
    df["logit_observable"] += df["logit_reviews"]
    df["hazard"] = 1 / (1 + np.exp(-df["logit_observable"]))
    y = (rng.random(n) < df["hazard"].to_numpy()).astype(int)
    truth = _write(tmp_path / "_truth", df, ZERO, hidden=("logit_reviews",))
    rows = _snapshots(n)
    seen = process_oracle_risk(truth, rows, (1,), draws=16)[:, 0]
    thin = profile_oracle_risk(truth, rows, (1,), draws=400)[:, 0]
    assert roc_auc_score(y, seen) > roc_auc_score(y, thin) + 0.03  # less information, a lower ceiling
    assert roc_auc_score(y, thin) > 0.55
    assert thin.mean() == pytest.approx(seen.mean(), rel=0.05)  # integrated out, not dropped


def test_the_profile_oracle_draws_hidden_parts_from_the_hire_cohort(tmp_path: Path) -> None:
    """Veterans carry a hidden training credit (−1 on the logit), people hired at month 4 none yet: a newcomer's
    hidden part comes from other newcomers (as the process oracle, which sees it), not from the company's mix."""
    veterans, newcomers = 200, 200
    ids = [f"E{i:05d}" for i in range(veterans + newcomers)]
    parts = [pd.DataFrame({"employee_id": e, "month": MONTHS[(0 if i < veterans else 4):],
                           "logit_learning": -1.0 if i < veterans else 0.0}) for i, e in enumerate(ids)]
    df = pd.concat(parts, ignore_index=True)
    df["logit_observable"] = -3.0 + df["logit_learning"]
    df = df.assign(hazard=1 / (1 + np.exp(-df["logit_observable"])), involuntary=False, exited_voluntarily=False,
                   engagement_latent=0.0, outside_pull=0.0)
    truth = _write(tmp_path / "_truth", df, ZERO, hidden=("logit_learning",))
    rows = pd.DataFrame({"employee_id": ids[veterans:], "event_timestamp": pd.Timestamp(MONTHS[5], tz="UTC")})
    seen = process_oracle_risk(truth, rows, (1,), draws=64)[:, 0]
    cohort = profile_oracle_risk(truth, rows, (1,), draws=64)[:, 0]
    marginal = profile_oracle_risk(truth, rows, (1,), draws=64, cohort=None)[:, 0]
    np.testing.assert_allclose(cohort, seen, rtol=1e-5)
    assert marginal.mean() < seen.mean() - 0.005  # the company-wide law would credit newcomers with training


def test_cohort_pools_are_the_nearest_hire_months_never_the_person() -> None:
    from evaluation.attrition_oracle import cohort_pools

    first = np.array([0] * 50 + list(range(1, 31)) + [40] * 3)
    pools = cohort_pools(first, 6, np.random.default_rng(0))
    assert pools.shape == (len(first), 6)
    assert not (pools == np.arange(len(first))[:, None]).any()
    assert (np.abs(first[pools] - first[:, None]).max(axis=1)[50:80] <= 6).all()
    assert (first[pools[:50]] <= 3).all()  # people hired before the grid draw from each other
    assert cohort_pools(first, None, np.random.default_rng(0)).shape == (len(first), len(first) - 1)


def test_without_a_hidden_part_there_is_no_profile_oracle(tmp_path: Path) -> None:
    df, _ = _simulate(50, LAW)
    truth = _write(tmp_path / "_truth", df, LAW)
    assert profile_hidden(truth) == () and profile_hidden(None) == ()
    with pytest.raises(ValueError, match="no logit part hidden"):
        profile_oracle_risk(truth, _snapshots(50), (3,))
    named = _write(tmp_path / "other", df, LAW, hidden=("logit_reviews",))  # named but not in the truth
    assert profile_hidden(named) == ()


def test_simulator_truth_keeps_the_review_and_learning_parts_of_the_logit(sim_truth: Path) -> None:
    hz = pd.read_parquet(sim_truth / "attrition_hazard.parquet")
    reviews = pd.read_csv(sim_truth.parent / "performance" / "reviews.csv", parse_dates=["review_date"])
    assert (hz["logit_learning"] <= 1e-12).all() and (hz["logit_learning"] < -0.4).any()  # training lowers risk
    assert (hz["logit_reviews"] >= -1e-12).all()
    weak = hz[hz["logit_reviews"] >= 0.7]  # the weak-review term is on
    assert len(weak) > 20
    low = reviews[reviews["overall_rating"] <= 2]
    pair = weak[["employee_id", "month"]].astype({"employee_id": str}).merge(
        low[["employee_id", "review_date"]].astype({"employee_id": str}), on="employee_id")
    recent = pair[(pair["review_date"] < pair["month"])
                  & (pair["review_date"] >= pair["month"] - pd.DateOffset(months=8))]
    assert recent[["employee_id", "month"]].drop_duplicates().shape[0] == len(weak)


def test_simulator_truth_splits_the_annual_cycle_from_the_other_reviews(sim_truth: Path) -> None:
    """``logit_reviews_offcycle`` (what `annual-reviews` hides) is the part of ``logit_reviews`` that a Q4 review
    does not explain: between 0 and the whole, and the rest is on only after a weak Q4 review."""
    hz = pd.read_parquet(sim_truth / "attrition_hazard.parquet")
    reviews = pd.read_csv(sim_truth.parent / "performance" / "reviews.csv", parse_dates=["review_date"])
    off, whole = hz["logit_reviews_offcycle"], hz["logit_reviews"]
    assert (off >= -1e-12).all() and (off <= whole + 1e-12).all()
    assert (off >= 0.7).any() and (whole - off >= 0.7).any()  # both parts carry a weak-review term somewhere
    annual = hz[whole - off >= 0.7]  # the weak-review term turned on by a Q4 review
    low = reviews[(reviews["overall_rating"] <= 2) & reviews["cycle_id"].astype(str).str.endswith("Q4")]
    pair = annual[["employee_id", "month"]].astype({"employee_id": str}).merge(
        low[["employee_id", "review_date"]].astype({"employee_id": str}), on="employee_id")
    recent = pair[(pair["review_date"] < pair["month"])
                  & (pair["review_date"] >= pair["month"] - pd.DateOffset(months=8))]
    assert recent[["employee_id", "month"]].drop_duplicates().shape[0] == len(annual)
