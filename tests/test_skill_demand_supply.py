"""Supply projection arithmetic on a hand-made unit: holders − leavers + completions, and the gap."""

import pandas as pd
import pytest

from models.skill_demand.supply import demand_supply_gap, latest_state, project_supply

IDS = ["org_unit_id", "skill_id"]


def _history() -> pd.DataFrame:
    return pd.DataFrame({
        "org_unit_id": ["u1", "u1", "u1"],
        "skill_id": ["python", "python", "sql"],
        "month": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-02-01"]),
        "holders_at_required": [7.0, 8.0, 4.0],
        "in_training": [0.0, 3.0, 0.0],
        "vol_exits_12m": [2.0, 2.0, 2.0],
        "headcount": [20.0, 20.0, 20.0],
    })


def test_unit_rate_from_exits_and_headcount():
    state = latest_state(_history(), IDS)
    assert state["holders_at_required"].tolist() == [8.0, 4.0]
    assert state["annual_exit_rate"].tolist() == [0.1, 0.1]
    out = project_supply(state, [6, 12], IDS, completion_rate=0.5, months_to_complete=3)
    py = out[out["skill_id"] == "python"].set_index("horizon")
    # 12 months: 8 holders × 10% leave = 0.8; 3 in training × 50% complete = 1.5
    assert py.loc[12, "expected_leavers"] == pytest.approx(0.8)
    assert py.loc[12, "expected_completions"] == pytest.approx(1.5)
    assert py.loc[12, "supply"] == pytest.approx(8 - 0.8 + 1.5)
    # 6 months: survival 0.9 ** 0.5
    assert py.loc[6, "expected_leavers"] == pytest.approx(8 * (1 - 0.9**0.5))


def test_completions_ramp_up_over_the_course_length():
    state = latest_state(_history(), IDS)
    out = project_supply(state, [1, 2, 4], IDS, completion_rate=0.6, months_to_complete=4)
    py = out[out["skill_id"] == "python"].set_index("horizon")["expected_completions"]
    assert py.tolist() == pytest.approx([3 * 0.6 * 0.25, 3 * 0.6 * 0.5, 3 * 0.6])


def test_per_employee_exit_probabilities_are_summed_over_holders():
    state = latest_state(_history(), IDS)
    probs = pd.DataFrame({
        "employee_id": ["e1", "e2", "e1", "e2", "e3"],
        "org_unit_id": "u1",
        "skill_id": ["python", "python", "python", "python", "sql"],
        "horizon": [3, 3, 6, 6, 3],
        "exit_probability": [0.1, 0.2, 0.3, 0.4, 0.5],
    })
    out = project_supply(state, [3, 6], IDS, exit_probabilities=probs, completion_rate=0.0).set_index(
        ["skill_id", "horizon"])["expected_leavers"]
    assert out[("python", 3)] == pytest.approx(0.3)
    assert out[("python", 6)] == pytest.approx(0.7)
    assert out[("sql", 3)] == pytest.approx(0.5)
    assert out[("sql", 6)] == 0.0


def test_per_unit_exit_probabilities_scale_with_holders():
    state = latest_state(_history(), IDS)
    probs = pd.DataFrame({"org_unit_id": ["u1"], "horizon": [3], "exit_probability": [0.25]})
    out = project_supply(state, [3], IDS, exit_probabilities=probs, completion_rate=0.0)
    assert out["expected_leavers"].tolist() == [2.0, 1.0]
    with pytest.raises(ValueError, match="no row for"):
        project_supply(state, [3, 6], IDS, exit_probabilities=probs)
    with pytest.raises(ValueError, match="must lie in \\[0, 1\\]"):
        project_supply(state, [3], IDS, exit_probabilities=probs.assign(exit_probability=1.5))


def test_gap_is_demand_minus_supply_per_quantile():
    state = latest_state(_history(), IDS)
    supply = project_supply(state, [12], IDS, completion_rate=0.5, months_to_complete=3)
    forecast = pd.DataFrame({"org_unit_id": "u1", "skill_id": ["python", "sql"], "horizon": 12,
                             "p10": [8.0, 3.0], "p50": [10.0, 4.0], "p90": [12.0, 6.0]})
    out = demand_supply_gap(forecast, supply, IDS, [0.1, 0.5, 0.9]).set_index("skill_id")
    assert out.loc["python", "gap_p50"] == pytest.approx(10 - 8.7)
    assert out.loc["sql", "gap_p90"] == pytest.approx(6 - 3.6)


def test_missing_supply_columns_are_named():
    with pytest.raises(ValueError, match="supply needs columns 'holders_at_required'"):
        latest_state(_history().drop(columns="in_training"), IDS)


def test_expected_leavers_sum_the_attrition_models_per_person_probabilities():
    from models.skill_demand.supply import holder_exit_probabilities, latest_state, project_supply

    holders = pd.DataFrame({"employee_id": ["e1", "e2", "e3", "e4"], "org_unit_id": ["t1", "t1", "t2", "t2"],
                            "skill_id": ["s", "s", "s", "r"]})
    risks = pd.DataFrame({"employee_id": ["e1", "e2", "e3", "e4", "e9"], "risk": [0.1, 0.3, 0.2, float("nan"), 0.9]})
    closure = pd.DataFrame({"ancestor_id": ["t1", "t2", "d", "d"], "org_unit_id": ["t1", "t2", "t1", "t2"]})
    probs = holder_exit_probabilities(holders, risks, closure, horizon=6)
    assert set(probs["horizon"]) == {6} and "e4" not in set(probs["employee_id"])  # no score: no row
    history = pd.DataFrame({"org_unit_id": ["t1", "t2", "d"], "skill_id": "s", "month": pd.Timestamp("2025-01-01"),
                            "holders_at_required": [2.0, 1.0, 3.0], "in_training": 0.0,
                            "vol_attrition_rate_12m": 0.5})
    state = latest_state(history, ["org_unit_id", "skill_id"])
    got = project_supply(state, [6], ["org_unit_id", "skill_id"], probs).set_index("org_unit_id")
    assert got.loc["t1", "expected_leavers"] == pytest.approx(0.4)
    assert got.loc["t2", "expected_leavers"] == pytest.approx(0.2)
    assert got.loc["d", "expected_leavers"] == pytest.approx(0.6)  # the subtree's holders
    assert got.loc["d", "supply"] == pytest.approx(3.0 - 0.6)
