"""Enrollments, completions, true skill gains, exam scores and the points ledger.

Who enrolls where never depends on a course's true effect: mandatory campaigns, manager assignments after
a weak competency rating (a course teaching that skill, chosen by popularity), self-chosen courses (by
popularity, format preference and relevance to the job) and a few recommended ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from features.simulator.catalog import Catalog
from features.simulator.state import Calendar, Workforce
from features.simulator.taxonomy import Taxonomy

SOURCES = ("assigned", "self", "mandatory", "recommended")
ASSIGNED, SELF, MANDATORY, RECOMMENDED = range(4)
P_ASSIGN = 0.3  # weak rating → manager assigns a course next month
SELF_INTERCEPT, SELF_ENGAGEMENT = -3.3, 0.5
P_RECOMMENDED = 0.004
DIMINISHED = 0.3  # share of the effect gained when already at or above the course's target level
ACTIVITIES = ("course_completion", "exam_bonus", "redemption")


def _sample(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    cdf = np.cumsum(weights)
    return np.minimum(np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right"), len(weights) - 1)


def course_skill_pairs(cat: Catalog, course: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expand courses to (course, skill taught) pairs: ``row`` indexes ``course`` and ``pair`` the catalog's
    course-skill arrays (``cs_course``, ``cs_skill``, ``cs_effect``, ``cs_target``), one entry per skill taught;
    ``counts`` is the number of skills each course teaches."""
    order = np.argsort(cat.cs_course, kind="stable")
    starts = np.searchsorted(cat.cs_course[order], course)
    counts = np.bincount(cat.cs_course, minlength=len(cat.hours))[course]
    row = np.repeat(np.arange(len(course)), counts)
    pair = order[np.repeat(starts, counts) + (np.arange(len(row)) - np.repeat(np.cumsum(counts) - counts, counts))]
    return row, pair, counts


