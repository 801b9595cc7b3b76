"""Headcount plans, requisitions, candidates, pre-hire assessments and hires.

Each month a (team, job) cell below its planned headcount (heads + open requisitions) opens requisitions:
``backfill`` up to the number of people who recently left the cell, ``growth`` beyond. A requisition is
filled 1-4 months later by the best of several candidates, judged on noisy assessments of true skill.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from features.simulator.org import Org
from features.simulator.people import add_people, draw_skills
from features.simulator.state import Calendar, Workforce
from features.simulator.taxonomy import ADOPTED_TECHNOLOGY, Taxonomy

ASSESSMENT_NOISE = 0.5
SEASONAL_FAMILIES = ("sales", "customer_service")
SEASONAL_LIFT = 0.22  # Q4 lift of planned heads in sales and customer service
ADOPTION_MONTH = 6  # month the adopting division starts ramping up its new technology
ADOPTION_RAMP = 12  # months to full adoption
ADOPTION_FAMILIES = ("software", "data_science")
PLAN_AHEAD = 12  # the headcount plan also covers the 12 months after the simulated window (the next year's plan)
FILL_LAG_CAP = 4  # a requisition is filled min(Geometric(FILL_P), FILL_LAG_CAP) months after the month it opens
FILL_P = 0.5
CANDIDATE_SOURCES = ("referral", "job_board", "agency", "campus", "internal")
SOURCE_P = np.array([0.15, 0.45, 0.15, 0.15, 0.10])
STAGES = ("applied", "screened", "interviewed", "offered", "hired", "rejected")
LOSER_STAGE_P = np.array([0.05, 0.15, 0.2, 0.05, 0.0, 0.55])


def open_after(k: int) -> float:
    """Probability that a requisition opened in month ``m`` is still open at the start of month ``m + k``
    (``k >= 1``): its fill month ``m + lag`` is ``m + k`` or later."""
    return 1.0 if k <= 1 else (1.0 - FILL_P) ** (k - 1) if k <= FILL_LAG_CAP else 0.0


def adoption_ramp(m: np.ndarray | int) -> np.ndarray:
    """Share of the adopting division's technology roles that ask for the new technology in month ``m``."""
    return np.clip((np.asarray(m, float) - ADOPTION_MONTH + 1) / ADOPTION_RAMP, 0.0, 1.0)


