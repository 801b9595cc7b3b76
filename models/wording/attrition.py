"""Attrition drivers worded for HR partners, in English and Chinese.

Each sentence states the value the model used, in units that fit its size (models.wording.units); a missing
value is worded as missing ("no KPI on record" / "暂无KPI记录") or left out (None), never as a zero.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from models.explanation import Driver
from models.wording.codes import family_name
from models.wording.units import count, duration, level, number, pct, value_of

Text = Callable[[float | None, str], str | None]
SAME = 0.05  # months: a "since" value this close to tenure means "never since joining"


def _driver(en: str, zh: str, text: Text) -> Driver:
    return Driver({"en": en, "zh": zh}, {"en": lambda v: text(value_of(v), "en"),
                                         "zh": lambda v: text(value_of(v), "zh")})


def _driver_row(en: str, zh: str, uses: tuple[str, ...],
                text: Callable[[float | None, Mapping[str, object], str], str | None]) -> Driver:
    return Driver({"en": en, "zh": zh}, {"en": lambda v, row: text(value_of(v), row, "en"),
                                         "zh": lambda v, row: text(value_of(v), row, "zh")}, uses)


def _pick(lang: str, en: str, zh: str) -> str:
    return zh if lang == "zh" else en


# ---------------------------------------------------------------------- pay
def pay_vs_mid(v: float | None, lang: str) -> str | None:
    if v is None:
        return None
    if abs(v) < 0.005:
        return _pick(lang, "pay at the band midpoint", "薪酬处于带宽中位值")
    if v < 0:
        return _pick(lang, f"pay {pct(-v)} below the band midpoint", f"薪酬低于带宽中位值{pct(-v)}")
    return _pick(lang, f"pay {pct(v)} above the band midpoint", f"薪酬高于带宽中位值{pct(v)}")


def pay_vs_job(v: float | None, lang: str) -> str | None:
    if v is None:
        return None
    if abs(v) < 0.005:
        return _pick(lang, "pay at the median of the same job", "薪酬处于同岗位中位数")
    if v < 0:
        return _pick(lang, f"pay {pct(-v)} below the median of the same job", f"薪酬低于同岗位中位数{pct(-v)}")
    return _pick(lang, f"pay {pct(v)} above the median of the same job", f"薪酬高于同岗位中位数{pct(v)}")


def pay_vs_job_typical(v: float | None, lang: str) -> str | None:
    if v is None:
        return None
    if abs(v) < 0.005:
        return _pick(lang, "pay at the typical pay of the same job", "薪酬处于同岗位历来平均水平")
    if v < 0:
        return _pick(lang, f"pay {pct(-v)} below the typical pay of the same job",
                     f"薪酬低于同岗位历来平均水平{pct(-v)}")
    return _pick(lang, f"pay {pct(v)} above the typical pay of the same job", f"薪酬高于同岗位历来平均水平{pct(v)}")


def last_pay_change(v: float | None, lang: str) -> str | None:
    if v is None:
        return None
    if v < 0:
        return _pick(lang, f"last pay change a cut of {pct(-v, 1)}", f"上次调薪为降薪{pct(-v, 1)}")
    return _pick(lang, f"last pay raise {pct(v, 1)}", f"上次调薪幅度{pct(v, 1)}")


def band_position(v: float | None, lang: str) -> str | None:
    """(pay − band min) / (band max − band min): "at the bottom" / "at the top" where the percentage would read
    0% / 100% (never "at 0% of its band"), and outside the band by how much of the band's width."""
    if v is None:
        return None
    if v < 0 and pct(-v) != "0%":
        return _pick(lang, f"pay below the bottom of its band by {pct(-v)} of the band's width",
                     f"薪酬低于带宽下限，比下限低带宽宽度的{pct(-v)}")
    if v > 1 and pct(v - 1) != "0%":
        return _pick(lang, f"pay above the top of its band by {pct(v - 1)} of the band's width",
                     f"薪酬高于带宽上限，比上限高带宽宽度的{pct(v - 1)}")
    if pct(v) == "0%":
        return _pick(lang, "pay at the bottom of its band", "薪酬处于带宽下限")
    if pct(v) == "100%":  # also just above the top: a share of the width that rounds to 0%
        return _pick(lang, "pay at the top of its band", "薪酬处于带宽上限")
    return _pick(lang, f"pay at {pct(v)} of its band", f"薪酬处于带宽的{pct(v)}位置")


