"""The top-k selection of the course ranker: which scored candidates a recommendation holds, and why each
sits where it does. Pure functions of arrays (no model, no frame), so the rules are testable on their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

DIVERSE_TOP = 3  # the first courses of a list cover distinct main skills when diversifying


@dataclass(frozen=True)
class Limits:
    """What one recommendation may hold: ``k`` courses of at most ``max_hours`` learning hours and ``budget``
    cost in total (None: no limit); ``mandatory_first`` puts mandatory courses first; ``diversify`` makes
    the top three cover distinct main skills."""

    k: int
    max_hours: float | None = None
    budget: float | None = None
    mandatory_first: bool = False
    diversify: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.k, bool) or not isinstance(self.k, int | np.integer) or self.k < 1:
            raise ValueError(f"k must be a positive integer, got {self.k!r}")
        for name in ("max_hours", "budget"):
            v = getattr(self, name)
            if v is not None and not v >= 0:
                raise ValueError(f"{name} must be >= 0, got {v!r}")


def select_top_k(order: np.ndarray, ok: np.ndarray, mandatory: np.ndarray, hours: np.ndarray, cost: np.ndarray,
                 main_skill: Callable[[int], str | None], limits: Limits) -> np.ndarray:
    """Row positions of the chosen courses, in rank order.

    ``order`` is every row, best first; ``ok`` marks the rows allowed at all (format, exclusions, not yet
    completed). Walking ``order`` (mandatory rows first when ``limits.mandatory_first``), a row is taken
    when it is allowed and fits the hours and budget left. The first ``min(3, k)`` also skip a row whose
    main skill (``main_skill(i)``, None when it addresses no gap) an earlier pick already covers, when
    diversifying (a mandatory row placed first is never skipped); then the rest of ``order`` fills up to k.
    """
    if limits.mandatory_first:
        order = np.concatenate([order[mandatory[order]], order[~mandatory[order]]])
    chosen: list[int] = []
    spent_hours = spent_cost = 0.0

    def fits(i: int) -> bool:
        return ((limits.max_hours is None or spent_hours + hours[i] <= limits.max_hours + 1e-9)
                and (limits.budget is None or spent_cost + cost[i] <= limits.budget + 1e-9))

    def pick(rows: np.ndarray, until: int, main_skills: set[str] | None) -> None:
        nonlocal spent_hours, spent_cost
        for i in rows:
            if len(chosen) == until:
                return
            if not ok[i] or i in chosen or not fits(i):
                continue
            main = main_skill(i) if main_skills is not None else None
            if main is not None and main in main_skills and not (limits.mandatory_first and mandatory[i]):
                continue
            chosen.append(int(i))
            spent_hours += hours[i]
            spent_cost += cost[i]
            if main is not None:
                main_skills.add(main)

    pick(order, min(DIVERSE_TOP, limits.k), set() if limits.diversify else None)
    pick(order, limits.k, None)
    return np.asarray(chosen, dtype=int)


def placed_by(scores: np.ndarray, mandatory: np.ndarray, mandatory_first: bool) -> list[str]:
    """Why each chosen course sits where it does: ``score`` when no course below it scores higher, else
    ``mandatory`` (mandatory courses first) or ``diversity`` (the top 3 cover distinct main skills)."""
    later_best = np.maximum.accumulate(scores[::-1])[::-1]
    out = []
    for i in range(len(scores)):
        below = later_best[i + 1] if i + 1 < len(scores) else -np.inf
        if below <= scores[i] + 1e-12:
            out.append("score")
        else:
            out.append("mandatory" if mandatory_first and mandatory[i] else "diversity")
    return out
