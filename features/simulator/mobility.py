"""Promotions, transfers, yearly pay changes, reorganisations and the manager bookkeeping that follows.

Every change is an employment event carrying the full state after it. Managers are derived from unit
leaders (see ``org.Org.manager_of``); :func:`sync_managers` turns any change of derived manager into a
``manager_change`` event.
"""

from __future__ import annotations

import numpy as np

from features.simulator.org import Org
from features.simulator.state import (
    MANAGER_CHANGE,
    PAY_CHANGE,
    PROMOTION,
    TRANSFER,
    Calendar,
    EventLog,
    Workforce,
)
from features.simulator.taxonomy import Taxonomy

PAY_REVIEW_MONTH = 4  # calendar month of the yearly pay review
REORG_MONTH = 7  # calendar month in which some teams get a new lead
REORG_SHARE = 0.05
P_TRANSFER = 0.004
PROMOTION_INTERCEPT = -5.6
PROMOTION_RATING = 1.2
PROMOTION_TIME = 0.035  # per month in job beyond 12, capped at 36
PROMOTION_POTENTIAL = 0.9  # per unit of latent potential (N(0, 1), recorded in the truth's ``latent`` table)


def sync_managers(org: Org, wf: Workforce, log: EventLog, m: int, day_of_unit: np.ndarray,
                  current: np.ndarray) -> None:
    """Emit ``manager_change`` events where an active employee's derived manager differs from ``current``."""
    act = wf.active_idx()
    unit = wf.arrays["unit"][act]
    new = org.manager_of(unit, act)
    changed = new != current[act]
    if not changed.any():
        return
    emp = act[changed]
    u = unit[changed]
    par = np.maximum(org.parent[u], 0)
    day = np.maximum(day_of_unit[u], day_of_unit[par])
    day = np.maximum(day, wf.arrays["hire_day"][emp])
    log.add(MANAGER_CHANGE, emp, day, u, wf.arrays["job"][emp], new[changed], wf.arrays["pay"][emp])
    current[emp] = new[changed]
    wf.arrays["last_mgr_change_m"][emp] = m
    wf.arrays["engagement"][emp] -= 0.25


def pick_team_leads(org: Org, wf: Workforce, teams: np.ndarray, tax: Taxonomy, exclude: np.ndarray | None = None) -> None:
    """Lead of each team in ``teams``: its highest-level active member, earliest hire first (-1 if empty)."""
    act = wf.active_idx()
    unit = wf.arrays["unit"][act]
    sel = np.isin(unit, teams) & ~wf.arrays["is_head"][act]
    if exclude is not None:
        sel &= ~np.isin(act, exclude)
    cand, cu = act[sel], unit[sel]
    level = tax.jobs["level"].to_numpy()[wf.arrays["job"][cand]]
    order = np.lexsort((wf.arrays["hire_day"][cand], -level, cu))
    cu_o = cu[order]
    first = np.r_[True, cu_o[1:] != cu_o[:-1]] if len(cu_o) else np.zeros(0, bool)
    org.leader[teams] = -1
    org.leader[cu_o[first]] = cand[order][first]


def promotions(wf: Workforce, tax: Taxonomy, log: EventLog, org: Org, m: int, cal: Calendar,
               rng: np.random.Generator, manager: np.ndarray) -> np.ndarray:
    """Promote to ``next_job_id`` by rating, time in job and latent potential; returns the promoted."""
    a = wf.arrays
    act = wf.active_idx()
    act = act[~a["is_head"][act]]
    nxt = tax.jobs["next_job_id"].to_numpy()
    next_idx = np.array([-1 if v is None else int(np.flatnonzero(tax.jobs["job_id"].to_numpy() == v)[0]) for v in nxt])
    in_job = m - a["job_since_m"][act]
    ok = (next_idx[a["job"][act]] >= 0) & (in_job >= 12) & (a["last_rating"][act] > 0)
    logit = (PROMOTION_INTERCEPT + PROMOTION_RATING * (a["last_rating"][act] - 3)
             + PROMOTION_TIME * np.minimum(in_job - 12, 36) + PROMOTION_POTENTIAL * a["potential"][act])
    hit = ok & (rng.random(len(act)) < 1 / (1 + np.exp(-logit)))
    emp = act[hit]
    if len(emp) == 0:
        return emp
    new_job = next_idx[a["job"][emp]]
    band_min = tax.jobs["pay_band_min"].to_numpy()[new_job]
    band_max = tax.jobs["pay_band_max"].to_numpy()[new_job]
    raise_pay = a["pay"][emp] * rng.uniform(1.06, 1.14, len(emp))
    floor = band_min + rng.uniform(0.02, 0.25, len(emp)) * (band_max - band_min)
    a["pay"][emp] = np.round(np.maximum(raise_pay, floor) / 100) * 100
    a["job"][emp] = new_job
    a["job_since_m"][emp] = m
    a["last_promo_m"][emp] = m
    a["engagement"][emp] += 0.4
    day = cal.random_days(m, len(emp), rng, 16, 21)
    log.add(PROMOTION, emp, day, a["unit"][emp], new_job, manager[emp], a["pay"][emp])
    return emp


