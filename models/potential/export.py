"""The talent-pool table a person reads (CLI print, CSV / Excel export), in English or Chinese."""

from __future__ import annotations

import pandas as pd

from models.wording.units import money, pct

HEADERS = {
    "employee_id": {"en": "Employee", "zh": "员工"},
    "org_unit_id": {"en": "Org unit", "zh": "组织单元"},
    "pool_unit_id": {"en": "Pool unit", "zh": "人才库所属单元"},
    "talent_pool_member": {"en": "Talent pool", "zh": "核心人才库"},
    "pool_rank": {"en": "Rank in unit", "zh": "单元内排名"},
    "potential": {"en": "Potential (promotion or rating up in 12 months)", "zh": "潜力（12个月内晋升或绩效提升概率）"},
    "high_potential": {"en": "High potential", "zh": "高潜力人才"},
    "next_job_id": {"en": "Next job", "zh": "下一岗位"},
    "readiness": {"en": "Readiness for the next job", "zh": "下一岗位准备度"},
    "risk": {"en": "Attrition risk (3 months)", "zh": "离职风险（3个月）"},
    "impact": {"en": "Impact of loss", "zh": "流失影响"},
    "expected_loss": {"en": "Expected loss", "zh": "预期损失"},
    "regrettable": {"en": "Regrettable loss", "zh": "遗憾性流失"},
    "reasons": {"en": "Why (potential)", "zh": "潜力原因"},
    "gaps": {"en": "Gaps to the next job", "zh": "与下一岗位的技能差距"},
    "courses": {"en": "Courses for the next job", "zh": "面向下一岗位的推荐课程"},
}
YES_NO = {"en": ("yes", "no"), "zh": ("是", "否")}
NONE = {"en": "none", "zh": "无"}
TOP_OF_PATH = {"en": "top of the career path", "zh": "职业路径顶端"}
NOT_SCORED = {"en": "not scored this month", "zh": "本月未评分"}


def _gap_text(gaps: list[dict], lang: str) -> str:
    parts = []
    for g in gaps[:3]:
        name = g.get("name", {}).get(lang) or g.get("name", {}).get("en") or g["skill_id"]
        if g.get("gap") is None:
            parts.append(f"{name}（水平未知）" if lang == "zh" else f"{name} (level not on record)")
        else:
            parts.append(f"{name} {g['gap']:.1f}级" if lang == "zh" else f"{name} {g['gap']:.1f} levels")
    return ("；" if lang == "zh" else "; ").join(parts) if parts else NONE[lang]


def table(rows: list[dict], lang: str = "en", jobs: dict[str, dict[str, str]] | None = None,
          units: dict[str, dict[str, str]] | None = None) -> pd.DataFrame:
    """One row per person with headers and every value worded in ``lang`` (numbers as shares and money; jobs and
    units by name when ``jobs`` / ``units`` name them)."""
    yes, no = YES_NO[lang]
    jobs, units = jobs or {}, units or {}

    def unit(u: str | None) -> str:
        return (units.get(u, {}).get(lang) or u) if u else ""

    out = []
    for r in rows:
        detail = r.get("detail") or {}
        reasons = (detail.get("explanation") or {}).get("reasons", {}).get(lang) or []
        job = r.get("next_job_id")
        out.append({
            "employee_id": r["employee_id"], "org_unit_id": unit(r.get("org_unit_id")),
            "pool_unit_id": unit(r.get("pool_unit_id")),
            "talent_pool_member": yes if r.get("talent_pool_member") else no,
            "pool_rank": "" if r.get("pool_rank") is None else int(r["pool_rank"]),
            "potential": pct(r["potential"]) if r.get("potential") is not None else NOT_SCORED[lang],
            "high_potential": yes if r.get("high_potential") else no,
            "next_job_id": (jobs.get(job, {}).get(lang) or job) if job else TOP_OF_PATH[lang],
            "readiness": pct(r["readiness"]) if r.get("readiness") is not None else NONE[lang],
            "risk": pct(r["risk"], 1) if r.get("risk") is not None else NOT_SCORED[lang],
            "impact": money(r["impact"], lang) if r.get("impact") is not None else NONE[lang],
            "expected_loss": money(r["expected_loss"], lang) if r.get("expected_loss") is not None else NOT_SCORED[lang],
            "regrettable": yes if r.get("regrettable") else no,
            "reasons": ("；" if lang == "zh" else "; ").join(reasons[:3]) or NONE[lang],
            "gaps": _gap_text(detail.get("next_job_gaps") or [], lang),
            "courses": ("；" if lang == "zh" else "; ").join(
                (c.get("title") or {}).get(lang) or c["course_id"] for c in detail.get("next_job_courses") or [])
            or NONE[lang],
        })
    frame = pd.DataFrame(out, columns=list(HEADERS))
    return frame.rename(columns={k: v[lang] for k, v in HEADERS.items()})
