"""Numbers, durations, percentages and money worded for people, in English and Chinese.

Durations come in months (features are fractional months). Under a month they read in days (under two
weeks) or weeks; from two years on, in years. ``value_of`` turns a feature value into a number or None
(missing: None, NaN, pd.NA, text that is not a number), and callers word None as missing or leave it out.
"""

from __future__ import annotations

import math

LANGS = ("en", "zh")
DAYS_PER_MONTH = 30.4375


def value_of(v: object) -> float | None:
    """A feature value as a float; None when missing (None, NaN, pd.NA, not a number)."""
    if v is None or isinstance(v, bool):
        return None if v is None else float(v)
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) or math.isinf(f) else f


def _plural(n: float, one: str, many: str) -> str:
    return one if abs(n - 1) < 1e-9 else many


def duration(months: float, lang: str) -> str:
    """``months`` worded at a scale that fits: "5 days", "3 weeks", "1 month", "14 months", "2.5 years"."""
    if months < 1:
        days = max(1, round(months * DAYS_PER_MONTH))
        if days < 14:
            return f"{days}天" if lang == "zh" else f"{days} {_plural(days, 'day', 'days')}"
        weeks = round(days / 7)
        return f"{weeks}周" if lang == "zh" else f"{weeks} {_plural(weeks, 'week', 'weeks')}"
    if months < 24:
        m = int(round(months))
        return f"{m}个月" if lang == "zh" else f"{m} {_plural(m, 'month', 'months')}"
    years = round(months / 12 * 2) / 2
    text = f"{years:g}"
    return f"{text}年" if lang == "zh" else f"{text} {_plural(years, 'year', 'years')}"


def number(v: float, digits: int = 0) -> str:
    """A plain number: thousands separated, ``digits`` decimals (trailing ``.0`` dropped)."""
    text = f"{v:,.{digits}f}"
    if digits and text.endswith("0" * digits):
        text = text[: -digits - 1]
    return "0" if text in ("-0", "-0.0") else text


def count(n: float, lang: str, one: str = "", many: str = "", zh_unit: str = "") -> str:
    """"1 teammate" / "3 teammates" / "3名" (the noun is part of the sentence in Chinese)."""
    k = int(round(n))
    if lang == "zh":
        return f"{k}{zh_unit}"
    return f"{k} {_plural(k, one, many)}".rstrip()


def pct(v: float, digits: int = 0) -> str:
    """A share as a percentage: 0.123 → "12%"."""
    text = f"{v * 100:.{digits}f}%"
    return "0%" if text in ("-0%", "-0.0%") else text


def pct_points(v: float, lang: str) -> str:
    """A change in probability as percentage points: -0.034 → "3.4 points" / "3.4个百分点" (no sign)."""
    p = abs(v) * 100
    text = f"{p:.1f}" if p < 10 else f"{p:.0f}"
    return f"{text}个百分点" if lang == "zh" else f"{text} {'point' if text == '1.0' else 'points'}"


def level(v: float) -> str:
    """A skill or rating level: "3" or "3.5"."""
    return f"{v:.0f}" if abs(v - round(v)) < 0.05 else f"{v:.1f}"


def money(v: float, lang: str) -> str:
    """An amount of money in the company's pay currency: "12,400" / "1.2万"."""
    if lang == "zh" and abs(v) >= 10_000:
        return f"{v / 10_000:.1f}万"
    return number(v)


def one_in(rate: float, lang: str) -> str:
    """An observed rate as "about 1 in 5" / "约五分之一" style words (exact share kept beside it)."""
    if rate <= 0:
        return "none" if lang == "en" else "无人"
    if rate >= 0.3:
        tens = max(1, min(10, round(rate * 10)))
        return f"about {tens} in 10" if lang == "en" else f"约十分之{_ZH_DIGITS.get(tens, str(tens))}"
    n = max(2, round(1 / rate))
    return f"about 1 in {n}" if lang == "en" else f"约{n}人中有1人"


_ZH_DIGITS = {1: "一", 2: "二", 3: "三", 4: "四", 5: "五", 6: "六", 7: "七", 8: "八", 9: "九", 10: "十"}
