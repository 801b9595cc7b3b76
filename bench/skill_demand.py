"""Benchmark: fit + rolling-origin backtest of the skill-demand forecaster on synthetic series.

Plain script, prints a table: ``.venv/bin/python bench/skill_demand.py [--series 5000] [--months 48]``.
Series are counts with a level, a linear trend, a yearly season, noise and an occasional step change
(a reorganisation), at sizes from a handful to a few hundred slots. Target: fit (12 horizons) plus the
job's backtest (8 origins per horizon 1-12, refit every 4 origins), the baselines on the same origins
(AutoETS on 300 series), the per-horizon selection and the served forecast of every series in <= 2
minutes on 2 cores. Also prints the peak resident
memory of the process (``--series 86000 --months 37`` is the size of a 20,000-employee company).
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd


def synthetic_series(n_series: int, n_months: int, seed: int = 0) -> pd.DataFrame:
    """Long frame ``series_id, month, value, open_req_slots`` with trend, seasonality and noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_months)
    base = rng.lognormal(3.0, 1.0, n_series)[:, None]
    trend = rng.normal(0.0, 0.01, n_series)[:, None] * base * t
    season = rng.uniform(0.0, 0.25, n_series)[:, None] * base * np.sin(
        2 * np.pi * (t + rng.integers(0, 12, n_series)[:, None]) / 12)
    step_at = rng.integers(0, n_months * 3, n_series)[:, None]
    step = np.where(t >= step_at, rng.normal(0.0, 0.15, n_series)[:, None] * base, 0.0)
    mean = np.maximum(base + trend + season + step, 0.0)
    value = rng.poisson(mean).astype(float)
    reqs = rng.poisson(np.maximum(np.diff(mean, axis=1, append=mean[:, -1:]), 0.0) * 3 + 0.2)
    months = pd.date_range("2020-01-01", periods=n_months, freq="MS")
    return pd.DataFrame({
        "series_id": np.repeat([f"s{i:05d}" for i in range(n_series)], n_months),
        "month": np.tile(months, n_series),
        "value": value.ravel(),
        "open_req_slots": reqs.ravel().astype(float),
    })


def main() -> None:
    from evaluation.metrics.forecasting import interval_coverage
    from models.skill_demand import DemandForecaster

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--series", type=int, default=5000)
    parser.add_argument("--months", type=int, default=48)
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--horizons", default="1-12", help="backtest horizons, 1-12 (as the job) or a list 1,3,6,12")
    parser.add_argument("--windows", type=int, default=8, help="origins per horizon, as the job")
    parser.add_argument("--refit-every", type=int, default=4, help="origins per refit, as the job")
    args = parser.parse_args()
    lo, _, hi = args.horizons.partition("-")
    horizons = tuple(range(int(lo), int(hi) + 1)) if hi else tuple(int(h) for h in args.horizons.split(","))
    df = synthetic_series(args.series, args.months)
    model = DemandForecaster(exog_cols=("open_req_slots",), n_jobs=args.n_jobs)
    c0, t0 = time.process_time(), time.perf_counter()
    model.fit(df)
    t1 = time.perf_counter()
    cv = model.cross_validation(df, n_windows=args.windows, horizons=horizons, refit_every=args.refit_every)
    t15 = time.perf_counter()
    # the served forecast: baselines on the same origins, then the method per horizon
    from evaluation.forecast_baselines import baseline_backtest
    from evaluation.forecast_selection import report_origins, selection_frame, served_backtest

    plan = cv[["series_id", "origin", "month", "horizon"]]
    base = baseline_backtest(df, plan, "series_id", ets_max_series=300)
    methods = pd.concat([cv.drop(columns=["value", "method"]).assign(model="lightgbm"), base], ignore_index=True)
    # as the job: AutoETS is a served candidate only on panels of at most 2,000 series
    candidates = methods[methods["model"] != "auto_ets"] if args.series > 2000 else methods
    candidates = candidates.reset_index(drop=True)
    frame = selection_frame(candidates, df, ["series_id"], "month", "value")
    n_report = args.windows // 2
    scored, _ = served_backtest(candidates, df, ["series_id"], "month", "value", n_report, frame=frame)
    model.select(frame)
    served = model.predict(df)
    c2, t2 = time.process_time(), time.perf_counter()
    with open("/proc/loadavg", encoding="ascii") as f:
        load = f.read().split()[0]
    train_mean = df.groupby("series_id")["value"].mean()
    rows = []
    actual = df.set_index(["series_id", "month"])["value"]
    scored = scored.assign(value=actual.reindex(pd.MultiIndex.from_frame(scored[["series_id", "month"]])).to_numpy())
    late = cv[report_origins(cv, n_report).to_numpy()]
    for h, g in scored.groupby("horizon"):
        lgb = late[late["horizon"] == h]
        rows.append((h, len(g), (lgb["value"] - lgb["p50"]).abs().sum() / lgb["value"].abs().sum(),
                     (g["value"] - g["p50"]).abs().sum() / g["value"].abs().sum(),
                     interval_coverage(g["value"], g["p10"], g["p90"])))
    print(f"skill-demand forecaster: {args.series} series x {args.months} months, "
          f"{len(df):,} rows, mean level {train_mean.mean():.1f}")
    print(f"{'stage':<28}{'seconds':>10}")
    print(f"{'fit (12 horizons, pooled)':<28}{t1 - t0:>10.1f}")
    print(f"{f'backtest ({args.windows} origins x {len(horizons)} h)':<28}{t15 - t1:>10.1f}")
    print(f"{'baselines + selection':<28}{t2 - t15:>10.1f}   AutoETS on 300 series; served methods: "
          + ", ".join(f"h{h} {c['method']}" for h, c in sorted(model.selection_.items())))
    print(f"{'served forecast rows':<28}{len(served):>10}")
    print(f"{'total':<28}{t2 - t0:>10.1f}   target <= 120")
    print(f"{'CPU time (all threads)':<28}{c2 - c0:>10.1f}   n_jobs={args.n_jobs}, load average {load}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"{'peak RSS (GiB)':<28}{peak:>10.2f}")
    print(f"\nlast {n_report} origins, served method chosen on earlier realised rows")
    print(f"{'horizon':>8}{'rows':>9}{'WAPE lgb':>10}{'WAPE served':>12}{'80% cov served':>16}")
    for h, n, wape_lgb, wape, cov in rows:
        print(f"{h:>8}{n:>9}{wape_lgb:>10.3f}{wape:>12.3f}{cov:>16.3f}")


if __name__ == "__main__":
    main()
