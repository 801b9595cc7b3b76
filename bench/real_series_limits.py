"""Benchmark: what the real-series targets ask of any forecast, on the backtest of ``bench/real_series.py``.

Plain script, prints three tables: ``.venv/bin/python bench/real_series_limits.py --cache DIR`` (``DIR`` as for
``bench/real_series.py``: each country's backtest forecasts, computed and written there when missing, ~20 min).

1. **The best any fixed combination could do, chosen in hindsight.** Per horizon, the weights of naive, AutoETS,
   damped ETS, ARIMA and LightGBM (non-negative, summing to 1) whose worst MASE over the best baseline's (over
   the countries) is lowest on the very report origins they are judged on. MASE is a weighted sum of absolute
   errors, so this is a linear program, solved exactly (scipy's HiGHS). Where its optimum is above 1.0, no fixed
   combination of these methods meets "≤ 1.0 × the best baseline at this horizon on every country", however it
   were chosen: meeting it needs a rule that changes its weights by country or over time, and tells ahead of
   time when to.
2. **How precisely 12 report origins measure 80% coverage.** Per country and horizon, the served interval
   rescaled in hindsight to cover exactly 80% of the horizon's rows; its coverage per report origin, the
   standard error of their mean (× √h: origins less than ``h`` months apart
   forecast the same months), and the chance that an interval whose true coverage is exactly 80% shows within
   75-88% with that error (normal approximation). The sectors of one country move together, so one origin's
   coverage is close to all or nothing: the error is that of 12 (or 12 / h) draws, not of 500 rows.
3. **Whether a loss to the best baseline is more than noise.** Per country and horizon where the served forecast's
   MASE is above the best baseline's: the served / best ratio of mean absolute errors per report origin, and
   the t statistic of its mean excess over 1 with the same overlap correction (× √h) the selection uses.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from real_series import BASELINE_NAMES, COUNTRIES, DATA, backtest, monthly_panel

MEMBERS = ("naive", "auto_ets", "ets_damped", "arima", "lightgbm")
KEY = ["series_id", "origin", "month", "horizon"]


def forecasts_of(cc: str, cache: Path, windows: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    panel = monthly_panel(DATA / f"job_postings_by_sector_{cc}.csv.gz")
    path = cache / f"{cc}_w{windows}.parquet"
    if path.exists():
        return panel, pd.read_parquet(path)
    forecasts = backtest(panel, windows)
    path.parent.mkdir(parents=True, exist_ok=True)
    forecasts.to_parquet(path)
    return panel, forecasts


def mase_terms(panel: pd.DataFrame, late: pd.DataFrame) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per horizon: each report row's member forecasts (rows × :data:`MEMBERS`), actual value and MASE weight,
    such that a forecast's MASE (as ``evaluation.forecast_baselines.score`` computes it, on the rows every
    method forecasts) is ``weight @ |actual - forecast|``: per origin, 1 / (rows × the mean one-step naive
    error before the origin), over the number of origins."""
    from evaluation.forecast_baselines import _grid, _month_index, _NaiveErrors

    wide = late.pivot_table(index=KEY, columns="model", values="p50").dropna().reset_index()
    grid = _grid(panel, ["series_id"], "month", "value")
    code = grid.codes(wide, ["series_id"])
    y = grid.at(code, _month_index(wide["month"]).to_numpy())
    origin = _month_index(wide["origin"]).to_numpy()
    naive = _NaiveErrors(grid, 1)
    out = {}
    for h in sorted(wide["horizon"].unique()):
        at = np.flatnonzero((wide["horizon"] == h).to_numpy() & ~np.isnan(y))
        weight, blocks = np.zeros(len(at)), []
        for o in np.unique(origin[at]):
            total, count, enough = naive[int(o)]
            block = np.flatnonzero((origin[at] == o) & enough[code[at]])
            series = np.unique(code[at][block])
            scale = total[series].sum() / max(count[series].sum(), 1)
            if len(block) and scale > 0:
                blocks.append((block, scale))
        for block, scale in blocks:
            weight[block] = 1.0 / (len(block) * scale * len(blocks))
        out[int(h)] = (wide.loc[at, list(MEMBERS)].to_numpy(dtype=float), y[at], weight)
    return out


