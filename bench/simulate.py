"""Benchmark: simulate 100,000 employees × 36 months into a temporary folder; print seconds and peak memory.

    .venv/bin/python bench/simulate.py [--employees 100000] [--months 36] [--format csv]

Targets: ≤ 10 min and ≤ 8 GiB for 100,000 × 36. Dirt and writing run table by table, so they share the
peak reported at the end of writing.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # ru_maxrss is KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--format", default="csv", choices=("csv", "parquet"))
    parser.add_argument("--dirty-rate", type=float, default=0.02)
    args = parser.parse_args()

    # run as a script, sys.path[0] is bench/ (whose features.py would shadow the package): use the repo root
    sys.path[:1] = [str(ROOT)]
    from features.simulator import simulate

    marks: list[tuple[str, float, float]] = []

    def progress(phase: str, done: int, total: int) -> None:
        if (phase == "months" and done % 6 == 0) or (phase != "months" and done == total):
            label = f"months 1-{done}" if phase == "months" else phase
            marks.append((label, time.perf_counter() - t0, _peak_gib()))

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        report = simulate(Path(tmp) / "company", employees=args.employees, months=args.months, seed=7,
                          fmt=args.format, dirty_rate=args.dirty_rate, progress=progress)
        size = sum(p.stat().st_size for p in (Path(tmp) / "company").rglob("*") if p.is_file())
    print(f"simulate {args.employees:,} employees × {args.months} months, {args.format}, "
          f"dirty rate {args.dirty_rate}: {sum(report.rows.values()):,} feed rows, {size / 1024**2:,.0f} MiB written")
    print(f"{'phase':<22}{'seconds':>10}{'peak GiB':>10}")
    peak_at = {label: p for label, _, p in marks}
    at_end = {"simulate": "simulate", "tables": "tables", "dirt": "write done", "write": "write done"}
    for name, secs in report.phases.items():
        print(f"{name:<22}{secs:>10.1f}{peak_at[at_end[name]]:>10.2f}")
    print(f"{'total':<22}{report.seconds:>10.1f}{_peak_gib():>10.2f}")
    print("\nmonthly loop (cumulative seconds since start, peak GiB so far):")
    for name, cum, peak in marks:
        if name.startswith("months"):
            print(f"  {name:<20}{cum:>10.1f}{peak:>10.2f}")
    print("voluntary attrition per year: "
          + ", ".join(f"{y} {r:.1%}" for y, r in report.voluntary_attrition.items()))


if __name__ == "__main__":
    main()
