"""A small knapsack over the course ranker's candidates: the courses that reach a person's remaining points
target within a limit of hours and a budget.

Among the ranked candidates (at most :data:`MAX_CANDIDATES`, best ranked first) it picks the set whose points
reach ``remaining`` with the fewest learning hours, then the highest summed ranker score, then the lowest
cost; when no set within the limits reaches it, the set with the most points (then the fewest hours). Exact
dynamic programme over points capped at the remaining target, keeping the Pareto front of (hours, cost, score)
per points total (at most :data:`FRONT` labels each: exact unless a front is cut), so it stays fast for a few dozen
candidates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_CANDIDATES = 40
FRONT = 16


@dataclass(frozen=True)
class PointsPlan:
    chosen: tuple[int, ...]  # indexes into the candidates, in their order
    points: float
    hours: float
    cost: float
    reaches_target: bool


def _prune(labels: list[tuple[float, float, float, tuple[int, ...]]]) -> list:
    labels.sort(key=lambda x: (x[0], x[2], x[1], len(x[3])))
    kept: list = []
    for lab in labels:
        if any(k[0] <= lab[0] and k[1] <= lab[1] and k[2] <= lab[2] and len(k[3]) <= len(lab[3]) for k in kept):
            continue
        kept.append(lab)
        if len(kept) >= FRONT:
            break
    return kept


def plan(points: list[float], hours: list[float], cost: list[float], score: list[float], remaining: float,
         max_hours: float | None = None, budget: float | None = None, max_courses: int | None = None) -> PointsPlan:
    """Pick candidates (see the module docstring), at most ``max_courses`` of them. Lists are parallel,
    best-ranked candidate first."""
    n = min(len(points), MAX_CANDIDATES)
    cap = max(0, math.ceil(remaining - 1e-9))
    if cap == 0:
        return PointsPlan((), 0.0, 0.0, 0.0, True)
    h_lim = math.inf if max_hours is None else max_hours + 1e-9
    c_lim = math.inf if budget is None else budget + 1e-9
    states: dict[int, list] = {0: [(0.0, 0.0, 0.0, ())]}
    for i in range(n):
        gain = max(0, math.floor(points[i] + 1e-9))
        if gain == 0:
            continue
        h_i, c_i, s_i = float(hours[i] or 0.0), float(cost[i] or 0.0), float(score[i] or 0.0)
        new: dict[int, list] = {k: list(v) for k, v in states.items()}
        for key, labels in states.items():
            to = min(cap, key + gain)
            for h, c, neg_s, chosen in labels:
                if h + h_i <= h_lim and c + c_i <= c_lim and (max_courses is None or len(chosen) < max_courses):
                    new.setdefault(to, []).append((h + h_i, c + c_i, neg_s - s_i, (*chosen, i)))
        states = {k: _prune(v) for k, v in new.items()}
    best_key = cap if cap in states else max(states)
    h, c, _, chosen = min(states[best_key], key=lambda x: (x[0], x[2], x[1]))
    total = float(sum(points[i] for i in chosen))
    return PointsPlan(tuple(sorted(chosen)), total, round(h, 2), round(c, 2), best_key >= cap)
