"""Attrition labels on hand-made histories: censoring of involuntary exits and of windows past the data end."""

import pandas as pd
import pytest

from models.attrition.labels import data_end, hazard_rows, horizon_labels, snapshots


def _events(rows):
    return pd.DataFrame(rows, columns=["employee_id", "effective_date", "event_type", "termination_type"]).assign(
        effective_date=lambda d: pd.to_datetime(d["effective_date"]))


@pytest.fixture()
def history():
    employees = pd.DataFrame({
        "employee_id": ["stay", "vol", "invol", "late"],
        "hire_date": pd.to_datetime(["2020-01-10", "2020-01-10", "2020-01-10", "2024-03-15"]),
    })
    events = _events([
        ("stay", "2020-01-10", "hire", None),
        ("vol", "2020-01-10", "hire", None),
        ("vol", "2024-03-20", "termination", "voluntary"),  # leaves in March 2024
        ("invol", "2020-01-10", "hire", None),
        ("invol", "2024-02-05", "termination", "involuntary"),  # dismissed in February 2024
        ("late", "2024-03-15", "hire", None),
        ("stay", "2024-06-30", "pay_change", None),  # last event: data runs through June 2024
    ])
    return employees, events


def test_data_end_is_the_month_after_the_last_event(history):
    _, events = history
    assert data_end(events) == pd.Timestamp("2024-07-01", tz="UTC")


def test_snapshots_only_hold_active_employees(history):
    employees, events = history
    snaps = snapshots(employees, events, pd.Timestamp("2024-01-01", tz="UTC"), data_end(events))
    by = snaps.groupby("employee_id")["event_timestamp"].agg(["min", "max", "count"])
    assert by.loc["stay", "count"] == 6
    assert by.loc["vol", "max"] == pd.Timestamp("2024-03-01", tz="UTC")  # active at the start of its exit month
    assert by.loc["invol", "max"] == pd.Timestamp("2024-02-01", tz="UTC")
    assert by.loc["late", "min"] == pd.Timestamp("2024-04-01", tz="UTC")  # hired mid-March: first snapshot April


def test_hazard_rows_label_voluntary_exits_and_censor_the_rest(history):
    employees, events = history
    end = data_end(events)
    snaps = snapshots(employees, events, pd.Timestamp("2024-01-01", tz="UTC"), end)
    rows = hazard_rows(snaps, events, end, max_k=12)
    jan = rows[rows["event_timestamp"] == pd.Timestamp("2024-01-01", tz="UTC")].set_index(["employee_id", "months_ahead"])
    # voluntary leaver: months Jan, Feb negative, March positive, nothing after
    assert jan.loc[("vol", 0), "label"] == 0 and jan.loc[("vol", 2), "label"] == 1
    assert ("vol", 3) not in jan.index
    # involuntary: January observed as 0, February (exit month) and later censored, never negatives
    assert jan.loc[("invol", 0), "label"] == 0
    assert ("invol", 1) not in jan.index and ("invol", 2) not in jan.index
    # window end: January + k must end by July 2024 -> k <= 5 only
    assert jan.xs("stay", level="employee_id").index.max() == 5
    assert rows["label"].sum() == rows[rows["employee_id"] == "vol"]["label"].sum()


def test_horizon_labels_drop_windows_past_the_end_and_involuntary_exits(history):
    employees, events = history
    end = data_end(events)
    snaps = snapshots(employees, events, pd.Timestamp("2024-01-01", tz="UTC"), end)
    h3 = horizon_labels(snaps, events, end, 3).set_index(["employee_id", "event_timestamp"])["label"]
    t = lambda s: pd.Timestamp(s, tz="UTC")  # noqa: E731
    assert h3[("vol", t("2024-01-01"))] == 1 and h3[("vol", t("2024-03-01"))] == 1
    assert ("invol", t("2024-01-01")) not in h3.index  # involuntary exit inside the window: censored
    assert h3[("stay", t("2024-04-01"))] == 0  # April + 3 = July = end: fully observed
    assert ("stay", t("2024-05-01")) not in h3.index  # runs past the end: censored, not negative
    with pytest.raises(ValueError, match="horizon"):
        horizon_labels(snaps, events, end, 13)


def test_negative_sampling_keeps_every_exit_and_reweights():
    import numpy as np

    from models.attrition.labels import sample_negatives

    rows = pd.DataFrame({"label": np.r_[np.ones(50, dtype=np.int8), np.zeros(9950, dtype=np.int8)]})
    out = sample_negatives(rows, 0.2, seed=1)
    assert out["label"].sum() == 50 and (out.loc[out["label"] == 1, "weight"] == 1).all()
    assert abs(out["weight"].sum() - len(rows)) / len(rows) < 0.03  # weighted count ≈ original count
    with pytest.raises(ValueError, match="rate"):
        sample_negatives(rows, 0.0)
