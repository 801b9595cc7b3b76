"""``talentloop score points [--as-of YYYY-MM]`` (and ``talentloop diagnose``): the month's training points and
team diagnosis.

1. read the clean tables and the workspace rules (``points.yaml``, ``training_needs.yaml``);
2. balances and projected year-end attainment per active person (``models.points.balances``), stored with each
   course's points (``models.points.store``);
3. the team-diagnosis rules at the same month (``models.training_needs.diagnose``): findings per unit and skill
   with the courses that fit the group, stored (``models.training_needs.store``);
4. the month's findings not yet delivered go to the HR suite's webhook when one is configured
   (``models.training_needs.webhook``: signed, retried, every attempt logged).

Re-running a month replaces its balances and findings and never re-sends a delivered finding.
"""

from __future__ import annotations

import time
from contextlib import closing

import pandas as pd

from features.app_db import connect
from features.offline import read_clean
from features.settings import Settings
from models.points import balances as points_balances
from models.points import rules as points_rules
from models.points import store as points_store
from models.training_needs import diagnose as needs_diagnose
from models.training_needs import rules as needs_rules
from models.training_needs import store as needs_store
from models.training_needs import webhook

POINTS_TABLES = ("employees", "employment_events", "jobs", "courses", "enrollments", "points_ledger")
NEEDS_TABLES = ("org_units", "skills", "course_skills", "reviews", "competency_ratings")


def default_month(settings: Settings, tables: dict[str, pd.DataFrame]) -> pd.Timestamp:
    """The latest month with built features (as the other scores), else the month after the latest event."""
    from training_jobs.attrition import feature_window

    try:
        return points_balances.month_start(feature_window(settings)[1])
    except ValueError:
        dates = [points_balances.as_naive(tables[t][c]).max() for t, c in
                 (("employment_events", "effective_date"), ("enrollments", "enrolled_at"), ("reviews", "review_date"))
                 if not tables[t].empty]
        dates = [d for d in dates if pd.notna(d)]
        if not dates:
            raise ValueError("no ingested HR data to score: run `talentloop ingest DIR` first") from None
        return points_balances.month_start(max(dates)) + pd.DateOffset(months=1)


def month_of(as_of: str) -> pd.Timestamp:
    try:
        return points_balances.month_start(as_of)
    except ValueError:
        raise ValueError(f"--as-of must be a date like 2025-06 or 2025-06-01, got {as_of!r}") from None


def run(settings: Settings, as_of: str | None = None, points: bool = True, diagnose: bool = True,
        send: bool = True) -> dict:
    started = time.time()
    p_rules = points_rules.load_rules(settings.home)
    n_rules = needs_rules.load_rules(settings.home)
    webhook.load_config(settings.home)  # a bad webhook.yaml fails before anything is written
    tables = {t: read_clean(settings, t) for t in (*POINTS_TABLES, *NEEDS_TABLES)}
    if tables["employment_events"].empty:
        raise ValueError("no employment events ingested: run `talentloop ingest DIR` first")
    month = month_of(as_of) if as_of else default_month(settings, tables)
    as_of_s = str(month.date())
    result: dict = {"as_of": as_of_s}
    with closing(connect(settings.app_db)) as con:
        if points:
            rows = points_balances.balances(tables, p_rules, month)
            if rows.empty:
                raise ValueError(f"nobody employed at {as_of_s}; check --as-of against the ingested data")
            prices = points_balances.course_points(tables["courses"], p_rules)
            points_store.write(con, rows, prices)
            result.update({"people": len(rows), "points_year": f"{rows['year_start'].iloc[0]} – {rows['year_end'].iloc[0]}",
                           "target_met": round(float(rows["met"].mean()), 4),
                           "on_track": round(float(rows["on_track"].mean()), 4)})
        if diagnose:
            found = needs_diagnose.diagnose(tables, n_rules, month)
            needs_store.write(con, as_of_s, found)
            result["findings"] = len(found)
            if send:
                pending, _ = needs_store.findings(con, as_of_s, undelivered=True)
                sent = webhook.deliver(con, settings.home, [_payload(f) for f in pending], as_of_s)
                result.update({"webhook": sent["status"], "webhook_attempts": sent["attempts"]})
    result["seconds"] = round(time.time() - started, 2)
    return result


def _payload(finding: dict) -> dict:
    return {k: v for k, v in finding.items() if k not in ("delivered_at", "delivery_id")}


def send_pending(settings: Settings, as_of: str | None = None) -> dict:
    """Deliver the findings of ``as_of`` (default: the latest month diagnosed) that were not delivered yet."""
    with closing(connect(settings.app_db)) as con:
        pending, month = needs_store.findings(con, as_of and str(month_of(as_of).date()), undelivered=True)
        if month is None:
            raise ValueError("no findings yet: run `talentloop score points` (or `talentloop diagnose`)")
        sent = webhook.deliver(con, settings.home, [_payload(f) for f in pending], month)
    return {"as_of": month, "findings": len(pending), "webhook": sent["status"], "attempts": sent["attempts"],
            "delivery_id": sent["delivery_id"]}
