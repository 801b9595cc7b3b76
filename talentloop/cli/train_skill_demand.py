"""`talentloop train skill-demand`: the command function; the root app wires it into the ``train`` group."""

from __future__ import annotations

from pathlib import Path

from talentloop.cli._common import console, settings, summary

METRICS = (("mase", "MASE"), ("smape", "sMAPE"), ("wape", "WAPE"), ("coverage_80", "80% cov"))


def parse_horizons(text: str) -> tuple[int, ...]:
    """``"1-12"`` or ``"1,3,6,12"`` as sorted months; a one-line error naming ``--horizons`` otherwise."""
    try:
        out: set[int] = set()
        for part in text.split(","):
            lo, _, hi = part.strip().partition("-")
            out.update(range(int(lo), int(hi or lo) + 1))
    except ValueError:
        raise ValueError(f"--horizons must be a range like 1-12 or a list like 1,3,6,12, got {text!r}") from None
    if not out or min(out) < 1 or max(out) > 24:
        raise ValueError(f"--horizons must lie between 1 and 24 months, got {text!r}")
    return tuple(sorted(out))


def parse_columns(values: list[str]) -> tuple[str, ...]:
    """Repeated and comma-separated column names, in order, without blanks."""
    return tuple(c.strip() for v in values for c in v.split(",") if c.strip())


def train_skill_demand_command(
    json_out: bool = False, truth_dir: Path | None = None, series_file: Path | None = None,
    options: dict | None = None, generic: dict | None = None,
) -> dict:
    """Backtest against baselines (and the oracle with ``truth_dir``), fit and register the skill-demand
    forecaster; with ``series_file``, the same on a company's own long-format CSV / Parquet series."""
    from training_jobs.skill_demand import run, run_generic

    options = options or {}
    if series_file is not None:
        if not Path(series_file).exists():
            raise ValueError(f"--series {series_file}: no such file")
        result = run_generic(series_file, settings(), json_out=json_out, **options, **(generic or {}))
    else:
        result = run(settings(), truth_dir=truth_dir, json_out=json_out, **options)
    if not json_out:
        print_table(result)
    return result


def print_table(result: dict) -> None:
    """Per horizon and model: MASE, sMAPE, WAPE and 80% coverage, the best of each marked with *."""
    table = result["table"]
    horizons = sorted({r["horizon"] for r in table})
    rows = []
    for h in horizons:
        at = [r for r in table if r["horizon"] == h and not r["model"].endswith("_on_auto_ets_rows")]
        best = {m: min((r[m] for r in at if r[m] == r[m] and r["model"] != "oracle"), default=None)
                for m, _ in METRICS if m != "coverage_80"}
        cover = [r["coverage_80"] for r in at if r["coverage_80"] == r["coverage_80"] and r["model"] != "oracle"]
        best["coverage_80"] = min(cover, key=lambda c: abs(c - 0.8)) if cover else None
        for r in sorted(at, key=lambda r: (r["model"] != "served", r["model"])):
            name = r["model"] + (f" ({result['methods'][h]})" if r["model"] == "served" and h in result["methods"]
                                 else "")
            rows.append([str(h), name, *(_fmt(r[m], r["model"] != "oracle" and r[m] == best[m]) for m, _ in METRICS)])
    console.print(summary(f"skill_demand v{result['version']} ({result['series']} series × {result['months']} "
                          f"months; last {result['n_report']} of {result['n_windows']} origins per horizon)",
                          ["h", "model", *(label for _, label in METRICS)], rows))
    console.print("* best of the horizon (coverage: closest to 80%); AutoETS is scored on its sample of series; "
                  "`served (method)` is the forecast the API returns.")
    for target, met in result["targets"].items():
        console.print(f"{target}: {'met' if met else '[bold red]NOT met[/]'}")
    from talentloop.cli.governance import print_gate

    print_gate(result.get("registered_name", "skill-demand").replace("_", "-"), result["version"], result.get("gate"))


def _fmt(v: float | None, best: bool = False) -> str:
    if v is None or v != v:
        return "-"
    return f"{v:.3f}" + (" *" if best else "")
