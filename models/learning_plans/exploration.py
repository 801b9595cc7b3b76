"""Randomised exploration among the top candidates, with the propensity of every course shown.

The logging policy (``docs/learning-plans.md``): the ranker orders the candidates; with probability
``1 − share`` the list shown is its top ``k``; with probability ``share`` it is ``k`` courses drawn uniformly
without replacement from its top ``pool`` (fewer when there are fewer candidates), in random order. The
propensity logged for a course is its probability of being in the list under that policy:

    p(course at rank j of the ranker) = (1 − share)·[j < k] + share · min(k, m) / m · [j < m],  m = min(pool, n)

``share = 0`` (the default) shows the ranker's top k and logs propensity 1. Off-policy estimates of another
ranker (``evaluation.off_policy``) need ``share > 0``: a course the logging policy never shows has
propensity 0 and cannot be evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_POOL = 20


@dataclass(frozen=True)
class Shown:
    """Positions (into the ranker's order) of the courses shown, in display order, and their propensities."""

    positions: np.ndarray
    propensities: np.ndarray
    explored: bool


def check(share: float, pool: int, k: int) -> None:
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"exploration share must be between 0 and 1, got {share!r}")
    if pool < 1 or k < 1:
        raise ValueError(f"exploration pool and k must be at least 1, got pool={pool!r}, k={k!r}")


def inclusion_propensities(n: int, k: int, share: float, pool: int = DEFAULT_POOL) -> np.ndarray:
    """Probability that the course at each position 0..n-1 of the ranker's order is shown."""
    check(share, pool, k)
    j = np.arange(n)
    m = min(max(pool, k), n)
    if m == 0:
        return np.zeros(0)
    return (1.0 - share) * (j < k) + share * min(k, m) / m * (j < m)


def choose(n: int, k: int, share: float, rng: np.random.Generator | None, pool: int = DEFAULT_POOL) -> Shown:
    """The courses to show out of ``n`` ranked candidates, and their propensities (``rng`` may be None when
    ``share`` is 0: nothing is drawn)."""
    p = inclusion_propensities(n, k, share, pool)
    m = min(max(pool, k), n)
    explored = share > 0 and m > k and rng.random() < share
    positions = rng.permutation(m)[:k] if explored else np.arange(min(k, n))
    return Shown(positions=positions, propensities=p[positions], explored=bool(explored))