def build_plan(org: Org, tax: Taxonomy, cal: Calendar, cell_unit: np.ndarray, cell_job: np.ndarray,
               base: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Planned heads per cell × month: base × team trend × Q4 seasonality (sales, customer service), for the
    simulated months and the ``PLAN_AHEAD`` months after them (the random draws do not depend on the length)."""
    months = np.arange(cal.months + PLAN_AHEAD)
    fam_names = np.array([f.family for f in tax.families])
    fam = fam_names[tax.jobs["family_idx"].to_numpy()[cell_job]]
    team_trend = rng.normal(0.001, 0.004, len(org.parent))
    team_trend[rng.random(len(org.parent)) < 0.1] = -0.01  # some units shrink
    trend = team_trend[cell_unit]
    adopting = (org.division[cell_unit] == org.adopting_division) & np.isin(fam, ADOPTION_FAMILIES)
    growth = np.exp(np.outer(trend, months))
    boost = np.exp(0.02 * np.clip(months - ADOPTION_MONTH, 0, None))
    growth[adopting] *= boost
    cal_month = np.array([cal.calendar_month(m) for m in months])
    season = 1.0 + SEASONAL_LIFT * np.outer(np.isin(fam, SEASONAL_FAMILIES), cal_month >= 10)
    return np.maximum(np.round(base[:, None] * growth * season), 0).astype(np.int64)


@dataclass
class Recruiting:
    """Requisition state and the recruiting feed, appended in chunks. Cells are sorted by unit."""

    cell_unit: np.ndarray
    cell_job: np.ndarray
    plan: np.ndarray  # cells × months
    departures: np.ndarray  # recent leavers per cell not yet backfilled
    pending_cell: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    pending_req: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    pending_fill: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    n_req: int = 0
    n_cand: int = 0
    reqs: list[dict[str, np.ndarray]] = field(default_factory=list)
    req_skills: list[dict[str, np.ndarray]] = field(default_factory=list)
    cands: list[dict[str, np.ndarray]] = field(default_factory=list)
    assess: list[dict[str, np.ndarray]] = field(default_factory=list)
    closed: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)

    def cell_index(self, unit: np.ndarray, job: np.ndarray) -> np.ndarray:
        """Cell of each (unit, job); -1 when the pair is not planned."""
        return self._cells_fast(np.asarray(unit), np.asarray(job))

    def record_departures(self, unit: np.ndarray, job: np.ndarray) -> None:
        c = self.cell_index(unit, job)
        np.add.at(self.departures, c[c >= 0], 1)

    def open_requisitions(self, org: Org, wf: Workforce, tax: Taxonomy, cal: Calendar, m: int,
                          rng: np.random.Generator) -> None:
        """Open requisitions where planned heads exceed heads plus open requisitions."""
        act = wf.active_idx()
        act = act[~wf.arrays["is_head"][act]]
        heads = np.zeros(len(self.cell_unit), np.int64)
        c = self.cell_index(wf.arrays["unit"][act], wf.arrays["job"][act])
        np.add.at(heads, c[c >= 0], 1)
        still_open = np.bincount(self.pending_cell, minlength=len(heads))
        need = np.maximum(self.plan[:, m] - heads - still_open, 0)
        # a team hires only up to its total plan: promotions within the team do not add heads
        n_units = int(self.cell_unit.max()) + 1
        team_need = np.maximum(np.bincount(self.cell_unit, self.plan[:, m] - heads - still_open, n_units), 0)
        before = np.cumsum(need) - need
        team_start = np.r_[0, np.cumsum(np.bincount(self.cell_unit, need, n_units))][self.cell_unit]
        need = np.clip(team_need[self.cell_unit] - (before - team_start), 0, need).astype(np.int64)
        cells = np.repeat(np.arange(len(need)), need)
        if len(cells) == 0:
            return
        first = np.r_[True, cells[1:] != cells[:-1]]
        rank = np.arange(len(cells)) - np.flatnonzero(first).repeat(np.diff(np.r_[np.flatnonzero(first), len(cells)]))
        backfill = rank < self.departures[cells]
        self.departures[cells[backfill]] -= 1
        self.departures[:] = np.minimum(self.departures, 3)
        lag = np.minimum(rng.geometric(FILL_P, len(cells)), FILL_LAG_CAP)
        self._open(cells, self.cell_unit[cells], self.cell_job[cells], cal.random_days(m, len(cells), rng),
                   m + lag, np.where(backfill, 1, 0), org, tax, rng, m)

    def _cells_fast(self, unit: np.ndarray, job: np.ndarray) -> np.ndarray:
        n_jobs = int(self.cell_job.max()) + 1
        lookup = np.full((int(self.cell_unit.max()) + 1) * n_jobs, -1, np.int64)
        lookup[self.cell_unit * n_jobs + self.cell_job] = np.arange(len(self.cell_unit))
        key = unit.astype(np.int64) * n_jobs + job
        ok = (unit <= self.cell_unit.max()) & (job < n_jobs)
        out = np.full(len(unit), -1, np.int64)
        out[ok] = lookup[key[ok]]
        return out

    def _open(self, cells: np.ndarray, unit: np.ndarray, job: np.ndarray, day: np.ndarray, fill_m: np.ndarray,
              reason: np.ndarray, org: Org, tax: Taxonomy, rng: np.random.Generator, m: int) -> np.ndarray:
        ids = np.arange(self.n_req, self.n_req + len(unit))
        self.n_req += len(unit)
        self.reqs.append({"req": ids, "unit": unit.astype(np.int64), "job": job.astype(np.int64), "opened": day,
                          "reason": reason.astype(np.int8)})
        rs, rl = tax.req_skills[job], tax.req_levels[job]
        rows = np.repeat(ids, rs.shape[1])
        ok = rs.ravel() >= 0
        skill, level = rs.ravel()[ok], rl.ravel()[ok]
        rows = rows[ok]
        fams = np.array([f.family for f in tax.families])[tax.jobs["family_idx"].to_numpy()[job]]
        adopt = (org.division[unit] == org.adopting_division) & np.isin(fams, ADOPTION_FAMILIES)
        adopt &= rng.random(len(unit)) < adoption_ramp(m)
        tech = tax.skills.index[tax.skills["skill_id"].isin(ADOPTED_TECHNOLOGY)].to_numpy()
        extra_req = np.repeat(ids[adopt], len(tech))
        extra_skill = np.tile(tech, int(adopt.sum()))
        rows, skill = np.r_[rows, extra_req], np.r_[skill, extra_skill]
        level = np.r_[level, np.full(len(extra_req), 3.0)]
        key = rows * 1000 + skill
        _, first = np.unique(key, return_index=True)
        self.req_skills.append({"req": rows[first], "skill": skill[first], "level": level[first].astype(np.int64)})
        if len(cells):
            self.pending_cell = np.r_[self.pending_cell, cells]
            self.pending_req = np.r_[self.pending_req, ids]
            self.pending_fill = np.r_[self.pending_fill, fill_m]
        return ids

    def fill(self, wf: Workforce, tax: Taxonomy, cal: Calendar, m: int, rng: np.random.Generator) -> np.ndarray:
        """Fill the requisitions due this month; returns the new employees' indices."""
        due = self.pending_fill == m
        reqs, cells = self.pending_req[due], self.pending_cell[due]
        self.pending_cell, self.pending_req, self.pending_fill = (
            self.pending_cell[~due], self.pending_req[~due], self.pending_fill[~due])
        if len(reqs) == 0:
            return np.zeros(0, np.int64)
        opened = self._opened_day(reqs)
        days = np.maximum(cal.random_days(m, len(reqs), rng, 23, 28), opened + 14)
        return self.hire(wf, tax, reqs, self.cell_unit[cells], self.cell_job[cells], opened, days, rng, cal)

    def _opened_day(self, reqs: np.ndarray) -> np.ndarray:
        ids = np.concatenate([r["req"] for r in self.reqs])
        opened = np.concatenate([r["opened"] for r in self.reqs])
        return opened[np.searchsorted(ids, reqs)]

    def open_and_fill_now(self, org: Org, wf: Workforce, tax: Taxonomy, cal: Calendar, m: int, unit: np.ndarray,
                          job: np.ndarray, day: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Heads are replaced at once: a backfill requisition opened and filled the day after the exit."""
        ids = self._open(np.zeros(0, np.int64), unit, job, day, np.zeros(0, np.int64), np.ones(len(unit), np.int8),
                         org, tax, rng, m)
        hire_day = np.minimum(day + 1, cal.end_day)
        return self.hire(wf, tax, ids, unit, job, day, hire_day, rng, cal)

    def hire(self, wf: Workforce, tax: Taxonomy, reqs: np.ndarray, unit: np.ndarray, job: np.ndarray,
             opened: np.ndarray, hire_day: np.ndarray, rng: np.random.Generator, cal: Calendar) -> np.ndarray:
        """Candidates and assessments for each requisition; the best-assessed candidate joins on ``hire_day``."""
        k = 3 + rng.poisson(3.0, len(reqs))
        owner = np.repeat(np.arange(len(reqs)), k)
        cand_ids = np.arange(self.n_cand, self.n_cand + len(owner))
        self.n_cand += len(owner)
        skills = draw_skills(rng, tax, job[owner], np.zeros(len(owner)))
        rs = tax.req_skills[job[owner]]
        ok = rs >= 0
        true_req = np.where(ok, np.take_along_axis(skills, np.maximum(rs, 0), axis=1), np.nan)
        score = np.round(np.clip(true_req + rng.normal(0, ASSESSMENT_NOISE, true_req.shape), 1, 5), 2)
        merit = np.nanmean(score, axis=1) + rng.normal(0, 0.3, len(owner))
        order = np.lexsort((-merit, owner))
        first = np.r_[True, owner[order][1:] != owner[order][:-1]]
        best = order[first]  # one per requisition, in requisition order
        stage = rng.choice(len(STAGES), len(owner), p=LOSER_STAGE_P)
        stage[best] = STAGES.index("hired")
        span = np.maximum(hire_day[owner] - opened[owner] - 7, 1)
        applied = opened[owner] + (rng.random(len(owner)) * span * 0.7).astype(np.int64)
        assessed = np.minimum(applied + rng.integers(1, 8, len(owner)), hire_day[owner])
        new = add_people(wf, rng, tax, cal, unit, job, hire_day, skills=skills[best])
        hired_emp = np.full(len(owner), -1, np.int64)
        hired_emp[best] = new
        self.cands.append({"cand": cand_ids, "req": reqs[owner], "applied": applied,
                           "source": rng.choice(len(CANDIDATE_SOURCES), len(owner), p=SOURCE_P).astype(np.int8),
                           "stage": stage.astype(np.int8), "hired": hired_emp})
        assessed_mask = ok & (stage != STAGES.index("applied"))[:, None]
        r, col = np.nonzero(assessed_mask)
        self.assess.append({"cand": cand_ids[r], "skill": rs[r, col], "score": score[r, col],
                            "day": assessed[r]})
        self.closed.append((reqs, hire_day))
        return new
