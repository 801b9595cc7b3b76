"""What-if levers worded for people: what to do, the expected change in risk, and for pay the money.

``lever_texts`` takes a lever as stored (``AttritionModel.levers`` plus ``models.attrition.costs``, and the
course the recommender ranks first when serving knows it) and returns the fields a person reads in ``lang``.
"""

from __future__ import annotations

from collections.abc import Mapping

from models.wording.units import duration, money, number, pct, pct_points

KIND = {"en": "model-based what-if, not causal", "zh": "基于模型的假设推演，非因果效应"}


def course_description(course: Mapping, lang: str) -> str | None:
    """The course lever naming its course: Complete the course “Title” (the recommender's first pick, 5 hours) /
    完成课程《…》; None without a title in ``lang``."""
    title = (course.get("title") or {}).get(lang)
    if not title:
        return None
    hours = course.get("hours")
    h = f"，{number(hours, 1)}学时" if lang == "zh" and hours else (f", {number(hours, 1)} hours" if hours else "")
    if lang == "zh":
        return f"完成课程《{title}》（推荐排名第一{h}）"
    return f"Complete the course “{title}” (the recommender's first pick{h})"


def lever_texts(lever: Mapping, lang: str, horizon: int) -> dict:
    """``description``, ``kind`` and ``text`` (and ``cost_text`` for a priced pay lever) in ``lang``."""
    desc = lever["description"]
    description = desc.get(lang) or desc["en"] if isinstance(desc, Mapping) else str(desc)
    if lever["lever"] == "complete_a_course" and lever.get("course"):
        description = course_description(lever["course"], lang) or description
    before, after, change = lever["risk_before"], lever["risk_after"], lever["change"]
    h = duration(horizon, lang)
    digits = next((d for d in (0, 1, 2) if pct(before, d) != pct(after, d)), 2)  # never "from 5% to 5%"
    b, a = pct(before, digits), pct(after, digits)
    if lang == "zh":
        text = f"{description}：{h}内离职风险由{b}降至{a}（下降{pct_points(change, lang)}）"
    else:
        text = f"{description}: risk of leaving within {h} from {b} to {a} ({pct_points(change, lang)} lower)"
    out = {"description": description, "kind": KIND[lang], "text": text}
    if lever.get("raise_cost") is not None:
        m = lever["replacement_cost_multiple"]
        if lang == "zh":
            out["cost_text"] = (f"加薪{h}成本约{money(lever['raise_cost'], lang)}（每年{money(lever['raise_cost_annual'], lang)}）；"
                                f"预计避免的离职成本约{money(lever['exit_cost_avoided'], lang)}"
                                f"（替换成本按年薪的{m:g}倍计，即{money(lever['replacement_cost'], lang)}）")
        else:
            out["cost_text"] = (f"the raise costs about {money(lever['raise_cost'], lang)} over {h} "
                                f"({money(lever['raise_cost_annual'], lang)} a year); expected cost of an exit avoided "
                                f"about {money(lever['exit_cost_avoided'], lang)} (replacement cost {m:g}× annual pay, "
                                f"{money(lever['replacement_cost'], lang)})")
    return out
