"""The unit overview (risk bands by unit, alerts by status, largest skill gaps, a skill-demand fan chart) and
the model panel (version, backtest quality, fairness audit, data as-of)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from models.attrition.alerts import STATUSES
from serving.audit import Entry
from serving.auth import Principal
from serving.console.modelinfo import BANDS, ModelFacts
from serving.console.people import People
from serving.registry import ModelNotLoaded

TOP_GAPS = 8
HISTORY_MONTHS = 18


@dataclass
class UnitRow:
    unit_id: str
    counts: dict[str, int]
    whole: bool = False  # the selected unit with everything below it

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class Forecast:
    unit_id: str
    skill_id: str
    history: list[tuple[str, float]]
    points: list[tuple[str, float, float, float]]  # month, p10, p50, p90


@dataclass
class Unit:
    unit_id: str
    month: str | None
    rows: list[UnitRow]
    by_status: dict[str, int]
    gaps: list[tuple[str, int, float]]  # skill id, people short, mean levels short
    skills: list[str]  # skills with a demand series for this unit, largest gap first
    forecast: Forecast | None
    forecast_error: str | None  # an i18n key
    audit: list[Entry] = field(default_factory=list)


def default_unit(tree: Any, who: Principal) -> str | None:
    if who.granted:
        return who.granted[0]
    roots = [u for u, p in tree.parent.items() if p is None]
    return sorted(roots)[0] if roots else None


def children_in_scope(tree: Any, who: Principal, unit: str) -> list[str]:
    return sorted(c for c in tree.children.get(unit, ()) if who.sees(c))


def latest_month(svc: Any) -> str | None:
    with svc.db_lock:
        row = svc.db.execute("SELECT MAX(as_of) FROM attrition_scores").fetchone()
    return row[0] if row and row[0] else None


def _band_counts(svc: Any, units: list[str], month: str, horizon: int, facts: ModelFacts) -> dict[str, dict[str, int]]:
    """Per org unit (of ``units``): people of ``month``'s scores in each band at ``horizon``."""
    out: dict[str, dict[str, int]] = {}
    with svc.db_lock:
        rows = svc.db.execute(
            f"SELECT org_unit_id, json_extract(risks, '$.h{int(horizon)}') FROM attrition_scores WHERE as_of = ? "
            f"AND org_unit_id IN ({','.join('?' * len(units))})", [month, *units]).fetchall()
    for unit, risk in rows:
        if risk is None:
            continue
        counts = out.setdefault(unit, {})
        band = facts.bands.of(float(risk))
        counts[band] = counts.get(band, 0) + 1
    return out


def unit_overview(svc: Any, who: Principal, unit: str, subtree: frozenset[str], people: People,
                  facts: ModelFacts | None, skill: str | None, lang: str) -> Unit:
    month = latest_month(svc)
    rows: list[UnitRow] = []
    if month is not None and facts is not None:
        per_unit = _band_counts(svc, sorted(subtree), month, facts.horizon, facts)

        def total(units: frozenset[str]) -> dict[str, int]:
            c = {b: 0 for b in BANDS}
            for u in units:
                for b, n in per_unit.get(u, {}).items():
                    c[b] += n
            return c

        rows.append(UnitRow(unit, total(subtree), whole=True))
        for child in children_in_scope(svc.tree, who, unit):
            counts = total(svc.tree.subtree(child) & subtree)
            if sum(counts.values()):
                rows.append(UnitRow(child, counts))
    with svc.db_lock:
        found = svc.db.execute(f"SELECT status, COUNT(*) FROM attrition_alerts WHERE org_unit_id IN "
                               f"({','.join('?' * len(subtree))}) GROUP BY status", sorted(subtree)).fetchall()
    by_status = {s: 0 for s in STATUSES} | {s: int(n) for s, n in found}
    gaps_df = people.gaps[people.gaps["org_unit_id"].isin(subtree)]
    gaps = []
    if not gaps_df.empty:
        agg = gaps_df.groupby("skill_id")["gap"].agg(["size", "mean"]).sort_values(
            ["size", "mean"], ascending=False).head(TOP_GAPS)
        gaps = [(str(s), int(r["size"]), float(r["mean"])) for s, r in agg.iterrows()]
    result = Unit(unit, month, rows, by_status, gaps, [], None, None)
    _forecast(svc, who, result, skill, lang)
    return result


