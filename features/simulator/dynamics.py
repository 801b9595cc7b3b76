"""The monthly loop. Within a month, days are laid out so events stay in causal order:
pay review on day 1, exits on days 2-15 (manager changes the day after), promotions and transfers on
days 16-21, reorganisations on day 22, hires on days 23-28; reviews sign off in the month's last days.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from features.simulator import attrition, mobility
from features.simulator.catalog import Catalog, build_catalog
from features.simulator.learning import Learning
from features.simulator.org import TEAM, Org, build_org, management_job
from features.simulator.people import add_people
from features.simulator.recruiting import (
    ADOPTION_FAMILIES,
    FILL_LAG_CAP,
    Recruiting,
    adoption_ramp,
    build_plan,
    open_after,
)
from features.simulator.reviews import Reviews
from features.simulator.state import (
    HIRE,
    INVOLUNTARY,
    PROMOTION,
    TERMINATION,
    VOLUNTARY,
    Calendar,
    EventLog,
    Workforce,
)
from features.simulator.taxonomy import ADOPTED_TECHNOLOGY, Taxonomy, build_taxonomy

SkillSink = Callable[[int, np.ndarray, np.ndarray, np.ndarray], None]
Progress = Callable[[str, int, int], None]
PlanHook = Callable[["History", int], None]
ENGAGEMENT_RHO, ENGAGEMENT_SD = 0.98, 0.18
PULL_RHO, PULL_SD = 0.85, 0.2
LEARNING_BY_DOING = 0.01  # monthly drift of true skill on the job's required skills
ANNUAL_REVIEW_MONTH = 12  # the review cycle an export keeping one review a year keeps (Q4)
POTENTIAL_LEARNING = 0.6  # learning on the job runs at LEARNING_BY_DOING × max(0, 1 + this × potential)
SUPPLY_LEVEL = 3.0


@dataclass
class History:
    """Everything the loop produced, turned into tables by ``features.simulator.tables``."""

    tax: Taxonomy
    cat: Catalog
    org: Org
    cal: Calendar
    wf: Workforce
    log: EventLog
    rec: Recruiting
    learn: Learning
    rev: Reviews
    hazard: list[dict[str, np.ndarray]] = field(default_factory=list)
    demand: list[dict[str, np.ndarray]] = field(default_factory=list)
    # truth only: expected exits (voluntary hazard + involuntary probability) per requisition cell and month, and
    # the initial heads per cell; with the plan they give the expected requisitions of the planner's need
    exit_expect: list[np.ndarray] = field(default_factory=list)
    plan_base: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # truth only: members whose true level reaches SUPPLY_LEVEL per snapshot month (unit × skill key → count)
    supply: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    # truth only: the part of each person's engagement that no observable event explains (the initial draw
    # and the monthly AR noise); engagement − this = the shifts from promotions, manager changes, weak reviews
    # and completions. Tracking it draws no random number, so the feeds do not change.
    eng_noise: np.ndarray = field(default_factory=lambda: np.zeros(0))
    eng_tracked: int = 0
    # truth only: the engagement shifts made by the review and learning processes (weak reviews, completions),
    # decaying like engagement; with the review and training terms they are the part of the observable logit an
    # export without those feeds cannot see (``attrition_hazard.logit_reviews`` / ``logit_learning``)
    eng_shift: dict[str, np.ndarray] = field(default_factory=lambda: {"reviews": np.zeros(0), "learning": np.zeros(0),
                                                                      "reviews_annual": np.zeros(0)})
    # truth only: the last month of a weak review in the annual (Q4) cycle; with ``eng_shift["reviews_annual"]``
    # the part of ``logit_reviews`` an export keeping only the Q4 cycle still shows (the rest is
    # ``attrition_hazard.logit_reviews_offcycle``)
    weak_annual_m: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    # each person's latent potential ~ N(0, 1), drawn from its own stream (spawned from the simulation's seed
    # without drawing from it), so adding it moved no other random number
    pot_rng: np.random.Generator | None = None
    pot_drawn: int = 0


def _initial_workforce(n: int, cal: Calendar, tax: Taxonomy, rng: np.random.Generator
                       ) -> tuple[Org, Workforce, np.ndarray, np.ndarray]:
    org, m_unit, m_job = build_org(n, tax, rng)
    wf = Workforce(tax.n_skills, cap=int(n * 1.6) + 64)
    level = tax.jobs["level"].to_numpy()[m_job]
    tenure = np.minimum(rng.exponential(3.5 + 0.8 * level), 25.0)
    hire_day = cal.first_day(0) - (tenure * 365.25).astype(np.int64) - rng.integers(1, 28, len(m_job))
    emp = add_people(wf, rng, tax, cal, m_unit, m_job, hire_day, tenure_years=tenure)
    heads = np.flatnonzero(org.kind != TEAM)
    h_job = np.array([management_job(tax, k) for k in org.kind[heads]])
    h_tenure = 3 + rng.exponential(5.0, len(heads))
    h_day = cal.first_day(0) - (h_tenure * 365.25).astype(np.int64)
    h_emp = add_people(wf, rng, tax, cal, heads, h_job, h_day, tenure_years=h_tenure)
    wf.arrays["is_head"][h_emp] = True
    org.leader[heads] = h_emp
    mobility.pick_team_leads(org, wf, org.teams, tax)
    a = wf.arrays
    everyone = np.r_[emp, h_emp]
    tenure_m = (cal.first_day(0) - a["hire_day"][everyone]) / 30.44
    since = np.floor(rng.uniform(0, np.minimum(tenure_m, 60))).astype(np.int32)
    promoted = (tax.jobs["level"].to_numpy()[a["job"][everyone]] > 1) & (rng.random(len(everyone)) < 0.8)
    a["last_promo_m"][everyone] = np.where(promoted, -since, -999)
    a["job_since_m"][everyone] = np.where(promoted, -since, -np.floor(tenure_m).astype(np.int32))
    a["last_rating"][everyone] = rng.choice([2, 3, 4, 5], len(everyone), p=[0.08, 0.55, 0.3, 0.07])
    a["prev_rating"][everyone] = 3
    return org, wf, m_unit, m_job


def _initial_events(h: History, manager: np.ndarray, rng: np.random.Generator) -> None:
    """Hire events (and the last promotion) of the people employed before the window."""
    wf, tax, cal, log = h.wf, h.tax, h.cal, h.log
    a = wf.arrays
    emp = np.arange(wf.n)
    promoted = a["last_promo_m"][emp] > -999
    job_id = tax.jobs["job_id"].to_numpy()
    prev = {nxt: i for i, nxt in enumerate(tax.jobs["next_job_id"]) if nxt is not None}
    prev_job = np.array([prev.get(j, -1) for j in job_id])[a["job"][emp]]
    hire_job = np.where(promoted & (prev_job >= 0), prev_job, a["job"][emp])
    hire_pay = np.round(tax.jobs["pay_band_min"].to_numpy()[hire_job] * rng.uniform(0.95, 1.1, len(emp)) / 100) * 100
    hire_pay = np.where(hire_job == a["job"][emp], a["pay"][emp], hire_pay)  # the state after the last event
    log.add(HIRE, emp, a["hire_day"][emp], a["unit"][emp], hire_job, manager[emp], hire_pay)
    p = emp[promoted & (prev_job >= 0)]
    day = cal.first_day(0) + (a["last_promo_m"][p] * 30.44).astype(np.int64) + rng.integers(0, 20, len(p))
    day = np.clip(day, a["hire_day"][p] + 1, cal.first_day(0) - 1)
    log.add(PROMOTION, p, day, a["unit"][p], a["job"][p], manager[p], a["pay"][p])


REORG_SHUFFLED = ("pay", "promotion", "engagement", "manager", "team", "review", "training", "tenure", "pull")


def run(n_employees: int, months: int, start: np.datetime64, rng: np.random.Generator,
        on_skills: SkillSink, progress: Progress | None = None, reorg_at: int | None = None,
        plans: PlanHook | None = None) -> History:
    """Simulate ``months`` months of a company that starts with ``n_employees`` people.

    ``reorg_at`` (opt-in drift, off by default): in that month every team gets a new lead (so everyone's
    manager changes), and from then on the drivers of voluntary exits (:data:`REORG_SHUFFLED`, the latent
    engagement and outside pull included) are shuffled among the employees each month: the exit rate stays the
    same, but who leaves after a reorganisation depends on the new structure, which the old features no longer tell.
    """
    tax = build_taxonomy()
    cal = Calendar(start, months)
    cat = build_catalog(tax, rng, months)
    org, wf, m_unit, m_job = _initial_workforce(n_employees, cal, tax, rng)
    cells = np.unique(np.c_[m_unit, m_job], axis=0)
    base = np.zeros(len(cells), np.int64)
    key = {(int(u), int(j)): i for i, (u, j) in enumerate(cells)}
    np.add.at(base, [key[(int(u), int(j))] for u, j in zip(m_unit, m_job, strict=True)], 1)
    plan = build_plan(org, tax, cal, cells[:, 0], cells[:, 1], base, rng)
    rec = Recruiting(cells[:, 0].astype(np.int64), cells[:, 1].astype(np.int64), plan, np.zeros(len(cells), np.int64))
    h = History(tax, cat, org, cal, wf, EventLog(), rec, Learning(cat), Reviews(), pot_rng=rng.spawn(1)[0],
                plan_base=base.astype(float))
    manager = np.full(wf.cap, -1, np.int64)
    manager[: wf.n] = org.manager_of(wf.arrays["unit"][: wf.n], np.arange(wf.n))
    _initial_events(h, manager, rng)
    _record_supply(h)  # the state at the first snapshot (start of month 0)
    team_exits = np.zeros((6, len(org.parent)), np.float64)
    weak_emp, weak_skill = np.zeros(0, np.int64), np.zeros(0, np.int64)
    for m in range(months):
        manager = _fit(manager, wf.cap)
        day_of_unit = np.full(len(org.parent), cal.first_day(m), np.int64)
        _feed_shift(h, "learning", h.learn.apply_completions, wf, cal, m, rng)
        _track_new_hires(h)
        _drift(wf, tax, rng, h.eng_noise)
        _decay_shifts(h)
        _record_skills(wf, tax, m, on_skills)
        if plans is not None:  # opt-in: the learning-plan flow at the month's first day (plan_flow.PlanFlow)
            plans(h, m)
        mobility.pay_review(wf, h.log, m, cal, rng, manager)
        manager = _exits(h, m, rng, team_exits, day_of_unit, manager, reorg_at is not None and m >= reorg_at)
        mobility.promotions(wf, tax, h.log, org, m, cal, rng, manager)
        moved, old_unit, job = mobility.transfers(wf, tax, h.log, org, m, cal, rng, manager)
        rec.record_departures(old_unit, job)
        mobility.reorganise(org, wf, m, cal, rng, day_of_unit, 1.0 if m == reorg_at else None)
        mobility.sync_managers(org, wf, h.log, m, day_of_unit, manager)
        rec.open_requisitions(org, wf, tax, cal, m, rng)
        new = rec.fill(wf, tax, cal, m, rng)
        manager = _fit(manager, wf.cap)
        _welcome(h, m, new, manager, day_of_unit)
        _feed_shift(h, "learning", h.learn.month, wf, tax, cal, m, rng, weak_emp, weak_skill)
        annual = cal.calendar_month(m) == ANNUAL_REVIEW_MONTH
        weak_emp, weak_skill = _feed_shift(h, ("reviews", "reviews_annual") if annual else ("reviews",), h.rev.month,
                                           org, wf, tax, cal, m, rng)
        if annual:
            weak = np.flatnonzero(wf.arrays["last_weak_m"][: min(wf.n, len(h.weak_annual_m))] == m)
            h.weak_annual_m[weak] = m
        _record_supply(h)  # the state at the start of month m + 1
        if progress is not None:
            progress("months", m + 1, months)
    h.learn.apply_completions(wf, cal, months, rng)  # scores and points of the last month's completions
    _draw_potential(h)  # the last month's hires
    _record_need(h)
    return h


def _draw_potential(h: History) -> None:
    """Latent potential of the people added since the last draw, from its own stream."""
    if h.pot_rng is None:
        return
    new = np.arange(h.pot_drawn, h.wf.n)
    h.wf.arrays["potential"][new] = h.pot_rng.normal(0.0, 1.0, len(new))
    h.pot_drawn = h.wf.n


def _track_new_hires(h: History) -> None:
    """Truth: start the latent engagement of people added since the last month at their initial draw."""
    wf = h.wf
    if len(h.eng_noise) < wf.cap:
        h.eng_noise = np.r_[h.eng_noise, np.zeros(wf.cap - len(h.eng_noise))]
    if len(h.weak_annual_m) < wf.cap:
        h.weak_annual_m = np.r_[h.weak_annual_m, np.full(wf.cap - len(h.weak_annual_m), -999, np.int64)]
    new = np.arange(h.eng_tracked, wf.n)
    h.eng_noise[new] = wf.arrays["engagement0"][new]
    _draw_potential(h)
    h.eng_tracked = wf.n


def _feed_shift(h: History, feeds: str | tuple[str, ...], step: Callable[..., object], *args: object) -> object:
    """Truth: run ``step(*args)`` and add the engagement shifts it made to those of each of ``feeds`` (draws no
    random number)."""
    before = h.wf.arrays["engagement"][: h.wf.n].copy()
    out = step(*args)
    for feed in (feeds,) if isinstance(feeds, str) else feeds:
        shift = h.eng_shift[feed]
        if len(shift) < h.wf.cap:
            shift = h.eng_shift[feed] = np.r_[shift, np.zeros(h.wf.cap - len(shift))]
        shift[: len(before)] += h.wf.arrays["engagement"][: len(before)] - before
    return out


def _decay_shifts(h: History) -> None:
    """Truth: the tracked shifts decay as engagement does (engagement ← rho · engagement + noise)."""
    act = h.wf.active_idx()
    for shift in h.eng_shift.values():
        shift[act[act < len(shift)]] *= ENGAGEMENT_RHO


def _drift(wf: Workforce, tax: Taxonomy, rng: np.random.Generator, eng_noise: np.ndarray | None = None) -> None:
    a = wf.arrays
    act = wf.active_idx()
    noise = rng.normal(0, ENGAGEMENT_SD, len(act))
    a["engagement"][act] = ENGAGEMENT_RHO * a["engagement"][act] + noise
    if eng_noise is not None:
        eng_noise[act] = ENGAGEMENT_RHO * eng_noise[act] + noise
    mean = a["pull_mean"][act]
    a["pull"][act] = mean + PULL_RHO * (a["pull"][act] - mean) + rng.normal(0, PULL_SD, len(act))
    rs = tax.req_skills[a["job"][act]]
    r, c = np.nonzero(rs >= 0)
    e, s = act[r], rs[r, c]
    pace = np.maximum(0.0, 1.0 + POTENTIAL_LEARNING * a["potential"][e])
    wf.skills[e, s] = np.minimum(wf.skills[e, s] + LEARNING_BY_DOING * pace, 5.0)


def _record_skills(wf: Workforce, tax: Taxonomy, m: int, on_skills: SkillSink) -> None:
    act = wf.active_idx()
    rs = tax.req_skills[wf.arrays["job"][act]]
    r, c = np.nonzero(rs >= 0)
    on_skills(m, act[r], rs[r, c], wf.skills[act[r], rs[r, c]])


def _exits(h: History, m: int, rng: np.random.Generator, team_exits: np.ndarray, day_of_unit: np.ndarray,
           manager: np.ndarray, reorganised: bool = False) -> np.ndarray:
    """Voluntary and involuntary exits of month ``m``; heads are replaced at once. Returns ``manager``."""
    wf, org, tax, cal = h.wf, h.org, h.tax, h.cal
    a = wf.arrays
    act = wf.active_idx()
    size = np.bincount(a["unit"][act], minlength=len(org.parent))
    team_rate = team_exits.sum(axis=0) / np.maximum(size, 1)
    terms = attrition.hazard_terms(wf, act, m, cal, tax, team_rate)
    shuffle = rng.permutation(len(act)) if reorganised else None
    if shuffle is not None:  # the opt-in drift (see run): the old drivers no longer tell who leaves
        for k in REORG_SHUFFLED:
            terms[k] = terms[k][shuffle]
    hz = attrition.voluntary_hazard(terms)
    u = rng.random(len(act))
    vol = u < hz
    p_inv = attrition.involuntary_probability(wf, act)
    inv = ~vol & (rng.random(len(act)) < p_inv)
    # truth: expected exits per requisition cell (heads are replaced at once and open no lasting requisition)
    cell = h.rec.cell_index(a["unit"][act], a["job"][act])
    member = (cell >= 0) & ~a["is_head"][act]
    h.exit_expect.append(np.bincount(cell[member], (hz + (1 - hz) * p_inv)[member], len(h.rec.cell_unit)))
    # truth: the logit split into what the observable state determines and the two latent processes
    eng_latent, eng_now = h.eng_noise[act], a["engagement"][act]
    if shuffle is not None:  # the engagement term was shuffled with the others: its split follows it
        eng_latent, eng_now = eng_latent[shuffle], eng_now[shuffle]
    observable = sum(v for k, v in terms.items() if k not in ("engagement", "pull"))
    observable = observable + attrition.COEF["engagement"] * (eng_now - eng_latent)
    weak_annual = (m - h.weak_annual_m[np.minimum(act, len(h.weak_annual_m) - 1)] <= 6) & (act < len(h.weak_annual_m))
    annual_term = attrition.COEF["weak_review_6m"] * weak_annual
    by_feed = {}
    for feed, term in (("reviews", terms["review"]), ("learning", terms["training"]), ("reviews_annual", annual_term)):
        shift = h.eng_shift[feed]
        shift = shift[np.minimum(act, len(shift) - 1)] * (act < len(shift)) if len(shift) else np.zeros(len(act))
        if shuffle is not None:  # follows the shuffled engagement term
            shift = shift[shuffle]
            term = term if feed != "reviews_annual" else term[shuffle]
        by_feed[f"logit_{feed}"] = (term + attrition.COEF["engagement"] * shift).astype(np.float64)
    # the part of the review logit from the cycles other than the annual one (what `annual-reviews` cannot show)
    by_feed["logit_reviews_offcycle"] = by_feed["logit_reviews"] - by_feed.pop("logit_reviews_annual")
    h.hazard.append({"emp": act, "m": np.full(len(act), m, np.int32), "hazard": hz.astype(np.float64),
                     "involuntary": inv, "voluntary": vol, "logit_observable": observable.astype(np.float64),
                     **by_feed,
                     "engagement_latent": eng_latent.astype(np.float64),
                     "pull": (a["pull"][act] if shuffle is None else a["pull"][act][shuffle]).astype(np.float64)})
    reason_v = attrition.voluntary_reason(terms, rng)
    reason_i = np.where(rng.random(len(act)) < 0.8, 0, rng.integers(1, 3, len(act)))
    leaving = vol | inv
    emp = act[leaving]
    day = cal.random_days(m, len(emp), rng, 2, 15)
    a["active"][emp] = False
    a["term_day"][emp] = day
    term = np.where(vol[leaving], VOLUNTARY, INVOLUNTARY)
    reason = np.where(vol[leaving], reason_v[leaving], len(attrition.VOLUNTARY_REASONS) + reason_i[leaving])
    h.log.add(TERMINATION, emp, day, a["unit"][emp], a["job"][emp], manager[emp], a["pay"][emp], term, reason)
    team_exits[m % 6] = np.bincount(a["unit"][act[vol]], minlength=len(org.parent))
    heads = a["is_head"][emp]
    h.rec.record_departures(a["unit"][emp[~heads]], a["job"][emp[~heads]])
    units = a["unit"][emp]
    led = org.leader[units] == emp
    day_of_unit[units[led]] = np.minimum(day[led] + 1, cal.end_day)
    lead_teams = units[led & ~heads]
    if len(lead_teams):
        mobility.pick_team_leads(org, wf, np.unique(lead_teams), tax)
    if heads.any():
        hu, hd = units[heads], day[heads]
        hj = np.array([management_job(tax, k) for k in org.kind[hu]])
        new = h.rec.open_and_fill_now(org, wf, tax, cal, m, hu, hj, hd, rng)
        a["is_head"][new] = True
        org.leader[hu] = new
        manager = _fit(manager, wf.cap)
        manager[new] = org.manager_of(hu, new)
        a["job_since_m"][new] = m
        h.log.add(HIRE, new, a["hire_day"][new], hu, hj, manager[new], a["pay"][new])
    mobility.sync_managers(org, wf, h.log, m, day_of_unit, manager)
    return manager


def _fit(manager: np.ndarray, cap: int) -> np.ndarray:
    """The manager array grown to the workforce capacity."""
    if cap > len(manager):
        return np.r_[manager, np.full(cap - len(manager), -1, np.int64)]
    return manager


def _welcome(h: History, m: int, new: np.ndarray, manager: np.ndarray, day_of_unit: np.ndarray) -> None:
    """Hire events of this month's recruits; empty teams get their first recruit as lead."""
    wf, org = h.wf, h.org
    a = wf.arrays
    if len(new) == 0:
        return
    a["job_since_m"][new] = m
    vacant = np.unique(a["unit"][new][org.leader[a["unit"][new]] < 0])
    if len(vacant):
        mobility.pick_team_leads(org, wf, vacant, h.tax)
        day_of_unit[vacant] = a["hire_day"][org.leader[vacant]]
    manager[new] = org.manager_of(a["unit"][new], new)
    h.log.add(HIRE, new, a["hire_day"][new], a["unit"][new], a["job"][new], manager[new], a["pay"][new])
    mobility.sync_managers(org, wf, h.log, m, day_of_unit, manager)