# ---------------------------------------------------------------------- time since
def _since(what_en: str, what_zh: str) -> Callable[[float | None, Mapping[str, object], str], str | None]:
    """"no promotion for 14 months" / "已14个月未晋升"; "not since joining 3 weeks ago" when never."""

    def text(v: float | None, row: Mapping[str, object], lang: str) -> str | None:
        if v is None:
            return None
        tenure = value_of(row.get("tenure_months"))
        if tenure is not None and abs(tenure - v) < SAME:
            return _pick(lang, f"no {what_en} since joining {duration(v, lang)} ago",
                         f"入职{duration(v, lang)}以来未{what_zh}")
        return _pick(lang, f"no {what_en} for {duration(v, lang)}", f"已{duration(v, lang)}未{what_zh}")

    return text


def manager_change(v: float | None, row: Mapping[str, object], lang: str) -> str | None:
    if v is None:
        tenure = value_of(row.get("tenure_months"))
        if tenure is None:
            return _pick(lang, "same manager since joining", "入职以来经理未变更")
        return _pick(lang, f"same manager since joining {duration(tenure, lang)} ago",
                     f"入职{duration(tenure, lang)}以来经理未变更")
    return _pick(lang, f"manager changed {duration(v, lang)} ago", f"{duration(v, lang)}前更换了经理")


def tenure(v: float | None, lang: str) -> str | None:
    if v is None:
        return None
    if v < 1:
        return _pick(lang, f"joined this month ({duration(v, lang)} ago)", f"本月入职（{duration(v, lang)}前）")
    if v < 3:
        return _pick(lang, f"joined {duration(v, lang)} ago", f"{duration(v, lang)}前入职")
    return _pick(lang, f"{duration(v, lang)} with the company", f"入职{duration(v, lang)}")


def new_hire(v: float | None, lang: str) -> str | None:
    if v is None:
        return None
    if v >= 0.5:
        return _pick(lang, "joined within the last 3 months", "近3个月内入职")
    return _pick(lang, "with the company for 3 months or more", "入职已满3个月")


def months_since_review(v: float | None, lang: str) -> str | None:
    if v is None:
        return _pick(lang, "not reviewed yet", "尚未参加绩效评估")
    return _pick(lang, f"last review {duration(v, lang)} ago", f"上次绩效评估在{duration(v, lang)}前")


# ---------------------------------------------------------------------- counts in a window
def _events(en_one: str, en_many: str, en_none: str, zh_some: str, zh_none: str, window_en: str,
            window_zh: str) -> Text:
    """"2 manager changes in 12 months" / "近12个月经理变更2次"; zero worded as none."""

    def text(v: float | None, lang: str) -> str | None:
        if v is None:
            return None
        if round(v) == 0:
            return _pick(lang, f"{en_none} in {window_en}", f"近{window_zh}{zh_none}")
        return _pick(lang, f"{count(v, 'en', en_one, en_many)} in {window_en}",
                     f"近{window_zh}{zh_some.format(n=int(round(v)))}")

    return text


def _hours(window_en: str, window_zh: str) -> Text:
    def text(v: float | None, lang: str) -> str | None:
        if v is None:
            return None
        if v <= 0:
            return _pick(lang, f"no training in {window_en}", f"近{window_zh}未参加培训")
        h = number(v, 1)
        return _pick(lang, f"{h} training {'hour' if h == '1' else 'hours'} in {window_en}",
                     f"近{window_zh}培训{h}学时")

    return text


def _share(what_en: str, what_zh: str) -> Text:
    def text(v: float | None, lang: str) -> str | None:
        if v is None:  # no course completed in 12 months: nothing to share
            return None
        return _pick(lang, f"{pct(v)} of courses completed in 12 months were {what_en}",
                     f"近12个月完成的课程中{what_zh}占{pct(v)}")

    return text


# ---------------------------------------------------------------------- reviews and skills
def _rating(which_en: str, which_zh: str, none_en: str, none_zh: str) -> Text:
    def text(v: float | None, lang: str) -> str | None:
        if v is None:
            return _pick(lang, none_en, none_zh)
        return _pick(lang, f"{which_en} review rated {level(v)}/5", f"{which_zh}绩效评级为{level(v)}/5")

    return text


