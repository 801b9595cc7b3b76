"""Whether the clean tables hold enough months to train the course ranker (``talentloop demo`` asks before
training it, and skips it with the reason and the fix when they do not)."""

from __future__ import annotations

from features.offline import read_clean
from features.settings import Settings


class TooLittleHistory(ValueError):
    """Fewer origins with final labels than the backtest needs; ``have`` and ``need`` say how many."""

    def __init__(self, message: str, have: int, need: int):
        super().__init__(message)
        self.have, self.need = have, need


def history_check(settings: Settings, window_months: int = 3, outcome_months: int = 6,
                  min_history_months: int = 6) -> TooLittleHistory | None:
    """Why the clean tables are too short to train (None when they are not); reads two tables only."""
    from training_jobs.course_ranker import plan_origins

    t = {name: read_clean(settings, name) for name in ("enrollments", "competency_ratings")}
    try:
        plan_origins(t, window_months + outcome_months, min_history_months)
    except TooLittleHistory as exc:
        return exc
    return None
