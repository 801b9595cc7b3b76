"""The console's words and number / date formats in English and Chinese.

Every sentence a person reads on a console page comes from :data:`TEXT` (``t(lang, key, **values)``), and
every number or date through :func:`num`, :func:`pct`, :func:`points`, :func:`month` or :func:`day`, so both
languages say the same thing about the same value.
"""

from __future__ import annotations

from datetime import date, datetime

LANGS = ("en", "zh")

TEXT: dict[str, dict[str, str]] = {
    "app": {"en": "TalentLoop · HR partner console", "zh": "TalentLoop · HR 业务伙伴控制台"},
    "nav.queue": {"en": "Alert queue", "zh": "预警列表"},
    "nav.units": {"en": "Unit overview", "zh": "部门概览"},
    "nav.model": {"en": "Model", "zh": "模型"},
    "nav.signout": {"en": "Sign out", "zh": "退出登录"},
    "nav.signed_in": {"en": "Signed in as {name} ({role})", "zh": "当前用户：{name}（{role}）"},
    "lang.switch": {"en": "中文", "zh": "English"},
    "lang.label": {"en": "Language", "zh": "语言"},
    "role.hr_partner": {"en": "HR partner", "zh": "HR 业务伙伴"},
    "role.hr_system": {"en": "HR system", "zh": "HR 系统"},
    "role.admin": {"en": "administrator", "zh": "管理员"},
    "login.title": {"en": "Sign in", "zh": "登录"},
    "login.key": {"en": "API key", "zh": "API 密钥"},
    "login.help": {"en": "Paste the key an administrator created for you with `talentloop keys create`.",
                   "zh": "请粘贴管理员通过 `talentloop keys create` 为您创建的密钥。"},
    "login.submit": {"en": "Sign in", "zh": "登录"},
    "login.bad_key": {"en": "That key is not valid (unknown or revoked). Ask an administrator for a key.",
                      "zh": "该密钥无效（不存在或已吊销）。请向管理员申请密钥。"},
    "login.bad_role": {"en": "A {role} key cannot use the console; it is for HR partners, the HR system and "
                                "administrators.",
                       "zh": "{role} 角色的密钥不能使用控制台；控制台供 HR 业务伙伴、HR 系统和管理员使用。"},
    "login.expired": {"en": "Your session ended. Please sign in again.", "zh": "会话已结束，请重新登录。"},
    "login.signed_out": {"en": "You are signed out.", "zh": "您已退出登录。"},
    "csrf.refused": {"en": "This form has expired or did not come from this console. Reload the page and try "
                             "again.",
                     "zh": "该表单已过期或并非来自本控制台。请刷新页面后重试。"},
    "notfound.title": {"en": "Not found", "zh": "未找到"},
    "notfound.body": {"en": "There is nothing here, or it is outside the units you can see.",
                      "zh": "此处没有内容，或者不在您可查看的部门范围内。"},
    "notfound.back": {"en": "Back to the alert queue", "zh": "返回预警列表"},
    "bad.title": {"en": "Check the request", "zh": "请检查请求"},
    "unavailable.title": {"en": "Not ready yet", "zh": "尚未就绪"},
    # queue
    "queue.title": {"en": "Attrition alerts", "zh": "离职风险预警"},
    "queue.filters": {"en": "Filter alerts", "zh": "筛选预警"},
    "queue.unit": {"en": "Org unit", "zh": "部门"},
    "queue.band": {"en": "Risk band", "zh": "风险等级"},
    "queue.status": {"en": "Review status", "zh": "处理状态"},
    "queue.month": {"en": "Month", "zh": "月份"},
    "queue.page_size": {"en": "Rows per page", "zh": "每页行数"},
    "queue.all": {"en": "All", "zh": "全部"},
    "queue.all_units": {"en": "All my units", "zh": "我负责的全部部门"},
    "queue.apply": {"en": "Apply", "zh": "应用"},
    "queue.export_csv": {"en": "Export CSV", "zh": "导出 CSV"},
    "queue.export_xlsx": {"en": "Export Excel", "zh": "导出 Excel"},
    "queue.count": {"en": "{total} alerts · page {page} of {pages}", "zh": "共 {total} 条预警 · 第 {page}/{pages} 页"},
    "queue.empty": {"en": "No alert matches these filters.", "zh": "没有符合筛选条件的预警。"},
    "queue.prev": {"en": "Previous page", "zh": "上一页"},
    "queue.next": {"en": "Next page", "zh": "下一页"},
    "queue.sorted_by": {"en": "sorted by", "zh": "排序"},
    "col.employee": {"en": "Employee", "zh": "员工"},
    "col.job": {"en": "Job title", "zh": "职位"},
    "col.unit": {"en": "Unit", "zh": "部门"},
    "col.manager": {"en": "Manager", "zh": "直属经理"},
    "col.tenure": {"en": "Tenure", "zh": "司龄"},
    "col.rating": {"en": "Last rating", "zh": "最近绩效"},
    "col.risk": {"en": "Risk", "zh": "风险"},
    "col.band": {"en": "Band", "zh": "等级"},
    "col.change": {"en": "Change since last month", "zh": "较上月变化"},
    "col.status": {"en": "Status", "zh": "状态"},
    "col.month": {"en": "Month", "zh": "月份"},
    "col.alert": {"en": "Alert", "zh": "预警编号"},
    "col.horizon": {"en": "Horizon (months)", "zh": "预测期（月）"},
    "risk.within": {"en": "{risk} within {h} months", "zh": "{h} 个月内 {risk}"},
    "change.none": {"en": "not scored last month", "zh": "上月未评分"},
    "change.same": {"en": "no change", "zh": "无变化"},
    "tenure.value": {"en": "{years} yr {months} mo", "zh": "{years} 年 {months} 个月"},
    "tenure.months": {"en": "{months} mo", "zh": "{months} 个月"},
    "tenure.new": {"en": "under a month", "zh": "不足 1 个月"},
    "tenure.missing": {"en": "hire date not on file", "zh": "无入职日期记录"},
    "rating.value": {"en": "{rating} of 5 ({cycle})", "zh": "{rating}/5（{cycle}）"},
    "rating.none": {"en": "not yet reviewed", "zh": "尚无绩效评估"},
    "manager.none": {"en": "no manager on file", "zh": "无直属经理记录"},
    "manager.value": {"en": "{id} · {title}", "zh": "{id} · {title}"},
    "job.missing": {"en": "job not on file", "zh": "无职位记录"},
    "unit.missing": {"en": "unit not on file", "zh": "无部门记录"},
    "band.very_high": {"en": "Very high", "zh": "很高"},
    "band.high": {"en": "High", "zh": "高"},
    "band.medium": {"en": "Medium", "zh": "中"},
    "band.low": {"en": "Low", "zh": "低"},
    "status.open": {"en": "Open", "zh": "待处理"},
    "status.acknowledged": {"en": "Acknowledged", "zh": "已知悉"},
    "status.actioned": {"en": "Actioned", "zh": "已采取行动"},
    "status.dismissed": {"en": "Dismissed", "zh": "已忽略"},
    "sort.risk": {"en": "risk", "zh": "风险"},
    # detail
    "detail.title": {"en": "Alert for {employee}", "zh": "员工 {employee} 的预警"},
    "detail.summary": {"en": "{risk} risk of leaving within {h} months ({band} band), scored for {month} by model "
                                "version {version}.",
                       "zh": "{month} 评分：{h} 个月内离职风险 {risk}（{band}），模型版本 {version}。"},
    "detail.curve": {"en": "Risk of leaving within 1 to 12 months", "zh": "1 至 12 个月内的离职风险"},
    "detail.curve_desc": {"en": "Chance of leaving within each number of months ahead.",
                          "zh": "未来各月数内离职的可能性。"},
    "detail.curve_missing": {"en": "No 1-12 month curve was stored with this alert's score.",
                             "zh": "该预警的评分未保存 1-12 个月风险曲线。"},
    "detail.months_axis": {"en": "months ahead", "zh": "未来月数"},
    "detail.drivers": {"en": "Why the risk is high", "zh": "风险偏高的原因"},
    "detail.drivers_desc": {"en": "Starting from the model's base rate, each driver moves this person's score up "
                                  "or down (exact SHAP values on the model's log-odds scale).",
                            "zh": "从模型基准水平出发，每个因素将此人的得分调高或调低（模型对数几率尺度上的精确 SHAP 值）。"},
    "detail.base": {"en": "Base rate", "zh": "基准水平"},
    "detail.this_person": {"en": "This person (top drivers)", "zh": "此人（主要因素）"},
    "detail.levers": {"en": "What could lower the risk", "zh": "可降低风险的措施"},
    "detail.levers_desc": {"en": "Model-based what-if, not causal: the model's risk if this one input changed.",
                           "zh": "基于模型的假设分析，并非因果结论：仅改变该项输入时模型给出的风险。"},
    "detail.lever_effect": {"en": "{before} → {after} ({change})", "zh": "{before} → {after}（{change}）"},
    "detail.no_levers": {"en": "The model found no lever that lowers this person's risk.",
                         "zh": "模型未找到能降低此人风险的措施。"},
    "detail.courses": {"en": "Recommended courses", "zh": "推荐课程"},
    "detail.courses_none": {"en": "No course addresses this person's current skill gaps.",
                            "zh": "没有课程针对此人当前的技能差距。"},
    "detail.courses_no_model": {"en": "Course recommendations are unavailable: the course ranker model is not "
                                      "loaded.", "zh": "暂无法提供课程推荐：课程排序模型未加载。"},
    "detail.courses_no_store": {"en": "Course recommendations are unavailable: the feature store is not loaded.",
                                "zh": "暂无法提供课程推荐：特征库未加载。"},
    "detail.courses_not_current": {"en": "No course recommendations: this person is not in the current feature "
                                         "snapshot (they may have left).",
                                   "zh": "无课程推荐：此人不在当前特征快照中（可能已离职）。"},
    "format.online": {"en": "online", "zh": "在线课程"},
    "format.workshop": {"en": "workshop", "zh": "工作坊"},
    "format.mentoring": {"en": "mentoring", "zh": "导师辅导"},
    "detail.course_line": {"en": "{hours} h · {format}", "zh": "{hours} 小时 · {format}"},
    "detail.band_rate": {"en": "What happened to people in this band", "zh": "同等级员工的实际情况"},
    "detail.band_rate_value": {"en": "In the model's backtest, {rate} of the {n} people scored in the {band} band "
                                     "left within {h} months.",
                               "zh": "在模型回测中，被评为「{band}」等级的 {n} 人中有 {rate} 在 {h} 个月内离职。"},
    "detail.band_rate_missing": {"en": "The model's backtest did not record exits by risk band, so the observed "
                                       "exit rate of this band cannot be shown.",
                                 "zh": "模型回测未按风险等级记录离职情况，因此无法显示该等级的实际离职率。"},
    "detail.review": {"en": "Review this alert", "zh": "处理此预警"},
    "detail.review_status": {"en": "Decision", "zh": "处理结果"},
    "detail.review_action": {"en": "Action taken (optional)", "zh": "已采取的行动（可选）"},
    "detail.review_note": {"en": "Note (optional)", "zh": "备注（可选）"},
    "detail.review_submit": {"en": "Save review", "zh": "保存处理结果"},
    "detail.review_saved": {"en": "Review saved.", "zh": "处理结果已保存。"},
    "detail.review_bad": {"en": "Choose acknowledged, actioned or dismissed.", "zh": "请选择已知悉、已采取行动或已忽略。"},
    "detail.review_long": {"en": "The action may have at most 500 characters and the note at most 2,000.",
                           "zh": "行动不超过 500 个字符，备注不超过 2,000 个字符。"},
    "detail.history": {"en": "Review history", "zh": "处理记录"},
    "detail.history_none": {"en": "Nobody has reviewed this alert yet.", "zh": "尚无人处理此预警。"},
    "detail.reviewed_by": {"en": "{status} by {who} on {when}", "zh": "{who} 于 {when} 标记为{status}"},
    "detail.person": {"en": "About this person", "zh": "员工信息"},
    "detail.back": {"en": "Back to the queue", "zh": "返回预警列表"},
    # unit overview
    "unit.title": {"en": "Unit overview: {unit}", "zh": "部门概览：{unit}"},
    "unit.choose": {"en": "Org unit", "zh": "部门"},
    "unit.show": {"en": "Show", "zh": "查看"},
    "unit.distribution": {"en": "Risk distribution by unit ({month})", "zh": "各部门风险分布（{month}）"},
    "unit.distribution_none": {"en": "No employee of this unit has been scored yet.", "zh": "该部门尚无员工评分。"},
    "unit.people": {"en": "{n} people", "zh": "{n} 人"},
    "unit.people_col": {"en": "People", "zh": "人数"},
    "unit.open_by_status": {"en": "Alerts by review status", "zh": "按处理状态统计的预警"},
    "unit.gaps": {"en": "Largest skill gaps", "zh": "最大的技能差距"},
    "unit.gaps_desc": {"en": "People whose skill level is below what their job requires.",
                       "zh": "技能水平低于岗位要求的人数。"},
    "unit.gap_line": {"en": "{n} people short, {gap} levels on average", "zh": "{n} 人未达要求，平均差 {gap} 级"},
    "unit.gaps_none": {"en": "Nobody in this unit is below the skill level their job requires.",
                       "zh": "该部门所有人的技能均达到岗位要求。"},
    "unit.forecast": {"en": "Skill-demand forecast: {skill} in {unit}", "zh": "技能需求预测：{unit} 的 {skill}"},
    "unit.forecast_desc": {"en": "People needed with this skill: history, median forecast and 80% interval.",
                           "zh": "需要该技能的人数：历史、预测中位数及 80% 区间。"},
    "unit.forecast_none": {"en": "No skill-demand forecast is available: {why}", "zh": "暂无技能需求预测：{why}"},
    "unit.forecast_pick": {"en": "Series", "zh": "序列"},
    "unit.history": {"en": "observed", "zh": "实际"},
    "unit.median": {"en": "median forecast", "zh": "预测中位数"},
    "unit.interval": {"en": "80% interval", "zh": "80% 区间"},
    "unit.no_model": {"en": "the skill-demand model is not loaded", "zh": "技能需求模型未加载"},
    "unit.no_series": {"en": "this unit has no skill-demand series", "zh": "该部门没有技能需求序列"},
    # model panel
    "model.title": {"en": "The model behind the scores", "zh": "评分所用的模型"},
    "model.version": {"en": "The alerts of {month} were scored by attrition model version {version}, trained on "
                            "{trained}.",
                      "zh": "{month} 的预警由离职风险模型第 {version} 版评分，该版本训练于 {trained}。"},
    "model.serving": {"en": "The API now serves attrition model version {version}.",
                      "zh": "API 当前使用离职风险模型第 {version} 版。"},
    "model.not_loaded": {"en": "No attrition model is loaded: {why}", "zh": "未加载离职风险模型：{why}"},
    "model.quality": {"en": "How good it is", "zh": "模型质量"},
    "model.auc": {"en": "Tested on months it had not seen, it ranks a person who left within {h} months above one "
                        "who stayed {auc} of the time (ROC-AUC {auc_raw}; a coin flip scores 50%).",
                  "zh": "在未参与训练的月份上检验：对 {h} 个月内离职的人和留任的人，模型有 {auc} 的概率把离职者排在前面"
                        "（ROC-AUC {auc_raw}；随机猜测为 50%）。"},
    "model.vs_baseline": {"en": "A simple logistic regression reaches {auc} on the same test ({verdict}).",
                          "zh": "简单逻辑回归在同一检验中为 {auc}（{verdict}）。"},
    "model.better": {"en": "the model is better", "zh": "本模型更好"},
    "model.worse": {"en": "the model is not better", "zh": "本模型并不更好"},
    "model.calibration": {"en": "Its risks are calibrated within {ece} on average (expected calibration error).",
                          "zh": "其风险预测的平均校准误差为 {ece}（期望校准误差）。"},
    "model.quality_missing": {"en": "This version's training run recorded no backtest metrics.",
                              "zh": "该版本的训练记录中没有回测指标。"},
    "model.fairness": {"en": "Fairness audit", "zh": "公平性审计"},
    "model.fair_pass": {"en": "Passed: across sex, age band and the other protected groups the lowest ratio of alert "
                              "rates is {ratio} (the four-fifths rule asks for at least 80%).",
                        "zh": "通过：在性别、年龄段及其他受保护群体之间，预警率的最低比值为 {ratio}（五分之四规则要求至少 80%）。"},
    "model.fair_fail": {"en": "Not passed: the lowest ratio of alert rates between protected groups is {ratio}, below "
                              "the four-fifths rule's 80%. Read the audit before acting on these alerts.",
                        "zh": "未通过：受保护群体之间预警率的最低比值为 {ratio}，低于五分之四规则的 80%。请先阅读审计报告再据此采取行动。"},
    "model.fair_missing": {"en": "This version's training run recorded no fairness audit.",
                           "zh": "该版本的训练记录中没有公平性审计。"},
    "model.audit_date": {"en": "The audit ran on {day}.", "zh": "审计日期：{day}。"},
    "model.gate_passed": {"en": "This version passed the promotion gate on {day} (not worse than its baselines "
                                "and the previous version, fairness audit passed).",
                          "zh": "该版本于 {day} 通过上线检查（不差于基准模型和上一版本，公平性审计通过）。"},
    "model.gate_forced": {"en": "This version serves by an exception {by} recorded on {day}: {checks}.",
                          "zh": "该版本按 {by} 于 {day} 记录的例外上线：{checks}。"},
    "model.gate_reason": {"en": "Reason given: {reason}", "zh": "记录的理由（原文）：{reason}"},
    "model.gate_none": {"en": "This version was made the serving model outside the promotion gate.",
                        "zh": "该版本未经上线检查即被设为在用模型。"},
    "model.checks.fairness": {"en": "it failed its fairness audit", "zh": "未通过公平性审计"},
    "model.checks.baseline": {"en": "it scored below its strongest baseline", "zh": "成绩低于最强的基准模型"},
    "model.checks.champion": {"en": "it scored below the version it replaced", "zh": "成绩低于被替换的版本"},
    "model.checks.baseline_fairness": {"en": "it scored below its strongest baseline and failed its fairness audit",
                                       "zh": "成绩低于最强的基准模型，且未通过公平性审计"},
    "model.checks.champion_fairness": {"en": "it scored below the version it replaced and failed its fairness audit",
                                       "zh": "成绩低于被替换的版本，且未通过公平性审计"},
    "model.checks.none": {"en": "it did not pass the promotion gate", "zh": "未通过上线检查"},
    "model.monitor": {"en": "Predictions against outcomes", "zh": "预测与实际结果对照"},
    "model.monitor_line": {"en": "Checked on {day} over {months} scored months whose horizon has passed: {precision} "
                                 "of alerts were followed by an exit (the backtest expected {backtest}); {recall} of "
                                 "the people who left had been alerted.",
                           "zh": "于 {day} 核对了 {months} 个已过预测期的评分月份：{precision} 的预警之后确有离职"
                                 "（回测预期 {backtest}）；离职者中 {recall} 曾被预警。"},
    "model.monitor_retrain": {"en": "The data have drifted since training (largest population stability index "
                                    "{psi}): the model needs retraining.",
                              "zh": "数据自训练以来已发生漂移（最大群体稳定性指数 {psi}）：模型需要重新训练。"},
    "model.monitor_ok": {"en": "No feature has drifted beyond the retraining threshold (largest population "
                               "stability index {psi}).",
                         "zh": "没有特征的漂移超过重新训练阈值（最大群体稳定性指数 {psi}）。"},
    "model.data": {"en": "Data", "zh": "数据"},
    "model.as_of": {"en": "The latest scores are for {month}; the model was trained on data up to {end}.",
                    "zh": "最新评分月份为 {month}；模型训练数据截至 {end}。"},
    "model.no_scores": {"en": "No batch scores have been stored yet: run `talentloop score attrition`.",
                        "zh": "尚未保存批量评分：请运行 `talentloop score attrition`。"},
    "model.policy": {"en": "An alert is raised when the risk of leaving within {h} months is at least {risk}.",
                     "zh": "当 {h} 个月内离职风险不低于 {risk} 时触发预警。"},
    "model.bands": {"en": "Bands: very high from {vh}, high from {h}, medium from {m}, low below.",
                    "zh": "等级划分：很高 ≥ {vh}，高 ≥ {h}，中 ≥ {m}，低于 {m} 为低。"},
    "model.others": {"en": "Other models in use", "zh": "其他在用模型"},
    "model.other_line": {"en": "{name}: version {version}", "zh": "{name}：第 {version} 版"},
    "model.name.course_ranker": {"en": "Course ranker", "zh": "课程排序模型"},
    "model.name.skill_demand": {"en": "Skill-demand forecaster", "zh": "技能需求预测模型"},
    "model.name.attrition": {"en": "Attrition risk", "zh": "离职风险模型"},
    "model.missing_line": {"en": "{name}: not loaded", "zh": "{name}：未加载"},
}


