"""Alert store: re-scoring a month never duplicates alerts, reviews are append-only, filters and paging."""

import sqlite3

import pytest

from features.app_db import connect
from models.attrition.alerts import (
    Explained,
    StoredScore,
    get_alert,
    history,
    latest_score,
    list_alerts,
    review,
    write_scores,
)
from models.explanation import StoredExplanation


def _scored(as_of: str, risks: dict[str, float], units: dict[str, str]) -> list[StoredScore]:
    explained = Explained(3, StoredExplanation(-3.0, (), {"en": ("x",), "zh": ("甲",)}), (), None)
    return [StoredScore(as_of, e, units[e], "1", {3: r}, explained) for e, r in risks.items()]


@pytest.fixture()
def con(tmp_path):
    c = connect(tmp_path / "app.db")
    yield c
    c.close()


def test_rescoring_the_same_month_does_not_duplicate_alerts(con):
    units = {"E1": "T1", "E2": "T1", "E3": "T2"}
    scored = _scored("2025-06-01", {"E1": 0.4, "E2": 0.1, "E3": 0.3}, units)
    alerts = [s for s in scored if s.risk(3) >= 0.25]
    assert write_scores(con, scored, alerts) == (3, 2)
    assert write_scores(con, scored, alerts) == (3, 0)
    listed, total = list_alerts(con)
    assert total == 2 and [a.employee_id for a in listed] == ["E1", "E3"]
    assert latest_score(con, "E2") == scored[1]  # read back as written


def test_review_workflow_keeps_history_and_is_append_only(con):
    scored = _scored("2025-06-01", {"E1": 0.4}, {"E1": "T1"})
    write_scores(con, scored, scored)
    alert = list_alerts(con)[0][0]
    review(con, alert.alert_id, "acknowledged", reviewer="hrbp-1", note="跟进中")
    hist = review(con, alert.alert_id, "actioned", reviewer="hrbp-1", action_taken="stay interview")
    assert [h["status"] for h in hist] == ["acknowledged", "actioned"] and hist[0]["note"] == "跟进中"
    assert get_alert(con, alert.alert_id).status == "actioned"
    # re-scoring keeps the review status
    write_scores(con, scored, scored)
    assert get_alert(con, alert.alert_id).status == "actioned"
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("DELETE FROM alert_reviews")
    with pytest.raises(ValueError, match="status"):
        review(con, alert.alert_id, "closed", reviewer="x")
    with pytest.raises(KeyError):
        review(con, "att-nope", "dismissed", reviewer="x")
    assert len(history(con, alert.alert_id)) == 2


def test_filters_scope_and_paging(con):
    units = {f"E{i}": ("T1" if i % 2 else "T2") for i in range(10)}
    scored = _scored("2025-06-01", {e: i / 10 for i, e in enumerate(units)}, units)
    write_scores(con, scored, scored)
    t1, total = list_alerts(con, org_units=["T1"])
    assert total == 5 and {a.org_unit_id for a in t1} == {"T1"}
    assert list_alerts(con, org_units=[])[1] == 0
    high, n_high = list_alerts(con, min_risk=0.75)
    assert n_high == 2 and all(a.risk >= 0.75 for a in high)
    page2, total = list_alerts(con, page=2, page_size=4)
    assert total == 10 and len(page2) == 4 and page2[0].risk == pytest.approx(0.5)


def test_erasure_removes_scores_alerts_and_reviews_and_restores_the_guard(con):
    from models.attrition.alerts import erase_employee

    scored = _scored("2025-06-01", {"E1": 0.4, "E2": 0.5}, {"E1": "T1", "E2": "T1"})
    write_scores(con, scored, scored)
    review(con, "att-202506-E1", "acknowledged", reviewer="hrbp", note="personal note")
    review(con, "att-202506-E2", "acknowledged", reviewer="hrbp")
    assert erase_employee(con, "E1") == {"app:attrition_scores": 1, "app:attrition_alerts": 1, "app:alert_reviews": 1}
    assert latest_score(con, "E1") is None and get_alert(con, "att-202506-E1") is None
    assert len(history(con, "att-202506-E2")) == 1
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("DELETE FROM alert_reviews")
