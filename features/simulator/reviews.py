"""Quarterly performance reviews: KPI attainment, overall rating and a competency rating per required skill.

competency rating = round(true skill + manager leniency + noise), clipped to 1-5; KPI attainment grows with
the mean gap (true − required) and engagement; the overall rating follows KPI attainment and the gap.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from features.simulator.org import Org
from features.simulator.state import Calendar, Workforce
from features.simulator.taxonomy import Taxonomy

RATING_NOISE = 0.4
OVERALL_NOISE = 0.45
REVIEW_MONTHS = (3, 6, 9, 12)


@dataclass
class Reviews:
    reviews: list[dict[str, np.ndarray]] = field(default_factory=list)
    ratings: list[dict[str, np.ndarray]] = field(default_factory=list)

    def month(self, org: Org, wf: Workforce, tax: Taxonomy, cal: Calendar, m: int,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Review everyone hired a month or more before quarter end; returns weak (employee, skill) pairs."""
        cm = cal.calendar_month(m)
        if cm not in REVIEW_MONTHS:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        a = wf.arrays
        end = cal.first_day(m + 1) - 1
        act = wf.active_idx()
        emp = act[a["hire_day"][act] <= end - 30]
        n = len(emp)
        day = end - rng.integers(0, 9, n)
        reviewer = org.manager_of(a["unit"][emp], emp)
        leniency = np.where(reviewer >= 0, a["leniency"][np.maximum(reviewer, 0)], 0.0)
        rs, rl = tax.req_skills[a["job"][emp]], tax.req_levels[a["job"][emp]]
        ok = rs >= 0
        true = np.take_along_axis(wf.skills[emp], np.maximum(rs, 0), axis=1)
        rating = np.clip(np.round(true + leniency[:, None] + rng.normal(0, RATING_NOISE, true.shape)), 1, 5)
        gap = np.where(ok, true - rl, 0).sum(axis=1) / ok.sum(axis=1)
        kpi = np.clip(np.round(1.0 + 0.2 * gap + 0.08 * a["engagement"][emp] + rng.normal(0, 0.12, n), 3), 0, 3)
        overall = np.clip(np.round(3.35 + 2.0 * (kpi - 1) + 0.6 * gap + leniency + rng.normal(0, OVERALL_NOISE, n)), 1, 5)
        cycle = cal.year(m) * 10 + (cm - 1) // 3 + 1
        self.reviews.append({"emp": emp, "cycle": np.full(n, cycle, np.int64), "day": day, "reviewer": reviewer,
                             "kpi": kpi, "overall": overall.astype(np.int64)})
        r, c = np.nonzero(ok)
        self.ratings.append({"emp": emp[r], "cycle": np.full(len(r), cycle, np.int64), "day": day[r],
                             "skill": rs[r, c], "rating": rating[r, c].astype(np.int64)})
        a["prev_rating"][emp] = a["last_rating"][emp]
        a["last_rating"][emp] = overall
        weak_review = overall <= 2
        a["last_weak_m"][emp[weak_review]] = m
        a["engagement"][emp[weak_review]] -= 0.2
        weak = ok & (rating <= rl - 1)
        wr, wc = np.nonzero(weak)
        # one weak skill per person: the first (most important) one
        first = np.r_[True, wr[1:] != wr[:-1]] if len(wr) else np.zeros(0, bool)
        return emp[wr[first]], rs[wr[first], wc[first]].astype(np.int64)