def minimax_weights(terms: list[tuple[np.ndarray, np.ndarray, np.ndarray]], best: list[float]
                    ) -> tuple[np.ndarray, list[float]]:
    """The member weights minimising the largest MASE / best-baseline ratio over the countries (``terms`` and
    ``best`` per country), and each country's ratio with them: min t s.t. e ≥ |y − P w|, Σ_rows weight·e ≤
    t·best per country, w ≥ 0, Σ w = 1."""
    from scipy import sparse
    from scipy.optimize import linprog

    P = np.vstack([t[0] for t in terms])
    y = np.concatenate([t[1] for t in terms])
    owner = np.concatenate([np.full(len(t[1]), c) for c, t in enumerate(terms)])
    a = np.concatenate([t[2] / b for t, b in zip(terms, best, strict=True)])
    n, k = P.shape
    eye, col = sparse.identity(n, format="csr"), sparse.csr_matrix((n, 1))
    per_country = sparse.csr_matrix(np.array([np.concatenate([np.zeros(k), np.where(owner == c, a, 0.0), [-1.0]])
                                              for c in range(len(terms))]))
    a_ub = sparse.vstack([sparse.hstack([sparse.csr_matrix(-P), -eye, col]),
                          sparse.hstack([sparse.csr_matrix(P), -eye, col]), per_country]).tocsr()
    b_ub = np.concatenate([-y, y, np.zeros(len(terms))])
    a_eq = np.concatenate([np.ones(k), np.zeros(n + 1)])[None, :]
    cost = np.zeros(k + n + 1)
    cost[-1] = 1.0
    res = linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=[1.0],
                  bounds=[(0, None)] * (k + n) + [(None, None)], method="highs")
    w = res.x[:k]
    err = a * np.abs(y - P @ w)
    return w, [float(err[owner == c].sum()) for c in range(len(terms))]


def coverage_precision(panel: pd.DataFrame, forecasts: pd.DataFrame, report: int) -> pd.DataFrame:
    """Per horizon: the served 80% coverage, its per-origin range, the standard error of the mean and the chance
    that a truly 80% interval shows within 75-88%."""
    from scipy.stats import norm

    from evaluation.forecast_selection import served_backtest

    served, _ = served_backtest(forecasts, panel, ["series_id"], "month", "value", n_report=report)
    rows = served.merge(panel, on=["series_id", "month"])
    rows["covered"] = (rows["p10"] <= rows["value"]) & (rows["value"] <= rows["p90"])
    # the served interval's width, rescaled in hindsight to cover exactly 80% of the horizon's rows: its
    # per-origin spread is that of an interval whose coverage is right (an interval covering 100% everywhere
    # would show no spread at all)
    mid, half = (rows["p10"] + rows["p90"]) / 2, ((rows["p90"] - rows["p10"]) / 2).clip(lower=1e-9)
    rows["ratio"] = (rows["value"] - mid).abs() / half
    out = []
    for h, g in rows.groupby("horizon"):
        calibrated = g["ratio"] <= g["ratio"].quantile(0.8)
        per_origin = calibrated.groupby(g["origin"]).mean()
        served = g.groupby("origin")["covered"].mean()
        se = float(per_origin.std(ddof=1) / np.sqrt(len(per_origin)) * np.sqrt(min(int(h), len(per_origin))))
        chance = float(norm.cdf(0.08 / se) - norm.cdf(-0.05 / se)) if se > 0 else 1.0
        out.append({"horizon": int(h), "served coverage": served.mean(), "lowest origin": per_origin.min(),
                    "highest origin": per_origin.max(), "se": se, "chance in 75-88%": chance})
    return pd.DataFrame(out).set_index("horizon")


