"""The oracles for attrition, both from the simulator's truth folder.

**Full-information oracle** (:func:`oracle_risk`, method ``oracle``): the simulator's true monthly hazard
composed to the horizon. For a snapshot (employee, T) and horizon h: P = 1 - prod_{k<h} (1 - hazard(employee,
T + k)), over the months of the window. The truth records a hazard only while the person is employed, so
after an exit the last recorded hazard is carried forward (counting those months as zero would make leavers
look safe). It knows each person's *realised* latent terms (outside pull, engagement), which no model can
observe: a ceiling no model can reach.

**Process oracle** (:func:`process_oracle_risk`, method ``process_oracle``): knows the generating process
(the logit's formula and coefficients, the laws of the two latent processes) but of each person only the
observable part of the logit (``attrition_hazard.logit_observable``: every term but the latent ones, with
engagement's shifts after observable events — promotion, manager change, weak review, completion). The
latent terms are integrated out by Monte Carlo over their law, conditioned on what the process implies about
a person still employed at T: latent paths are drawn from the person's first month, and

    P(exit within h | employed at T) = 1 - E[S(T + h)] / E[S(T)],   S(m) = prod_{m' < m} (1 - q(m')),

the expectation over latent paths (survival up to T re-weights them: those still here tend to have a lower
pull). It does not use the behaviour through which engagement also shows (enrolments, KPI), so a model
might in principle beat it a little; it is the ceiling of "perfect knowledge of the process, only the
observable state". Like the full oracle it reads the observable terms of the months T..T+h-1 from the truth
(future pay reviews, manager changes, team exits), which a model cannot know either.

**Profile oracle** (:func:`profile_oracle_risk`, method ``profile_oracle``): the process oracle restricted to
what an export profile keeps. A thin export drops tables through which part of the observable logit shows:
``hris-minimal`` (no reviews, no learning feed) the weak-review and training terms and the engagement shifts
after weak reviews and completions (the truth keeps them as ``logit_reviews`` and ``logit_learning``);
``no-learning`` the learning part; ``annual-reviews`` (the Q4 cycle only) the part of the review logit the
Q1-Q3 cycles make (``logit_reviews_offcycle``). The manifest's ``hidden_logit`` names the parts a profile drops;
``full`` and ``small`` drop none, so their profile oracle is the process oracle. The hidden parts are integrated
out like the latent terms: each Monte Carlo draw takes the hidden path of a donor (calendar-aligned; before a
donor's first month and after their last the nearest recorded value), and survival up to T re-weights the draws.
The donor is drawn among the :data:`COHORT` other people whose first month on the grid (hire month, or the
grid's first month for people hired before it) is nearest the person's, never the person: the hidden parts
depend on tenure, which every export shows (a new hire has had no training yet, so the company-wide law would
credit them with the average training term; on a seed-3 company the marginal law put the risk of people in
their first six months at 0.083 against the process oracle's 0.088, the hire-cohort law at 0.088). Other
visible state explains little of the hidden parts (org unit, manager, job, months in the job: at most 2 % of
their variance, leave-one-person-out; tenure band 8 % of the learning part), so the cohort law is close to the
conditional law given the visible state, which the simulator does not have in closed form. The oracle still
reads the observable terms of the months T..T+h-1 (as the process oracle does), which no model can know, so it
errs high rather than low (apart from what the process oracle ignores too: the behaviour through which
engagement shows). It is what the model's ratio is taken against; the process oracle stays reported beside it.

All are scored on the same backtest rows; the training job reports each, and the ratios to each.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from evaluation.truth import read

HAZARD = "attrition_hazard"
OBSERVABLE = "logit_observable"
MAX_HORIZON = 12
COHORT = 40  # the profile oracle's donors: this many people of the nearest hire months (never the person)


def oracle_risk(truth_dir: Path, rows: pd.DataFrame, horizons: tuple[int, ...]) -> np.ndarray:
    """rows: ``employee_id, event_timestamp``; returns rows × len(horizons) true probabilities."""
    hz = read(truth_dir, HAZARD)[["employee_id", "month", "hazard"]].copy()
    hz["employee_id"] = hz["employee_id"].astype(str)
    hz["m"] = _month_index(hz["month"])
    table = hz.set_index(["employee_id", "m"])["hazard"]
    t = _month_index(rows["event_timestamp"])
    ids = rows["employee_id"].astype(str).to_numpy()
    H = max(horizons)
    q = np.full((len(rows), H), np.nan)
    for k in range(H):
        idx = pd.MultiIndex.from_arrays([ids, t + k])
        q[:, k] = table.reindex(idx).to_numpy()
    q = pd.DataFrame(q).ffill(axis=1).fillna(0.0).to_numpy()
    surv = np.cumprod(1 - q, axis=1)
    return np.column_stack([1 - surv[:, h - 1] for h in horizons])


# --------------------------------------------------------------------------------------- process oracle
@dataclass(frozen=True)
class LatentTerm:
    """One latent term of the logit: ``coefficient`` × (mean + dev); mean ~ N(0, mean_sd) per person,
    dev(first month) = rho·dev0 + N(0, sd) with dev0 ~ N(0, start_sd), then dev(m + 1) = rho·dev(m) + N(0, sd)."""

    coefficient: float
    mean_sd: float
    start_sd: float
    rho: float
    sd: float


def latent_terms(truth_dir: Path) -> dict[str, LatentTerm] | None:
    """The latent process stored with the hazard truth, or None for a truth folder written without it."""
    path = Path(truth_dir) / f"{HAZARD}.parquet"
    if not path.exists():
        return None
    schema = pq.read_schema(path)
    law = ((schema.pandas_metadata or {}).get("attributes") or {}).get("latent_process")
    if not law or OBSERVABLE not in schema.names:
        return None
    return {name: LatentTerm(**{k: float(v) for k, v in p.items()}) for name, p in law.items()}


def has_process_truth(truth_dir: Path | None) -> bool:
    """Whether the truth folder lets the process oracle be scored (simulations from before it was added do not)."""
    return truth_dir is not None and latent_terms(truth_dir) is not None


def process_oracle_risk(truth_dir: Path, rows: pd.DataFrame, horizons: tuple[int, ...], draws: int = 1000,
                        seed: int = 0) -> np.ndarray:
    """rows: ``employee_id, event_timestamp``; returns rows × len(horizons) probabilities of the process oracle."""
    terms = latent_terms(truth_dir)
    if terms is None:
        raise ValueError(f"the truth at {truth_dir} has no observable logit / latent process; re-run the simulator")
    path = Path(truth_dir) / f"{HAZARD}.parquet"
    ids, start, surv = _cached_survival(str(path), path.stat().st_mtime_ns, draws, seed)
    return _risk_from_survival(ids, start, surv, rows, horizons)


def profile_hidden(truth_dir: Path | None) -> tuple[str, ...]:
    """The parts of the observable logit the export profile drops (the manifest's ``hidden_logit``), when the
    truth records them; empty for a full export or a truth written without them."""
    if truth_dir is None or not has_process_truth(truth_dir):
        return ()
    manifest = Path(truth_dir) / "manifest.json"
    hidden = tuple(json.loads(manifest.read_text(encoding="utf-8")).get("hidden_logit", ())) if manifest.exists() else ()
    names = set(pq.read_schema(Path(truth_dir) / f"{HAZARD}.parquet").names)
    return hidden if hidden and set(hidden) <= names else ()


def profile_oracle_risk(truth_dir: Path, rows: pd.DataFrame, horizons: tuple[int, ...], draws: int = 1000,
                        seed: int = 0, cohort: int | None = COHORT) -> np.ndarray:
    """rows: ``employee_id, event_timestamp``; the profile oracle's probabilities (rows × len(horizons)).
    ``cohort``: donors among that many people of the nearest hire months (None: anyone in the company, the
    marginal law). Raises ValueError when the profile hides nothing (the process oracle is then the profile's)."""
    hidden = profile_hidden(truth_dir)
    if not hidden:
        raise ValueError(f"the truth at {truth_dir} records no logit part hidden by the export profile")
    path = Path(truth_dir) / f"{HAZARD}.parquet"
    ids, start, surv = _cached_survival(str(path), path.stat().st_mtime_ns, draws, seed, hidden, cohort)
    return _risk_from_survival(ids, start, surv, rows, horizons)


@lru_cache(maxsize=4)
def _cached_survival(path: str, mtime_ns: int, draws: int, seed: int, hidden: tuple[str, ...] = (),
                     cohort: int | None = COHORT) -> tuple[pd.Index, int, np.ndarray]:
    hz = pd.read_parquet(path, columns=["employee_id", "month", OBSERVABLE, *hidden])
    terms = latent_terms(Path(path).parent)
    return observable_survival(hz, terms, draws, seed, hidden=hidden, cohort=cohort)


def observable_survival(hz: pd.DataFrame, terms: dict[str, LatentTerm], draws: int = 1000, seed: int = 0,
                        chunk: int = 1024, hidden: tuple[str, ...] = (), cohort: int | None = COHORT
                        ) -> tuple[pd.Index, int, np.ndarray]:
    """Expected survival E[S(m)] per employee and month of the truth's grid (extended by 12 months).

    ``hz``: ``employee_id, month, logit_observable``, one row per month employed. Returns (employee ids,
    first month index of the grid, array employees × (months + 1)) with column j = E[S(start + j)].
    Months before a person's first month have hazard 0; after the last, the observable logit is carried
    forward (as the full oracle carries its hazard). ``hidden``: columns of ``hz`` (parts of the observable
    logit) integrated out with donor paths instead of read for the person (the profile oracle); the donors of a
    person are the ``cohort`` others whose first month is nearest theirs (:func:`cohort_pools`), or anyone when
    ``cohort`` is None.
    """
    emp = hz["employee_id"].astype(str).to_numpy()
    m = _month_index(hz["month"])
    start = int(m.min())
    n_months = int(m.max()) - start + 1 + MAX_HORIZON
    ids, row = np.unique(emp, return_inverse=True)
    obs = np.full((len(ids), n_months), np.nan)
    obs[row, m - start] = hz[OBSERVABLE].to_numpy(dtype=float)
    first = np.full(len(ids), n_months, np.int64)
    np.minimum.at(first, row, m - start)
    obs = pd.DataFrame(obs).ffill(axis=1).to_numpy()
    donors = None
    if hidden:
        part = np.full((len(ids), n_months), np.nan)
        part[row, m - start] = hz[list(hidden)].to_numpy(dtype=float).sum(axis=1)
        obs = obs - pd.DataFrame(part).ffill(axis=1).fillna(0.0).to_numpy()  # the person's own: not seen
        donors = pd.DataFrame(part).ffill(axis=1).bfill(axis=1).fillna(0.0).to_numpy(dtype=np.float32)
    rng = np.random.default_rng(seed)
    pools = cohort_pools(first, cohort, rng) if hidden else None
    out = np.ones((len(ids), n_months + 1))
    for lo in range(0, len(ids), chunk):
        sl = slice(lo, min(lo + chunk, len(ids)))
        out[sl] = _expected_survival(obs[sl], first[sl], list(terms.values()), draws, rng, donors,
                                     None if pools is None else pools[sl])
    return pd.Index(ids), start, out


def cohort_pools(first: np.ndarray, cohort: int | None, rng: np.random.Generator) -> np.ndarray:
    """Per person, the donors of the hidden parts (people × pool size): the ``cohort`` others of the nearest first
    months on the grid (the hire month; everyone employed before the grid shares month 0, of whom a random
    ``cohort``), never the person; with ``cohort`` None (or not fewer than the others) everyone else."""
    n = len(first)
    k = n - 1 if cohort is None else min(cohort, n - 1)
    if k < 1:
        return np.zeros((n, 1), np.int64)
    order = np.lexsort((rng.random(n), first))  # by first month, ties in random order
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    # the window of k + 1 consecutive ranks holding the person's own whose ends are nearest their first month
    # (the most central one among equals)
    lo = np.clip(rank[:, None] - np.arange(k + 1)[None, :], 0, n - k - 1)
    f = first[order].astype(float)
    spread = np.maximum(np.abs(f[lo] - first[:, None]), np.abs(f[lo + k] - first[:, None]))
    spread += np.abs(lo - (rank - k // 2)[:, None]) / (2.0 * n)
    lo = np.take_along_axis(lo, spread.argmin(axis=1)[:, None], axis=1)[:, 0]
    pos = lo[:, None] + np.arange(k)[None, :]
    pos += pos >= rank[:, None]  # skip the person
    return order[pos]


def _expected_survival(obs: np.ndarray, first: np.ndarray, terms: list[LatentTerm], draws: int,
                       rng: np.random.Generator, donors: np.ndarray | None = None,
                       pools: np.ndarray | None = None) -> np.ndarray:
    """E[S(j)] for j = 0..months over ``draws`` latent paths per row (float32 paths: Monte Carlo error, not
    rounding, is what limits the precision); with ``donors`` (employees × months), each draw adds the path of a
    donor drawn at random from the row's ``pools`` (rows × pool size; anyone when None)."""
    n, n_months = obs.shape
    shape = (n, draws)
    f32 = np.float32

    def normal(sd: float) -> np.ndarray:
        return f32(sd) * rng.standard_normal(shape, dtype=f32)

    mean = [normal(t.mean_sd) for t in terms]
    dev0 = [normal(t.start_sd) for t in terms]
    dev = [np.zeros(shape, f32) for _ in terms]
    log_s = np.zeros(shape, f32)
    out = np.ones((n, n_months + 1))
    donor = None
    if donors is not None:
        donor = (rng.integers(0, len(donors), shape) if pools is None
                 else np.take_along_axis(pools, rng.integers(0, pools.shape[1], shape), axis=1))
    for j in range(n_months):
        at_start = (first == j)[:, None]
        logit = np.broadcast_to(np.nan_to_num(obs[:, j], nan=0.0).astype(f32)[:, None], shape).copy()
        if donor is not None:
            logit += donors[donor, j]
        for i, t in enumerate(terms):
            dev[i] = np.where(at_start, f32(t.rho) * dev0[i], f32(t.rho) * dev[i]) + normal(t.sd)
            logit += f32(t.coefficient) * (mean[i] + dev[i])
        employed = (j >= first)[:, None]
        log_s -= np.where(employed, np.logaddexp(f32(0.0), logit), f32(0.0))  # log(1 − sigmoid(logit))
        out[:, j + 1] = np.exp(log_s, dtype=np.float64).mean(axis=1)
    return out


def _risk_from_survival(ids: pd.Index, start: int, surv: np.ndarray, rows: pd.DataFrame,
                        horizons: tuple[int, ...]) -> np.ndarray:
    """1 − E[S(T + h)] / E[S(T)] per row; 0 for an employee the truth does not know (as the full oracle)."""
    pos = ids.get_indexer(rows["employee_id"].astype(str))
    t = np.clip(_month_index(rows["event_timestamp"]) - start, 0, surv.shape[1] - 1)
    known = pos >= 0
    p = np.maximum(pos, 0)
    out = np.zeros((len(rows), len(horizons)))
    for c, h in enumerate(horizons):
        th = np.minimum(t + h, surv.shape[1] - 1)
        risk = 1.0 - surv[p, th] / np.maximum(surv[p, t], 1e-300)
        out[:, c] = np.where(known, np.clip(risk, 0.0, 1.0), 0.0)
    return out


def _month_index(s: pd.Series) -> np.ndarray:
    d = pd.to_datetime(s)
    if getattr(d.dt, "tz", None) is not None:
        d = d.dt.tz_convert(None)
    return (d.dt.year * 12 + d.dt.month - 1).to_numpy(dtype=np.int64)
