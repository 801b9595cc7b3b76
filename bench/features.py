"""Benchmark: simulate → ingest → build → apply → materialize → online reads (→ one training set).

    .venv/bin/python bench/features.py --employees 100000 --months 36

Each heavy stage runs in its own subprocess so its peak memory (``ru_maxrss``) is its own. Prints one table:
seconds and peak RSS per stage, and the latency of single-employee online reads (p50 / p99 over 1,000
reads in process, through ``features.store.online_features``, i.e. including the staleness check).
Targets (SPEC §8): ingest + build + materialize ≤ 5 min and ≤ 8 GiB; single-employee read p99 ≤ 2 ms.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, sys.path[0] is bench/, where this very file would shadow the ``features`` package:
# put the repository root there instead, before anything imports ``features``.
sys.path[:1] = [str(ROOT)]

STAGES = ("simulate", "ingest", "build", "apply", "materialize", "online", "historical")


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def run_stage(stage: str, home: Path, employees: int, months: int) -> dict[str, object]:
    """Run one stage in this process; returns its measurements."""
    from features.settings import Settings

    settings = Settings(home=home)
    out: dict[str, object] = {}
    start = time.perf_counter()
    if stage == "simulate":
        from features.simulator import simulate

        report = simulate(home / "company", employees=employees, months=months, dirty_rate=0.0, fmt="parquet")
        out["rows"] = sum(report.rows.values())
    elif stage == "ingest":
        from features.ingest import ingest

        ingest(home / "company", settings)
    elif stage == "build":
        from features.build import build_features

        out["rows"] = build_features(settings)["employee_monthly"]
    elif stage == "apply":
        from features.store import apply

        apply(settings)
    elif stage == "materialize":
        from features.store import materialize

        out["rows"] = sum(materialize(settings).values())
    elif stage == "online":
        out.update(_online_latency(settings))
    elif stage == "historical":
        out.update(_historical(settings))
    else:
        raise ValueError(f"unknown stage {stage!r}; stages are {', '.join(STAGES)}")
    out["seconds"] = round(time.perf_counter() - start, 2)
    out["peak_mib"] = round(_peak_mib())
    return out


def _online_latency(settings) -> dict[str, object]:
    import numpy as np
    import pandas as pd

    from features.build import feature_path
    from features.feature_repo.services import ATTRITION_SERVICE
    from features.store import feature_store, online_features

    em = pd.read_parquet(feature_path(settings.feature_dir, "employee_monthly"), columns=["employee_id"])
    ids = em["employee_id"].drop_duplicates().sample(1_000, random_state=0, replace=True).tolist()
    store = feature_store(settings)
    for e in ids[:50]:  # warm the registry cache and the SQLite connection
        online_features(store, ATTRITION_SERVICE, [{"employee_id": e}])
    wrapped, raw = [], []
    service = store.get_feature_service(ATTRITION_SERVICE)
    for e in ids:
        t0 = time.perf_counter()
        online_features(store, ATTRITION_SERVICE, [{"employee_id": e}])
        t1 = time.perf_counter()
        store.get_online_features(features=service, entity_rows=[{"employee_id": e}]).to_dict()
        t2 = time.perf_counter()
        wrapped.append(t1 - t0)
        raw.append(t2 - t1)
    ms = np.array(wrapped) * 1000
    raw_ms = np.array(raw) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 2), "p99_ms": round(float(np.percentile(ms, 99)), 2),
            "raw_p50_ms": round(float(np.percentile(raw_ms, 50)), 2),
            "raw_p99_ms": round(float(np.percentile(raw_ms, 99)), 2)}


def _historical(settings, rows: int = 1_000_000) -> dict[str, object]:
    import pandas as pd

    from features.build import feature_path
    from features.feature_repo.services import ATTRITION_SERVICE
    from features.store import historical_features

    em = pd.read_parquet(feature_path(settings.feature_dir, "employee_monthly"),
                         columns=["employee_id", "event_timestamp"])
    labels = em.sample(min(rows, len(em)), random_state=0).assign(label=0)
    result = historical_features(settings, labels, ATTRITION_SERVICE)
    return {"rows": len(result)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--home", type=Path, default=None, help="workspace (default: a temporary folder)")
    parser.add_argument("--stages", default=",".join(STAGES), help="comma-separated subset of stages")
    parser.add_argument("--stage", help=argparse.SUPPRESS)  # internal: run one stage and print JSON
    args = parser.parse_args()
    if args.stage:
        print(json.dumps(run_stage(args.stage, args.home, args.employees, args.months)))
        return
    home = args.home or Path(tempfile.mkdtemp(prefix="talentloop-bench-"))
    results: dict[str, dict[str, object]] = {}
    try:
        for stage in args.stages.split(","):
            proc = subprocess.run(
                [sys.executable, __file__, "--stage", stage, "--home", str(home),
                 "--employees", str(args.employees), "--months", str(args.months)],
                capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                sys.stderr.write(proc.stderr[-4000:])
                raise SystemExit(f"stage {stage} failed with exit code {proc.returncode}")
            results[stage] = json.loads(proc.stdout.strip().splitlines()[-1])
            print(f"{stage:<12} {json.dumps(results[stage])}", file=sys.stderr, flush=True)
    finally:
        if args.home is None:
            shutil.rmtree(home, ignore_errors=True)
    _print_table(results, args.employees, args.months)


def _print_table(results: dict[str, dict[str, object]], employees: int, months: int) -> None:
    print(f"\nfeatures benchmark: {employees:,} employees × {months} months\n")
    print(f"| {'stage':<12} | {'seconds':>8} | {'peak MiB':>8} | notes")
    print(f"|{'-' * 14}|{'-' * 10}|{'-' * 10}|------")
    for stage, r in results.items():
        notes = ", ".join(f"{k}={v}" for k, v in r.items() if k not in ("seconds", "peak_mib"))
        print(f"| {stage:<12} | {r['seconds']:>8} | {r['peak_mib']:>8} | {notes}")
    core = [s for s in ("ingest", "build", "materialize") if s in results]
    if core:
        total = sum(float(results[s]["seconds"]) for s in core)
        peak = max(float(results[s]["peak_mib"]) for s in core)
        print(f"\n{' + '.join(core)}: {total:.1f} s (target ≤ 300 s), peak {peak / 1024:.2f} GiB (target ≤ 8 GiB)")


if __name__ == "__main__":
    main()