def t(lang: str, key: str, **values: object) -> str:
    """The text ``key`` in ``lang`` with ``values`` filled in."""
    entry = TEXT[key]
    text = entry.get(lang) or entry["en"]
    return text.format(**values) if values else text


def num(value: float, lang: str, digits: int = 0) -> str:
    """``1,234`` / ``1,234.5`` (Chinese uses the same grouping)."""
    return f"{value:,.{digits}f}"


def pct(value: float, lang: str, digits: int = 1) -> str:
    """A share as a percentage: ``12.3%``."""
    return f"{value * 100:,.{digits}f}%"


def points(delta: float, lang: str) -> str:
    """A change of a share in percentage points: ``+1.2 pts`` / ``+1.2 个百分点``."""
    sign = "+" if delta > 0 else ("−" if delta < 0 else "±")
    body = f"{abs(delta) * 100:.1f}"
    return f"{sign}{body} pts" if lang == "en" else f"{sign}{body} 个百分点"


MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _date(value: str | date | datetime) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def month(value: str | date | datetime, lang: str) -> str:
    """``Jun 2025`` / ``2025年6月``."""
    d = _date(value)
    return f"{MONTHS_EN[d.month - 1]} {d.year}" if lang == "en" else f"{d.year}年{d.month}月"


def day(value: str | date | datetime, lang: str) -> str:
    """``3 Jun 2025`` / ``2025年6月3日``."""
    d = _date(value)
    return f"{d.day} {MONTHS_EN[d.month - 1]} {d.year}" if lang == "en" else f"{d.year}年{d.month}月{d.day}日"


