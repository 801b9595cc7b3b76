"""High-potential drivers worded for HR partners, in English and Chinese: the attrition drivers' sentences
(they state the value the model used, whatever the model) plus the gaps to the next job's requirements."""

from __future__ import annotations

from models.explanation import Driver
from models.wording.attrition import DRIVERS as ATTRITION_DRIVERS
from models.wording.units import pct, value_of


def _pick(lang: str, en: str, zh: str) -> str:
    return zh if lang == "zh" else en


def _next_gap(v: float | None, lang: str) -> str | None:
    if v is None:
        return _pick(lang, "no known level on the next job's skills", "暂无下一岗位所需技能的水平记录")
    if v < 0.05:
        return _pick(lang, "already at the next job's required levels", "已达到下一岗位的技能要求")
    g = f"{v:.1f}"
    return _pick(lang, f"average gap {g} {'level' if g == '1.0' else 'levels'} to the next job's requirements",
                 f"距下一岗位要求平均差{g}级")


def _readiness(v: float | None, lang: str) -> str | None:
    if v is None:
        return None
    return _pick(lang, f"{pct(v)} of the next job's skills already at the required level",
                 f"下一岗位所需技能中已有{pct(v)}达到要求")


def _next_skills(v: float | None, lang: str) -> str | None:
    if v is None or v < 0.5:
        return _pick(lang, "at the top of the career path", "已处于职业路径顶端")
    return _pick(lang, f"the next job asks for {int(round(v))} skills", f"下一岗位要求{int(round(v))}项技能")


def _driver(en: str, zh: str, text) -> Driver:
    return Driver({"en": en, "zh": zh}, {"en": lambda v: text(value_of(v), "en"), "zh": lambda v: text(value_of(v), "zh")})


DRIVERS: dict[str, Driver] = {
    **ATTRITION_DRIVERS,
    "next_job_mean_gap": _driver("Gap to the next job", "与下一岗位的技能差距", _next_gap),
    "next_job_readiness": _driver("Readiness for the next job", "下一岗位准备度", _readiness),
    "n_next_job_skills": _driver("Next job's required skills", "下一岗位要求技能数", _next_skills),
}

# What a potential score means, for the API and the CLI.
HIGH_POTENTIAL = {"en": "high potential", "zh": "高潜力人才"}
TALENT_POOL = {"en": "talent pool", "zh": "核心人才库"}
