"""Coded values translated for people: job families, course formats, org unit types.

A code with no translation is never shown raw: :func:`family_name` and friends return None and the caller
leaves the value out (or words the sentence without it).
"""

from __future__ import annotations

JOB_FAMILIES: dict[str, dict[str, str]] = {
    "sales": {"en": "Sales", "zh": "销售"},
    "customer_service": {"en": "Customer service", "zh": "客户服务"},
    "marketing": {"en": "Marketing", "zh": "市场营销"},
    "software": {"en": "Software development", "zh": "软件开发"},
    "data_science": {"en": "Data science", "zh": "数据科学"},
    "project_management": {"en": "Project management", "zh": "项目管理"},
    "it_support": {"en": "IT support", "zh": "IT支持"},
    "technician": {"en": "Technicians", "zh": "技术员"},
    "logistics": {"en": "Logistics", "zh": "物流"},
    "supervision": {"en": "Operations supervision", "zh": "运营管理"},
    "accounting": {"en": "Accounting", "zh": "会计"},
    "financial_analysis": {"en": "Financial analysis", "zh": "财务分析"},
    "hr": {"en": "Human resources", "zh": "人力资源"},
    "management": {"en": "Management", "zh": "管理"},
    "engineering": {"en": "Engineering", "zh": "工程"},
    "finance": {"en": "Finance", "zh": "财务"},
    "operations": {"en": "Operations", "zh": "运营"},
    "legal": {"en": "Legal", "zh": "法务"},
}

FORMATS: dict[str, dict[str, str]] = {
    "online": {"en": "online", "zh": "线上"},
    "workshop": {"en": "workshop", "zh": "工作坊"},
    "mentoring": {"en": "mentoring", "zh": "导师辅导"},
}

UNIT_TYPES: dict[str, dict[str, str]] = {
    "company": {"en": "company", "zh": "公司"},
    "division": {"en": "division", "zh": "事业部"},
    "department": {"en": "department", "zh": "部门"},
    "team": {"en": "team", "zh": "团队"},
}


def _lookup(table: dict[str, dict[str, str]], code: object, lang: str) -> str | None:
    if code is None or not isinstance(code, str):
        return None
    found = table.get(code.strip().lower())
    return None if found is None else found.get(lang) or found["en"]


def family_name(code: object, lang: str) -> str | None:
    """The job family's name, or None when the code is unknown (never the raw code)."""
    return _lookup(JOB_FAMILIES, code, lang)


def format_name(code: object, lang: str) -> str | None:
    return _lookup(FORMATS, code, lang)


def unit_type_name(code: object, lang: str) -> str | None:
    return _lookup(UNIT_TYPES, code, lang)
