"""The contract declaration is consistent and its document is in step with it."""

from pathlib import Path

from features.contract import CONTRACT, FEEDS, PROTECTED_ATTRIBUTES, TABLES, dependency_order, tables_of
from features.contract_docs import render_contract_doc

ROOT = Path(__file__).resolve().parents[1]


def test_doc_is_generated_from_the_declaration():
    doc = (ROOT / "docs" / "data-contract.md").read_text(encoding="utf-8")
    assert doc == render_contract_doc(), "run `talentloop contract docs` after changing features/contract.py"


def test_every_reference_points_at_a_declared_column():
    for t in TABLES:
        for c in t.columns:
            if c.ref:
                table, column = c.ref.split(".")
                assert column in CONTRACT[table].column_names, f"{t.name}.{c.name} -> {c.ref}"


def test_keys_and_event_times_are_columns():
    for t in TABLES:
        assert set(t.key) <= set(t.column_names), t.name
        assert t.event_time is None or t.event_time in t.column_names, t.name


def test_dependency_order_puts_referenced_tables_first():
    seen: set[str] = set()
    for t in dependency_order():
        for c in t.columns:
            if c.ref and c.ref.split(".")[0] != t.name:
                assert c.ref.split(".")[0] in seen, f"{t.name} before {c.ref}"
        seen.add(t.name)
    assert len(seen) == len(TABLES)


def test_four_feeds_and_the_protected_attributes():
    assert [f for f in FEEDS if tables_of(f)] == list(FEEDS)
    assert set(PROTECTED_ATTRIBUTES) == {"birth_year", "sex", "ethnicity", "marital_status", "nationality"}
