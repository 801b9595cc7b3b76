"""Course recommendations worded for people: the gap a course closes (capped by the level the course teaches
up to), why a course sits above a higher-scored one (``placed_by``), and why a list is empty (``why_empty``)."""

from __future__ import annotations

from models.wording.units import level

PLACED_BY = ("score", "diversity", "mandatory")


def gap_part(name: str, have: float, need: float, target: float | None, lang: str) -> str:
    """"Negotiation 2/5, your job needs 4/5 (this course goes up to 3)"."""
    stops = target is not None and target < need
    if lang == "zh":
        return f"{name} {level(have)}/5，岗位要求 {level(need)}/5" + (f"（本课程最高到 {level(target)} 级）" if stops else "")
    return f"{name} {level(have)}/5, your job needs {level(need)}/5" + (
        f" (this course goes up to {level(target)})" if stops else "")


def placed_by_text(placed_by: str, skill: str | None, lang: str) -> str | None:
    """Why a course sits above one with a higher score; None when it is in score order."""
    if placed_by == "diversity":
        if lang == "zh":
            return f"为让前几门课程覆盖不同技能而排入前三；本课程补充{skill}" if skill else "为让前几门课程覆盖不同技能而排入前三"
        return (f"placed in the top 3 so the first courses cover different skills; this one adds {skill}" if skill
                else "placed in the top 3 so the first courses cover different skills")
    if placed_by == "mandatory":
        return "必修课程排在前面" if lang == "zh" else "mandatory courses are listed first"
    if placed_by == "exploration":
        return ("本列表从模型排名靠前的课程中随机抽取，用于无偏地衡量推荐效果" if lang == "zh" else
                "this list was drawn at random from the model's top courses, to measure the effect of "
                "recommendations without bias")
    return None


WHY_EMPTY = {
    "no_level": {"en": "No course to recommend: no skill level is on record yet for this job's required skills "
                       "(no review or pre-hire assessment), so no gap is known.",
                 "zh": "暂无推荐课程：该岗位所需技能尚无水平记录（无绩效评估或入职前测评），无法确定技能差距。"},
    "no_gap": {"en": "No course to recommend: every required skill with a known level meets the job's "
                     "requirement, and no mandatory course is due.",
               "zh": "暂无推荐课程：已知水平的岗位技能均达到要求，且没有待完成的必修课程。"},
    "no_course": {"en": "No course to recommend: the catalog has no course, not yet completed, that teaches the "
                        "skills with a gap.",
                  "zh": "暂无推荐课程：课程目录中没有尚未完成且针对差距技能的课程。"},
    "filtered": {"en": "No course to recommend within the filters asked for (formats, total hours or budget); "
                       "{n} candidate courses were left out by them.",
                 "zh": "在所选条件（形式、总学时或预算）下暂无推荐课程；有{n}门候选课程因此被排除。"},
}


def why_empty(reason: str, lang: str, candidates: int = 0) -> str:
    return WHY_EMPTY[reason][lang].format(n=candidates)
