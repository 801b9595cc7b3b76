"""How the forecaster's drivers are named and worded, in English and Chinese.

Several columns come from one source (lags 1-3 and the 3-month mean are "recent level"; month, quarter
and the 12-month lag are "seasonality"), so they are grouped into one driver. Reason texts receive the
value of the group's first column in people's units (:func:`display_values` undoes the scaling).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from models.explanation import Driver
from models.wording.codes import unit_type_name
from models.wording.units import value_of

_ZH_QUARTER = {1: "一", 2: "二", 3: "三", 4: "四"}

# Scaled columns: multiply by the series scale to show them in the series' own units.
_SCALED_PREFIXES = ("lag_", "roll_mean_", "roll_std_", "trend_", "abs_change_")


def _num(v: object, fmt: str = "{:.1f}") -> str:
    return fmt.format(float(v))


def _d(en: str, zh: str, text_en: Callable[[object], str], text_zh: Callable[[object], str]) -> Driver:
    """A driver whose sentence is left out when the value is missing (never "n/a")."""
    return Driver({"en": en, "zh": zh}, {"en": lambda v: None if value_of(v) is None else text_en(v),
                                         "zh": lambda v: None if value_of(v) is None else text_zh(v)})


def _quarter(v: object) -> int:
    return (int(v) - 1) // 3 + 1


# Exogenous leading indicators of the skill-demand feature service, worded; others get a generic text.
EXOG_DRIVERS: dict[str, Driver] = {
    "open_req_slots": _d("open requisitions", "在招职位",
                         lambda v: f"{_num(v, '{:.0f}')} open requisitions",
                         lambda v: f"{_num(v, '{:.0f}')}个在招职位"),
    "open_requisitions": _d("open requisitions in the unit", "部门在招职位",
                            lambda v: f"{_num(v, '{:.0f}')} open requisitions in the unit",
                            lambda v: f"部门{_num(v, '{:.0f}')}个在招职位"),
    "planned_headcount": _d("planned headcount", "计划编制",
                            lambda v: f"planned headcount of {_num(v, '{:.0f}')}",
                            lambda v: f"计划编制{_num(v, '{:.0f}')}人"),
    "headcount_gap": _d("planned minus current headcount", "计划编制缺口",
                        lambda v: f"{_num(v, '{:+.0f}')} heads between plan and current headcount",
                        lambda v: f"计划编制与在编人数相差{_num(v, '{:+.0f}')}人"),
    "headcount": _d("headcount", "在编人数",
                    lambda v: f"headcount of {_num(v, '{:.0f}')}",
                    lambda v: f"在编{_num(v, '{:.0f}')}人"),
    "holders_at_required": _d("holders at the required level", "达标人数",
                              lambda v: f"{_num(v, '{:.0f}')} people hold the skill at the required level",
                              lambda v: f"{_num(v, '{:.0f}')}人达到要求水平"),
    "in_training": _d("people in training", "在训人数",
                      lambda v: f"{_num(v, '{:.0f}')} people in training for the skill",
                      lambda v: f"{_num(v, '{:.0f}')}人正在培训该技能"),
    "vol_attrition_rate_12m": _d("12-month voluntary attrition", "12个月主动离职率",
                                 lambda v: f"12-month voluntary attrition of {_num(v, '{:.0%}')}",
                                 lambda v: f"12个月主动离职率{_num(v, '{:.0%}')}"),
    "vol_exits_12m": _d("voluntary exits in 12 months", "12个月主动离职人数",
                        lambda v: f"{_num(v, '{:.0f}')} voluntary exits in the last 12 months",
                        lambda v: f"近12个月{_num(v, '{:.0f}')}人主动离职"),
}


def _ahead_driver(en: str, zh: str, text_en: Callable[[object], str] | None, text_zh: Callable[[object], str] | None,
                  none_en: str = "no plan covers the forecast month", none_zh: str = "预测月份没有计划") -> Driver:
    """A known-in-advance input (a plan) for the forecast month: when no plan covers that month the sentence
    says so in words (the model did use that absence); with no wording of its own, no sentence otherwise."""
    return Driver({"en": en, "zh": zh}, {
        "en": lambda v: none_en if value_of(v) is None else (text_en(v) if text_en else None),
        "zh": lambda v: none_zh if value_of(v) is None else (text_zh(v) if text_zh else None)})


AHEAD_DRIVERS: dict[str, Driver] = {
    "planned_slots": _ahead_driver(
        "headcount plan for the forecast month", "预测月份的编制计划",
        lambda v: f"the headcount plan for the forecast month needs the skill in {_num(v, '{:.0f}')} positions",
        lambda v: f"预测月份的编制计划中有{_num(v, '{:.0f}')}个岗位需要该技能",
        "no headcount plan covers the forecast month", "预测月份没有编制计划"),
}


def drivers(
    feature_names: Sequence[str], exog_cols: Sequence[str], static_cols: Sequence[str],
    ahead_cols: Sequence[str] = (),
) -> tuple[dict[str, Driver], dict[str, list[str]]]:
    """The Driver table and the column groups for a fitted forecaster's columns (``ahead_cols``: the
    known-in-advance inputs, shown by their value in the forecast month)."""
    names = set(feature_names)
    trend = next((n for n in feature_names if n.startswith("trend_")), "trend_6")
    months = trend.split("_")[1]

    def present(cols: Sequence[str]) -> list[str]:
        return [c for c in cols if c in names]

    groups = {
        "recent_level": present(["lag_1", "lag_2", "lag_3", "roll_mean_3"]),
        "longer_level": present([*(n for n in feature_names if n.startswith("lag_") and n not in
                                   ("lag_1", "lag_2", "lag_3", "lag_12")), "roll_mean_6", "roll_mean_12"]),
        "seasonality": present(["month_of_year", "quarter", "lag_12"]),
        "trend": present([trend]),
        "volatility": present(["abs_change_12", *(n for n in feature_names if n.startswith("roll_std_"))]),
        "size": present(["log_scale"]),
        "horizon": present(["horizon"]),
    }
    table = {
        "recent_level": _d("recent level", "近期水平",
                           lambda v: f"last month at {_num(v)}", lambda v: f"上月为{_num(v)}"),
        "longer_level": _d("level over the past year", "过去一年水平",
                           lambda v: f"level earlier in the year around {_num(v)}",
                           lambda v: f"年内早些时候约为{_num(v)}"),
        "seasonality": _d("seasonality", "季节性",
                          lambda v: f"Q{_quarter(v)} seasonality",
                          lambda v: f"第{_ZH_QUARTER[_quarter(v)]}季度季节性"),
        "trend": _d(f"trend of last {months} months", f"近{months}个月趋势",
                    lambda v: f"trend of last {months} months ({_num(v, '{:+.2f}')}/month)",
                    lambda v: f"近{months}个月趋势（每月{_num(v, '{:+.2f}')}）"),
        "volatility": _d("month-to-month volatility", "月度波动",
                         lambda v: f"month-to-month changes of ±{_num(v)}",
                         lambda v: f"月度波动±{_num(v)}"),
        "size": _d("series size", "序列规模",
                   lambda v: f"average level of {_num(v)}", lambda v: f"平均水平{_num(v)}"),
        # one model serves every horizon: how far ahead moves the forecast too
        "horizon": _d("months ahead", "预测提前月数",
                      lambda v: "1 month ahead" if round(float(v)) == 1 else f"{_num(v, '{:.0f}')} months ahead",
                      lambda v: f"提前{_num(v, '{:.0f}')}个月预测"),
    }
    for c in exog_cols:
        cols = present([f"x_{c}", f"x_{c}_rel"])
        groups[c] = cols
        # an indicator with no wording of its own: named in plain words, no sentence (never a raw column name)
        table[c] = EXOG_DRIVERS.get(c) or Driver({"en": c.replace("_", " "), "zh": "其他先行指标"},
                                                {"en": lambda v: None, "zh": lambda v: None})
    for c in ahead_cols:
        groups[f"ahead_{c}"] = present([f"ahead_{c}", f"ahead_{c}_delta"])
        table[f"ahead_{c}"] = AHEAD_DRIVERS.get(c) or _ahead_driver(
            f"{c.replace('_', ' ')} planned for the forecast month", "预测月份的计划值", None, None)
    for c in static_cols:
        if c == "unit_type":
            table[c] = Driver({"en": "unit type", "zh": "单位类型"}, {
                "en": lambda v: None if unit_type_name(v, "en") is None else f"a {unit_type_name(v, 'en')}",
                "zh": lambda v: None if unit_type_name(v, "zh") is None else f"单位类型：{unit_type_name(v, 'zh')}"})
        elif c == "skill_id":  # which skill the series counts: its own demand pattern, beyond the unit's
            table[c] = Driver({"en": "the skill itself", "zh": "技能本身"}, {"en": lambda v: None, "zh": lambda v: None})
        else:  # a static column of the caller's own series, named in its own words
            name = c.replace("_", " ")
            table[c] = Driver({"en": name, "zh": f"序列固定属性（{name}）"}, {"en": lambda v: None, "zh": lambda v: None})
    groups = {k: v for k, v in groups.items() if v}
    return table, groups


def display_values(
    X: pd.DataFrame, scale: np.ndarray, static: pd.DataFrame, categories: Mapping[str, Sequence[str]]
) -> pd.DataFrame:
    """``X`` in people's units: scaled columns times the series scale, ``log_scale`` as the level itself,
    categorical codes as their labels. Same columns and order as ``X``."""
    shown = X.copy().astype(object)
    for c in X.columns:
        if c.startswith(_SCALED_PREFIXES) or (c.startswith("x_") and c.endswith("_rel")):
            shown[c] = X[c].to_numpy() * scale
        elif c == "log_scale":
            shown[c] = np.expm1(X[c].to_numpy())
        elif c in categories:
            shown[c] = static[c].astype(str).to_numpy()
    return shown
