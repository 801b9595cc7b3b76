"""The small hand-made company of the feature tests (``tests.factories.make_company``) covers what they need."""

from __future__ import annotations

from features.contract import CONTRACT
from tests.factories import make_company


def test_company_covers_every_dated_table() -> None:
    tables = make_company(seed=1, employees=20)
    dated = {t.name for t in CONTRACT.values() if t.event_time} - {"courses"}
    assert all(len(tables[name]) > 0 for name in dated if name in tables)
    assert (tables["employment_events"]["event_type"] == "termination").any()
