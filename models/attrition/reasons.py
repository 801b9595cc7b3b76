"""How attrition features are named and worded for HR partners (English and Chinese), and the what-if levers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.explanation import Driver


def _num(v: object) -> float | None:
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if np.isnan(f) else f


def _d(en: str, zh: str, text_en: Callable[[float | None], str], text_zh: Callable[[float | None], str]) -> Driver:
    return Driver({"en": en, "zh": zh}, {"en": lambda v: text_en(_num(v)), "zh": lambda v: text_zh(_num(v))})


def _months(v: float | None) -> str:
    return "unknown" if v is None else f"{v:.0f}"


def _pay_en(v: float | None) -> str:
    if v is None:
        return "pay position in band unknown"
    return f"pay {abs(v):.0%} {'below' if v < 0 else 'above'} band midpoint"


def _pay_zh(v: float | None) -> str:
    if v is None:
        return "薪酬带宽位置未知"
    return f"薪酬{'低于' if v < 0 else '高于'}带宽中位值{abs(v):.0%}"


DRIVERS: dict[str, Driver] = {
    "pay_vs_band_mid": _d("Pay vs band midpoint", "薪酬相对带宽中位值", _pay_en, _pay_zh),
    "pay_band_position": _d(
        "Position in pay band", "薪酬带宽位置",
        lambda v: f"pay at {0 if v is None else v:.0%} of its band", lambda v: f"薪酬处于带宽的{0 if v is None else v:.0%}"),
    "months_since_promotion": _d(
        "Months since promotion", "距上次晋升月数",
        lambda v: f"no promotion in {_months(v)} months", lambda v: f"已{_months(v)}个月未晋升"),
    "months_since_pay_change": _d(
        "Months since pay change", "距上次调薪月数",
        lambda v: f"no pay change in {_months(v)} months", lambda v: f"已{_months(v)}个月未调薪"),
    "months_since_manager_change": _d(
        "Months since manager change", "距上次更换经理月数",
        lambda v: f"manager changed {_months(v)} months ago", lambda v: f"{_months(v)}个月前更换了经理"),
    "manager_changes_12m": _d(
        "Manager changes (12 months)", "近12个月经理变更次数",
        lambda v: f"{_months(v)} manager changes in 12 months", lambda v: f"近12个月经理变更{_months(v)}次"),
    "transfers_12m": _d(
        "Transfers (12 months)", "近12个月调动次数",
        lambda v: f"{_months(v)} transfers in 12 months", lambda v: f"近12个月调动{_months(v)}次"),
    "team_vol_exits_6m": _d(
        "Teammates who left (6 months)", "近6个月团队主动离职人数",
        lambda v: f"{_months(v)} teammates left in 6 months", lambda v: f"近6个月有{_months(v)}名同事主动离职"),
    "team_vol_attrition_6m": _d(
        "Team attrition (6 months)", "近6个月团队离职率",
        lambda v: f"team attrition {0 if v is None else v:.0%} in 6 months",
        lambda v: f"近6个月团队离职率{0 if v is None else v:.0%}"),
    "tenure_months": _d(
        "Tenure", "司龄", lambda v: f"{_months(v)} months with the company", lambda v: f"入职{_months(v)}个月"),
    "last_rating": _d(
        "Last review rating", "最近一次绩效评级",
        lambda v: f"last review rated {_months(v)}/5", lambda v: f"最近一次绩效评级为{_months(v)}/5"),
    "prev_rating": _d(
        "Previous review rating", "上一次绩效评级",
        lambda v: f"previous review rated {_months(v)}/5", lambda v: f"上一次绩效评级为{_months(v)}/5"),
    "rating_trend": _d(
        "Rating trend", "绩效趋势",
        lambda v: f"rating {'fell' if (v or 0) < 0 else 'rose' if (v or 0) > 0 else 'unchanged'} at the last review",
        lambda v: f"最近一次绩效{'下降' if (v or 0) < 0 else '上升' if (v or 0) > 0 else '持平'}"),
    "last_kpi_attainment": _d(
        "KPI attainment", "KPI达成率",
        lambda v: f"KPI attainment {0 if v is None else v:.0%}", lambda v: f"KPI达成率{0 if v is None else v:.0%}"),
    "months_since_review": _d(
        "Months since last review", "距上次绩效评估月数",
        lambda v: f"last review {_months(v)} months ago", lambda v: f"上次绩效评估在{_months(v)}个月前"),
    "mean_skill_gap": _d(
        "Average skill gap", "平均技能差距",
        lambda v: f"average skill gap {0 if v is None else v:.1f} levels", lambda v: f"平均技能差距{0 if v is None else v:.1f}级"),
    "max_skill_gap": _d(
        "Largest skill gap", "最大技能差距",
        lambda v: f"largest skill gap {0 if v is None else v:.1f} levels", lambda v: f"最大技能差距{0 if v is None else v:.1f}级"),
    "n_skills_below_required": _d(
        "Skills below requirement", "未达要求的技能数",
        lambda v: f"{_months(v)} skills below the job's requirement", lambda v: f"{_months(v)}项技能未达岗位要求"),
    "training_hours_3m": _d(
        "Training hours (3 months)", "近3个月培训学时",
        lambda v: f"{_months(v)} training hours in 3 months", lambda v: f"近3个月培训{_months(v)}学时"),
    "training_hours_12m": _d(
        "Training hours (12 months)", "近12个月培训学时",
        lambda v: f"{_months(v)} training hours in 12 months", lambda v: f"近12个月培训{_months(v)}学时"),
    "completions_3m": _d(
        "Courses completed (3 months)", "近3个月完成课程数",
        lambda v: f"{_months(v)} courses completed in 3 months", lambda v: f"近3个月完成{_months(v)}门课程"),
    "completions_12m": _d(
        "Courses completed (12 months)", "近12个月完成课程数",
        lambda v: f"{_months(v)} courses completed in 12 months", lambda v: f"近12个月完成{_months(v)}门课程"),
    "training_points_12m": _d(
        "Training points (12 months)", "近12个月培训积分",
        lambda v: f"{_months(v)} training points in 12 months", lambda v: f"近12个月获得{_months(v)}培训积分"),
    "unit_open_requisitions": _d(
        "Open requisitions in unit", "部门在招职位数",
        lambda v: f"{_months(v)} open requisitions in the unit", lambda v: f"部门有{_months(v)}个在招职位"),
    "team_size": _d("Team size", "团队规模", lambda v: f"team of {_months(v)}", lambda v: f"团队{_months(v)}人"),
    "job_level": _d("Job level", "职级", lambda v: f"job level {_months(v)}", lambda v: f"职级{_months(v)}"),
    "job_family": Driver({"en": "Job family", "zh": "职位族"},
                         {"en": lambda v: f"job family {v}", "zh": lambda v: f"职位族：{v}"}),
    "online_share_12m": _d(
        "Share of online courses (12 months)", "近12个月线上课程占比",
        lambda v: f"{0 if v is None else v:.0%} of completed courses online", lambda v: f"完成课程中线上占{0 if v is None else v:.0%}"),
    "workshop_share_12m": _d(
        "Share of workshops (12 months)", "近12个月工作坊占比",
        lambda v: f"{0 if v is None else v:.0%} of completed courses workshops", lambda v: f"完成课程中工作坊占{0 if v is None else v:.0%}"),
    "mentoring_share_12m": _d(
        "Share of mentoring (12 months)", "近12个月导师辅导占比",
        lambda v: f"{0 if v is None else v:.0%} of completed courses mentoring", lambda v: f"完成课程中导师辅导占{0 if v is None else v:.0%}"),
    "training_points_3m": _d(
        "Training points (3 months)", "近3个月培训积分",
        lambda v: f"{_months(v)} training points in 3 months", lambda v: f"近3个月获得{_months(v)}培训积分"),
    "enrollments_in_progress": _d(
        "Courses in progress", "在学课程数",
        lambda v: f"{_months(v)} courses in progress", lambda v: f"正在学习{_months(v)}门课程"),
    "n_required_skills": _d(
        "Required skills", "岗位要求技能数",
        lambda v: f"job requires {_months(v)} skills", lambda v: f"岗位要求{_months(v)}项技能"),
    "assessment_mean_score": _d(
        "Pre-hire assessment", "入职前测评",
        lambda v: f"pre-hire assessment {0 if v is None else v:.1f}/5", lambda v: f"入职前测评{0 if v is None else v:.1f}/5"),
}


@dataclass(frozen=True)
class Lever:
    """An actionable change, re-scored by the model. A what-if on the model, not a causal effect."""

    description: Mapping[str, str]
    needs: tuple[str, ...]
    apply: Callable[[pd.DataFrame], pd.DataFrame]
    applies: Callable[[pd.DataFrame], np.ndarray]


def _set(**values: Callable[[pd.DataFrame], object]) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def apply(df: pd.DataFrame) -> pd.DataFrame:
        out = df.copy()
        for col, fn in values.items():
            if col in out.columns:
                out[col] = fn(out)
        return out

    return apply


LEVERS: dict[str, Lever] = {
    "pay_to_band_midpoint": Lever(
        {"en": "Raise pay to the band midpoint", "zh": "将薪酬调整至带宽中位值"},
        ("pay_vs_band_mid",),
        _set(pay_vs_band_mid=lambda d: 0.0, pay_band_position=lambda d: 0.5, months_since_pay_change=lambda d: 0.0),
        lambda d: (pd.to_numeric(d["pay_vs_band_mid"], errors="coerce") < 0).fillna(False).to_numpy(),
    ),
    "promotion": Lever(
        {"en": "Promote to the next level", "zh": "晋升至下一职级"},
        ("months_since_promotion", "job_level"),
        _set(months_since_promotion=lambda d: 0.0, job_level=lambda d: pd.to_numeric(d["job_level"]) + 1),
        lambda d: (pd.to_numeric(d["job_level"], errors="coerce") < 5).fillna(False).to_numpy(),
    ),
    "complete_a_course": Lever(
        {"en": "Complete a relevant course", "zh": "完成一门相关课程"},
        ("completions_3m",),
        _set(completions_3m=lambda d: pd.to_numeric(d["completions_3m"]) + 1,
             completions_12m=lambda d: pd.to_numeric(d["completions_12m"]) + 1,
             training_hours_3m=lambda d: pd.to_numeric(d["training_hours_3m"]) + 8,
             training_hours_12m=lambda d: pd.to_numeric(d["training_hours_12m"]) + 8),
        lambda d: np.ones(len(d), dtype=bool),
    ),
    "no_manager_change": Lever(
        {"en": "Keep the current manager (no recent manager change)", "zh": "保持现任经理（无近期经理变更）"},
        ("months_since_manager_change",),
        _set(months_since_manager_change=lambda d: pd.to_numeric(d["tenure_months"]) if "tenure_months" in d else 24.0,
             manager_changes_12m=lambda d: 0.0),
        lambda d: (pd.to_numeric(d["months_since_manager_change"], errors="coerce") < 12).fillna(False).to_numpy(),
    ),
}
