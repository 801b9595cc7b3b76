"""How the course ranker's drivers are named and worded for people, in English and Chinese.

``DRIVERS`` maps each model column (or group of columns, see ``GROUPS``) to a :class:`Driver`. The gap a
course addresses needs the employee's context (skill names, level, required level), so it is worded by
:func:`gap_reason` from the row rather than from a single value.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from models.explanation import Driver

FORMAT_COLUMNS = ("format_online", "format_workshop", "format_mentoring")
GAP_COLUMNS = ("gap_match", "max_gap_covered", "n_gap_skills_covered")
TAKER_COLUMNS = ("avg_rating_change", "has_takers")

# Driver name → the model columns it sums.
GROUPS: dict[str, tuple[str, ...]] = {
    "skill_gap": GAP_COLUMNS,
    "takers_improvement": TAKER_COLUMNS,
    "format": FORMAT_COLUMNS,
}

FORMAT_NAMES = {
    "online": {"en": "online", "zh": "线上"},
    "workshop": {"en": "workshop", "zh": "工作坊"},
    "mentoring": {"en": "mentoring", "zh": "导师辅导"},
}


def _num(v: object, fmt: str = "{:g}") -> str:
    return "?" if v is None else fmt.format(float(v))


def _level(v: float) -> str:
    return f"{v:.0f}" if abs(v - round(v)) < 0.05 else f"{v:.1f}"


def _d(en_name: str, zh_name: str, en, zh) -> Driver:
    return Driver({"en": en_name, "zh": zh_name}, {"en": en, "zh": zh})


DRIVERS: dict[str, Driver] = {
    "skill_gap": _d("Skill gap addressed", "针对的技能差距",
                    lambda v: f"covers {_num(v, '{:.1f}')} levels of skill gap",
                    lambda v: f"覆盖 {_num(v, '{:.1f}')} 级技能差距"),
    "takers_improvement": _d("Takers' improvement", "学员提升",
                             lambda v: "new course: no takers yet" if v is None
                             else f"takers improved {float(v):+.1f} on average",
                             lambda v: "新课程，暂无学员数据" if v is None
                             else f"学员平均提升 {float(v):+.1f}"),
    "expected_gain": _d("Expected gain", "预期提升",
                        lambda v: f"expected to close about {_num(v, '{:.1f}')} levels of your gap",
                        lambda v: f"预计可缩小约 {_num(v, '{:.1f}')} 级差距"),
    "format_affinity": _d("Format fit", "形式匹配",
                          lambda v: f"format fits your learning history ({_num(v, '{:.0%}')} of it in this format)",
                          lambda v: f"形式符合你的学习习惯（{_num(v, '{:.0%}')} 为此形式）"),
    "format": _d("Format", "形式",
                 lambda v: "format: online" if v else "format: workshop or mentoring",
                 lambda v: "形式：线上" if v else "形式：工作坊或导师辅导"),
    "level_fit": _d("Level fit", "难度匹配",
                    lambda v: f"course level fits your level (fit {_num(v, '{:.2f}')})",
                    lambda v: f"课程难度与你的水平相符（匹配度 {_num(v, '{:.2f}')}）"),
    "completion_rate": _d("Completion rate", "完成率",
                          lambda v: f"{_num(v, '{:.0%}')} of takers completed it",
                          lambda v: f"{_num(v, '{:.0%}')} 的学员完成了课程"),
    "avg_exam_score": _d("Exam score", "考试成绩",
                         lambda v: f"takers scored {_num(v, '{:.0f}')} on the exam on average",
                         lambda v: f"学员考试平均 {_num(v, '{:.0f}')} 分"),
    "peers_taken_12m": _d("Peers who took it", "同岗位参加人数",
                          lambda v: f"{_num(v, '{:.0f}')} colleagues in your job took it in the last 12 months",
                          lambda v: f"过去 12 个月同岗位 {_num(v, '{:.0f}')} 位同事参加"),
    "peers_completed_total": _d("Peers who completed it", "同岗位完成人数",
                                lambda v: f"{_num(v, '{:.0f}')} colleagues in your job completed it",
                                lambda v: f"同岗位 {_num(v, '{:.0f}')} 位同事已完成"),
    "takers_12m": _d("Takers (12 months)", "近 12 个月学员",
                     lambda v: f"{_num(v, '{:.0f}')} takers in the last 12 months",
                     lambda v: f"近 12 个月 {_num(v, '{:.0f}')} 位学员"),
    "takers_total": _d("Takers (all time)", "累计学员",
                       lambda v: f"{_num(v, '{:.0f}')} takers so far",
                       lambda v: f"累计 {_num(v, '{:.0f}')} 位学员"),
    "hours": _d("Hours", "学时", lambda v: f"{_num(v)} hours", lambda v: f"{_num(v)} 学时"),
    "level": _d("Course level", "课程级别", lambda v: f"level {_num(v)} course", lambda v: f"{_num(v)} 级课程"),
    "cost": _d("Cost", "费用", lambda v: f"costs {_num(v, '{:,.0f}')}", lambda v: f"费用 {_num(v, '{:,.0f}')}"),
    "points": _d("Training points", "积分", lambda v: f"earns {_num(v, '{:.0f}')} training points",
                 lambda v: f"可获得 {_num(v, '{:.0f}')} 积分"),
    "mandatory": _d("Mandatory", "必修", lambda v: "mandatory course" if v else "optional course",
                    lambda v: "必修课程" if v else "选修课程"),
    "course_age_months": _d("Course age", "课程上线时长",
                            lambda v: f"in the catalog for {_num(v, '{:.0f}')} months",
                            lambda v: f"已上线 {_num(v, '{:.0f}')} 个月"),
    "job_level": _d("Job level", "职级", lambda v: f"your job level is {_num(v)}", lambda v: f"你的职级为 {_num(v)}"),
    "tenure_months": _d("Tenure", "司龄", lambda v: f"{_num(v, '{:.0f}')} months in the company",
                        lambda v: f"入职 {_num(v, '{:.0f}')} 个月"),
    "last_rating": _d("Last rating", "上次评分", lambda v: f"last overall rating {_num(v)}",
                      lambda v: f"上次综合评分 {_num(v)}"),
    "rating_trend": _d("Rating trend", "评分趋势", lambda v: f"rating trend {_num(v, '{:+.1f}')}",
                       lambda v: f"评分趋势 {_num(v, '{:+.1f}')}"),
    "training_hours_3m": _d("Recent training load", "近期培训量",
                            lambda v: f"{_num(v)} training hours in the last 3 months",
                            lambda v: f"近 3 个月培训 {_num(v)} 学时"),
    "training_hours_12m": _d("Training hours (12 months)", "近 12 个月培训学时",
                             lambda v: f"{_num(v)} training hours in the last 12 months",
                             lambda v: f"近 12 个月培训 {_num(v)} 学时"),
    "training_points_12m": _d("Training points (12 months)", "近 12 个月积分",
                              lambda v: f"{_num(v, '{:.0f}')} training points in the last 12 months",
                              lambda v: f"近 12 个月 {_num(v, '{:.0f}')} 积分"),
    "completions_12m": _d("Completions (12 months)", "近 12 个月完成课程",
                          lambda v: f"{_num(v, '{:.0f}')} courses completed in the last 12 months",
                          lambda v: f"近 12 个月完成 {_num(v, '{:.0f}')} 门课程"),
    "enrollments_in_progress": _d("Courses in progress", "进行中的课程",
                                  lambda v: f"{_num(v, '{:.0f}')} courses in progress",
                                  lambda v: f"{_num(v, '{:.0f}')} 门课程进行中"),
    "online_share_12m": _d("Online share", "线上占比", lambda v: f"{_num(v, '{:.0%}')} of your training online",
                           lambda v: f"{_num(v, '{:.0%}')} 的培训为线上"),
    "workshop_share_12m": _d("Workshop share", "工作坊占比",
                             lambda v: f"{_num(v, '{:.0%}')} of your training in workshops",
                             lambda v: f"{_num(v, '{:.0%}')} 的培训为工作坊"),
    "mentoring_share_12m": _d("Mentoring share", "导师辅导占比",
                              lambda v: f"{_num(v, '{:.0%}')} of your training through mentoring",
                              lambda v: f"{_num(v, '{:.0%}')} 的培训为导师辅导"),
}


def skill_name(skill_id: str, lang: str, skill_names: Mapping[str, Mapping[str, str]] | None) -> str:
    """The skill's name in ``lang`` (English when missing), or its id when no name is known."""
    names = (skill_names or {}).get(skill_id) or {}
    return names.get(lang) or names.get("en") or str(skill_id)