def rating_trend(v: float | None, row: Mapping[str, object], lang: str) -> str | None:
    if v is None:
        return None
    last = value_of(row.get("last_rating"))
    to_en = f" (to {level(last)}/5)" if last is not None else ""
    to_zh = f"（至{level(last)}/5）" if last is not None else ""
    if v == 0:
        return _pick(lang, f"rating unchanged at the last review{to_en}", f"最近一次绩效评级持平{to_zh}")
    n = level(abs(v))
    if v < 0:
        return _pick(lang, f"rating fell by {n} at the last review{to_en}", f"最近一次绩效评级下降{n}级{to_zh}")
    return _pick(lang, f"rating rose by {n} at the last review{to_en}", f"最近一次绩效评级上升{n}级{to_zh}")


def kpi(v: float | None, lang: str) -> str | None:
    if v is None:
        return _pick(lang, "no KPI on record", "暂无KPI记录")
    return _pick(lang, f"KPI attainment {pct(v)}", f"KPI达成率{pct(v)}")


def _gap(which_en: str, which_zh: str) -> Text:
    def text(v: float | None, lang: str) -> str | None:
        if v is None:
            return _pick(lang, "no skill level on record", "暂无技能水平记录")
        if v < 0.05:
            return _pick(lang, "every required skill with a known level meets the requirement",
                         "已知水平的岗位技能均达要求")
        g = f"{v:.1f}"
        return _pick(lang, f"{which_en} skill gap {g} {'level' if g == '1.0' else 'levels'}",
                     f"{which_zh}技能差距{g}级")

    return text


def skills_below(v: float | None, lang: str) -> str | None:
    if v is None:
        return None
    if round(v) == 0:
        return _pick(lang, "no required skill known to be below the requirement", "无已知低于岗位要求的技能")
    return _pick(lang, f"{count(v, 'en', 'skill', 'skills')} below the job's requirement",
                 f"{int(round(v))}项技能未达岗位要求")


def family(v: object, lang: str) -> str | None:
    name = family_name(v, lang)
    if name is None:
        return None
    return _pick(lang, f"job family: {name}", f"职位族：{name}")


def assessment(v: float | None, lang: str) -> str | None:
    if v is None:
        return _pick(lang, "no pre-hire assessment on record", "无入职前测评记录")
    return _pick(lang, f"pre-hire assessment {v:.1f}/5", f"入职前测评{v:.1f}/5")


def team_attrition(v: float | None, lang: str) -> str | None:
    """Voluntary exits of the last 6 months over the team's current size: a rate up to 100 %; above it (a team
    that shrank) the exits outnumber the people left, said as a multiple."""
    if v is None:
        return None
    if v <= 0:
        return _pick(lang, "no one left the team in the last 6 months", "近6个月团队无人主动离职")
    if v <= 1:
        return _pick(lang, f"team attrition of {pct(v)} in the last 6 months", f"近6个月团队离职率{pct(v)}")
    times = f"{v:.1f}".removesuffix(".0")
    return _pick(lang, f"more people left the team in the last 6 months than it has now ({times} times its size)",
                 f"近6个月团队主动离职人数超过现有人数（为现有人数的{times}倍）")


def _plain(en: Callable[[float], str], zh: Callable[[float], str]) -> Text:
    return lambda v, lang: None if v is None else (zh(v) if lang == "zh" else en(v))


def _n(v: float) -> str:
    return str(int(round(v)))