def _record_supply(h: History) -> None:
    """Truth: active members whose true level is at least ``SUPPLY_LEVEL``, per unit × skill (sparse)."""
    wf, n_s = h.wf, h.tax.n_skills
    act = wf.active_idx()
    e, s = np.nonzero(wf.skills[act] >= SUPPLY_LEVEL)
    keys, counts = np.unique(wf.arrays["unit"][act[e]].astype(np.int64) * n_s + s, return_counts=True)
    h.supply.append((keys, counts.astype(float)))


def _record_need(h: History) -> None:
    """Truth: the expectation of the planner's capability need per unit × skill at each snapshot month
    ``k = 0 .. months`` (the start of month ``k``), as ``features.build.unit_skill`` defines demand:

    * teams (every team has a headcount plan): planned heads of each job in month ``k`` × the job's required
      skills (exact: the plan is fixed in advance), plus the expected requisitions open at the start of month
      ``k`` that ask for a new technology their job does not require: a requisition opened in month ``m`` is
      still open with probability ``open_after(k − m)`` and asks for the technology with probability
      ``adoption_ramp(m)``; the expected requisitions opened in month ``m`` are the cell's expected exits (each
      member's voluntary hazard plus involuntary probability) plus the change of its plan, at least 0;
    * other units (no plan): their head, present at every month start, × the management job's requirements.

    ``planned`` is the plan's part alone (planned heads × requirements). Only keys with a positive need are kept
    (a missing row means 0)."""
    tax, rec, org, cal = h.tax, h.rec, h.org, h.cal
    n_s, months = tax.n_skills, cal.months
    plan = rec.plan[:, : months + 1].astype(float)
    rs = tax.req_skills[rec.cell_job]
    r, c = np.nonzero(rs >= 0)
    keys = [rec.cell_unit[r].astype(np.int64) * n_s + rs[r, c]]
    values = [plan[r]]
    n_planned = len(r)  # the first rows are the plan's part
    for u in np.flatnonzero(org.kind != TEAM):
        req = tax.req_skills[management_job(tax, org.kind[u])]
        req = req[req >= 0]
        keys.append(u * n_s + req.astype(np.int64))
        values.append(np.ones((len(req), months + 1)))
    fams = np.array([f.family for f in tax.families])[tax.jobs["family_idx"].to_numpy()[rec.cell_job]]
    adopt = np.flatnonzero((org.division[rec.cell_unit] == org.adopting_division) & np.isin(fams, ADOPTION_FAMILIES))
    if len(adopt) and h.exit_expect:
        prev = np.c_[h.plan_base[adopt], plan[adopt, : months - 1]]
        opened = np.maximum(np.stack(h.exit_expect, axis=1)[adopt] + plan[adopt, :months] - prev, 0.0)
        opened *= adoption_ramp(np.arange(months))
        open_tech = np.zeros((len(adopt), months + 1))
        for lag in range(1, FILL_LAG_CAP + 1):
            open_tech[:, lag:] += open_after(lag) * opened[:, : months + 1 - lag]
        for tech in tax.skills.index[tax.skills["skill_id"].isin(ADOPTED_TECHNOLOGY)].to_numpy():
            beyond = ~(tax.req_skills[rec.cell_job[adopt]] == tech).any(axis=1)
            keys.append(rec.cell_unit[adopt[beyond]].astype(np.int64) * n_s + tech)
            values.append(open_tech[beyond])
    key, inverse = np.unique(np.concatenate(keys), return_inverse=True)
    need = np.zeros((len(key), months + 1))
    np.add.at(need, inverse, np.concatenate(values))
    planned = np.zeros((len(key), months + 1))
    np.add.at(planned, inverse[:n_planned], values[0])
    for k in range(months + 1):
        keep = np.flatnonzero(need[:, k] > 0)
        sk, sv = h.supply[k]
        pos = np.searchsorted(sk, key[keep])
        hit = pos < len(sk)
        hit[hit] = sk[pos[hit]] == key[keep][hit]
        supply = np.zeros(len(keep))
        supply[hit] = sv[pos[hit]]
        h.demand.append({"unit": key[keep] // n_s, "skill": key[keep] % n_s, "m": np.full(len(keep), k, np.int32),
                         "demand": need[keep, k], "planned": planned[keep, k], "supply": supply})