def gap_reason(
    gaps: list[tuple[str, float, float]],
    lang: str,
    skill_names: Mapping[str, Mapping[str, str]] | None = None,
    max_skills: int = 2,
) -> str | None:
    """"Negotiation 2/5, your job needs 4/5" for the largest gaps a course addresses.

    ``gaps`` holds (skill_id, level, required_level) sorted by gap, largest first; None when empty.
    """
    if not gaps:
        return None
    parts = []
    for skill_id, level, required in gaps[:max_skills]:
        name = skill_name(skill_id, lang, skill_names)
        if lang == "zh":
            parts.append(f"{name} {_level(level)}/5，岗位要求 {_level(required)}/5")
        else:
            parts.append(f"{name} {_level(level)}/5, your job needs {_level(required)}/5")
    return "；".join(parts) if lang == "zh" else "; ".join(parts)


def format_reason(fmt: str | None, affinity: float | None, lang: str) -> str | None:
    """"online, like 60% of your training" for a course's format; None when the format is unknown."""
    if not fmt:
        return None
    name = FORMAT_NAMES.get(fmt, {}).get(lang, fmt)
    if affinity is None:
        return f"形式：{name}" if lang == "zh" else f"format: {name}"
    if lang == "zh":
        return f"{name}形式，符合你的学习习惯（{affinity:.0%} 的培训为此形式）"
    return f"{name} format, like {affinity:.0%} of your training"


def gap_details(frame: pd.DataFrame | Mapping[str, np.ndarray]) -> list[list[tuple[str, float, float]]]:
    """Per row: (skill_id, level, required_level) of the gap skills the course teaches, largest gap first.

    ``frame`` is a DataFrame or a mapping of column → one value per row.
    """
    out = []
    cols = [frame["skill_ids"], frame["skill_gaps"], frame["course_skill_ids"]]
    cols.append(frame["skill_required_levels"] if "skill_required_levels" in frame else [None] * len(cols[0]))
    for skills, gaps, taught, required in zip(*cols, strict=True):
        req = list(required) if required is not None else [np.nan] * len(skills)
        info = {s: (float(g), float(q)) for s, g, q in zip(skills, gaps, req, strict=True) if g and g > 0}
        rows = [(s, info[s][1] - info[s][0], info[s][1]) for s in taught if s in info]
        out.append(sorted(rows, key=lambda t: (t[1] - t[2], t[0])))
    return out