def when(value: str, lang: str) -> str:
    """A UTC timestamp to the minute: ``3 Jun 2025 14:05 UTC`` / ``2025年6月3日 14:05（UTC）``."""
    ts = datetime.fromisoformat(str(value))
    hm = f"{ts.hour:02d}:{ts.minute:02d}"
    return f"{day(ts, lang)} {hm} UTC" if lang == "en" else f"{day(ts, lang)} {hm}（UTC）"


def pick(lang: str | None) -> str:
    return lang if lang in LANGS else "en"


class Fmt:
    """Formatting bound to one language, for templates (``f.t(...)``, ``f.pct(...)``)."""

    def __init__(self, lang: str):
        self.lang = lang

    def t(self, key: str, **values: object) -> str:
        return t(self.lang, key, **values)

    def pct(self, v: float, digits: int = 1) -> str:
        return pct(v, self.lang, digits)

    def points(self, v: float) -> str:
        return points(v, self.lang)

    def num(self, v: float, digits: int = 0) -> str:
        return num(v, self.lang, digits)

    def month(self, v: str) -> str:
        return month(v, self.lang)

    def day(self, v: str) -> str:
        return day(v, self.lang)

    def when(self, v: str) -> str:
        return when(v, self.lang)

    def name(self, names: dict[str, str] | None, missing: str) -> str:
        return (names or {}).get(self.lang) or self.t(missing)

    def tenure(self, months: int | None) -> str:
        if months is None:
            return self.t("tenure.missing")
        if months < 1:
            return self.t("tenure.new")
        if months < 12:
            return self.t("tenure.months", months=months)
        return self.t("tenure.value", years=months // 12, months=months % 12)

    def rating(self, rating: int | None, cycle: str | None) -> str:
        return self.t("rating.none") if rating is None else self.t("rating.value", rating=rating, cycle=cycle)

    def change(self, delta: float | None) -> str:
        if delta is None:
            return self.t("change.none")
        return self.t("change.same") if abs(delta) < 0.0005 else self.points(delta)