def _forecast(svc: Any, who: Principal, result: Unit, skill: str | None, lang: str) -> None:
    try:
        champion = svc.registry.get("skill_demand")
    except ModelNotLoaded:
        result.forecast_error = "unit.no_model"
        return
    history = svc.demand_history
    model = champion.model
    if history is None:
        result.forecast_error = "unit.no_series"
        return
    series = history[history["org_unit_id"] == result.unit_id]
    if series.empty:
        result.forecast_error = "unit.no_series"
        return
    gap_rank = {s: i for i, (s, _, _) in enumerate(result.gaps)}
    latest = series[series[model.time_col] == series[model.time_col].max()]
    by_demand = latest.sort_values(model.target_col, ascending=False)["skill_id"].astype(str).tolist()
    result.skills = sorted(by_demand, key=lambda s: (gap_rank.get(s, len(gap_rank)), by_demand.index(s)))
    chosen = skill if skill in result.skills else result.skills[0]
    rows = series[series["skill_id"] == chosen]
    fitted = list(getattr(model, "horizons_", range(1, 13)))
    forecast = model.predict(rows, horizons=fitted).sort_values("horizon")
    hist = rows.sort_values(model.time_col).tail(HISTORY_MONTHS)
    month_col = model.time_col
    result.forecast = Forecast(
        result.unit_id, chosen,
        [(str(pd.Timestamp(m).date()), float(v)) for m, v in zip(hist[month_col], hist[model.target_col], strict=True)],
        [(str(pd.Timestamp(m).date()), max(float(lo), 0.0), max(float(mid), 0.0), max(float(hi), 0.0))
         for m, lo, mid, hi in zip(forecast[month_col], forecast["p10"], forecast["p50"], forecast["p90"],
                                   strict=True)])
    result.audit.extend(Entry(who.key_id, who.role, f"{result.unit_id}/{chosen}", "console/unit", champion.name,
                              champion.version, p50, []) for _, _, p50, _ in result.forecast.points)


# ---------------------------------------------------------------------- model panel
@dataclass
class Panel:
    facts: ModelFacts | None
    serving_version: str | None
    scored_version: str | None
    scored_month: str | None
    data_end: str | None
    auc: float | None
    auc_logistic: float | None
    ece: float | None
    fairness_passed: bool | None
    fairness_ratio: float | None
    others: list[tuple[str, str | None]]
    not_loaded: str | None = None
    governance: dict[str, str] | None = None  # the gate's tags of the serving version (serving.registry)
    failed_checks: list[str] | None = None
    monitoring: dict[str, str] | None = None  # the latest `talentloop monitor` results (tags monitor.*)


def model_panel(svc: Any, facts: ModelFacts | None, not_loaded: str | None) -> Panel:
    month = latest_month(svc)
    scored = None
    if month is not None:
        with svc.db_lock:
            row = svc.db.execute("SELECT model_version, COUNT(*) AS n FROM attrition_scores WHERE as_of = ? "
                                 "GROUP BY model_version ORDER BY n DESC LIMIT 1", (month,)).fetchone()
        scored = str(row[0]) if row else None
    loaded = svc.registry.loaded()
    others = [(name, loaded[name].version if name in loaded else None) for name in ("course_ranker", "skill_demand")]
    if facts is None:
        return Panel(None, None, scored, month, None, None, None, None, None, None, others, not_loaded)
    h = facts.horizon
    passed = facts.metric("fairness_passed")
    gov = loaded["attrition"].governance if "attrition" in loaded else {}
    from serving.registry import failed_checks

    monitoring = {k.removeprefix("monitor."): v for k, v in gov.items() if k.startswith("monitor.")}
    return Panel(facts, facts.version, scored, month, facts.params.get("data_end"),
                 facts.metric(f"model_h{h}_roc_auc"), facts.metric(f"logistic_h{h}_roc_auc"),
                 facts.metric(f"model_h{h}_ece"), None if passed is None else passed >= 0.5,
                 facts.metric("fairness_min_impact_ratio"), others, governance=gov,
                 failed_checks=failed_checks(gov), monitoring=monitoring or None)

