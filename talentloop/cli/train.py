"""``talentloop train MODEL`` and ``talentloop score attrition``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from features import progress
from talentloop.cli._common import console, fail, settings, summary, writes


def register(app: typer.Typer) -> None:
    train = typer.Typer(help="Train, evaluate and register a model in MLflow (alias challenger; the first version goes through the promotion gate).",
                        no_args_is_help=True)
    score = typer.Typer(help="Batch-score with the champion model.", no_args_is_help=True)

    @train.command("attrition")
    @writes("train attrition")
    def train_attrition(
        json_out: bool = typer.Option(False, "--json", help="Print the metrics table as JSON on stdout."),
        seed: int = typer.Option(0, help="Random seed of the model."),
        folds: int = typer.Option(4, help="Rolling-origin backtest folds (fewer are used, with a warning, when "
                                  "the history is too short)."),
        calibration_months: int = typer.Option(None, "--calibration-months", help="Latest outcome months held out "
                                               "of LightGBM's trees for early stopping and calibration (default: "
                                               "2, or 4 on a small company)."),
        min_risk: float = typer.Option(None, "--min-risk", help="Alert threshold on the risk at h=3 (default: "
                                       "the top 10% of the latest months' risks)."),
        allow_leaky: list[str] = typer.Option(None, "--allow-leaky-feature", help="Register although the "
                                              "leakage check flagged this feature (repeat for several)."),
        mitigation: str = typer.Option(None, "--mitigation", help="Fairness mitigation: drop_proxies (train "
                                       "without features flagged as proxies of a protected attribute) or reweigh "
                                       "(rows reweighed so exits are independent of sex x age band); "
                                       "docs/fairness.md."),
    ) -> None:
        """Attrition risk months ahead: leakage check, backtest of LightGBM, logistic regression and the tenure
        hazard on the same folds (and the oracle), register the best."""
        _check_attrition_options(folds, calibration_months, min_risk)
        from models.attrition.mitigation import MITIGATIONS

        if mitigation is not None and mitigation not in MITIGATIONS:
            raise fail(f"--mitigation must be one of {', '.join(MITIGATIONS)}, got {mitigation!r}")
        from lightgbm.basic import LightGBMError

        from training_jobs.attrition import run

        try:
            with progress.step("train attrition: leakage check, backtest, fit, register"):
                result = run(settings(), seed=seed, n_folds=folds, calibration_months=calibration_months,
                             min_risk=min_risk, allow_leaky=tuple(allow_leaky or ()), mitigation=mitigation)
        except (ValueError, LightGBMError) as exc:
            raise fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
        _print_attrition(result, json_out)

    @train.command("course-ranker")
    @writes("train course-ranker")
    def train_course_ranker(
        json_out: bool = typer.Option(False, "--json", help="Print the metrics as JSON on stdout."),
        window_months: int = typer.Option(3, "--window-months", min=1, max=12,
                                          help="Months after an origin in which an enrollment counts."),
        outcome_months: int = typer.Option(6, "--outcome-months", min=1, max=12,
                                           help="Months after the window for completion and the next review."),
        min_history_months: int = typer.Option(6, "--min-history-months", min=1, max=24,
                                               help="Months of data before the first origin."),
    ) -> None:
        """Course ranker (LambdaRank on closed-loop labels): time-split evaluation vs baselines and oracle."""
        from evaluation.truth import locate
        from talentloop.cli.train_course_ranker import train_course_ranker_command

        try:
            with progress.step("train course-ranker: candidates, features, evaluation, fit, register"):
                train_course_ranker_command(json_out=json_out, truth_dir=locate(settings()),  # prints its own JSON
                                            window_months=window_months, outcome_months=outcome_months,
                                            min_history_months=min_history_months)
        except ValueError as exc:
            raise fail(str(exc)) from exc

    @train.command("skill-demand")
    @writes("train skill-demand")
    def train_skill_demand(
        json_out: bool = typer.Option(False, "--json", help="Print the metrics as JSON on stdout."),
        series: Path = typer.Option(None, "--series", help="Forecast your own long-format series "
                                    "(series_id, month, value) from a CSV or Parquet file instead."),
        fill: str = typer.Option("reject", "--fill", help="Gaps in --series: reject, zero or ffill."),
        horizons: str = typer.Option("1-12", "--horizons", help="Backtest horizons: a range (1-12) or a list "
                                     "(1,3,6,12), months 1 to 24."),
        windows: int = typer.Option(8, "--windows", help="Rolling origins per horizon (at least 2): the earlier "
                                    "half chooses the served method, the later half reports it."),
        exog: list[str] = typer.Option([], "--exog", help="Exogenous columns of --series (repeat or comma-separate)."),
        static: list[str] = typer.Option([], "--static", help="Static columns of --series (repeat or "
                                         "comma-separate)."),
        freq: str = typer.Option("month", "--freq", help="Rows of --series are per month, week or day; weeks "
                                 "and days are aggregated to months by --agg."),
        agg: str = typer.Option("mean", "--agg", help="How --freq week/day rows become months: mean or sum."),
    ) -> None:
        """Skill-demand forecaster: per-horizon backtest vs naive, seasonal naive, drift, AutoETS (and oracle);
        the served method per horizon is the most accurate one."""
        from evaluation.truth import locate
        from talentloop.cli.train_skill_demand import parse_horizons, train_skill_demand_command

        try:
            options = {"horizons": parse_horizons(horizons), "n_windows": windows}
            if windows < 2:
                raise ValueError(f"--windows must be at least 2, got {windows}")
            generic = _generic_series_options(series, fill, exog, static, freq, agg)
            truth = None if series else locate(settings())
            with progress.step("train skill-demand: backtest per horizon, fit, register"):
                train_skill_demand_command(json_out=json_out, truth_dir=truth, series_file=series,
                                           options=options, generic=generic)  # prints its own JSON
        except (ValueError, FileNotFoundError) as exc:
            raise fail(str(exc)) from exc

    @score.command("attrition")
    @writes("score attrition")
    def score_attrition(
        as_of: str = typer.Option(None, "--as-of", help="Month to score (YYYY-MM or a date); default: latest."),
        rule: str = typer.Option("risk", help="Alert rule: 'risk' (≥ the model's threshold) or 'top-share' per unit."),
        json_out: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout."),
    ) -> None:
        """Score every active employee, store risks with drivers, raise alerts (idempotent per month)."""
        from training_jobs.score_attrition import RULES, run

        if rule not in RULES:
            raise fail(f"--rule must be one of {', '.join(RULES)}")
        try:
            result = run(settings(), as_of=as_of, rule=rule)
        except ValueError as exc:
            raise fail(str(exc)) from exc
        if json_out:
            typer.echo(json.dumps(result))
        else:
            console.print(summary("Attrition scoring", ["field", "value"], result.items()))

    app.add_typer(train, name="train")
    app.add_typer(score, name="score")


def _check_attrition_options(folds: int, calibration_months: int | None, min_risk: float | None) -> None:
    if folds < 1:
        raise fail("--folds must be at least 1")
    if calibration_months is not None and calibration_months < 1:
        raise fail("--calibration-months must be at least 1")
    if min_risk is not None and not 0 < min_risk < 1:
        raise fail("--min-risk must be a probability between 0 and 1 (exclusive)")


def _generic_series_options(series: Path | None, fill: str, exog: list[str], static: list[str], freq: str,
                            agg: str) -> dict:
    """The options of ``train skill-demand --series`` (ValueError naming the option when one is wrong)."""
    from talentloop.cli.train_skill_demand import parse_columns

    for name, value, allowed in (("--fill", fill, ("reject", "zero", "ffill")),
                                 ("--freq", freq, ("month", "week", "day")), ("--agg", agg, ("mean", "sum"))):
        if value not in allowed:
            raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    if series is None and (fill != "reject" or exog or static or freq != "month"):
        used = [n for n, v in (("--fill", fill != "reject"), ("--exog", exog), ("--static", static),
                               ("--freq", freq != "month")) if v]
        raise ValueError(f"{', '.join(used)} apply to --series only; the feature store's series are "
                         "monthly, gap-free and have their own columns")
    return {"fill": fill, "exog_cols": parse_columns(exog), "static_cols": parse_columns(static), "freq": freq,
            "agg": agg}


def _print_attrition(result: dict, json_out: bool) -> None:
    rows = result["summary"]
    if json_out:
        typer.echo(json.dumps(result, default=str))
        return
    header = ["h", "method", "folds", "ROC-AUC", "PR-AUC", "P@10%", "R@10%", "Brier", "ECE", "AUC/oracle"]
    console.print(summary(
        f"attrition v{result['version']} (run {result['run_id'][:8]}, {result['seconds']} s)", header,
        [[r["horizon"], r["method"], r["folds"], f"{r['roc_auc']:.3f}", f"{r['pr_auc']:.3f}",
          f"{r['precision_at_top_10pct']:.3f}", f"{r['recall_at_top_10pct']:.3f}", f"{r['brier']:.4f}",
          f"{r['ece']:.4f}", f"{r['roc_auc_vs_oracle']:.3f}" if "roc_auc_vs_oracle" in r else "–"] for r in rows]))
    console.print(f"chosen model: [bold]{result['chosen']}[/] ({result['selection']['reason']})", soft_wrap=True)
    for note in result["notes"]:
        console.print(f"[yellow]warning:[/] {note}", soft_wrap=True)
    for flag in result["leakage"]:
        console.print(f"[yellow]leak allowed:[/] {flag['name']}: {flag['detail']}", soft_wrap=True)
    from talentloop.cli.governance import print_gate

    print_gate("attrition", result["version"], result.get("gate"))
