"""Trainings ``talentloop demo`` skips when the data is too short for them: one line says which model, why,
and the option that trains it, and the demo goes on to serve the rest."""

from __future__ import annotations

from talentloop.cli._common import console, settings


def cannot_train(step: str, months: int) -> bool:
    """Whether the demo skips a training its data is too short for; says which, why and what fixes it."""
    if step != "train course-ranker":
        return False
    from training_jobs.course_ranker_history import history_check

    short = history_check(settings())
    if short is None:
        return False
    outcome = next((o for o in range(5, 0, -1) if short.have + 6 - o >= 3 + o + 2), None)
    fix = f"run the demo with --months {months + short.need - short.have} or more"
    if outcome is not None:
        fix += f", or train it afterwards with `talentloop train course-ranker --outcome-months {outcome}`"
    console.print(f"[yellow]course ranker not trained: the data gives {short.have} monthly origins with final "
                  f"labels and its backtest needs {short.need} (3 months to enrol + 6 months of outcomes + 2); the "
                  f"other models are trained and served without course recommendations. To train it: {fix}.[/]",
                  soft_wrap=True)
    return True


def too_short(step: str, output: str) -> bool:
    """Whether a training failed only because the history is too short for its backtest (the skill-demand
    forecaster's horizons, the high-potential model's folds); if so, one line says which model, why, and what
    trains it."""
    import re

    found = re.search(r"horizon (\d+) has \d+ training rows; series need at least min_history=(\d+) \+ \d+ "
                      r"months \(the data spans (\d+) months\)", output)
    if step == "train potential" and "too little history for a backtest" in output:
        console.print("[yellow]high-potential model not trained: too little history for its backtest (it needs "
                      "about 20 months of monthly snapshots with a year of outcomes after them); the other models "
                      "are trained and served without potential scores. To train it: run the demo with more "
                      "--months (36, the default, is enough).[/]", soft_wrap=True)
        return True
    if step != "train skill-demand" or found is None:
        return False
    horizon, history, span = (int(g) for g in found.groups())
    longest = span - history
    fix = (f"`talentloop train skill-demand --horizons 1-{longest}` afterwards" if longest >= 1
           else "a longer history")
    console.print(f"[yellow]skill-demand forecaster not trained: its backtest windows hold {span} months, too few "
                  f"for horizon {horizon} after {history} months of history; the other models are trained and "
                  f"served without skill-demand forecasts. To train it: {fix}, or run the demo with more "
                  "--months.[/]", soft_wrap=True)
    return True
