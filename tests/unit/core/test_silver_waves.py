"""The plan's waves: for silver, the tables other tables' rules read, in build order, then the rest;
for gold, the tables on silver side by side, then those built on gold tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from medallion.errors import ParameterError
from medallion.layers.build_plan import (
    gold_selection,
    gold_waves,
    reference_groups,
    silver_waves,
    table_lists,
)
from medallion.specs import load_specs
from medallion.specs.model import GoldSpec, QualityRule, SilverSpec, Specs

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


def test_reference_tables_linked_by_rules_share_a_group_in_build_order_and_the_rest_stand_alone():
    tables = (
        _table("fact_sale", "dim_store", "dim_item"),
        _table("dim_store", "dim_region"),
        _table("dim_item"),
        _table("dim_region"),
        _table("dim_promo"),
        _table("fact_return", "fact_sale", "dim_promo"),  # joins the sale group with the promotions
        _table("dim_calendar"),
        _table("fact_visit", "dim_calendar"),
        _table("dim_channel"),
        _table("fact_click", "dim_channel"),
        _table("fact_refund", "fact_return"),  # so the returns are read too: in the first wave
    )
    first, _ = silver_waves(tables)
    assert [_names(group) for group in reference_groups(first, tables)] == [
        ["dim_region", "dim_store", "dim_item", "fact_sale", "dim_promo", "fact_return"],
        ["dim_calendar"],
        ["dim_channel"],
    ]
    assert reference_groups([], tables) == []


def test_the_demo_plan_builds_dimensions_before_the_facts_that_check_against_them():
    lists = table_lists(load_specs(PROJECT / "specs"))
    # order lines check their order, orders their customer; products stand alone, built beside them
    assert lists["silver_reference_groups"] == ["dim_customer,fact_order", "dim_product"]
    assert set(lists["silver_tables"]) == {"fact_order_line", "fact_web_event"}


def _gold(name: str, *reads: str) -> GoldSpec:
    return GoldSpec(table=name, sql_file=f"{name}.sql", upstream=tuple(("gold", r) for r in reads))


def test_gold_tables_on_gold_come_after_the_rest_in_dependency_order():
    tables = (
        _gold("daily"),
        _gold("weekly", "daily"),
        _gold("monthly", "weekly"),  # a chain stays in order
        _gold("by_store", "by_store", "not_a_gold_table"),  # itself or an unknown name: on silver
    )
    first, then = gold_waves(tables)
    assert (_names(first), _names(then)) == (["daily", "by_store"], ["weekly", "monthly"])
    specs = Specs(gold=tables)
    assert table_lists(specs)["gold_tables"] == ["daily", "by_store"]
    assert _names(gold_selection(specs, "", "on_gold")) == ["weekly", "monthly"]
    assert _names(gold_selection(specs, "daily, weekly", "")) == ["daily", "weekly"]
    assert _names(gold_selection(specs, "", "")) == ["daily", "weekly", "monthly", "by_store"]
    with pytest.raises(ParameterError, match="wave 'later' is not a gold wave"):
        gold_selection(specs, "", "later")


def test_the_demo_gold_tables_all_read_silver_so_the_second_wave_builds_nothing():
    lists = table_lists(load_specs(PROJECT / "specs"))
    assert lists["gold_tables"] == ["daily_sales", "customer_lifetime_value", "product_performance"]
    assert lists["gold_on_gold_tables"] == []
