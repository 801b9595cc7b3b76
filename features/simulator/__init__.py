"""The demo-company simulator: four feeds with a documented causal story, plus the ground truth.

``simulate(out, employees=2000, months=36, seed=7)`` writes ``out/<feed>/<table>.<csv|parquet>`` exactly as
declared in :mod:`features.contract`, ``out/mapping.yaml`` and the truth under ``out/_truth/`` (see
``docs/simulator.md``). The same arguments give byte-identical files.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from features.simulator.plan_flow import PlanFlow, PlanSettings

Progress = Callable[[str, int, int], None]
FORMATS = ("csv", "parquet")


@dataclass
class SimulationReport:
    """What a simulation wrote: rows per table, yearly voluntary attrition, dirty rows, seconds per phase."""

    out: Path
    rows: dict[str, int]
    voluntary_attrition: dict[int, float]
    attrition_rate: float
    dirty_rows: int
    seconds: float
    phases: dict[str, float] = field(default_factory=dict)


def _check(employees: int, months: int, fmt: str, dirty_rate: float, start: str) -> None:
    if not isinstance(employees, int) or employees < 60:
        raise ValueError(f"employees must be an integer of at least 60, got {employees!r}")
    if not isinstance(months, int) or not 1 <= months <= 240:
        raise ValueError(f"months must be an integer from 1 to 240, got {months!r}")
    if fmt not in FORMATS:
        raise ValueError(f"fmt (--format) must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if not 0.0 <= dirty_rate <= 0.5:
        raise ValueError(f"dirty_rate (--dirty-rate) must be between 0 and 0.5, got {dirty_rate!r}")
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", start):
        raise ValueError(f"start must be a month written YYYY-MM, got {start!r}")


def simulate(out: Path, employees: int = 2000, months: int = 36, seed: int = 7, fmt: str = "csv",
             dirty_rate: float = 0.02, start: str = "2023-01", progress: Progress | None = None,
             profile: str = "full", reorg_at: int | None = None, plans: PlanSettings | None = None
             ) -> SimulationReport:
    """Simulate the demo company and write its feeds and truth into ``out``.

    ``reorg_at`` (opt-in, month index from 0): a company-wide reorganisation that month after which the old
    drivers of exits no longer tell who leaves (``features.simulator.dynamics.run``): drift for ``talentloop monitor`` to find.

    ``profile`` writes the same company as a real export of it would look (see :mod:`features.simulator.profiles`);
    the truth is the same whatever the profile.

    ``plans`` (opt-in; ``talentloop demo`` turns it on): the HR suite's learning-plan flow played in a window
    of past months (:mod:`features.simulator.plan_flow`): the feed ``learning/learning_plans`` and the truth
    ``learning_plan_requests`` / ``learning_plan_candidates``.
    """
    import numpy as np
    import pandas as pd

    from features.simulator import dirty, dynamics, profiles, tables, writer
    from features.simulator.state import employee_ids
    from features.simulator.taxonomy import build_taxonomy

    _check(employees, months, fmt, dirty_rate, start)
    if reorg_at is not None and not 0 < reorg_at < months:
        raise ValueError(f"--reorg-month must be between 1 and {months - 1} (a month of the simulation), got {reorg_at}")
    if plans is not None:
        if profile != "full":
            raise ValueError(f"--learning-plans writes the full export only, not --profile {profile}")
        plans.check(months)
    shape = profiles.get_profile(profile)
    profiles.check_employees(shape, employees)
    t0 = time.perf_counter()
    phases: dict[str, float] = {}
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    # a third stream for the learning-plan flow: the first two are those of SeedSequence(seed).spawn(2)
    sim_seq, dirt_seq, plan_seq = np.random.SeedSequence(seed).spawn(3)
    flow = None if plans is None else PlanFlow(plans, np.random.default_rng(plan_seq), months)
    start_month = np.datetime64(start, "M")
    skill_ids = build_taxonomy().skills["skill_id"].to_numpy()
    sink = writer.SkillLevelSink(out, start_month, skill_ids, employee_ids)
    try:
        history = dynamics.run(employees, months, start_month, np.random.default_rng(sim_seq), sink, progress,
                               reorg_at=reorg_at, plans=None if flow is None else flow.month)
    finally:
        sink.close()
    phases["simulate"] = time.perf_counter() - t0
    _tick(progress, "simulate")

    t = time.perf_counter()
    feeds = tables.feed_tables(history)
    truth = tables.truth_tables(history)
    if flow is not None:
        course_ids = history.cat.courses["course_id"].to_numpy(dtype=object)
        feeds["learning_plans"] = flow.feed_table(employee_ids, course_ids)
        truth.update(flow.truth_tables(employee_ids, course_ids))
    del history
    export = profiles.Export(feeds)
    if profile != "full":
        end = pd.Timestamp(str(start_month + months)) - pd.Timedelta(days=1)
        export = shape.transform(feeds, profiles.Context(end=end, rng=np.random.default_rng([seed, 14])))
        feeds = export.tables
    phases["tables"] = time.perf_counter() - t
    _tick(progress, "tables")

    # one table at a time: make it dirty, write it, let it go (keeps the peak memory down)
    phases["dirt"] = phases["write"] = 0.0
    writer.clear_stale(out, fmt, keep=set(feeds))
    dirt_rng = np.random.default_rng(dirt_seq)
    aliases = dirty.alias_map(feeds["course_aliases"]) if "course_aliases" in feeds else {}
    n_tables = len(feeds)
    rows: dict[str, int] = {}
    log: list[dict] = []
    for i, name in enumerate(list(feeds)):
        t = time.perf_counter()
        df, entries = dirty.dirty_table(name, feeds.pop(name), dirty_rate, dirt_rng, fmt, aliases)
        log += entries
        phases["dirt"] += time.perf_counter() - t
        t = time.perf_counter()
        writer.write_feed_table(df, writer.feed_path(out, name, fmt), name, fmt,
                                 None if profile == "full" else export.kinds.get(name, {}))
        rows[name] = int(len(df))
        del df
        phases["write"] += time.perf_counter() - t
        if progress is not None:
            progress("tables written", i + 1, n_tables)
    t = time.perf_counter()
    dirty_log = dirty.log_frame(log)
    for name, frame in truth.items():
        writer.write_truth(frame, out, name)
    writer.write_truth(dirty_log, out, "dirty_rows")
    has_dates = bool((dirty_log["kind"] == "date_format").any())
    writer.write_mapping(out, list(dirty.DATE_FORMATS) if has_dates else [writer.ISO], export.mapping)
    phases["write"] += time.perf_counter() - t
    _tick(progress, "write done")

    yearly, overall = _attrition(truth["attrition_hazard"])
    manifest = {
        "seed": seed, "employees": employees, "months": months, "start": start,
        "end": str(start_month + months - 1), "format": fmt, "dirty_rate": dirty_rate,
        "rows": rows, "skill_level_rows": sink.rows,
        "library_versions": _versions()}
    if plans is not None:
        manifest["learning_plans"] = {k: getattr(plans, k) for k in ("share", "k", "pool", "epsilon", "follow",
                                                                      "first", "last")}
    if profile != "full":
        manifest.update(profile=profile, profile_note=export.note, hidden_logit=list(shape.hides))
    writer.write_manifest(out, manifest)
    return SimulationReport(out=out, rows=rows,
                            voluntary_attrition=yearly, attrition_rate=overall, dirty_rows=int(len(dirty_log)),
                            seconds=time.perf_counter() - t0, phases=phases)


def _tick(progress: Progress | None, phase: str) -> None:
    """Report a finished phase (a one-step task) to the progress callback."""
    if progress is not None:
        progress(phase, 1, 1)


def _attrition(hazard) -> tuple[dict[int, float], float]:
    """Voluntary exits per calendar year over the average monthly headcount, annualised."""
    per_month = hazard.groupby("month", observed=True).agg(heads=("hazard", "size"),
                                                            exits=("exited_voluntarily", "sum"))
    per_month["year"] = per_month.index.year
    yearly = {}
    for year, g in per_month.groupby("year"):
        yearly[int(year)] = float(g["exits"].sum() / g["heads"].mean() * 12 / len(g))
    overall = float(per_month["exits"].sum() / per_month["heads"].mean() * 12 / len(per_month))
    return yearly, overall


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    return {name: version(name) for name in ("numpy", "pandas", "pyarrow")}


__all__ = ["PlanSettings", "SimulationReport", "simulate"]
