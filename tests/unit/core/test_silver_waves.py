"""The plan's waves: for silver, the tables other tables' rules read, in build order, then the rest
(or, when the landing sizes say it finishes sooner, the dimensions alone, then chains of facts);
for gold, the tables on silver side by side, then those built on gold tables. Bronze largest first."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from local_context import local_context

from medallion.errors import ParameterError
from medallion.layers import build_plan
from medallion.layers.build_plan import (
    gold_selection,
    gold_waves,
    landing_sizes,
    reference_groups,
    silver_stages,
    silver_waves,
    table_lists,
)
from medallion.specs import load_specs
from medallion.specs.model import BronzeSpec, GoldSpec, QualityRule, SilverSpec, Specs

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
    # rules that read each other in a ring: the last in build order (b before a) goes second
    first, rest = silver_waves((_table("a", "b"), _table("b", "a")))
    assert (_names(first), _names(rest)) == (["b"], ["a"])


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


# Landing sizes shaped like the demo's at scale: the clickstream outweighs orders and lines together.
DEMO_SIZES = {"customers": 22, "products": 1, "orders": 170, "order_lines": 73, "web_events": 681}


def test_with_landing_sizes_the_demo_builds_dimensions_alone_then_the_order_chain_beside_the_clicks():
    lists = table_lists(load_specs(PROJECT / "specs"), DEMO_SIZES)
    # dims first (largest first); then orders and their lines in order by one run, beside the clicks,
    # which wait for the dimensions only: an estimate of 22 + 681 against (22 + 170) + 681
    assert lists["silver_reference_groups"] == ["dim_customer", "dim_product"]
    assert lists["silver_tables"] == ["fact_web_event", "fact_order,fact_order_line"]
    assert lists["bronze_tables"] == ["web_events", "orders", "order_lines", "customers", "products"]


def test_the_layout_by_referenced_tables_stays_when_it_is_not_slower():
    specs = load_specs(PROJECT / "specs")
    # light clicks: the chain of orders is the heavy part either way, so the first layout stays
    sizes = {**DEMO_SIZES, "web_events": 10}
    lists = table_lists(specs, sizes)
    assert lists["silver_reference_groups"] == ["dim_customer,fact_order", "dim_product"]
    assert lists["silver_tables"] == ["fact_order_line", "fact_web_event"]
    # unknown or empty folders weigh alike: the specs' order
    assert table_lists(specs, {name: 0 for name in DEMO_SIZES}) == table_lists(specs)


def _random_tables(rng: random.Random) -> tuple[SilverSpec, ...]:
    names = [f"t{i}" for i in range(rng.randint(1, 9))]
    return tuple(
        _table(name, *rng.sample(names, rng.randint(0, min(3, len(names))))) for name in names
    )  # self references and cycles included


@pytest.mark.parametrize("seed", range(40))
def test_every_layout_reads_only_tables_built_before_and_keeps_each_table_once(seed):
    rng = random.Random(seed)
    tables = _random_tables(rng)
    weights = {t.table: rng.choice([1, 5, 50]) for t in tables}
    first, second = silver_stages(tables, lambda t: weights[t.table])
    placed = [t.table for wave in (first, second) for group in wave for t in group]
    assert sorted(placed) == sorted(t.table for t in tables)
    assert first and (second or len(tables) == 1)
    names = {t.table for t in tables}
    wave_of = {t.table: i for i, wave in enumerate((first, second)) for group in wave for t in group}
    for wave in (first, second):
        for group in wave:
            for i, table in enumerate(group):
                same_group_before = {t.table for t in group[:i]}
                for ref in {
                    r for rule in table.rules for r in [rule.check["check"]["arguments"]["ref_table"]]
                }:
                    if ref not in names or ref == table.table:
                        continue
                    in_cycle = table.table in _reads_transitively(ref, tables)
                    assert wave_of[ref] < wave_of[table.table] or ref in same_group_before or in_cycle, (
                        seed,
                        table.table,
                        ref,
                        first,
                        second,
                    )
    # the heavier group first within a wave
    for wave in (first, second):
        totals = [sum(weights[t.table] for t in group) for group in wave]
        assert totals == sorted(totals, reverse=True)


def _reads_transitively(name: str, tables: tuple[SilverSpec, ...]) -> set[str]:
    by_name = {t.table: t for t in tables}
    seen: set[str] = set()
    todo = [name]
    while todo:
        for rule in by_name[todo.pop()].rules:
            ref = rule.check["check"]["arguments"]["ref_table"]
            if ref in by_name and ref not in seen:
                seen.add(ref)
                todo.append(ref)
    return seen


def _source(table: str, folder: str) -> BronzeSpec:
    return BronzeSpec(table=table, landing_folder=folder, format="csv")


def test_landing_sizes_count_visible_files_and_stop_counting_on_a_huge_folder(tmp_path, monkeypatch):
    ctx = local_context(tmp_path, "sizes")
    orders = tmp_path / "landing" / "orders"
    (orders / "2024" / "01").mkdir(parents=True)
    (orders / "a.csv").write_bytes(b"x" * 10)
    (orders / "2024" / "01" / "b.csv").write_bytes(b"x" * 5)
    (orders / "_checkpoint").mkdir()
    (orders / "_checkpoint" / "c.csv").write_bytes(b"x" * 1000)  # hidden folders and files: not data
    (orders / ".part.csv").write_bytes(b"x" * 1000)
    specs = Specs(bronze=(_source("orders", "orders"), _source("clicks", "clicks")))
    assert landing_sizes(ctx, specs) == {"orders": 15, "clicks": 0}  # clicks: no folder yet
    monkeypatch.setattr(build_plan, "MAX_FILES_SIZED", 1)
    assert landing_sizes(ctx, specs)["orders"] in (5, 10)  # one file counted, whichever comes first


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