DRIVERS: dict[str, Driver] = {
    "pay_vs_band_mid": _driver("Pay vs band midpoint", "薪酬相对带宽中位值", pay_vs_mid),
    "pay_band_position": _driver("Position in pay band", "薪酬带宽位置", band_position),
    "pay_vs_job_median": _driver("Pay vs job median", "薪酬相对同岗位中位数", pay_vs_job),
    "pay_vs_job_typical": _driver("Pay vs typical pay of the job", "薪酬相对同岗位历来平均水平", pay_vs_job_typical),
    "last_pay_change_pct": _driver("Last pay raise", "上次调薪幅度", last_pay_change),
    "months_since_promotion": _driver_row("Time since promotion", "距上次晋升时间", ("tenure_months",),
                                          _since("promotion", "晋升")),
    "months_since_pay_change": _driver_row("Time since pay change", "距上次调薪时间", ("tenure_months",),
                                           _since("pay change", "调薪")),
    "months_since_manager_change": _driver_row("Time since manager change", "距上次更换经理时间",
                                               ("tenure_months",), manager_change),
    "manager_changes_12m": _driver("Manager changes (12 months)", "近12个月经理变更次数", _events(
        "manager change", "manager changes", "no manager change", "经理变更{n}次", "经理未变更", "12 months", "12个月")),
    "transfers_12m": _driver("Transfers (12 months)", "近12个月调动次数", _events(
        "transfer", "transfers", "no transfer", "调动{n}次", "无调动", "12 months", "12个月")),
    "team_vol_exits_6m": _driver("Teammates who left (6 months)", "近6个月团队主动离职人数", _events(
        "teammate left", "teammates left", "no teammate left", "有{n}名同事主动离职", "无同事主动离职",
        "6 months", "6个月")),
    "team_vol_attrition_6m": _driver("Team attrition (6 months)", "近6个月团队离职率", team_attrition),
    "tenure_months": _driver("Tenure", "司龄", tenure),
    "new_hire": _driver("New hire", "新入职", new_hire),
    "last_rating": _driver("Last review rating", "最近一次绩效评级",
                           _rating("last", "最近一次", "no review on record yet", "暂无绩效评级记录")),
    "prev_rating": _driver("Previous review rating", "上一次绩效评级",
                           _rating("previous", "上一次", "no earlier review on record", "暂无上一次绩效评级记录")),
    "rating_trend": _driver_row("Rating trend", "绩效趋势", ("last_rating",), rating_trend),
    "last_kpi_attainment": _driver("KPI attainment", "KPI达成率", kpi),
    "months_since_review": _driver("Time since last review", "距上次绩效评估时间", months_since_review),
    "mean_skill_gap": _driver("Average skill gap", "平均技能差距", _gap("average", "平均")),
    "max_skill_gap": _driver("Largest skill gap", "最大技能差距", _gap("largest", "最大")),
    "n_skills_below_required": _driver("Skills below requirement", "未达要求的技能数", skills_below),
    "training_hours_3m": _driver("Training hours (3 months)", "近3个月培训学时", _hours("3 months", "3个月")),
    "training_hours_12m": _driver("Training hours (12 months)", "近12个月培训学时", _hours("12 months", "12个月")),
    "completions_3m": _driver("Courses completed (3 months)", "近3个月完成课程数", _events(
        "course completed", "courses completed", "no course completed", "完成{n}门课程", "未完成课程",
        "3 months", "3个月")),
    "completions_12m": _driver("Courses completed (12 months)", "近12个月完成课程数", _events(
        "course completed", "courses completed", "no course completed", "完成{n}门课程", "未完成课程",
        "12 months", "12个月")),
    "training_points_3m": _driver("Training points (3 months)", "近3个月培训积分", _events(
        "training point", "training points", "no training points", "获得{n}培训积分", "未获得培训积分",
        "3 months", "3个月")),
    "training_points_12m": _driver("Training points (12 months)", "近12个月培训积分", _events(
        "training point", "training points", "no training points", "获得{n}培训积分", "未获得培训积分",
        "12 months", "12个月")),
    "unit_open_requisitions": _driver("Open requisitions in unit", "部门在招职位数", _plain(
        lambda v: "no open requisition in the unit" if round(v) == 0 else
        f"{count(v, 'en', 'open requisition', 'open requisitions')} in the unit",
        lambda v: "部门无在招职位" if round(v) == 0 else f"部门有{_n(v)}个在招职位")),
    "team_size": _driver("Team size", "团队规模", _plain(lambda v: f"team of {_n(v)}", lambda v: f"团队{_n(v)}人")),
    "job_level": _driver("Job level", "职级", _plain(lambda v: f"job level {_n(v)}", lambda v: f"职级{_n(v)}")),
    "job_family": Driver({"en": "Job family", "zh": "职位族"},
                         {"en": lambda v: family(v, "en"), "zh": lambda v: family(v, "zh")}),
    "online_share_12m": _driver("Share of online courses (12 months)", "近12个月线上课程占比",
                                _share("online", "线上课程")),
    "workshop_share_12m": _driver("Share of workshops (12 months)", "近12个月工作坊占比",
                                  _share("workshops", "工作坊")),
    "mentoring_share_12m": _driver("Share of mentoring (12 months)", "近12个月导师辅导占比",
                                   _share("mentoring", "导师辅导")),
    "enrollments_in_progress": _driver("Courses in progress", "在学课程数", _plain(
        lambda v: "no course in progress" if round(v) == 0 else f"{count(v, 'en', 'course', 'courses')} in progress",
        lambda v: "没有在学课程" if round(v) == 0 else f"正在学习{_n(v)}门课程")),
    "n_required_skills": _driver("Required skills", "岗位要求技能数", _plain(
        lambda v: f"job requires {count(v, 'en', 'skill', 'skills')}", lambda v: f"岗位要求{_n(v)}项技能")),
    "assessment_mean_score": _driver("Pre-hire assessment", "入职前测评", assessment),
}