def served_losses(panel: pd.DataFrame, forecasts: pd.DataFrame, report: int) -> pd.DataFrame:
    """Per horizon where served loses to the best baseline (by MASE on the report origins): the ratio, the
    per-origin ratios' mean excess over 1 and its t statistic (× √h for overlapping origins)."""
    from evaluation.forecast_baselines import score
    from evaluation.forecast_selection import SERVED, report_origins, served_backtest

    served, _ = served_backtest(forecasts, panel, ["series_id"], "month", "value", n_report=report)
    late = forecasts[report_origins(forecasts, report).to_numpy()]
    late = late[late["model"].isin(BASELINE_NAMES)]
    mase = score(pd.concat([late, served.drop(columns="method")], ignore_index=True), panel, "series_id",
                 reference=SERVED).pivot(index="horizon", columns="model", values="mase")
    actual = panel.set_index(["series_id", "month"])["value"]
    out = []
    for h in mase.index:
        best = mase.loc[h, list(BASELINE_NAMES)].astype(float).idxmin()
        ratio = mase.loc[h, SERVED] / mase.loc[h, best]
        if ratio <= 1.0:
            continue
        pair = served[served["horizon"] == h].merge(late[(late["horizon"] == h) & (late["model"] == best)],
                                                  on=["series_id", "origin", "month"], suffixes=("", "_best"))
        y = actual.reindex(pd.MultiIndex.from_frame(pair[["series_id", "month"]])).to_numpy()
        pair = pair.assign(e=np.abs(y - pair["p50"]), e_best=np.abs(y - pair["p50_best"]))
        per_origin = pair.groupby("origin")[["e", "e_best"]].sum()
        excess = per_origin["e"] / per_origin["e_best"] - 1.0
        se = excess.std(ddof=1) * np.sqrt(min(int(h), len(excess))) / np.sqrt(len(excess))
        out.append({"horizon": int(h), "best baseline": best, "served/best": round(ratio, 4),
                    "origins lost": f"{int((excess > 0).sum())} of {len(excess)}",
                    "t": round(float(excess.mean() / se), 2) if se > 0 else float("nan")})
    return pd.DataFrame(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--countries", nargs="+", default=list(COUNTRIES))
    parser.add_argument("--cache", type=Path, required=True, help="folder of each country's backtest forecasts")
    parser.add_argument("--windows", type=int, default=24)
    parser.add_argument("--report", type=int, default=12)
    args = parser.parse_args()
    from evaluation.forecast_baselines import score
    from evaluation.forecast_selection import report_origins

    terms, best, precision, losses = {}, {}, {}, {}
    for cc in args.countries:
        panel, forecasts = forecasts_of(cc, args.cache, args.windows)
        late = forecasts[report_origins(forecasts, args.report).to_numpy()]
        terms[cc] = mase_terms(panel, late)
        mase = score(late, panel, "series_id", reference="naive").pivot(index="horizon", columns="model",
                                                                        values="mase")
        best[cc] = mase[list(BASELINE_NAMES)].min(axis=1)
        P, y, weight = terms[cc][1]  # the MASE terms reproduce score()'s MASE (naive, 1 month ahead)
        assert abs(weight @ np.abs(y - P[:, 0]) - mase.loc[1, "naive"]) < 1e-9
        precision[cc] = coverage_precision(panel, forecasts, args.report)
        losses[cc] = served_losses(panel, forecasts, args.report)

    print(f"1. Best fixed weighting per horizon, chosen in hindsight on the {args.report} report origins (exact, a "
          f"linear program); MASE over the best baseline's, per country")
    rows = []
    for h in sorted(terms[args.countries[0]]):
        w, ratios = minimax_weights([terms[cc][h] for cc in args.countries], [best[cc][h] for cc in args.countries])
        mix = " + ".join(f"{x:.3f} {m}" for m, x in zip(MEMBERS, w, strict=True) if x > 5e-4)
        rows.append({"h": h, **dict(zip(args.countries, ratios, strict=True)), "worst": max(ratios), "weights": mix})
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"horizons where no fixed weighting is <= 1.0x on every country: "
          f"{', '.join(str(h) for h in table.loc[table['worst'] > 1.0 + 1e-9, 'h']) or 'none'}")

    print("\n2. Standard error over the report origins (x sqrt(h)) of the coverage of the served interval rescaled to"
          " cover exactly 80%, and the chance that an interval covering 80% shows within 75-88%")
    se = pd.DataFrame({cc: p["se"] for cc, p in precision.items()})
    chance = pd.DataFrame({cc: p["chance in 75-88%"] for cc, p in precision.items()})
    print(pd.concat({"se": se.round(3), "chance": chance.round(2)}, axis=1).to_string())
    print("chance that every country shows within 75-88% at horizon 1 / 3 / 6 / 12 (countries independent): "
          + " / ".join(f"{chance.loc[h].prod():.2f}" for h in (1, 3, 6, 12) if h in chance.index))

    print("\n3. Horizons where the served forecast loses to the best baseline; t of the per-origin excess "
          "(x sqrt(h) for overlapping origins; |t| < 1.64 is not a significant loss)")
    lost = pd.concat([d.assign(country=cc) for cc, d in losses.items() if len(d)], ignore_index=True) \
        if any(len(d) for d in losses.values()) else pd.DataFrame()
    print(lost[["country", *[c for c in lost.columns if c != "country"]]].to_string(index=False) if len(lost)
          else "none")


if __name__ == "__main__":
    main()
