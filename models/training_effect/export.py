"""The report as people read it: column headers and verdicts in English and Chinese, JSON rows for the API.

Verdicts (one per row): the interval above zero → "lifts the rating"; below zero → "lowers the rating"; across
zero → "no measurable effect"; too few takers are never shown (the estimator leaves such courses out).
"""

from __future__ import annotations

import math

import pandas as pd

VERDICTS = {
    "lifts": {"en": "lifts the rating", "zh": "提升评分"},
    "lowers": {"en": "lowers the rating", "zh": "降低评分"},
    "unclear": {"en": "no measurable effect", "zh": "未见可测效果"},
}
NOT_MEASURED = {"en": "none measured", "zh": "未测得提升"}
SKILL_HEADERS = {
    "course_id": ("course", "课程编号"), "title": ("title", "课程名称"), "skill_id": ("skill", "技能编号"),
    "skill": ("skill name", "技能名称"), "effect": ("effect on the next competency rating (points)",
                                                  "对下次能力评分的效果（分）"),
    "ci_low": ("95% interval, low", "95%区间下限"), "ci_high": ("95% interval, high", "95%区间上限"),
    "takers": ("takers", "完成人数"), "controls": ("comparable non-takers", "可比未培训人数"),
    "verdict": ("verdict", "结论"), "cost": ("cost per participant", "人均成本"),
    "cost_per_point": ("cost per point of improvement", "每提升一分的成本"),
}
COURSE_HEADERS = {
    "course_id": ("course", "课程编号"), "title": ("title", "课程名称"),
    "effect": ("effect on the next overall rating (points)", "对下次绩效总评的效果（分）"),
    "ci_low": ("95% interval, low", "95%区间下限"), "ci_high": ("95% interval, high", "95%区间上限"),
    "takers": ("takers", "完成人数"), "controls": ("comparable non-takers", "可比未培训人数"),
    "verdict": ("verdict", "结论"), "cost": ("cost per participant", "人均成本"),
    "exit_low": ("exit effect interval, low", "离职影响区间下限"),
    "exit_effect": ("effect on leaving within a year (probability)", "对一年内离职概率的影响"),
    "exit_high": ("exit effect interval, high", "离职影响区间上限"),
    "retention_value": ("retention value per taker", "每人留任价值"),
    "value_per_taker": ("yearly value per taker", "每人年度价值"),
    "roi": ("return on investment", "投资回报率"), "roi_low": ("ROI, interval low", "投资回报率区间下限"),
    "roi_high": ("ROI, interval high", "投资回报率区间上限"),
}


def verdict(ci_low: float, ci_high: float) -> str:
    """The verdict key of an interval."""
    if ci_low > 0:
        return "lifts"
    if ci_high < 0:
        return "lowers"
    return "unclear"


def _localise(frame: pd.DataFrame, lang: str, skills: bool) -> pd.DataFrame:
    f = frame.copy()
    if not skills:
        f = f.rename(columns={"exit_ci_low": "exit_low", "exit_ci_high": "exit_high"})
    f["title"] = f[f"title_{lang}"].fillna(f["course_id"])
    if skills:
        f["skill"] = f[f"skill_{lang}"].fillna(f["skill_id"])
    f["verdict"] = [VERDICTS[verdict(lo, hi)][lang] for lo, hi in zip(f["ci_low"], f["ci_high"], strict=True)]
    return f


def table(frame: pd.DataFrame, lang: str, skills: bool) -> pd.DataFrame:
    """The skills or courses table with headers in ``lang`` (``en`` or ``zh``); numbers rounded for reading."""
    headers = SKILL_HEADERS if skills else COURSE_HEADERS
    f = _localise(frame, lang, skills)
    out = pd.DataFrame({headers[k][lang == "zh"]: f[k] for k in headers})
    num = out.select_dtypes("number").columns
    out[num] = out[num].round(3)
    if skills:
        col = headers["cost_per_point"][lang == "zh"]
        out[col] = out[col].astype(object).where(out[col].notna(), NOT_MEASURED[lang])
    return out.astype(object).where(out.notna(), "")  # an empty cell, never "nan"


def _num(v: object) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), 4)


def rows(frame: pd.DataFrame, lang: str, skills: bool) -> list[dict]:
    """JSON rows for the API: numbers as numbers (null when not measured), verdict in ``lang``."""
    f = _localise(frame, lang, skills)
    keep = list(SKILL_HEADERS if skills else COURSE_HEADERS)
    out = []
    for rec in f[keep].to_dict("records"):
        out.append({k: _num(v) if k not in ("course_id", "title", "skill_id", "skill", "verdict", "takers",
                                            "controls") else (int(v) if k in ("takers", "controls") else str(v))
                    for k, v in rec.items()})
    return out