def transfers(wf: Workforce, tax: Taxonomy, log: EventLog, org: Org, m: int, cal: Calendar,
              rng: np.random.Generator, manager: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Move a few non-lead members to another team of the same family; returns (emp, old unit, job)."""
    a = wf.arrays
    act = wf.active_idx()
    act = act[~a["is_head"][act] & (org.leader[a["unit"][act]] != act)]
    mover = act[rng.random(len(act)) < P_TRANSFER]
    teams = org.teams
    fam_of_team = org.family[teams]
    old_unit = a["unit"][mover].copy()
    new_unit = old_unit.copy()
    for f in np.unique(org.family[old_unit]):
        pool = teams[fam_of_team == f]
        rows = np.flatnonzero(org.family[old_unit] == f)
        if len(pool) > 1:
            new_unit[rows] = pool[rng.integers(0, len(pool), len(rows))]
    moved = new_unit != old_unit
    emp, new_unit = mover[moved], new_unit[moved]
    if len(emp) == 0:
        return emp, emp, emp
    a["unit"][emp] = new_unit
    mgr = org.manager_of(new_unit, emp)
    manager[emp] = mgr
    a["last_mgr_change_m"][emp] = m
    log.add(TRANSFER, emp, cal.random_days(m, len(emp), rng, 16, 21), new_unit, a["job"][emp], mgr, a["pay"][emp])
    return emp, old_unit[moved], a["job"][emp]


def pay_review(wf: Workforce, log: EventLog, m: int, cal: Calendar, rng: np.random.Generator,
               manager: np.ndarray) -> None:
    """Yearly merit increase by last rating for everyone hired at least three months ago."""
    if cal.calendar_month(m) != PAY_REVIEW_MONTH:
        return
    a = wf.arrays
    act = wf.active_idx()
    act = act[a["hire_day"][act] <= cal.first_day(m) - 90]
    rating = np.where(a["last_rating"][act] > 0, a["last_rating"][act], 3)
    merit = np.clip(0.015 + 0.02 * (rating - 3) + rng.normal(0, 0.01, len(act)), 0.0, 0.12)
    emp = act[merit > 0.002]
    a["pay"][emp] = np.round(a["pay"][emp] * (1 + merit[merit > 0.002]) / 100) * 100
    log.add(PAY_CHANGE, emp, cal.first_day(m), a["unit"][emp], a["job"][emp], manager[emp], a["pay"][emp])


def reorganise(org: Org, wf: Workforce, m: int, cal: Calendar, rng: np.random.Generator,
               day_of_unit: np.ndarray, share: float | None = None) -> None:
    """Once a year a share of teams gets a new lead (another member), changing the whole team's manager;
    ``share`` forces a reorganisation of that share of teams this month (the opt-in drift of ``simulate``)."""
    if share is None and cal.calendar_month(m) != REORG_MONTH:
        return
    teams = org.teams
    chosen = teams[rng.random(len(teams)) < (REORG_SHARE if share is None else share)]
    act = wf.active_idx()
    unit = wf.arrays["unit"][act]
    for t in chosen:
        members = act[(unit == t) & (act != org.leader[t]) & ~wf.arrays["is_head"][act]]
        if len(members):
            org.leader[t] = members[rng.integers(0, len(members))]
            day_of_unit[t] = cal.first_day(m) + 21
