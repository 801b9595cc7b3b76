"""What an attrition alert says about the person, in English and Chinese: job, unit, manager, tenure, last
rating, risk band with the band's observed exit rate, and the change since the previous month with its drivers.

Batch scoring calls :func:`alert_context` once per scored employee and stores both languages; the API only
picks the language. Every text is None-free: a missing value is worded as missing or the field is left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from models.wording.units import duration, level, one_in, pct, pct_points, value_of

BAND_NAMES = {
    "low": {"en": "low", "zh": "低"},
    "moderate": {"en": "moderate", "zh": "中"},
    "high": {"en": "high", "zh": "高"},
    "very_high": {"en": "very high", "zh": "很高"},
}
MIN_BAND_ROWS = 30  # fewer backtest rows than this in a band: no rate is quoted
SAME_RISK = 0.005  # a month-on-month change smaller than this reads "about the same"


def tenure_text(months: object, lang: str) -> str:
    m = value_of(months)
    if m is None:
        return "入职时间无记录" if lang == "zh" else "hire date not on record"
    if m < 1:
        return f"本月入职（{duration(m, lang)}前）" if lang == "zh" else f"joined this month ({duration(m, lang)} ago)"
    return f"入职{duration(m, lang)}" if lang == "zh" else f"{duration(m, lang)} with the company"


def rating_text(rating: object, lang: str) -> str:
    r = value_of(rating)
    if r is None:
        return "暂无绩效评级记录" if lang == "zh" else "no review on record yet"
    return f"最近一次绩效评级{level(r)}/5" if lang == "zh" else f"last review rated {level(r)}/5"


def band_text(band: str, bands: Mapping | None, horizon: int, lang: str) -> str:
    """"high risk band: about 1 in 5 people in this band left within 3 months (backtest, 412 people)"."""
    name = BAND_NAMES[band][lang]
    found = (bands or {}).get("bands", {}).get(band) if bands else None
    h = duration(horizon, lang)
    if not found or found.get("exit_rate") is None or found.get("n", 0) < MIN_BAND_ROWS:
        return (f"{name}风险档（回测中该档人数过少，无法给出实际离职率）" if lang == "zh"
                else f"{name} risk band (too few people in this band in the backtest to quote an exit rate)")
    rate, n = float(found["exit_rate"]), int(found["n"])
    if lang == "zh":
        return f"{name}风险档：回测中该档{one_in(rate, lang)}在{h}内离职（{pct(rate)}，共{n}人次）"
    return (f"{name} risk band: {one_in(rate, lang)} people in this band left within {h} in the backtest "
            f"({pct(rate)} of {n:,})")


def change_text(risk: float, previous: float | None, drivers: Sequence[str], lang: str,
                first_month: bool = False) -> str:
    """"risk up 4.0 points since last month (18% → 22%), mainly: ..." / "较上月上升4.0个百分点（18%→22%），主要因为：..."."""
    if previous is None:
        if first_month:
            return "本月新入职，无上月评分" if lang == "zh" else "joined this month: no score last month"
        return "上月无评分" if lang == "zh" else "no score last month to compare with"
    delta = risk - previous
    span = f"{pct(previous)}→{pct(risk)}" if lang == "zh" else f"{pct(previous)} → {pct(risk)}"
    if abs(delta) < SAME_RISK:
        return f"与上月基本持平（{span}）" if lang == "zh" else f"about the same as last month ({span})"
    why = [d for d in drivers if d]
    if lang == "zh":
        head = f"较上月{'上升' if delta > 0 else '下降'}{pct_points(delta, lang)}（{span}）"
        return head + (f"，主要因为：{'；'.join(why)}" if why else "")
    head = f"risk {'up' if delta > 0 else 'down'} {pct_points(delta, lang)} since last month ({span})"
    return head + (f", mainly: {'; '.join(why)}" if why else "")


def alert_context(*, job_title: Mapping[str, str] | None, unit_name: Mapping[str, str] | None,
                  manager_id: object, tenure_months: object, last_rating: object, risk: float, band: str,
                  bands: Mapping | None, horizon: int, previous_risk: float | None,
                  change_drivers: Mapping[str, Sequence[str]], first_month: bool) -> dict:
    """The stored alert context: codes and numbers, plus every text in both languages."""
    manager = manager_id if isinstance(manager_id, str) and manager_id.strip() else None
    out: dict = {"manager_id": manager, "tenure_months": value_of(tenure_months),
                 "last_rating": value_of(last_rating), "band": band, "risk_previous_month": previous_risk,
                 "risk_change": None if previous_risk is None else risk - previous_risk}
    band_info = (bands or {}).get("bands", {}).get(band) if bands else None
    out["band_exit_rate"] = None if not band_info else band_info.get("exit_rate")
    for lang in ("en", "zh"):
        out[lang] = {
            "job_title": (job_title or {}).get(lang) or ("职位无记录" if lang == "zh" else "job title not on record"),
            "org_unit_name": (unit_name or {}).get(lang) or ("部门无记录" if lang == "zh" else "unit not on record"),
            "tenure_text": tenure_text(tenure_months, lang),
            "rating_text": rating_text(last_rating, lang),
            "band_name": BAND_NAMES[band][lang],
            "band_text": band_text(band, bands, horizon, lang),
            "change_text": change_text(risk, previous_risk, change_drivers.get(lang, ()), lang, first_month),
            "change_drivers": [d for d in change_drivers.get(lang, ()) if d],
        }
    return out
