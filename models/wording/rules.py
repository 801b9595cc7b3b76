"""The text rules every sentence shown to people must pass (checked by tests/test_text_quality.py and counted by
bench/text_quality.py): no forbidden token, no raw code or id, no zero standing for a duration, and in Chinese no
untranslated English word other than allowed names (acronyms such as AWS, SQL, KPI and product names)."""

from __future__ import annotations

import re
from collections import Counter

FORBIDDEN = re.compile(r"(?<![A-Za-z])(unknown|n/a|nan|none|null|undefined)(?![A-Za-z])|\?|未知", re.IGNORECASE)
RAW_CODE = re.compile(r"\b(?:[A-Z]{1,4}-[A-Z0-9]{2,}|E\d{5,}|[a-z]+_[a-z0-9_]+)\b")
ZERO_TIME = re.compile(r"(?<![\d.])0 (?:months?|weeks?|days?|years?)\b|(?<![\d.])0 ?个月|入职0|(?<![\d.])0 ?天")
ASCII_WORD = re.compile(r"[A-Za-z][A-Za-z.+#]*")
ZH_ALLOWED = frozenset({
    "AWS", "SQL", "KPI", "IT", "HR", "AI", "API", "CRM", "ERP", "ETL", "CAD", "BI", "SAP", "SAS", "SPSS", "HTML",
    "CSS", "PHP", "UNIX", "MATLAB", "NoSQL", "MySQL", "PostgreSQL", "MongoDB", "Python", "Java", "JavaScript", "R",
    "C", "C++", "C#", "Excel", "Word", "PowerPoint", "Outlook", "Access", "Office", "Microsoft", "Oracle", "Linux",
    "Git", "GitHub", "Tableau", "Salesforce", "Amazon", "Web", "Services", "Google", "Cloud", "Azure", "Docker",
    "Kubernetes", "Adobe", "Photoshop", "AutoCAD", "Autodesk", "QuickBooks", "Jira", "Hadoop", "Spark",
    "TensorFlow", "PyTorch", "Power", "Visual", "Basic", "Teams", "Workday", "ServiceNow", "Minitab", "Stata",
    "LightGBM", "AutoETS", "ARIMA", "ETS"})  # the forecast methods a skill-demand answer names
RULES = ("forbidden token (unknown, n/a, nan, None, ?)", "raw code or id", "zero time unit (0 months / 0个月)",
         "untranslated English in Chinese")


def english_words(text: str) -> list[str]:
    """ASCII words in a Chinese text that are not allowed names."""
    return [w for w in ASCII_WORD.findall(text) if w.rstrip(".") not in ZH_ALLOWED]


def violations(text: str, lang: str) -> list[str]:
    """The rules ``text`` breaks (empty when it passes)."""
    broken = []
    if FORBIDDEN.search(text):
        broken.append(RULES[0])
    if RAW_CODE.search(text):
        broken.append(RULES[1])
    if ZERO_TIME.search(text):
        broken.append(RULES[2])
    if lang == "zh" and english_words(text):
        broken.append(RULES[3])
    return broken


def count(texts: list[str], lang: str) -> Counter:
    c: Counter = Counter()
    for t in texts:
        c["texts"] += 1
        c.update(violations(t, lang))
    return c
