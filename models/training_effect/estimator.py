"""Doubly robust difference-in-differences: the effect of completing a course on those who completed it.

For a course c and an outcome (the change in a skill's competency rating, or in the overall rating, between two
consecutive reviews; see :mod:`models.training_effect.panel`), the estimand is the **average effect on the
treated** (ATT): the mean, over the rows where c was completed in between, of the change with the course minus
the change those same people would have had without it. The estimator is the doubly robust DiD of Sant'Anna and
Zhao (2020) for panel data:

- an outcome regression ``mu0(x)`` of the change on the t0 covariates, fitted on the controls of the same group
  (skill) only (least squares with a small ridge);
- a propensity ``e(x)`` of completing c versus no relevant course, a logistic regression fitted on the takers
  and at most :data:`MAX_PROPENSITY_CONTROLS` controls drawn at random (sampling controls only shifts the
  intercept, which the normalised weights cancel);
- ``ATT = mean_takers(y - mu0) - sum_controls(w (y - mu0)) / sum(w)``, ``w = e / (1 - e)``.

It is consistent when either model is right. The 95 % interval is normal with a variance from the influence
function summed per employee (a person's rows are not independent); the two fitted models are treated as
known, which the controls' number justifies (thousands per group).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

MAX_PROPENSITY_CONTROLS = 5000
RIDGE = 1e-3
Z95 = 1.959964
MAX_WEIGHT_ODDS = 50.0  # propensity odds are capped (relative to the takers' median) so one row cannot dominate


@dataclass(frozen=True)
class Effect:
    """One course's estimated effect on one outcome group."""

    course_id: str
    group: str
    effect: float
    ci_low: float
    ci_high: float
    std_error: float
    takers: int
    controls: int
    naive: float  # takers' mean change minus controls' mean change, unadjusted (for contrast)


def _fit_outcome(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Ridge least squares coefficients (with an intercept column appended)."""
    xa = np.c_[x, np.ones(len(x))]
    gram = xa.T @ xa + RIDGE * len(x) * np.eye(xa.shape[1])
    return np.linalg.solve(gram, xa.T @ y)


def _predict(beta: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.c_[x, np.ones(len(x))] @ beta


def _odds(x_t: np.ndarray, x_c: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Propensity odds e/(1-e) for the controls, up to a constant."""
    take = rng.choice(len(x_c), min(len(x_c), MAX_PROPENSITY_CONTROLS), replace=False)
    xs = np.r_[x_t, x_c[take]]
    mu, sd = xs.mean(axis=0), xs.std(axis=0) + 1e-9
    lab = np.r_[np.ones(len(x_t)), np.zeros(len(take))]
    clf = LogisticRegression(C=1.0, max_iter=300).fit((xs - mu) / sd, lab)
    logit_c = clf.decision_function((x_c - mu) / sd)
    logit_t = clf.decision_function((x_t - mu) / sd)
    cap = np.median(logit_t) + np.log(MAX_WEIGHT_ODDS)
    return np.exp(np.minimum(logit_c, cap) - cap)


def att(y_t: np.ndarray, x_t: np.ndarray, id_t: np.ndarray, y_c: np.ndarray, x_c: np.ndarray, id_c: np.ndarray,
        beta: np.ndarray, rng: np.random.Generator, pooled_floor: bool = False) -> tuple[float, float, float]:
    """Doubly robust ATT, its standard error (clustered by id) and the naive difference. ``pooled_floor``: the
    takers' residual variance is at least the controls' (for a rare binary outcome, a few takers with no event
    would otherwise give a zero variance and an interval far too narrow)."""
    r_t = y_t - _predict(beta, x_t)
    r_c = y_c - _predict(beta, x_c)
    w = _odds(x_t, x_c, rng)
    m_c = float(np.sum(w * r_c) / np.sum(w))
    tau = float(r_t.mean()) - m_c
    infl = np.r_[(r_t - r_t.mean()) / len(r_t), -w * (r_c - m_c) / np.sum(w)]
    ids = np.r_[id_t, id_c]
    _, inv = np.unique(ids, return_inverse=True)
    se = float(np.sqrt(np.sum(np.bincount(inv, infl) ** 2)))
    if pooled_floor:
        floor = float(np.sum(w * (r_c - m_c) ** 2) / np.sum(w)) / len(r_t)
        se = float(np.sqrt(max(se**2, floor + se**2 - np.var(r_t) / len(r_t))))
    return tau, se, float(y_t.mean() - y_c.mean())


def estimate(panel: pd.DataFrame, x: np.ndarray, min_takers: int = 10, seed: int = 0,
             pooled_floor: bool = False) -> list[Effect]:
    """The effect of every course with at least ``min_takers`` takers in each group of ``panel`` (rows with
    ``course_id`` empty are the controls; ``x`` is the covariate matrix, row for row)."""
    rng = np.random.default_rng(seed)
    out: list[Effect] = []
    course = panel["course_id"].astype(object).to_numpy()
    treated = pd.notna(panel["course_id"]).to_numpy()
    y = panel["y"].to_numpy(float)
    ids = panel["employee_id"].astype(str).to_numpy()
    for group, idx in panel.groupby("group", sort=True, observed=True).indices.items():
        ctrl = idx[~treated[idx]]
        if len(ctrl) < 2 * min_takers:
            continue
        beta = _fit_outcome(x[ctrl], y[ctrl])
        took = idx[treated[idx]]
        labels = course[took].astype(str)
        for c, pos in pd.Series(labels).groupby(labels, sort=True).indices.items():
            t = took[pos]
            if len(t) < min_takers:
                continue
            tau, se, naive = att(y[t], x[t], ids[t], y[ctrl], x[ctrl], ids[ctrl], beta, rng, pooled_floor)
            out.append(Effect(str(c), str(group), tau, tau - Z95 * se, tau + Z95 * se, se, len(t), len(ctrl),
                              naive))
    return out


def effects_frame(effects: list[Effect]) -> pd.DataFrame:
    """Effects as a frame (one row per course and group)."""
    cols = ["course_id", "group", "effect", "ci_low", "ci_high", "std_error", "takers", "controls", "naive"]
    return pd.DataFrame([e.__dict__ for e in effects], columns=cols)
