"""`talentloop train skill-demand`: the command function; the root app wires it into the ``train`` group."""

from __future__ import annotations

from pathlib import Path

from talentloop.cli._common import console, settings, summary


def train_skill_demand_command(
    json_out: bool = False, truth_dir: Path | None = None, series_file: Path | None = None
) -> dict:
    """Backtest against baselines (and the oracle with ``truth_dir``), fit and register the skill-demand
    forecaster; with ``series_file``, the same on a company's own long-format CSV / Parquet series."""
    from training_jobs.skill_demand import run, run_generic

    if series_file is not None:
        result = run_generic(series_file, settings(), json_out=json_out)
    else:
        result = run(settings(), truth_dir=truth_dir, json_out=json_out)
    if not json_out:
        m = result["metrics"]
        models = sorted({k.split("_h", 1)[1].split("_", 1)[1] for k in m if k.startswith("mase_h")})
        rows = [[model, *(_fmt(m.get(f"{name}_h{h}_{model}")) for h in (1, 3, 6, 12)
                          for name in ("mase",)), _fmt(m.get(f"coverage_80_h3_{model}"))] for model in models]
        console.print(summary(f"skill_demand v{result['version']} ({result['series']} series × "
                              f"{result['months']} months)", ["model", "MASE h1", "MASE h3", "MASE h6",
                                                               "MASE h12", "80% cov h3"], rows))
        for target, met in result["targets"].items():
            console.print(f"{target}: {'met' if met else '[bold red]NOT met[/]'}")
    return result


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"
