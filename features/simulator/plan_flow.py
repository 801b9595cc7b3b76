"""The HR suite's learning-plan flow, played inside the simulation (opt-in; on in ``talentloop demo``).

In each month of a window of past months (by default 12 to 9 months before the last review month of the
data, so that the 3 months to enrol and 6 months of outcomes that off-policy evaluation reads are known), a share of the active employees gets a learning-plan request. The
logging policy uses only what the HR suite could see (the feeds):

- candidates: the catalogue's non-mandatory courses created before the month that teach a skill with an
  observed gap (required level − last competency rating > 0, for the employee's job or the next job on its
  career path; a skill never rated has no gap), minus the courses the employee completed before the month;
- score: the sum of the observed gaps the course teaches − 0.02 × its hours; ranked by score, then course;
- the list: the top ``k``; with probability ``epsilon`` instead ``k`` courses drawn uniformly without
  replacement from the top ``pool`` (the rule of ``models.learning_plans.exploration``), with each course's
  exact inclusion probability as its propensity.

Each course shown is ``accepted`` with probability ``follow`` (else ``declined``), the same at every rank.
An accepted course is enrolled (source ``recommended``) that month through the simulator's own enrollment
(``learning.Learning.enroll``: its completion odds, duration, and on completion the course's true effect),
so it shows in later enrollments, exam scores, points and competency ratings through the normal feeds.

The feed ``learning/learning_plans`` holds the lists shown and the statuses; the truth keeps, for every
candidate of every request, the expected gain and the expected reward if it were shown (see
:meth:`PlanFlow.truth_tables`). Draws come from a stream of their own, so the months before the window
are the same as without the flow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.simulator.learning import DIMINISHED, RECOMMENDED, course_skill_pairs
from features.simulator.reviews import RATING_NOISE, REVIEW_MONTHS

POLICY = "hr-suite-gap-rule"
HOURS_WEIGHT = 0.02
HORIZON_MONTHS = 9  # the off-policy reward: completed and a rating rose within 3 + 6 months of the request


@dataclass(frozen=True)
class PlanSettings:
    """The learning-plan flow's settings (``docs/simulator.md``)."""

    share: float = 0.15  # share of the active employees given one request per window month
    k: int = 3  # courses per list
    pool: int = 30  # a randomised list draws from the policy's top this many
    epsilon: float = 0.3  # share of the lists randomised
    follow: float = 0.4  # probability a shown course is accepted (and enrolled)
    first: int = 12  # the window: from this many months before the last review month of the data ...
    last: int = 9  # ... to this many (inclusive)

    def check(self, months: int) -> None:
        for name in ("share", "epsilon", "follow"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"learning plans: {name} must be between 0 and 1, got {value!r}")
        if self.k < 1 or self.pool < 1:
            raise ValueError(f"learning plans: k and pool must be at least 1, got k={self.k}, pool={self.pool}")
        if not 1 <= self.last <= self.first:
            raise ValueError(f"learning plans: the window needs 1 <= last <= first, got first={self.first}, "
                             f"last={self.last}")
        if months - self.first < 3:
            raise ValueError(f"learning plans: the window starts {self.first} months before the last review "
                             f"month, which a {months}-month simulation may not reach; simulate at least "
                             f"{self.first + 3} months")

    def window(self, cal) -> range:  # noqa: ANN001 - state.Calendar
        """Month indices of the window: ``first`` to ``last`` months before the last review month."""
        review = max(m for m in range(cal.months) if cal.calendar_month(m) in REVIEW_MONTHS)
        return range(max(review - self.first, 1), review - self.last + 1)


def inclusion(n: int, k: int, epsilon: float, pool: int) -> np.ndarray:
    """Probability that the course at each position 0..n-1 of the policy's order is shown."""
    j = np.arange(n)
    m = min(max(pool, k), n)
    if m == 0:
        return np.zeros(0)
    return (1.0 - epsilon) * (j < k) + epsilon * min(k, m) / m * (j < m)