@dataclass
class Learning:
    """Enrollment records and completions waiting to take effect."""

    cat: Catalog
    n_enr: int = 0
    enr: list[dict[str, np.ndarray]] = field(default_factory=list)
    scores: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    ledger: list[dict[str, np.ndarray]] = field(default_factory=list)
    pend_enr: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    pend_emp: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    pend_course: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    pend_day: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def enroll(self, emp: np.ndarray, course: np.ndarray, source: int, wf: Workforce, cal: Calendar, m: int,
               rng: np.random.Generator) -> None:
        """Record enrollments; decide now whether and when each completes."""
        if len(emp) == 0:
            return
        cat, a = self.cat, wf.arrays
        day = np.maximum(cal.random_days(m, len(emp), rng), a["hire_day"][emp])
        mandatory = cat.mandatory_month[course] > 0
        logit = (1.0 + 0.7 * a["engagement"][emp] + 0.8 * (cat.fmt[course] == a["fmt_pref"][emp])
                 - 0.06 * cat.hours[course] + 2.5 * mandatory + 0.5 * (source == ASSIGNED))
        completes = rng.random(len(emp)) < 1 / (1 + np.exp(-logit))
        duration = 3 + cat.hours[course] * rng.uniform(1.5, 5.0, len(emp)) * np.where(cat.fmt[course] == 2, 2.0, 1.0)
        done_day = np.where(completes, day + duration.astype(np.int64), -1)
        ids = np.arange(self.n_enr, self.n_enr + len(emp))
        self.n_enr += len(emp)
        self.enr.append({"id": ids, "emp": emp.astype(np.int64), "course": course.astype(np.int64), "day": day,
                         "source": np.full(len(emp), source, np.int8), "done": done_day})
        c = completes & (done_day <= cal.end_day)
        self.pend_enr = np.r_[self.pend_enr, ids[c]]
        self.pend_emp = np.r_[self.pend_emp, emp[c]]
        self.pend_course = np.r_[self.pend_course, course[c]]
        self.pend_day = np.r_[self.pend_day, done_day[c]]

    def month(self, wf: Workforce, tax: Taxonomy, cal: Calendar, m: int, rng: np.random.Generator,
              weak_emp: np.ndarray, weak_skill: np.ndarray) -> None:
        """All enrollments of month ``m`` for the active workforce."""
        cat, a = self.cat, wf.arrays
        act = wf.active_idx()
        avail = cat.created_month <= m
        cm = cal.calendar_month(m)
        for c in np.flatnonzero((cat.mandatory_month == cm) & avail):
            self.enroll(act, np.full(len(act), c), MANDATORY, wf, cal, m, rng)
        # manager-assigned: a course teaching the weak skill, chosen by popularity among available ones
        if len(weak_emp):
            pick = rng.random(len(weak_emp)) < P_ASSIGN
            emp, skill = weak_emp[pick], weak_skill[pick]
            keep = a["active"][emp]
            emp, skill = emp[keep], skill[keep]
            course = np.full(len(emp), -1, np.int64)
            for s in np.unique(skill):
                pool = cat.cs_course[(cat.cs_skill == s)]
                pool = pool[avail[pool] & (cat.mandatory_month[pool] == 0)]
                rows = np.flatnonzero(skill == s)
                if len(pool):
                    course[rows] = pool[_sample(rng, np.exp(cat.popularity[pool]), len(rows))]
            self.enroll(emp[course >= 0], course[course >= 0], ASSIGNED, wf, cal, m, rng)
        # self-chosen: popularity × format preference × relevance to the job's required skills
        p_self = 1 / (1 + np.exp(-(SELF_INTERCEPT + SELF_ENGAGEMENT * a["engagement"][act])))
        chooser = act[rng.random(len(act)) < p_self]
        fam = tax.jobs["family_idx"].to_numpy()[a["job"][chooser]]
        base = np.exp(cat.popularity) * avail * (cat.mandatory_month == 0)
        courses = []
        for f in np.unique(fam):
            fam_skills = np.unique(tax.req_skills[tax.jobs["family_idx"].to_numpy() == f])
            relevant = np.zeros(len(base), bool)
            relevant[cat.cs_course[np.isin(cat.cs_skill, fam_skills)]] = True
            for pref in range(3):
                rows = np.flatnonzero((fam == f) & (a["fmt_pref"][chooser] == pref))
                if len(rows):
                    w = base * np.where(relevant, 3.0, 1.0) * np.where(cat.fmt == pref, 2.5, 1.0)
                    courses.append((rows, _sample(rng, w, len(rows))))
        course = np.zeros(len(chooser), np.int64)
        for rows, picked in courses:
            course[rows] = picked
        self.enroll(chooser, course, SELF, wf, cal, m, rng)
        # recommended: any available course teaching one of the job's required skills
        rec = act[rng.random(len(act)) < P_RECOMMENDED]
        rs = tax.req_skills[a["job"][rec]]
        skill = rs[np.arange(len(rec)), rng.integers(0, (rs >= 0).sum(axis=1))] if len(rec) else rec
        course = np.full(len(rec), -1, np.int64)
        for s in np.unique(skill):
            pool = cat.cs_course[cat.cs_skill == s]
            pool = pool[avail[pool] & (cat.mandatory_month[pool] == 0)]
            rows = np.flatnonzero(skill == s)
            if len(pool):
                course[rows] = pool[rng.integers(0, len(pool), len(rows))]
        self.enroll(rec[course >= 0], course[course >= 0], RECOMMENDED, wf, cal, m, rng)
        self._redeem(wf, cal, m, rng, act)

    def apply_completions(self, wf: Workforce, cal: Calendar, m: int, rng: np.random.Generator) -> None:
        """Completions of month ``m - 1`` raise true skill, yield an exam score and points."""
        due = (self.pend_day < cal.first_day(m)) & (self.pend_day >= cal.first_day(m - 1)) if m > 0 else \
            np.zeros(len(self.pend_day), bool)
        enr, emp, course, day = self.pend_enr[due], self.pend_emp[due], self.pend_course[due], self.pend_day[due]
        keep = ~due
        self.pend_enr, self.pend_emp = self.pend_enr[keep], self.pend_emp[keep]
        self.pend_course, self.pend_day = self.pend_course[keep], self.pend_day[keep]
        a, cat = wf.arrays, self.cat
        stayed = a["active"][emp] | (a["term_day"][emp] >= day)
        enr, emp, course, day = enr[stayed], emp[stayed], course[stayed], day[stayed]
        if len(emp) == 0:
            return
        # expand to (completion, skill) pairs of the course
        row, pair, counts = course_skill_pairs(cat, course)
        e, s = emp[row], cat.cs_skill[pair]
        level = wf.skills[e, s]
        gain = cat.cs_effect[pair] * np.where(level < cat.cs_target[pair], 1.0, DIMINISHED)
        np.add.at(wf.skills, (e, s), gain)
        wf.skills[e, s] = np.clip(wf.skills[e, s], 1.0, 5.0)
        gap = np.bincount(row, wf.skills[e, s] - cat.cs_target[pair], len(emp)) / counts
        score = np.clip(np.round(78 + 12 * gap + rng.normal(0, 7, len(emp)), 1), 0, 100)
        score = np.where(cat.has_exam[course], score, np.nan)
        self.scores.append((enr, score))
        a["last_train_m"][emp[cat.mandatory_month[course] == 0]] = m - 1
        a["engagement"][emp] += 0.02
        pts = cat.points[course]
        bonus = np.nan_to_num(score) >= 90
        a["points"][emp] += pts
        np.add.at(a["points"], emp[bonus], 20)
        self.ledger.append({"emp": np.r_[emp, emp[bonus]], "day": np.r_[day, day[bonus]],
                            "points": np.r_[pts, np.full(int(bonus.sum()), 20)],
                            "activity": np.r_[np.zeros(len(emp), np.int8), np.ones(int(bonus.sum()), np.int8)]})

    def _redeem(self, wf: Workforce, cal: Calendar, m: int, rng: np.random.Generator, act: np.ndarray) -> None:
        a = wf.arrays
        rich = act[(a["points"][act] >= 200) & (rng.random(len(act)) < 0.03)]
        if len(rich) == 0:
            return
        spend = np.minimum(rng.integers(1, 6, len(rich)) * 100, (a["points"][rich] // 100) * 100)
        a["points"][rich] -= spend
        self.ledger.append({"emp": rich, "day": cal.random_days(m, len(rich), rng), "points": -spend,
                            "activity": np.full(len(rich), 2, np.int8)})
