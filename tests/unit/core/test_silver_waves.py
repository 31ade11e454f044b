"""The plan's two silver waves: the tables other tables' rules read, in build order, then the rest."""

from __future__ import annotations

from pathlib import Path

from medallion.layers.build_plan import silver_waves, table_lists
from medallion.specs import load_specs
from medallion.specs.model import QualityRule, SilverSpec

PROJECT = Path(__file__).resolve().parents[3]


def _table(name: str, *refs: str) -> SilverSpec:
    rules = tuple(
        QualityRule(
            table=name,
            name=f"{ref}_exists",
            check={"check": {"function": "foreign_key", "arguments": {"ref_table": ref}}},
        )
        for ref in refs
    )
    return SilverSpec(table=name, source_table=name, load_pattern="append", rules=rules)


def _names(wave):
    return [t.table for t in wave]


def test_referenced_tables_come_first_in_build_order_and_a_chain_stays_in_order():
    tables = (
        _table("fact_sale", "dim_store", "dim_item"),
        _table("fact_visit", "dim_store"),
        _table("dim_store", "dim_region"),  # a chain: region before store
        _table("dim_item"),
        _table("dim_region"),
        _table("fact_click", "not_a_silver_table"),
    )
    first, rest = silver_waves(tables)
    assert _names(first) == ["dim_region", "dim_store", "dim_item"]
    assert _names(rest) == ["fact_sale", "fact_visit", "fact_click"]


def test_without_references_the_first_table_leads_so_neither_wave_is_empty():
    first, rest = silver_waves((_table("a"), _table("b"), _table("c", "c")))  # c reads itself only
    assert (_names(first), _names(rest)) == (["a"], ["b", "c"])
    assert silver_waves(()) == ([], [])


def test_the_demo_plan_builds_dimensions_before_the_facts_that_check_against_them():
    lists = table_lists(load_specs(PROJECT / "specs"))
    first = lists["silver_reference_tables"]
    assert set(first) == {"dim_customer", "dim_product", "fact_order"}  # order lines check their order
    assert first.index("dim_customer") < first.index("fact_order")
    assert set(lists["silver_tables"]) == {"fact_order_line", "fact_web_event"}