def _phi(x: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr

    return ndtr(x)


@dataclass
class PlanFlow:
    """Plays the flow month by month (``month``, called by ``dynamics.run``) and keeps what it did."""

    settings: PlanSettings
    rng: np.random.Generator
    months: int
    n_req: int = 0
    shown: list[dict[str, np.ndarray]] = field(default_factory=list)
    cands: list[dict[str, np.ndarray]] = field(default_factory=list)
    _obs: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int8))
    _seen_chunks: int = 0
    _asked: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    def _observed(self, h) -> np.ndarray:  # noqa: ANN001 - dynamics.History
        """Last competency rating per (employee, skill) so far (0: never rated)."""
        cap, n_s = h.wf.cap, h.tax.n_skills
        if self._obs.shape[0] < cap:
            grown = np.zeros((cap, n_s), np.int8)
            if self._obs.size:
                grown[: self._obs.shape[0]] = self._obs
            self._obs = grown
        for chunk in h.rev.ratings[self._seen_chunks:]:
            self._obs[chunk["emp"], chunk["skill"]] = chunk["rating"]
        self._seen_chunks = len(h.rev.ratings)
        return self._obs

    def month(self, h, m: int) -> None:  # noqa: ANN001 - dynamics.History
        """The requests of month ``m`` (at its first day: ratings, jobs and completions before it)."""
        s = self.settings
        if m not in s.window(h.cal):
            return
        tax, cat, cal, wf, rng = h.tax, h.cat, h.cal, h.wf, self.rng
        a = wf.arrays
        obs = self._observed(h)
        if len(self._asked) < wf.cap:
            self._asked = np.r_[self._asked, np.zeros(wf.cap - len(self._asked), bool)]
        act = wf.active_idx()
        act = act[~self._asked[act]]
        pick = act[rng.random(len(act)) < s.share]
        if len(pick) == 0:
            return
        n_c = len(cat.hours)
        teaches = np.zeros((n_c, tax.n_skills))
        teaches[cat.cs_course, cat.cs_skill] = 1.0
        gaps = self._gaps(tax, obs, a["job"][pick], pick)
        covered = gaps @ teaches.T
        avail = (cat.created_month < m) & (cat.mandatory_month == 0)
        done = self._completed(h, pick, cal.first_day(m), n_c)
        cand = (covered > 0) & avail[None, :] & ~done
        score = covered - HOURS_WEIGHT * cat.hours[None, :]
        rows = np.flatnonzero(cand.any(axis=1))
        if len(rows) == 0:
            return
        self._asked[pick[rows]] = True
        req_of, shown_rows = [], []
        emp_s, course_s, rank_s, score_s, prop_s, req_s, expl_s = [], [], [], [], [], [], []
        c_req, c_course, c_prop, c_pos, c_shown = [], [], [], [], []
        for i in rows:
            c = np.flatnonzero(cand[i])
            order = c[np.lexsort((c, -score[i, c]))]
            p = inclusion(len(order), s.k, s.epsilon, s.pool)
            pool = min(max(s.pool, s.k), len(order))
            explored = s.epsilon > 0 and pool > s.k and rng.random() < s.epsilon
            positions = rng.permutation(pool)[: s.k] if explored else np.arange(min(s.k, len(order)))
            rid = self.n_req
            self.n_req += 1
            req_of.append(i)
            emp_s.append(np.full(len(positions), pick[i]))
            course_s.append(order[positions])
            rank_s.append(np.arange(1, len(positions) + 1))
            score_s.append(score[i, order[positions]])
            prop_s.append(p[positions])
            req_s.append(np.full(len(positions), rid))
            expl_s.append(np.full(len(positions), explored))
            is_shown = np.zeros(len(order), bool)
            is_shown[positions] = True
            c_req.append(np.full(len(order), rid))
            c_course.append(order)
            c_prop.append(p)
            c_pos.append(np.arange(len(order)))
            c_shown.append(is_shown)
            shown_rows.append(len(positions))
        emp, course = np.concatenate(emp_s), np.concatenate(course_s)
        accepted = rng.random(len(emp)) < s.follow
        day = cal.first_day(m)
        self.shown.append({"req": np.concatenate(req_s), "emp": emp, "course": course, "rank": np.concatenate(rank_s),
                           "score": np.concatenate(score_s), "prop": np.concatenate(prop_s),
                           "day": np.full(len(emp), day, np.int64), "accepted": accepted,
                           "explored": np.concatenate(expl_s)})
        cr = np.concatenate(c_req)
        ce = pick[np.repeat(np.asarray(req_of), [len(x) for x in c_req])]
        cc = np.concatenate(c_course)
        gain, reward = self._expected(h, m, ce, cc, obs)
        self.cands.append({"req": cr, "emp": ce, "course": cc, "pos": np.concatenate(c_pos),
                           "prop": np.concatenate(c_prop), "shown": np.concatenate(c_shown),
                           "gain": gain, "reward": reward, "day": np.full(len(cr), day, np.int64)})
        h.learn.enroll(emp[accepted], course[accepted], RECOMMENDED, wf, cal, m, rng)

    @staticmethod
    def _gaps(tax, obs: np.ndarray, job: np.ndarray, emp: np.ndarray) -> np.ndarray:  # noqa: ANN001
        """Observed gap per (picked employee, skill): the larger of the job's and the next job's."""
        nxt_id = tax.jobs["next_job_id"].to_numpy(dtype=object)
        index = {j: i for i, j in enumerate(tax.jobs["job_id"])}
        nxt = np.array([index.get(x, -1) if isinstance(x, str) else -1 for x in nxt_id])
        gaps = np.zeros((len(emp), tax.n_skills))
        for jobs in (job, nxt[job]):
            ok = jobs >= 0
            rs = np.where(ok[:, None], tax.req_skills[np.maximum(jobs, 0)], -1)
            rl = tax.req_levels[np.maximum(jobs, 0)]
            r, c = np.nonzero(rs >= 0)
            skill = rs[r, c]
            level = obs[emp[r], skill].astype(float)
            g = np.where(level > 0, np.maximum(rl[r, c] - level, 0.0), 0.0)
            np.maximum.at(gaps, (r, skill), g)
        return gaps

    @staticmethod
    def _completed(h, pick: np.ndarray, before_day: int, n_courses: int) -> np.ndarray:  # noqa: ANN001
        """(picked employee, course): completed before ``before_day``."""
        out = np.zeros((len(pick), n_courses), bool)
        pos = np.full(h.wf.cap, -1)
        pos[pick] = np.arange(len(pick))
        for e in h.learn.enr:
            hit = (e["done"] >= 0) & (e["done"] < before_day) & (pos[np.minimum(e["emp"], h.wf.cap - 1)] >= 0)
            out[pos[e["emp"][hit]], e["course"][hit]] = True
        return out

    def _expected(self, h, m: int, emp: np.ndarray, course: np.ndarray, obs: np.ndarray  # noqa: ANN001
                  ) -> tuple[np.ndarray, np.ndarray]:
        """For each (employee, candidate course), if shown: the expected true gain on the job's skills, and
        the expected off-policy reward (completed, and a taught skill's rating rose at the first review after
        completion, within ``HORIZON_MONTHS`` of the request).

        By the simulator's rules at the request, averaged over the enrollment day (4 points of the month) and
        the course's duration (8 quantiles of its random factor): completion odds of ``Learning.enroll`` with
        the employee's engagement and format preference now; the gain of ``Learning.apply_completions``
        (applied the month after completion, so a review in the month of completion does not show it); the
        first review signed off after completion (sign-off in the month's last 9 days), in time when before
        the horizon; staying employed until then at the employee's last monthly exit hazard; a rating
        ``round(level + the manager's leniency + N(0, RATING_NOISE))`` against the last rating, the level at
        the review = now (+ gain) + learning on the job until then. Left out: later manager or job changes,
        engagement drift, and other enrollments."""
        from features.simulator.dynamics import LEARNING_BY_DOING, POTENTIAL_LEARNING

        s, cat, tax, cal, wf = self.settings, h.cat, h.tax, h.cal, h.wf
        a = wf.arrays
        logit = (1.0 + 0.7 * a["engagement"][emp] + 0.8 * (cat.fmt[course] == a["fmt_pref"][emp])
                 - 0.06 * cat.hours[course])
        p_done = 1.0 / (1.0 + np.exp(-logit))
        pace = np.maximum(0.0, 1.0 + POTENTIAL_LEARNING * a["potential"][emp])
        reviewer = h.org.manager_of(a["unit"][emp], emp)
        leniency = np.where(reviewer >= 0, a["leniency"][np.maximum(reviewer, 0)], 0.0)
        hazard = np.full(wf.cap, 0.015)
        if h.hazard:
            hazard[h.hazard[-1]["emp"]] = h.hazard[-1]["hazard"] + 0.004  # + involuntary exits, about
        # expand to (pair, skill taught)
        row, pair, counts = course_skill_pairs(cat, course)
        e, sk = emp[row], cat.cs_skill[pair]
        level = wf.skills[e, sk].astype(float)
        after = np.minimum(level + cat.cs_effect[pair] * np.where(level < cat.cs_target[pair], 1.0, DIMINISHED), 5.0)
        rs = tax.req_skills[a["job"][e]]
        required = (rs == sk[:, None]).any(axis=1)
        gain = np.bincount(row, np.where(required, after - level, 0.0), len(emp))
        r0 = obs[e, sk].astype(float)
        rated = required & (r0 > 0) & (r0 < 5)

        starts_m = cal.month_start
        n_m = len(starts_m) - 1
        is_review = np.array([cal.calendar_month(x) in REVIEW_MONTHS for x in range(n_m)] + [False])
        nxt = np.full(n_m + 1, n_m + 99)  # first review month at or after each month index
        for x in range(n_m - 1, -1, -1):
            nxt[x] = x if is_review[x] else nxt[x + 1]
        scale = np.where(cat.fmt[course] == 2, 2.0, 1.0) * cat.hours[course]
        reward = np.zeros(len(emp))
        n_s = 0
        for d in (np.arange(4) + 0.5) / 4:
            day = cal.first_day(m) + int(d * cal.days_in(m))
            for f in 1.5 + 3.5 * (np.arange(8) + 0.5) / 8:
                n_s += 1
                done = day + (3 + scale * f).astype(np.int64)
                cm = np.minimum(np.searchsorted(starts_m, done, side="right") - 1, n_m)
                last = starts_m[np.minimum(cm + 1, n_m)] - 1
                same = np.where(is_review[cm], np.clip((last - done) / 9.0, 0.0, 1.0), 0.0)  # review after it
                later = nxt[np.minimum(cm + 1, n_m)]
                out = np.zeros(len(emp))
                for p_at, rm, with_gain in ((same, cm, False), (1.0 - same, later, True)):
                    in_time = rm <= m + HORIZON_MONTHS - 1
                    stay = (1.0 - hazard[emp]) ** np.maximum(rm - m + 1, 1)
                    base = np.where(with_gain, after, level)
                    x = np.minimum(base + LEARNING_BY_DOING * pace[row] * (rm[row] - m + 1), 5.0) + leniency[row]
                    rise = np.where(rated, 1.0 - _phi((r0 + 0.5 - x) / RATING_NOISE), 0.0)
                    none = np.exp(np.bincount(row, np.log1p(-np.minimum(rise, 1 - 1e-12)), len(emp)))
                    out += p_at * in_time * stay * (1.0 - none)
                reward += out
        return s.follow * p_done * gain, s.follow * p_done * reward / n_s

    # ------------------------------------------------------------------------------------------ tables
    def feed_table(self, emp_ids, course_ids: np.ndarray) -> pd.DataFrame:  # noqa: ANN001
        """``learning/learning_plans``: one row per course shown (contract column order)."""
        from features.simulator.tables import iso

        x = _concat(self.shown, ("req", "emp", "course", "rank", "score", "prop", "day", "accepted", "explored"))
        return pd.DataFrame({
            "request_id": _request_ids(x["req"]), "employee_id": emp_ids(x["emp"]).astype(object),
            "course_id": course_ids[x["course"]].astype(object), "rank": x["rank"].astype(np.int64),
            "score": np.round(x["score"].astype(float), 4), "propensity": np.round(x["prop"].astype(float), 6),
            "policy": np.full(len(x["req"]), POLICY, object), "explored": x["explored"].astype(bool),
            "exploration_share": np.full(len(x["req"]), self.settings.epsilon), "served_at": iso(x["day"]),
            "status": np.where(x["accepted"].astype(bool), "accepted", "declined").astype(object)})

    def truth_tables(self, emp_ids, course_ids: np.ndarray) -> dict[str, pd.DataFrame]:  # noqa: ANN001
        """``learning_plan_candidates``: every candidate of every request with its position in the policy's
        order, inclusion propensity, whether it was shown, and the expected gain / reward if shown;
        ``learning_plan_requests``: per request the expected gain and reward of the list shown and the
        logging policy's expected reward (Σ propensity × expected reward over the candidates)."""
        x = _concat(self.cands, ("req", "emp", "course", "pos", "prop", "shown", "gain", "reward", "day"))
        month = x["day"].astype("datetime64[D]").astype("datetime64[us]")
        cands = pd.DataFrame({"request_id": _request_ids(x["req"]), "employee_id": emp_ids(x["emp"]).astype(object),
                              "course_id": course_ids[x["course"]].astype(object), "month": month,
                              "position": x["pos"].astype(np.int64), "propensity": x["prop"].astype(float),
                              "shown": x["shown"].astype(bool), "expected_gain": x["gain"].astype(float),
                              "expected_reward": x["reward"].astype(float)})
        shown = cands[cands["shown"]]
        per = pd.DataFrame({
            "expected_gain": shown.groupby("request_id")["expected_gain"].sum(),
            "expected_reward": shown.groupby("request_id")["expected_reward"].sum(),
            "logging_policy_reward": (cands["propensity"] * cands["expected_reward"]).groupby(
                cands["request_id"]).sum()})
        first = cands.drop_duplicates("request_id").set_index("request_id")[["employee_id", "month"]]
        requests = first.join(per).reset_index()
        settings = {k: getattr(self.settings, k) for k in ("share", "k", "pool", "epsilon", "follow", "first", "last")}
        requests.attrs["settings"] = settings
        return {"learning_plan_candidates": cands, "learning_plan_requests": requests}


def _request_ids(req: np.ndarray) -> np.ndarray:
    return np.char.add("LP", np.char.zfill((np.asarray(req, np.int64) + 1).astype(str), 7)).astype(object)


def _concat(chunks: list[dict[str, np.ndarray]], keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    if not chunks:
        return {k: np.zeros(0, np.int64) for k in keys}
    return {k: np.concatenate([c[k] for c in chunks]) for k in keys}
