"""Training-effect estimates against the simulator's true course effects, on simulated companies.

    OMP_NUM_THREADS=1 .venv/bin/python -m bench.training_effect [--company 2000:7 --company 20000:11]
        [--months 36 --end 2026-11 --home /tmp/bench-te --min-takers 30 --learning-plans]

Per company ``EMPLOYEES:SEED``: ``talentloop simulate`` (Parquet, default dirty rate) and ``talentloop ingest``
into ``HOME/<employees>x<seed>/`` (skipped when already there), then the report's estimator on the clean tables
(no feature build) and :mod:`evaluation.training_effect_oracle`. One row per company: the (course, skill) pairs
with at least ``--min-takers`` takers, the share whose 95 % interval covers the true effect on the rating
(target ≥ 85 %), the same against the true skill gain and against the raw effect parameter (which ignores that
takers at the target level gain only 30 %: not the estimand), Spearman estimate vs truth (and of the naive
takers-minus-others difference), then per course (each course once, on the skill with the most takers):
courses, coverage and Spearman; mean error, mean interval width and seconds.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from evaluation import training_effect_oracle, truth
from features.offline import read_clean
from features.settings import Settings
from models.training_effect import report

TALENTLOOP = [sys.executable, "-m", "talentloop"]


def prepare(home: Path, employees: int, seed: int, months: int, end: str, plans: bool = False) -> Path:
    """Simulated and ingested workspace; returns the feeds folder (truth under ``_truth``). ``plans``: with the
    HR suite's learning-plan flow (``simulate --learning-plans``), as ``talentloop demo`` simulates it."""
    feeds = home / "feeds"
    env = {**os.environ, "TALENTLOOP_HOME": str(home / "ws")}
    if not (feeds / truth.TRUTH_DIR / "manifest.json").exists():
        _quiet([*TALENTLOOP, "simulate", "--employees", str(employees), "--months", str(months), "--seed", str(seed),
                "--end", end, "--format", "parquet", "--out", str(feeds), *(["--learning-plans"] if plans else [])], env)
    if not (home / "ws" / "offline" / "clean" / "CURRENT").exists():
        _quiet([*TALENTLOOP, "ingest", str(feeds)], env)
    return feeds


def _quiet(cmd: list[str], env: dict[str, str]) -> None:
    """Run a step; its output is shown only when it fails."""
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"{' '.join(cmd[2:4])} failed with exit code {done.returncode}")


def measure(home: Path, feeds: Path, min_takers: int) -> dict[str, float]:
    s = Settings(home=home / "ws")
    t0 = time.perf_counter()
    tables = {name: read_clean(s, name) for name in report.TABLES}
    rep = report.build(tables, min_takers=10)
    seconds = time.perf_counter() - t0
    compared = training_effect_oracle.compare(rep.skills, rep.takers_rows, feeds / truth.TRUTH_DIR, tables["course_skills"],
                                             tables["reviews"])
    out = training_effect_oracle.summary(compared, min_takers)
    out["seconds"] = seconds
    out["review_courses"] = float(len(rep.courses))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--company", action="append", help="EMPLOYEES:SEED (repeatable)")
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--end", default="2026-11")
    ap.add_argument("--home", type=Path, default=Path("/tmp/bench-te"))
    ap.add_argument("--min-takers", type=int, default=30)
    ap.add_argument("--learning-plans", action="store_true",
                    help="simulate with the HR suite's learning-plan flow, as `talentloop demo` does")
    args = ap.parse_args()
    companies = args.company or ["2000:7", "20000:11"]
    header = ("company", "pairs>=n", "cover rating", "cover gain", "cover param", "spearman", "spearman naive",
              "courses", "cover per course", "spearman per course", "mean err", "ci width", "seconds")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for c in companies:
        employees, seed = (int(v) for v in c.split(":"))
        home = args.home / f"{employees}x{seed}{'-plans' if args.learning_plans else ''}"
        feeds = prepare(home, employees, seed, args.months, args.end, args.learning_plans)
        m = measure(home, feeds, args.min_takers)
        print(f"| {employees:,} x {args.months} m, seed {seed} | {m['pairs']:.0f} | "
              f"{m['coverage_true_rating_effect']:.3f} | {m['coverage_true_gain']:.3f} | "
              f"{m['coverage_effect_parameter']:.3f} | {m['spearman_true_rating_effect']:.3f} | "
              f"{m['spearman_naive']:.3f} | {m['courses']:.0f} | {m['coverage_per_course']:.3f} | "
              f"{m['spearman_per_course']:.3f} | {m['mean_error']:+.3f} | {m['mean_ci_width']:.3f} | "
              f"{m['seconds']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
