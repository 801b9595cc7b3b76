"""``talentloop train potential``, ``talentloop score potential`` and ``talentloop talent-pool``.

Registered on the ``train`` and ``score`` groups that ``talentloop.cli.train`` creates (looked up by name, so
that module is not edited), and as the top-level ``talent-pool`` command."""

from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path

import typer

from talentloop.cli._common import console, fail, settings, summary, writes


def _group(app: typer.Typer, name: str) -> typer.Typer:
    for info in app.registered_groups:
        if info.name == name and info.typer_instance is not None:
            return info.typer_instance
    raise RuntimeError(f"the {name!r} command group is not registered yet")


def register(app: typer.Typer) -> None:
    train, score = _group(app, "train"), _group(app, "score")

    @train.command("potential")
    @writes("train potential")
    def train_potential(
        json_out: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout."),
        seed: int = typer.Option(0, help="Random seed of the model."),
        folds: int = typer.Option(3, help="Rolling-origin backtest folds (2 snapshot months each)."),
    ) -> None:
        """High-potential model (高潜力人才): promotion or a rating level up within 12 months; backtest vs logistic
        (and the oracle on simulated data), calibration, four-fifths audit by sex and age band, register."""
        if folds < 1:
            raise fail("--folds must be at least 1")
        from lightgbm.basic import LightGBMError

        from features import progress
        from training_jobs.potential import run

        try:
            with progress.step("train potential: labels, backtest, fit, fairness audit, register"):
                result = run(settings(), seed=seed, n_folds=folds)
        except (ValueError, LightGBMError) as exc:
            raise fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
        _print_potential(result, json_out)

    @score.command("potential")
    @writes("score potential")
    def score_potential(
        as_of: str = typer.Option(None, "--as-of", help="Month to score (YYYY-MM or a date); default: latest."),
        json_out: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout."),
    ) -> None:
        """Score potential, talent pool, readiness and impact of loss for every active employee (after
        `score attrition` for risk and expected loss)."""
        from training_jobs.score_potential import run

        try:
            result = run(settings(), as_of=as_of)
        except ValueError as exc:
            raise fail(str(exc)) from exc
        if json_out:
            typer.echo(json.dumps(result, ensure_ascii=False))
        else:
            console.print(summary("Talent scoring", ["field", "value"], result.items()))

    _register_talent_pool(app)


def _register_talent_pool(app: typer.Typer) -> None:
    @app.command("talent-pool")
    def talent_pool(
        org_unit: str = typer.Option(None, "--org-unit", help="Org unit id: its whole subtree (default: all)."),
        everyone: bool = typer.Option(False, "--all", help="Everyone scored, not only pool members."),
        alerts: bool = typer.Option(False, "--alerts", help="Only people with an attrition alert this month."),
        sort: str = typer.Option("expected_loss", help="expected_loss, risk, potential or readiness (descending)."),
        lang: str = typer.Option("en", help="en or zh."),
        limit: int = typer.Option(50, help="Rows to print (the export holds every row)."),
        out: Path = typer.Option(None, "--out", help="Write every row to FILE.csv or FILE.xlsx."),
    ) -> None:
        """The talent pool (核心人才库) of a unit: members with potential, readiness, attrition risk and impact."""
        from features.app_db import connect
        from features.build.org_unit import unit_closure
        from features.offline import read_clean
        from models.potential import export, store

        if lang not in ("en", "zh"):
            raise fail(f"--lang must be en or zh, got {lang!r}")
        if sort not in store.SORTS:
            raise fail(f"--sort must be one of {', '.join(store.SORTS)}, got {sort!r}")
        if out is not None and out.suffix.lower() not in (".csv", ".xlsx"):
            raise fail(f"--out must end in .csv or .xlsx, got {out.name!r}")
        if limit < 1:
            raise fail("--limit must be at least 1")
        s = settings()
        units = None
        if org_unit is not None:
            tree = read_clean(s, "org_units")
            closure = unit_closure(tree) if not tree.empty else None
            if closure is None or org_unit not in set(closure["ancestor_id"]):
                raise fail(f"--org-unit {org_unit!r} is not an org unit of the ingested data")
            units = closure.loc[closure["ancestor_id"] == org_unit, "org_unit_id"].tolist()
        with closing(connect(s.app_db)) as con:
            rows, total, month = store.list_scores(con, units, members_only=not everyone and not alerts,
                                                   alerts_only=alerts, sort=sort, limit=1_000_000)
        if month is None:
            raise fail("no talent scores yet: run `talentloop train potential` and `talentloop score potential`")
        jobs = read_clean(s, "jobs")
        names = {str(r.job_id): {"en": str(r.title_en), "zh": str(r.title_zh)} for r in jobs.itertuples()}
        tree = read_clean(s, "org_units")
        unit_names = {str(r.org_unit_id): {"en": str(r.name_en), "zh": str(r.name_zh)} for r in tree.itertuples()}
        frame = export.table(rows, lang, names, unit_names)
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            if out.suffix.lower() == ".csv":
                frame.to_csv(out, index=False, encoding="utf-8-sig")
            else:
                frame.to_excel(out, index=False, sheet_name="talent pool" if lang == "en" else "人才库")
            console.print(f"{len(frame)} rows written to {out}")
        shown = frame.head(limit)
        cols = [c for i, c in enumerate(shown.columns) if list(export.HEADERS)[i] in (
            "employee_id", "pool_unit_id", "potential", "high_potential", "readiness", "risk", "impact",
            "expected_loss")]
        title = (f"talent pool {org_unit or ''} as of {month}: {total} rows" if lang == "en"
                 else f"核心人才库 {org_unit or ''} {month}：共{total}人")
        console.print(summary(title, cols, shown[cols].itertuples(index=False)))


def _print_potential(result: dict, json_out: bool) -> None:
    from training_jobs.potential import to_json

    if json_out:
        typer.echo(to_json(result))
        return
    rows = [[r["method"], f"{r['roc_auc']:.3f}", f"{r['pr_auc']:.3f}", f"{r['ece']:.4f}",
             f"{r['ece_pooled']:.4f}", f"{r['brier']:.4f}",
             f"{r['precision_at_top_10pct']:.3f}",
             f"{r['roc_auc_vs_oracle']:.3f}" if r.get("roc_auc_vs_oracle") is not None else "-"]
            for r in result["summary"]]
    console.print(summary(f"potential v{result['version']} (mean over {result['folds']} folds)",
                          ["method", "ROC-AUC", "PR-AUC", "ECE", "ECE pooled", "Brier", "P@10%", "AUC/oracle"], rows))
    console.print(f"fairness audit (four-fifths, sex / age band / sex × age band): "
                  f"{'passed' if result['fairness_passed'] else 'FAILED'}, lowest impact ratio "
                  f"{result['fairness_min_impact_ratio']:.3f}; champion: "
                  + (f"v{result['champion']}" if result["champion"] else "none"))
    gate = result.get("gate")
    if gate is not None:
        from talentloop.cli.governance import print_gate

        print_gate("potential", result["version"], gate)
