"""Sentences of the training points (积分) and of team-diagnosis findings (培训需求), in English and Chinese."""

from __future__ import annotations

from models.wording.units import LANGS, level, number, pct


def _join(items: list[str], lang: str) -> str:
    if lang == "zh":
        return "、".join(items)
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + f" and {items[-1]}"


def finding_text(kind: str, unit: dict[str, str], skill: dict[str, str] | None, focus: list[dict[str, str]],
                 below: float, share: float, n_below: int, n_assessed: int, courses: list[dict]) -> dict[str, str]:
    """{"en": ..., "zh": ...}: what the group shows and what fits it."""
    out = {}
    for lang in LANGS:
        u, p = unit[lang], pct(share)
        if kind == "competency" and skill:
            s = (f"{p} of {u} ({n_below} of {n_assessed} rated) are rated below level {level(below)} in "
                 f"{skill['en']}." if lang == "en" else
                 f"{u}有{p}（已评的{n_assessed}人中{n_below}人）的“{skill['zh']}”能力评分低于{level(below)}级。")
        elif kind == "rating":
            s = (f"{p} of {u} ({n_below} of {n_assessed} reviewed) have an overall rating below {level(below)}."
                 if lang == "en" else
                 f"{u}有{p}（已考核的{n_assessed}人中{n_below}人）的综合绩效评分低于{level(below)}分。")
        else:
            s = (f"{p} of {u} ({n_below} of {n_assessed} reviewed) reached less than {pct(below)} of their KPI "
                 "target." if lang == "en" else
                 f"{u}有{p}（已考核的{n_assessed}人中{n_below}人）的KPI达成率低于{pct(below)}。")
        if kind != "competency" and focus:
            names = _join([f[lang] for f in focus], lang)
            s += (f" The skills most often rated low there: {names}." if lang == "en"
                  else f"该组评分偏低最多的能力：{names}。")
        if courses:
            titles = _join([c["title"][lang] for c in courses], lang)
            s += f" Courses that fit the group: {titles}." if lang == "en" else f"适合全组的课程：{titles}。"
        else:
            s += (" No course in the catalog fits the group yet." if lang == "en"
                  else "课程目录中暂无适合全组的课程。")
        out[lang] = s
    return out


def points_text(earned: float, target: float, projected: float, year_end: str, lang: str) -> str:
    """"64 of 100 points earned this year; 96 projected by 2026-12-31, 4 short of the target." and Chinese."""
    e, t, p = number(earned), number(target), number(projected)
    if earned >= target:
        return (f"Target met: {e} of {t} points earned this year." if lang == "en"
                else f"已达标：本年度已获{e}积分，目标{t}积分。")
    if projected >= target:
        return (f"{e} of {t} points earned this year; on track, {p} projected by {year_end}." if lang == "en"
                else f"本年度已获{e}积分（目标{t}积分）；按当前进度，预计到{year_end}可达{p}积分，能够达标。")
    short = number(target - projected)
    return (f"{e} of {t} points earned this year; {p} projected by {year_end}, {short} short of the target."
            if lang == "en" else
            f"本年度已获{e}积分（目标{t}积分）；按当前进度，预计到{year_end}仅达{p}积分，差{short}积分。")


def plan_text(reaches: bool, points: float, remaining: float, hours: float, n: int, lang: str) -> str:
    """The points plan of a ``target=points`` recommendation."""
    if remaining <= 0:
        return ("The yearly points target is already met." if lang == "en" else "本年度积分目标已达成。")
    if n == 0:
        return ("No recommended course fits the hours and budget given." if lang == "en"
                else "在给定的学时和预算内没有合适的推荐课程。")
    if reaches:
        return (f"These {n} courses earn {number(points)} points in {number(hours, 1)} hours and reach the "
                f"{number(remaining)} points still needed this year." if lang == "en" else
                f"这{n}门课程共{number(hours, 1)}学时，可获{number(points)}积分，能补足本年度尚差的{number(remaining)}积分。")
    return (f"Within the hours and budget given these {n} courses earn {number(points)} of the {number(remaining)} "
            "points still needed this year." if lang == "en" else
            f"在给定的学时和预算内，这{n}门课程可获{number(points)}积分，本年度尚差{number(remaining)}积分。")
