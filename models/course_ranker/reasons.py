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
from models.wording.courses import gap_part
from models.wording.units import duration, level, number, value_of

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
    return fmt.format(float(v))


def _level(v: float) -> str:
    return level(v)


def _d(en_name: str, zh_name: str, en, zh) -> Driver:
    """A driver whose sentence is left out when the value is missing (never "?" or a zero for missing)."""
    return Driver({"en": en_name, "zh": zh_name},
                  {"en": lambda v: None if value_of(v) is None else en(v),
                   "zh": lambda v: None if value_of(v) is None else zh(v)})


def _level_fit(v: float, lang: str) -> str:
    n = int(round(float(v)))
    if n == 0:
        return "课程难度与你的职级相当" if lang == "zh" else "course level matches your job level"
    if lang == "zh":
        return f"课程难度比你的职级{'高' if n > 0 else '低'}{abs(n)}级"
    return f"course level {abs(n)} {'above' if n > 0 else 'below'} your job level"


DRIVERS: dict[str, Driver] = {
    "skill_gap": _d("Skill gap addressed", "针对的技能差距",
                    lambda v: f"covers {_num(v, '{:.1f}')} levels of skill gap",
                    lambda v: f"覆盖 {_num(v, '{:.1f}')} 级技能差距"),
    "takers_improvement": Driver({"en": "Takers' improvement", "zh": "学员提升"}, {
        "en": lambda v: "new course: no takers yet" if value_of(v) is None
        else f"takers improved {float(v):+.1f} levels on average",
        "zh": lambda v: "新课程，暂无学员数据" if value_of(v) is None else f"学员平均提升 {float(v):+.1f} 级"}),
    "expected_gain": _d("Expected gain", "预期提升",
                        lambda v: f"expected to close about {_num(v, '{:.1f}')} levels of your gap",
                        lambda v: f"预计可缩小约 {_num(v, '{:.1f}')} 级差距"),
    "format_affinity": _d("Format fit", "形式匹配",
                          lambda v: f"{_num(v, '{:.0%}')} of your recent courses were in this format",
                          lambda v: f"你近期 {_num(v, '{:.0%}')} 的课程为此形式"),
    "format": _d("Format", "形式",
                 lambda v: "format: online" if v else "format: workshop or mentoring",
                 lambda v: "形式：线上" if v else "形式：工作坊或导师辅导"),
    "level_fit": _d("Level fit", "难度匹配", lambda v: _level_fit(v, "en"), lambda v: _level_fit(v, "zh")),
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
    "hours": _d("Hours", "学时", lambda v: f"{number(float(v), 1)} hours", lambda v: f"{number(float(v), 1)} 学时"),
    "level": _d("Course level", "课程级别", lambda v: f"level {_num(v)} course", lambda v: f"{_num(v)} 级课程"),
    "cost": _d("Cost", "费用", lambda v: "free of charge" if float(v) == 0 else f"costs {_num(v, '{:,.0f}')}",
               lambda v: "免费" if float(v) == 0 else f"费用 {_num(v, '{:,.0f}')}"),
    "points": _d("Training points", "积分", lambda v: f"earns {_num(v, '{:.0f}')} training points",
                 lambda v: f"可获得 {_num(v, '{:.0f}')} 积分"),
    "mandatory": _d("Mandatory", "必修", lambda v: "mandatory course" if v else "optional course",
                    lambda v: "必修课程" if v else "选修课程"),
    "course_age_months": _d("Course age", "课程上线时长",
                            lambda v: f"in the catalog for {duration(float(v), 'en')}",
                            lambda v: f"已上线 {duration(float(v), 'zh')}"),
    "job_level": _d("Job level", "职级", lambda v: f"your job level is {_num(v)}", lambda v: f"你的职级为 {_num(v)}"),
    "tenure_months": _d("Tenure", "司龄", lambda v: f"{duration(float(v), 'en')} in the company",
                        lambda v: f"入职 {duration(float(v), 'zh')}"),
    "last_rating": _d("Last rating", "上次评分", lambda v: f"last overall rating {level(float(v))}/5",
                      lambda v: f"上次综合评分 {level(float(v))}/5"),
    "rating_trend": _d("Rating trend", "评分趋势", lambda v: f"rating changed {_num(v, '{:+.0f}')} at the last review",
                       lambda v: f"上次评估评分变化 {_num(v, '{:+.0f}')}"),
    "training_hours_3m": _d("Recent training load", "近期培训量",
                            lambda v: f"{number(float(v), 1)} training hours in the last 3 months",
                            lambda v: f"近 3 个月培训 {number(float(v), 1)} 学时"),
    "training_hours_12m": _d("Training hours (12 months)", "近 12 个月培训学时",
                             lambda v: f"{number(float(v), 1)} training hours in the last 12 months",
                             lambda v: f"近 12 个月培训 {number(float(v), 1)} 学时"),
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

    ``gaps`` holds (skill_id, level, required_level[, target_level]) sorted by gap, largest first; None when
    empty. A course that stops below the requirement says so.
    """
    if not gaps:
        return None
    parts = [gap_part(skill_name(g[0], lang, skill_names), g[1], g[2], g[3] if len(g) > 3 else None, lang)
             for g in gaps[:max_skills]]
    return "；".join(parts) if lang == "zh" else "; ".join(parts)


def format_reason(fmt: str | None, affinity: float | None, lang: str) -> str | None:
    """"online, like 60% of your training" for a course's format; None when the format is unknown."""
    name = FORMAT_NAMES.get(fmt, {}).get(lang) if isinstance(fmt, str) else None
    if name is None:  # unknown or missing format: not worth a sentence, never a raw code
        return None
    if affinity is None or affinity <= 0:  # no history in this format: no word of "your learning history"
        return f"形式：{name}" if lang == "zh" else f"format: {name}"
    if lang == "zh":
        return f"{name}形式，符合你的学习习惯（{affinity:.0%} 的培训为此形式）"
    return f"{name} format, like {affinity:.0%} of your training"


def gap_details(frame: pd.DataFrame | Mapping[str, np.ndarray]) -> list[list[tuple[str, float, float]]]:
    """Per row: (skill_id, level, required_level, target_level or None) of the gap skills the course teaches
    (up to a level above the person's: ``course_target_levels`` when given), largest gap first.

    ``frame`` is a DataFrame or a mapping of column → one value per row.
    """
    out = []
    cols = [frame["skill_ids"], frame["skill_gaps"], frame["course_skill_ids"]]
    cols.append(frame["skill_required_levels"] if "skill_required_levels" in frame else [None] * len(cols[0]))
    cols.append(frame["course_target_levels"] if "course_target_levels" in frame else [None] * len(cols[0]))
    for skills, gaps, taught, required, targets in zip(*cols, strict=True):
        req = list(required) if required is not None and len(required) else [np.nan] * len(skills)
        info = {s: (float(g), float(q)) for s, g, q in zip(skills, gaps, req, strict=True) if g and g > 0}
        target_of = ({s: float(t) for s, t in zip(taught, targets, strict=False) if value_of(t) is not None}
                     if targets is not None else {})
        rows = []
        for s in taught:
            if s not in info or np.isnan(info[s][1]):  # no known requirement: the level cannot be worded
                continue
            have, need, target = info[s][1] - info[s][0], info[s][1], target_of.get(s)
            if target is not None and target <= have:  # the course stops below the person's level
                continue
            rows.append((s, have, need, target))
        out.append(sorted(rows, key=lambda t: (t[1] - t[2], t[0])))
    return out
