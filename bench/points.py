"""Benchmark: training points and team diagnosis on a simulated company; the knapsack of target=points.

    OMP_NUM_THREADS=1 .venv/bin/python bench/points.py --employees 2000 --months 36 --home /tmp/points2k

Simulates (seed 7) and ingests into ``--home`` unless it already holds an ingested company, then times reading
the clean tables, the balances and the diagnosis at the latest month (the month after the last event) and
prints the share of people who met or are on track to meet the target and the findings per rule. The knapsack
is timed on 40 random candidates (1,000 plans) and checked against brute force on 12 (500 random cases).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _company(home: Path, employees: int, months: int) -> None:
    from features.ingest import ingest
    from features.settings import Settings
    from features.simulator import simulate

    if (home / "offline" / "clean").exists():
        return
    t0 = time.perf_counter()
    simulate(home.parent / f"{home.name}-feeds", employees=employees, months=months, seed=7, dirty_rate=0)
    ingest(home.parent / f"{home.name}-feeds", Settings(home=home))
    print(f"simulate + ingest {employees:,} × {months}: {time.perf_counter() - t0:.1f} s")


def _brute(points, hours, cost, remaining, max_hours, budget):
    best = None
    for r in range(len(points) + 1):
        for combo in itertools.combinations(range(len(points)), r):
            h, c = sum(hours[i] for i in combo), sum(cost[i] for i in combo)
            if h > max_hours + 1e-9 or c > budget + 1e-9:
                continue
            p = sum(points[i] for i in combo)
            key = (min(p, remaining) < remaining, -min(p, remaining), h)
            if best is None or key < best[0]:
                best = (key, combo)
    return best[0]


def _knapsack() -> None:
    from models.points.plan import plan

    rng = np.random.default_rng(7)
    times = []
    for _ in range(1000):
        pts = rng.integers(5, 120, 40).tolist()
        hrs = (np.array(pts) / 10 + rng.normal(0, 1, 40)).clip(0.5).round(1).tolist()
        cost = rng.integers(50, 2000, 40).tolist()
        t = time.perf_counter()
        plan(pts, hrs, cost, list(range(40, 0, -1)), float(rng.integers(20, 150)), 30.0, 3000.0, 10)
        times.append(time.perf_counter() - t)
    same = 0
    for _ in range(500):
        pts = rng.integers(5, 80, 12).tolist()
        hrs = rng.integers(1, 12, 12).astype(float).tolist()
        cost = rng.integers(50, 1500, 12).astype(float).tolist()
        remaining, max_h, budget = float(rng.integers(20, 200)), float(rng.integers(5, 40)), float(rng.integers(500, 5000))
        got = plan(pts, hrs, cost, [0.0] * 12, remaining, max_h, budget)
        want = _brute(pts, hrs, cost, remaining, max_h, budget)
        same += (not got.reaches_target, -min(got.points, remaining), got.hours) == want
    ms = np.array(times) * 1000
    print("\nknapsack (target=points)")
    print(f"{'candidates':>10}{'plans':>8}{'p50 ms':>9}{'p95 ms':>9}{'optimal vs brute force (12 candidates)':>42}")
    print(f"{40:>10}{1000:>8}{np.percentile(ms, 50):>9.2f}{np.percentile(ms, 95):>9.2f}{f'{same} / 500':>42}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=2000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--home", type=Path, required=True)
    args = parser.parse_args()
    sys.path[:1] = [str(ROOT)]
    import pandas as pd

    from features.offline import read_clean
    from features.settings import Settings
    from models.points.balances import balances
    from models.points.rules import PointsRules
    from models.training_needs.diagnose import diagnose
    from models.training_needs.rules import NeedRules
    from training_jobs.score_points import NEEDS_TABLES, POINTS_TABLES, default_month

    _company(args.home, args.employees, args.months)
    s = Settings(home=args.home)
    t0 = time.perf_counter()
    tables = {t: read_clean(s, t) for t in (*POINTS_TABLES, *NEEDS_TABLES)}
    t_read = time.perf_counter() - t0
    latest = default_month(s, tables)
    print(f"\npoints and diagnosis ({args.employees:,} employees × {args.months} months, seed 7; reading the clean "
          f"tables {t_read:.2f} s)")
    print(f"{'month':>11}{'people':>8}{'balances s':>11}{'diagnosis s':>12}{'met':>6}{'on track':>9}"
          f"{'median proj. attain.':>21}{'findings (competency / rating / kpi)':>38}")
    for month in (latest - pd.DateOffset(months=6), latest):
        t0 = time.perf_counter()
        rows = balances(tables, PointsRules(), month)
        t_bal = time.perf_counter() - t0
        t0 = time.perf_counter()
        found = diagnose(tables, NeedRules(), month)
        t_diag = time.perf_counter() - t0
        by_rule = [sum(f["rule"] == r for f in found) for r in ("competency_below_3", "rating_below_3", "kpi_below_70")]
        print(f"{str(month.date()):>11}{len(rows):>8,}{t_bal:>11.2f}{t_diag:>12.2f}{rows['met'].mean():>6.0%}"
              f"{rows['on_track'].mean():>9.0%}{rows['projected_attainment'].median():>21.2f}"
              f"{' / '.join(str(v) for v in by_rule):>38}")
    _knapsack()


if __name__ == "__main__":
    main()
