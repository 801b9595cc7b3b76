"""What people read, rendered and checked: every alert, every lever and the top 10 courses of every active
employee of a small company (the serving test workspace: 300 employees × 24 months, seed 1), in English and
Chinese, through the real app. Rules (models/wording/rules.py, docs/wording.md): no forbidden token (unknown,
n/a, nan, None, ?), no raw code, no "0 months", no untranslated English in Chinese; each driver sentence states
the value the model used; levers worth showing; alerts with their context; courses in score order or placed
by an explicit rule; an empty list says why."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from models.wording.rules import violations
from models.wording.units import DAYS_PER_MONTH, duration
from tests.serving_workspace import auth

LANGS = ("en", "zh")
TEXT_KEYS = {"reasons", "display_name", "description", "kind", "title", "text", "why_empty", "cost_text",
             "placed_by_text", "job_title", "org_unit_name", "tenure_text", "rating_text",
             "band_name", "band_text", "change_text", "change_drivers"}


def _texts(obj, key: str | None = None) -> list[str]:
    if isinstance(obj, dict):
        return [t for k, v in obj.items() for t in _texts(v, k)]
    if isinstance(obj, list):
        return [t for v in obj for t in _texts(v, key)]
    return [obj] if isinstance(obj, str) and key in TEXT_KEYS else []


def _assert_clean(body: dict, lang: str, where: str) -> None:
    bad = [(t, violations(t, lang)) for t in _texts(body) if violations(t, lang)]
    assert not bad, f"{where} ({lang}): {bad[:5]}"


@pytest.fixture(scope="module")
def admin(workspace):
    return auth(workspace.key("admin"))


@pytest.fixture(scope="module")
def active(workspace) -> list[str]:
    return sorted(workspace.employees()["employee_id"].astype(str))


# ---------------------------------------------------------------------- alerts and levers
@pytest.mark.parametrize("lang", LANGS)
def test_every_alert_reads_right_and_carries_its_context(client, admin, lang):
    items, page = [], 1
    while True:
        body = client.get("/v1/attrition-alerts", params={"page": page, "page_size": 500, "lang": lang},
                          headers=admin).json()
        items += body["items"]
        if page * 500 >= body["total"]:
            break
        page += 1
    assert items, "the workspace raised no alert"
    ranker = "course_ranker" in client.app.state.services.registry.loaded()
    for a in items:
        _assert_clean(a, lang, a["alert_id"])
        ctx = a["context"]
        assert ctx is not None and ctx["job_title"] and ctx["org_unit_name"] and ctx["tenure_text"]
        assert ctx["band"] in ("high", "very_high")  # alerted: at or above the threshold
        assert ctx["band_text"] and ctx["change_text"] and ctx["rating_text"]
        if ctx["band_exit_rate"] is not None:  # the observed rate is quoted as a share, e.g. "(21% of 412)"
            assert f"{ctx['band_exit_rate'] * 100:.0f}%" in ctx["band_text"]
        if ctx["risk_previous_month"] is not None:
            assert abs(ctx["risk_change"] - (a["risk"] - ctx["risk_previous_month"])) < 1e-9
        for lever in a["levers"]:
            assert lever["change"] <= -0.005 and lever["text"]
            if lever["lever"] == "pay_to_band_midpoint":
                assert lever["raise_cost"] > 0 and lever["cost_text"]
            if lever["lever"] == "complete_a_course" and ranker and not lever["course_id"]:
                # worded without a course only when the recommender cannot answer for this person (a person
                # it has no course for gets no course lever: there is no gap to close)
                recs = client.get(f"/v1/employees/{a['employee_id']}/course-recommendations",
                                  params={"k": 1, "lang": lang}, headers=admin)
                assert recs.status_code != 200, (a["alert_id"], lever)
            if lever["course_id"]:  # named by its title, not its id
                assert lever["course_id"] not in lever["description"]
                assert ("“" if lang == "en" else "《") in lever["description"]
        if lang == "zh":
            assert all(re.search(r"[\u4e00-\u9fff]", t) for t in _texts(a))


@pytest.mark.parametrize("lang", LANGS)
def test_every_active_employee_risk_levers_and_top_10_courses(client, admin, active, lang):
    served = lists = 0
    for e in active:
        r = client.get(f"/v1/employees/{e}/attrition-risk", params={"lang": lang}, headers=admin)
        levers = []
        if r.status_code == 200:
            served += 1
            body = r.json()
            _assert_clean(body, lang, f"{e} attrition-risk")
            levers = body["levers"]
            assert all(lv["change"] <= -0.005 for lv in levers)
        r = client.get(f"/v1/employees/{e}/course-recommendations", params={"lang": lang, "k": 10}, headers=admin)
        if r.status_code == 503:
            pytest.skip("no course ranker in the workspace")
        if r.status_code != 200:
            continue
        lists += 1
        body = r.json()
        _assert_clean(body, lang, f"{e} courses")
        courses = body["courses"]
        assert courses or body["why_empty"], f"{e}: an empty list says why"
        # no course to recommend: no "complete a course that closes a skill gap" lever either
        assert courses or not any(lv["lever"] == "complete_a_course" for lv in levers), (e, levers)
        for i, c in enumerate(courses):
            later = max((d["score"] for d in courses[i + 1:]), default=-np.inf)
            assert (later <= c["score"] + 1e-12) == (c["placed_by"] == "score"), (e, i, c["placed_by"])
            if c["placed_by"] != "score":
                assert c["placed_by_text"]
    assert served >= len(active) // 2 and lists >= len(active) // 2


# ---------------------------------------------------------------------- sentences state the values used
def _months_said(text: str) -> float | None:
    """The duration in a sentence, back in months (None when it names none)."""
    m = re.search(r"(\d+(?:\.\d+)?) ?(days?|天|weeks?|周|months?|个月|years?|年)", text)
    if not m:
        return None
    n, unit = float(m.group(1)), m.group(2)
    per = {"d": 1 / DAYS_PER_MONTH, "天": 1 / DAYS_PER_MONTH, "w": 7 / DAYS_PER_MONTH, "周": 7 / DAYS_PER_MONTH,
           "m": 1.0, "个": 1.0, "y": 12.0, "年": 12.0}[unit[0]]
    return n * per


def _tolerance(months: float) -> float:
    """About half the unit the duration is worded in (a day or a week, a month, half a year)."""
    if months < 1:
        return 4 / DAYS_PER_MONTH
    return 0.5 if months < 23.5 else 3.0


MONTH_FEATURES = ("tenure_months", "months_since_promotion", "months_since_pay_change", "months_since_manager_change",
                  "months_since_review")
PCT_FEATURES = ("pay_vs_band_mid", "pay_band_position", "last_kpi_attainment", "team_vol_attrition_6m",
                "online_share_12m", "workshop_share_12m", "mentoring_share_12m")
COUNT_FEATURES = ("manager_changes_12m", "transfers_12m", "team_vol_exits_6m", "completions_3m", "completions_12m",
                  "n_skills_below_required", "unit_open_requisitions", "team_size", "job_level", "n_required_skills",
                  "enrollments_in_progress", "training_points_3m", "training_points_12m")


def test_every_driver_sentence_states_the_value_the_model_used(workspace):
    from features.build import feature_path
    from features.store import feature_columns
    from models.attrition.reasons import DRIVERS

    df = pd.read_parquet(feature_path(workspace.settings.feature_dir, "employee_monthly"))
    columns = feature_columns("attrition_v1")
    frame = df[df["event_timestamp"] == df["event_timestamp"].max()][columns]
    checked = 0
    for row in frame.astype(object).where(frame.notna(), None).to_dict(orient="records"):
        for name in columns:
            v = row[name]
            for lang in LANGS:
                text = DRIVERS[name].reason(v, lang, row)
                if text is None:
                    continue
                assert not violations(text, lang), (name, v, text)
                if v is None:
                    if not DRIVERS[name].uses:  # missing: worded as missing, never a number (a sentence that
                        assert not re.search(r"\d", text), (name, text)  # reads other inputs may state those)
                    continue
                v = float(v) if name != "job_family" else v
                checked += 1
                if name in MONTH_FEATURES:
                    said = _months_said(text)
                    assert said is not None and abs(said - v) <= _tolerance(v), (name, v, text)
                elif name == "team_vol_attrition_6m" and v > 1:  # more exits than people left: a multiple
                    assert f"{v:.1f}".removesuffix(".0") in text, (name, v, text)
                elif name == "pay_band_position" and round(v * 100) == 100:
                    assert ("top" if lang == "en" else "上限") in text, (name, v, text)
                elif name == "pay_band_position" and v > 1:  # above the band: by how much of its width
                    assert f"{(v - 1) * 100:.0f}%" in text and ("top" if lang == "en" else "上限") in text, (name, v, text)
                elif name in PCT_FEATURES and round(abs(v) * 100) != 0:  # under 0.5%: "at the band midpoint"
                    assert f"{abs(v) * 100:.0f}%" in text, (name, v, text)
                elif name in COUNT_FEATURES and round(v) != 0:
                    assert re.search(rf"(?<![\d.]){int(round(v))}(?![\d.])", text), (name, v, text)
                elif name in ("last_rating", "prev_rating"):
                    assert f"{v:.0f}/5" in text, (name, v, text)
                elif name in ("training_hours_3m", "training_hours_12m") and v > 0:
                    assert f"{v:,.1f}".removesuffix(".0") in text, (name, v, text)
    assert checked > 1000


def test_durations_fit_their_size():
    assert duration(4 / DAYS_PER_MONTH, "en") == "4 days" and duration(4 / DAYS_PER_MONTH, "zh") == "4天"
    assert duration(0.5, "en") == "2 weeks" and duration(0.5, "zh") == "2周"
    assert duration(1.0, "en") == "1 month" and duration(14.2, "zh") == "14个月"
    assert duration(30, "en") == "2.5 years" and duration(36, "zh") == "3年"


@pytest.mark.parametrize("lang", LANGS)
def test_band_position_and_lever_risks_never_read_as_a_missing_zero_or_as_no_change(lang):
    from models.wording.attrition import band_position
    from models.wording.levers import lever_texts

    at = {v: band_position(v, lang) for v in (-0.12, -0.005, 0.0, 0.005, 0.3, 0.996, 1.0, 1.005, 1.2)}
    assert not any(re.search(r"(?<![\d.])(0|100)%", t) for t in at.values())  # no "0%" / "100%" of the band
    bottom, top = ("pay at the bottom of its band", "pay at the top of its band") if lang == "en" else (
        "薪酬处于带宽下限", "薪酬处于带宽上限")
    assert at[-0.005] == at[0.0] == at[0.005] == bottom and at[0.996] == at[1.0] == at[1.005] == top
    assert "12%" in at[-0.12] and "20%" in at[1.2] and "30%" in at[0.3]
    assert ("below" if lang == "en" else "低于") in at[-0.12] and ("above" if lang == "en" else "高于") in at[1.2]
    lever = {"lever": "promotion", "description": {"en": "Promote", "zh": "晋升"}, "risk_before": 0.0521,
             "risk_after": 0.0459, "change": -0.0062}
    text = lever_texts(lever, lang, 3)["text"]  # 5.2% -> 4.6% would round to "from 5% to 5%"
    assert "5.2%" in text and "4.6%" in text and not violations(text, lang)
    assert "from 30% to 21%" in lever_texts({**lever, "risk_before": 0.30, "risk_after": 0.21, "change": -0.09},
                                            "en", 3)["text"]


def test_a_hire_is_not_a_manager_change_and_new_hires_say_so(workspace):
    from features.build import feature_path
    from models.attrition.reasons import DRIVERS

    df = pd.read_parquet(feature_path(workspace.settings.feature_dir, "employee_monthly"))
    new = df[df["tenure_months"] < 1]
    assert len(new) and new["months_since_manager_change"].isna().mean() > 0.9  # no change since the hire
    assert (new["new_hire"] == 1).all() and (df.loc[df["tenure_months"] >= 3, "new_hire"] == 0).all()
    row = new.iloc[0].to_dict()
    assert DRIVERS["months_since_manager_change"].reason(None, "en", row).startswith("same manager since joining")
    assert DRIVERS["tenure_months"].reason(row["tenure_months"], "zh").startswith("本月入职")


# ---------------------------------------------------------------------- courses that add up
def test_gap_closure_is_capped_by_the_course_target_level():
    from features.feature_repo.definitions import _match_row

    # 3 → 4 gap on s1: a course that teaches s1 up to level 3 closes none of it, one up to 5 closes it
    assert _match_row(["s1"], [1.0], ["s1"], [], "c", [4], [3])[:3] == (0.0, 0.0, 0)
    assert _match_row(["s1"], [1.0], ["s1"], [], "c", [4], [5])[:3] == (1.0, 1.0, 1)
    assert _match_row(["s1"], [2.0], ["s1"], [], "c", [4], [3])[:3] == (1.0, 1.0, 1)  # 2 → 4 up to 3: one level


def test_placed_by_names_why_a_course_sits_above_a_higher_score():
    from models.course_ranker.selection import placed_by as _placed_by

    assert _placed_by(np.array([3.0, 2.0, 1.0]), np.zeros(3, bool), False) == ["score"] * 3
    assert _placed_by(np.array([3.0, 0.67, 1.85, 1.0]), np.zeros(4, bool), False) == [
        "score", "diversity", "score", "score"]


def test_secondary_skills_of_the_simulated_catalog_are_related():
    from features.simulator.catalog import build_catalog
    from features.simulator.taxonomy import build_taxonomy

    tax = build_taxonomy()
    cat = build_catalog(tax, np.random.default_rng(3), 24)
    category = dict(zip(tax.skills["skill_id"], tax.skills["category"], strict=True))
    cs = cat.course_skills.assign(category=cat.course_skills["skill_id"].map(category))
    assert (cs.groupby("course_id")["category"].nunique() == 1).all()
    assert (cs.groupby("course_id").size() > 1).any()


def test_simulate_ends_at_the_last_complete_month_unless_told():
    from datetime import date

    from talentloop.cli.simulate import first_month

    assert first_month(36, None, None, date(2026, 12, 7)) == "2023-12"  # ends 2026-11: snapshot 2026-12-01
    assert first_month(36, None, "2025-12") == "2023-01"
    assert first_month(12, "2024-03", None) == "2024-03"
    with pytest.raises(ValueError, match="--end"):
        first_month(12, None, "2025-13")
