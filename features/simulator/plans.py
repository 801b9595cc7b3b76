"""The simulator playing employees who follow learning plans with a known probability.

Given the courses shown to employees (a recommendation list per request) and the simulator's own state at
the month they were shown (each employee's true level in every skill a course teaches, the level their job
requires, each course's true effect and target level), :func:`play` decides for every course shown:

1. the plan: ``accepted`` with probability ``follow`` (known, the same at every rank), else ``declined``;
2. completion of an accepted course, with the simulator's completion odds at an average engagement:
   ``logit = 1.0 + 0.8 × format_match − 0.06 × hours`` (``format_match``: the employee's share of training
   in the course's format, the observable stand-in for the latent preference of ``learning.Learning.enroll``);
3. the skill gained on completion, by the simulator's rule (``learning.Learning.apply_completions``): the
   course's true effect, ``DIMINISHED`` of it at or above the course's target level, capped at level 5;
4. the reward observed at the next review: for each skill the job requires, the competency rating after
   minus the rating before, each ``round(true level + noise)`` with the reviews' noise (``reviews.RATING_NOISE``).

``expected`` is the exact expectation of the gain (steps 1-3, no rating noise): the value the plan has for
the employee, which the off-policy estimates are checked against. Position effects are left out on purpose
(an employee follows the 1st and the 5th course alike), so item-level inverse-propensity estimates are
unbiased.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.simulator.learning import DIMINISHED
from features.simulator.reviews import RATING_NOISE

PAIR_COLUMNS = ("row", "true_level", "required_level", "effect", "target_level")


@dataclass(frozen=True)
class Played:
    """One value per course shown (aligned with the ``shown`` frame given to :func:`play`)."""

    accepted: np.ndarray
    completed: np.ndarray
    reward: np.ndarray  # observed: rating change on the job's skills the course teaches (0 when not completed)
    expected: np.ndarray  # exact expected gain on the job's skills, given only the follow probability


def completion_probability(hours: np.ndarray, format_match: np.ndarray) -> np.ndarray:
    logit = 1.0 + 0.8 * np.nan_to_num(np.asarray(format_match, float)) - 0.06 * np.asarray(hours, float)
    return 1.0 / (1.0 + np.exp(-logit))


def skill_gains(skills: pd.DataFrame) -> pd.DataFrame:
    """Per (shown course, skill) row of ``skills`` (columns ``PAIR_COLUMNS``): the true gain on completion and
    whether the job requires the skill."""
    missing = [c for c in PAIR_COLUMNS if c not in skills.columns]
    if missing:
        raise ValueError(f"skills is missing column(s) {missing}")
    level = skills["true_level"].to_numpy(float)
    scale = np.where(level < skills["target_level"].to_numpy(float), 1.0, DIMINISHED)
    after = np.minimum(level + skills["effect"].to_numpy(float) * scale, 5.0)
    required = skills["required_level"].fillna(0).to_numpy(float) > 0
    return skills.assign(gain=np.where(required, after - level, 0.0), after=after, required=required)


def play(shown: pd.DataFrame, skills: pd.DataFrame, follow: float, rng: np.random.Generator) -> Played:
    """Play the employees shown the courses of ``shown`` (one row per course shown: ``hours``,
    ``format_match``); ``skills`` has one row per (row of ``shown``, skill the course teaches)."""
    if not 0.0 <= follow <= 1.0:
        raise ValueError(f"follow must be a probability between 0 and 1, got {follow!r}")
    n = len(shown)
    p_done = completion_probability(shown["hours"].to_numpy(), shown["format_match"].to_numpy())
    g = skill_gains(skills)
    rows = g["row"].to_numpy(np.int64)
    gain = np.bincount(rows, g["gain"].to_numpy(), n)
    accepted = rng.random(n) < follow
    completed = accepted & (rng.random(n) < p_done)
    level = g["true_level"].to_numpy(float)
    now = np.where(completed[rows], g["after"].to_numpy(), level)
    before = np.clip(np.round(level + rng.normal(0, RATING_NOISE, len(g))), 1, 5)
    after = np.clip(np.round(now + rng.normal(0, RATING_NOISE, len(g))), 1, 5)
    change = np.where(g["required"].to_numpy() & completed[rows], after - before, 0.0)
    return Played(accepted=accepted, completed=completed, reward=np.bincount(rows, change, n),
                  expected=follow * p_done * gain)
