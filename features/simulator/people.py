"""New people: protected attributes, latent traits, starting skills and pay.

Protected attributes have NO effect on any outcome. Sex is mildly correlated with job family (the family's
``female_share``), so a proxy check has something to find.
"""

from __future__ import annotations

import numpy as np

from features.simulator.state import Calendar, Workforce
from features.simulator.taxonomy import Taxonomy

SEXES = ("female", "male", "other", "undisclosed")
MARITAL = ("single", "married", "divorced", "widowed", "undisclosed")
NATIONALITIES = ("CN", "US", "SG", "IN", "DE", "GB", "JP", "MY")
NATIONALITY_P = np.array([0.82, 0.04, 0.03, 0.03, 0.02, 0.02, 0.02, 0.02])
ETHNICITIES = ("", "Han", "Zhuang", "Hui", "Manchu", "Uyghur", "Miao", "Asian (other)", "White", "Black",
               "Hispanic", "Other")
_ETH_CN = np.array([0.03, 0.87, 0.02, 0.02, 0.02, 0.01, 0.01, 0.0, 0.0, 0.0, 0.0, 0.02])
_ETH_ASIA = np.array([0.03, 0.25, 0.0, 0.0, 0.0, 0.0, 0.0, 0.67, 0.0, 0.0, 0.0, 0.05])
_ETH_WEST = np.array([0.03, 0.02, 0.0, 0.0, 0.0, 0.0, 0.0, 0.08, 0.62, 0.12, 0.08, 0.05])
FORMAT_PREF_P = np.array([0.5, 0.3, 0.2])


def _categorical(rng: np.random.Generator, p: np.ndarray) -> np.ndarray:
    """One draw per row of the probability matrix ``p``."""
    u = rng.random(len(p))[:, None]
    return np.minimum((u > np.cumsum(p, axis=1)).sum(axis=1), p.shape[1] - 1)


def draw_skills(rng: np.random.Generator, tax: Taxonomy, job: np.ndarray, bonus: np.ndarray) -> np.ndarray:
    """True skills (rows × skills): job-required ones near the required level (+ ``bonus``), others lower."""
    sk = rng.normal(2.0, 0.6, (len(job), tax.n_skills)).astype(np.float32)
    rs, rl = tax.req_skills[job], tax.req_levels[job]
    rows = np.repeat(np.arange(len(job)), rs.shape[1])
    ok = rs.ravel() >= 0
    vals = rl.ravel() - 0.3 + np.repeat(bonus, rs.shape[1]) + rng.normal(0, 0.6, rs.size)
    sk[rows[ok], rs.ravel()[ok]] = vals[ok]
    return np.clip(sk, 1.0, 5.0)


def add_people(wf: Workforce, rng: np.random.Generator, tax: Taxonomy, cal: Calendar, unit: np.ndarray,
               job: np.ndarray, hire_day: np.ndarray, skills: np.ndarray | None = None,
               tenure_years: np.ndarray | None = None) -> np.ndarray:
    """Create employees in ``unit`` × ``job`` starting on ``hire_day``; returns their indices."""
    n = len(unit)
    idx = wf.add(n)
    a = wf.arrays
    a["active"][idx] = True
    a["unit"][idx] = unit
    a["job"][idx] = job
    a["hire_day"][idx] = hire_day
    tenure = np.zeros(n) if tenure_years is None else tenure_years
    jobs = tax.jobs
    lo, hi = jobs["pay_band_min"].to_numpy()[job], jobs["pay_band_max"].to_numpy()[job]
    position = rng.beta(2.0, 2.2, n) if tenure_years is not None else rng.beta(1.6, 3.0, n)
    a["pay"][idx] = np.round((lo + position * (hi - lo)) / 100) * 100
    a["engagement"][idx] = rng.normal(0.0, 1.0, n)
    a["engagement0"][idx] = a["engagement"][idx]
    a["pull_mean"][idx] = rng.normal(0.0, 0.35, n)
    a["pull"][idx] = a["pull_mean"][idx] + rng.normal(0.0, 0.3, n)
    a["fmt_pref"][idx] = rng.choice(3, n, p=FORMAT_PREF_P)
    a["leniency"][idx] = rng.normal(0.0, 0.3, n)
    fam = jobs["family_idx"].to_numpy()[job]
    female = np.array([f.female_share for f in tax.families])[fam]
    u = rng.random(n)
    a["sex"][idx] = np.where(u < 0.01, 2, np.where(u < 0.035, 3, np.where(rng.random(n) < female, 0, 1)))
    age = np.clip(23 + tenure + rng.gamma(2.0, 3.5, n) + 2.0 * (jobs["level"].to_numpy()[job] - 1), tenure + 21, 62)
    day_year = 1970 + hire_day // 365.25 + tenure
    a["birth_year"][idx] = np.clip(np.round(day_year - age), 1945, 2005).astype(np.int32)
    a["birth_year"][idx[rng.random(n) < 0.01]] = 0  # not recorded
    nat = rng.choice(len(NATIONALITIES), n, p=NATIONALITY_P)
    a["nationality"][idx] = nat
    eth_p = np.where((nat == 0)[:, None], _ETH_CN, np.where(np.isin(nat, (2, 3, 6, 7))[:, None], _ETH_ASIA, _ETH_WEST))
    a["ethnicity"][idx] = _categorical(rng, eth_p)
    p_mar = np.where((age < 28)[:, None], [0.78, 0.2, 0.0, 0.0, 0.02],
                     np.where((age < 40)[:, None], [0.3, 0.6, 0.06, 0.0, 0.04], [0.1, 0.72, 0.12, 0.03, 0.03]))
    a["marital"][idx] = _categorical(rng, p_mar)
    if skills is None:
        skills = draw_skills(rng, tax, job, np.minimum(tenure, 8.0) * 0.06)
    wf.skills[idx] = skills
    return idx
