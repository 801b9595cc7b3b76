"""Benchmark: ``talentloop demo`` twice on one fresh workspace, as ``make demo`` runs it (without serving).

    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python bench/demo.py --employees 2000 --months 36

Each run is a subprocess (``python -m talentloop demo``, stderr not a terminal, as in a log); the first run
starts from an empty temporary workspace, the second reuses it. Prints one table: seconds per step of each run
(``unchanged`` when the second run skipped it) and its CPU seconds (user + system, all threads; a step
run alongside in a child process counts that process), the wall time and CPU seconds of each run including
interpreter start-up, the number of stderr lines containing ``Warning``, and the load average before and after.
Targets (issue #23): first run ≤ 180 s with every model (≤ 150 s before the potential model), second run ≤ 20 s, 0 warning lines.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_demo(home: Path, scratch: Path, employees: int, months: int, seed: int, extra: list[str]) -> dict:
    """One ``talentloop demo`` in a subprocess on ``home``; its step timings, wall time and warning lines."""
    timings = scratch / f"timings-{time.time_ns()}.json"
    env = {**os.environ, "TALENTLOOP_HOME": str(home)}
    env.pop("MLFLOW_LOGGING_LEVEL", None)  # measure what a person sees
    cmd = [sys.executable, "-m", "talentloop", "demo", "--employees", str(employees), "--months", str(months),
           "--seed", str(seed), "--timings", str(timings), *extra]
    started, cpu = time.perf_counter(), children_cpu()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - started, children_cpu() - cpu
    if done.returncode != 0:
        sys.exit(f"demo failed ({done.returncode}):\n{done.stderr[-4000:]}")
    warnings = [line for line in done.stderr.splitlines() if "Warning" in line]
    for line in warnings:
        print(f"warning line: {line}", file=sys.stderr)
    steps = json.loads(timings.read_text())
    return {"steps": steps, "cpu": steps.pop("cpu", {}), "wall": wall, "process_cpu": cpu, "warnings": len(warnings)}


def children_cpu() -> float:
    """User + system CPU seconds of the finished child processes (and theirs) of this process."""
    import resource

    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=2000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="Use (and keep) this workspace instead of a temporary one.")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="talentloop-bench-demo-"))
    home = args.keep or tmp / "ws"
    load_before = os.getloadavg()
    try:
        first = run_demo(home, tmp, args.employees, args.months, args.seed, [])
        second = run_demo(home, tmp, args.employees, args.months, args.seed, [])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load_after = os.getloadavg()

    steps = [s for s in first["steps"] if s != "total"] + ["total"]
    print(f"talentloop demo --employees {args.employees} --months {args.months} --seed {args.seed} "
          f"(cores: {len(os.sched_getaffinity(0))}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')})")
    print("| step | first run (s) | first run CPU (s) | second run (s) | second run CPU (s) |\n|---|---|---|---|---|")
    for s in steps:
        print(f"| {s} | {first['steps'].get(s, '-')} | {first['cpu'].get(s, '-')} | {second['steps'].get(s, '-')} | "
              f"{second['cpu'].get(s, '-')} |")
    print(f"| wall time of the command | {first['wall']:.1f} | {first['process_cpu']:.1f} | {second['wall']:.1f} | "
          f"{second['process_cpu']:.1f} |")
    print(f"| stderr lines with 'Warning' | {first['warnings']} | {second['warnings']} |")
    print(f"load average (1/5/15 min) before {' '.join(f'{x:.2f}' for x in load_before)}, "
          f"after {' '.join(f'{x:.2f}' for x in load_after)}")
    met = (first["wall"] <= 180, second["wall"] <= 20, first["warnings"] + second["warnings"] == 0)
    print(f"targets: first ≤ 180 s (every model) {'met' if met[0] else 'NOT met'}; "
          f"second ≤ 20 s {'met' if met[1] else 'NOT met'}; "
          f"0 warning lines {'met' if met[2] else 'NOT met'}")


if __name__ == "__main__":
    main()
