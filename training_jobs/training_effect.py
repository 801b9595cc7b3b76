"""`talentloop report training-effect`: clean tables → panels → doubly robust DiD per course → report files, the
stored report the API serves, and an MLflow run (tables, a forest plot and, on simulated data, the comparison
with the simulator's true course effects)."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd

from evaluation import training_effect_oracle, truth
from features.offline import read_clean
from features.settings import Settings
from models.training_effect import export, report, stored
from training_jobs import tracking

EXPERIMENT = "training-effect"
COMPANY = stored.COMPANY


def store(settings: Settings, rep: report.Report, as_of: str) -> Path:
    """Write the report of its scope (aggregates only) for ``GET /v1/training-effect``."""
    data = {"org_unit": rep.org_unit, "as_of": as_of, "min_takers": rep.min_takers,
            "rating_point_value": rep.rating_point_value, "skills": stored.records(rep.skills),
            "courses": stored.records(rep.courses)}
    return stored.save(settings.reports_dir, rep.org_unit, data)


def write(rep: report.Report, out: Path, lang: str) -> list[Path]:
    """The report as FILE.xlsx (two sheets), FILE.html (two tables) or FILE.csv (+ FILE.courses.csv)."""
    skills, courses = export.table(rep.skills, lang, True), export.table(rep.courses, lang, False)
    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = out.suffix.lower()
    if suffix == ".xlsx":
        with pd.ExcelWriter(out) as xw:
            skills.to_excel(xw, index=False, sheet_name="skills" if lang == "en" else "技能")
            courses.to_excel(xw, index=False, sheet_name="next review" if lang == "en" else "下次绩效")
        return [out]
    if suffix == ".html":
        heads = (("Effect on the next competency rating", "Effect on the next review and return on investment")
                 if lang == "en" else ("对下次能力评分的效果", "对下次绩效的效果与投资回报"))
        body = "".join(f"<h2>{h}</h2>{t.to_html(index=False, na_rep='')}" for h, t in zip(heads, (skills, courses),
                                                                                     strict=True))
        out.write_text(f"<!doctype html><html lang=\"{lang}\"><meta charset=\"utf-8\"><body>{body}</body></html>",
                       encoding="utf-8")
        return [out]
    second = out.with_name(out.stem + ".courses.csv")
    skills.to_csv(out, index=False, encoding="utf-8-sig")
    courses.to_csv(second, index=False, encoding="utf-8-sig")
    return [out, second]


def _log(settings: Settings, rep: report.Report, compared: pd.DataFrame | None, summary: dict[str, float]) -> str:
    from evaluation.plots import training_effect_forest, training_effect_oracle_scatter

    tracking.experiment(settings, EXPERIMENT)
    with mlflow.start_run(run_name=f"training-effect-{rep.org_unit or COMPANY}") as run:
        mlflow.log_params({"org_unit": rep.org_unit or COMPANY, "min_takers": rep.min_takers,
                           "rating_point_value": rep.rating_point_value, "estimator": "doubly robust DiD (ATT)"})
        mlflow.log_metrics({k: v for k, v in summary.items() if isinstance(v, float) and not math.isnan(v)})
        mlflow.log_text(rep.skills.to_csv(index=False), "skills.csv")
        mlflow.log_text(rep.courses.to_csv(index=False), "courses.csv")
        with tempfile.TemporaryDirectory() as tmp:
            mlflow.log_artifact(str(training_effect_forest(rep.skills, Path(tmp) / "forest.png")), "plots")
            if compared is not None:
                mlflow.log_text(compared.to_csv(index=False), "truth_comparison.csv")
                mlflow.log_artifact(str(training_effect_oracle_scatter(compared, Path(tmp) / "vs_oracle.png")), "plots")
        return run.info.run_id


def run(settings: Settings, org_unit: str | None = None, min_takers: int = 10, log: bool = True,
        truth_dir: Path | None = None) -> tuple[report.Report, dict[str, Any]]:
    """Build, store and (``log``) log the report; compare with the truth when the feeds came from the simulator."""
    tables = {name: read_clean(settings, name) for name in report.TABLES}
    if tables["competency_ratings"].empty or tables["enrollments"].empty:
        raise ValueError("the training-effect report needs competency_ratings and enrollments; ingest the "
                         "performance and learning feeds first")
    rep = report.build(tables, org_unit, min_takers, settings.rating_point_value,
                       settings.replacement_cost_multiple)
    as_of = str(tables["competency_ratings"]["review_date"].max().date())
    summary: dict[str, Any] = {
        "course_skill_pairs": float(len(rep.skills)), "courses_next_review": float(len(rep.courses)),
        "share_lifting": float((rep.skills["ci_low"] > 0).mean()) if len(rep.skills) else float("nan"),
        "median_effect": float(rep.skills["effect"].median()) if len(rep.skills) else float("nan")}
    truth_dir = truth_dir if truth_dir is not None else truth.locate(settings)
    compared = None
    if truth_dir is not None and len(rep.skills):
        compared = training_effect_oracle.compare(rep.skills, rep.takers_rows, truth_dir, tables["course_skills"],
                                                 tables["reviews"])
        try:
            summary.update({f"truth_{k}": v for k, v in training_effect_oracle.summary(compared, 30).items()})
        except ValueError:
            summary["truth_pairs"] = float((compared["takers"] >= 30).sum())
    store(settings, rep, as_of)
    if log:
        summary["run_id"] = _log(settings, rep, compared, summary)
    summary["as_of"] = as_of
    return rep, summary
