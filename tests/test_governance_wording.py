"""Sentences people read about governance and team attrition: the recorded outcome-driven exception worded from
its kind and figures in English and Chinese (``model_status.note`` of risk and alert answers), and the team
attrition driver reading naturally below and above 100 %."""

from __future__ import annotations

import re

from models.wording.attrition import DRIVERS
from models.wording.governance import exception_record, exception_sentence, parse_record
from serving.registry import LoadedModel, model_status

# the shape of evaluation.fairness_attribution's findings (two failed groups, both failed by the oracles too)
FINDINGS = [
    {"family": "ethnicity", "group": {"ethnicity": "(missing)"}, "verdict": "outcome-driven",
     "impact_ratio": {"model": 0.6342, "process_oracle": 0.7011, "oracle": 0.6549}},
    {"family": "age_band", "group": {"age_band": "40 and over"}, "verdict": "outcome-driven",
     "impact_ratio": {"model": 0.4731, "process_oracle": 0.5120, "oracle": 0.4433}},
    {"family": "sex_x_age_band", "group": {"sex": "female", "age_band": "40 and over"}, "verdict": "outcome-driven",
     "impact_ratio": {"model": 0.5012, "process_oracle": 0.55, "oracle": None}},
]
RAW = re.compile(r"\(missing\)|_|\bnan\b|\bNone\b|unknown|n/a")


def test_the_exception_is_stored_as_its_kind_and_figures_and_worded_short_in_both_languages():
    import json

    record = exception_record(FINDINGS)
    assert record["kind"] == "outcome-driven" and len(record["groups"]) == 3
    assert record["groups"][1] == {"family": "age_band", "group": {"age_band": "40 and over"}, "model": 0.47,
                                   "process_oracle": 0.51, "oracle": 0.44}
    assert parse_record(json.dumps(record)) == record
    assert parse_record("") is None and parse_record("not json") is None and parse_record('{"kind": "x"}') is None

    en, zh = exception_sentence(record, "en"), exception_sentence(record, "zh")
    # the two lowest model ratios, in words, with the lower oracle's figure; the third group counted
    assert ("(impact ratio of this model vs the oracle: age band 40 and over 0.47 vs 0.44; women 40 and over "
            "0.50 vs 0.55; 1 more group)") in en
    assert "（本模型与理想模型的影响比：年龄段 40 岁及以上 0.47 对 0.44；女性 40 岁及以上 0.50 对 0.55；另有 1 个群体）" in zh
    assert en.startswith("The fairness gap is outcome-driven") and zh.startswith("公平性差距源于结果本身")
    assert len(en) < 300 and len(zh) < 140
    assert not RAW.search(en) and not RAW.search(zh)
    assert not re.search(r"[A-Za-z]", zh)  # no English left in the Chinese sentence
    # coded values are named in words: an ethnicity, a nationality code
    han = exception_record([{"family": "ethnicity", "group": {"ethnicity": "Han"},
                             "impact_ratio": {"model": 0.63, "process_oracle": 0.73, "oracle": 0.76}},
                            {"family": "nationality", "group": {"nationality": "CN"},
                             "impact_ratio": {"model": 0.51, "process_oracle": 0.7, "oracle": None}}])
    assert "nationality China 0.51 vs 0.70; ethnicity Han 0.63 vs 0.73" in exception_sentence(han, "en")
    assert "国籍 中国 0.51 对 0.70；民族 汉族 0.63 对 0.73" in exception_sentence(han, "zh")
    assert not re.search(r"[A-Za-z]", exception_sentence(han, "zh"))
    # a missing value is named in words when it is among the groups shown
    one = exception_record(FINDINGS[:1])
    assert "ethnicity not recorded 0.63 vs 0.65" in exception_sentence(one, "en")
    assert "民族 未记录 0.63 对 0.65" in exception_sentence(one, "zh")


def _forced(exception: str = "") -> LoadedModel:
    reason = ("fairness exception: the 3 group(s) the audit fails are failed by the simulator's own oracles too "
              "(outcome-driven gap, figures in the version's exception tag)")
    return LoadedModel("attrition", "3", model=None, governance={
        "gate": "forced", "metric_passed": "True", "baseline_passed": "True", "fairness": "failed",
        "gate_by": "talentloop demo", "gate_at": "2026-12-07T10:00:00+00:00", "forced_reason": reason,
        "exception": exception})


def test_model_status_words_a_recorded_exception_in_the_answers_language():
    import json

    tagged = _forced(json.dumps(exception_record(FINDINGS)))
    en, zh = model_status(tagged, "en"), model_status(tagged, "zh")
    assert en["failed_checks"] == ["fairness"] and en["reason"].startswith("fairness exception")  # as recorded
    assert en["note"].startswith("This model version serves by an exception talentloop demo recorded on 2026-12-07: "
                                 "it failed its fairness audit. The fairness gap is outcome-driven")
    assert zh["note"].startswith("此模型版本按 talentloop demo 于 2026-12-07 记录的例外上线：未通过公平性审计。公平性差距源于结果本身")
    assert "fairness exception" not in zh["note"] and "(missing)" not in zh["note"] and len(zh["note"]) < 220
    # a free-text reason with no recorded kind is quoted as given
    plain = model_status(_forced(), "zh")
    assert plain["note"].endswith("理由：" + plain["reason"])
    assert model_status(LoadedModel("attrition", "4", model=None, governance={"gate": "promoted"})) is None


def test_team_attrition_reads_as_a_rate_up_to_the_team_size_and_as_a_multiple_above():
    driver = DRIVERS["team_vol_attrition_6m"]
    en, zh = driver.text["en"], driver.text["zh"]
    assert en(0.0) == "no one left the team in the last 6 months" and zh(0.0) == "近6个月团队无人主动离职"
    assert en(0.25) == "team attrition of 25% in the last 6 months" and zh(0.25) == "近6个月团队离职率25%"
    assert en(2.0) == "more people left the team in the last 6 months than it has now (2 times its size)"
    assert zh(1.5) == "近6个月团队主动离职人数超过现有人数（为现有人数的1.5倍）"
    assert en(None) is None
    for v in (0.0, 0.25, 1.0, 1.5, 2.0, 3.25):
        assert "equal to" not in en(v) and "%" not in en(v) if v > 1 else True


def test_group_values_read_as_words_in_both_languages_never_as_codes():
    from models.wording.governance import group_name

    # a nationality outside the wording table, as exports hold it (ISO 3166 alpha-2): its CLDR name
    assert group_name("nationality", {"nationality": "BR"}, "en") == "nationality Brazil"
    assert group_name("nationality", {"nationality": "BR"}, "zh") == "国籍 巴西"
    assert group_name("nationality", {"nationality": "CN"}, "zh") == "国籍 中国"
    assert group_name("ethnicity", {"ethnicity": "BR"}, "en") == "ethnicity BR"  # a code only for nationality
    # a value the export wrote in words stays as written; a missing one reads "not recorded"
    assert group_name("ethnicity", {"ethnicity": "Tujia"}, "en") == "ethnicity Tujia"
    assert group_name("ethnicity", {"ethnicity": "(missing)"}, "zh") == "民族 未记录"
    assert group_name("sex_x_age_band", {"sex": "female", "age_band": "under 40"}, "zh") == "女性 40 岁以下"
