"""Governance sentences in English and Chinese: the recorded exception a model version serves by.

A version the promotion gate refused only for its fairness audit, whose failed groups the attribution found
*outcome-driven* (the simulator's own oracles fail the same audit), may be forced with a recorded exception
(``training_jobs.promotion.outcome_exception``). The exception is stored as its kind and figures (tag
``talentloop.exception``, JSON); :func:`exception_sentence` words it for an answer's ``model_status.note``:
short, in the requested language, protected groups named in words, never raw labels such as ``(missing)``.
"""

from __future__ import annotations

import json

OUTCOME_DRIVEN = "outcome-driven"
SHOWN = 2  # groups named in the sentence; the rest are counted

ATTRIBUTES = {
    "sex": {"en": "sex", "zh": "性别"},
    "age_band": {"en": "age band", "zh": "年龄段"},
    "sex_x_age_band": {"en": "sex and age band", "zh": "性别与年龄段"},
    "ethnicity": {"en": "ethnicity", "zh": "民族"},
    "nationality": {"en": "nationality", "zh": "国籍"},
    "marital_status": {"en": "marital status", "zh": "婚姻状况"},
}
VALUES = {
    "(missing)": {"en": "not recorded", "zh": "未记录"},
    "40 and over": {"en": "40 and over", "zh": "40 岁及以上"},
    "under 40": {"en": "under 40", "zh": "40 岁以下"},
    "female": {"en": "women", "zh": "女性"},
    "male": {"en": "men", "zh": "男性"},
    "undisclosed": {"en": "not disclosed", "zh": "未披露"},
    "other": {"en": "other", "zh": "其他"},
    "Other": {"en": "other", "zh": "其他"},
    # ethnicity
    "Han": {"en": "Han", "zh": "汉族"}, "Hui": {"en": "Hui", "zh": "回族"}, "Manchu": {"en": "Manchu", "zh": "满族"},
    "Miao": {"en": "Miao", "zh": "苗族"}, "Uyghur": {"en": "Uyghur", "zh": "维吾尔族"},
    "Zhuang": {"en": "Zhuang", "zh": "壮族"}, "Asian (other)": {"en": "other Asian", "zh": "其他亚裔"},
    "Black": {"en": "Black", "zh": "黑人"}, "White": {"en": "White", "zh": "白人"},
    "Hispanic": {"en": "Hispanic", "zh": "西班牙裔"},
    "single": {"en": "single", "zh": "未婚"},
    "married": {"en": "married", "zh": "已婚"},
    "divorced": {"en": "divorced", "zh": "离异"},
    "widowed": {"en": "widowed", "zh": "丧偶"},
}


def _lang(lang: str) -> str:
    return "zh" if lang == "zh" else "en"


def value_name(value: object, lang: str = "en", attribute: str = "nationality") -> str:
    """A group value in words: the table above; a nationality as exports hold it, a two-letter ISO 3166 code,
    by its CLDR country name ("CN": "China" / "中国", "BR": "Brazil" / "巴西"); else the value as the export
    wrote it."""
    text, lg = str(value), _lang(lang)
    if text in VALUES:
        return VALUES[text][lg]
    if attribute == "nationality" and len(text) == 2 and text.isalpha() and text.isupper():
        from babel import Locale

        name = Locale.parse(lg).territories.get(text)
        if name:
            return name
    return text


def group_name(family: str, group: dict, lang: str = "en") -> str:
    """``age band 40 and over`` / ``年龄段 40 岁及以上``; an intersection by its values (``women 40 and over``);
    a missing value reads "not recorded"."""
    lg = _lang(lang)
    values = " ".join(value_name(v, lg, k) for k, v in group.items())
    if len(group) > 1:
        return values
    return f"{ATTRIBUTES.get(family, {}).get(lg, family.replace('_', ' '))} {values}"


def exception_record(findings: list[dict]) -> dict:
    """The stored form of an outcome-driven exception: its kind and, per failed group, the impact ratios of
    the model and of the oracles (rounded to 2 decimals)."""
    def r(v: object) -> float | None:
        return None if v is None else round(float(v), 2)

    return {"kind": OUTCOME_DRIVEN, "groups": [
        {"family": f["family"], "group": {k: str(v) for k, v in f["group"].items()},
         "model": r(f["impact_ratio"].get("model")), "process_oracle": r(f["impact_ratio"].get("process_oracle")),
         "oracle": r(f["impact_ratio"].get("oracle"))} for f in findings]}


def parse_record(text: str | None) -> dict | None:
    """The record from its tag (None when absent or not one this module can word)."""
    if not text:
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return None
    if not isinstance(record, dict) or record.get("kind") != OUTCOME_DRIVEN or not record.get("groups"):
        return None
    return record


def _figures(g: dict, lg: str) -> str:
    oracles = [v for v in (g.get("process_oracle"), g.get("oracle")) if v is not None]
    oracle = min(oracles) if oracles else None  # the oracle that falls short (the lower of the two)
    vs = "" if oracle is None else (f" 对 {oracle:.2f}" if lg == "zh" else f" vs {oracle:.2f}")
    return f"{group_name(g['family'], g['group'], lg)} {g['model']:.2f}{vs}"


def exception_sentence(record: dict, lang: str = "en") -> str:
    """One or two short sentences: the kind of the exception and the worst groups' figures."""
    lg = _lang(lang)
    groups = sorted(record["groups"], key=lambda g: (g.get("model") is None, g.get("model") or 0.0))
    shown = [g for g in groups if g.get("model") is not None][:SHOWN]
    rest = len(groups) - len(shown)
    if lg == "zh":
        parts = "；".join(_figures(g, "zh") for g in shown)
        more = f"；另有 {rest} 个群体" if rest else ""
        return (f"公平性差距源于结果本身：模拟器的理想模型同样低于五分之四（本模型与理想模型的影响比：{parts}{more}）。"
                "预警由人力资源业务伙伴复核，差距持续监测。")
    parts = "; ".join(_figures(g, "en") for g in shown)
    more = f"; {rest} more group{'s' if rest > 1 else ''}" if rest else ""
    return (f"The fairness gap is outcome-driven: the simulator's oracle also falls below four fifths (impact ratio "
            f"of this model vs the oracle: {parts}{more}). HR partners review the alerts and the gap is monitored.")
