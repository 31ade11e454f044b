"""The job's plan task: which tables the job builds, in which order, published as task values for
the for-each tasks; and the schemas they need."""

from __future__ import annotations

import logging

from pyspark.sql import SparkSession

from medallion.context import RunContext
from medallion.delta.run_records import ensure_record_tables
from medallion.delta.tables import table_exists
from medallion.errors import ParameterError
from medallion.names import OPS, TABLE_PROPERTY_PREFIX
from medallion.specs.model import LAYERS, GoldSpec, SilverSpec, Specs

__all__ = [
    "GOLD_WAVES",
    "REFRESH_PROPERTY",
    "ensure_schemas",
    "gold_selection",
    "gold_waves",
    "mark_refreshed",
    "pending_refreshes",
    "reference_groups",
    "select_tables",
    "silver_build_order",
    "silver_waves",
    "table_lists",
]

REFRESH_PROPERTY = f"{TABLE_PROPERTY_PREFIX}full_refresh"  # the full_refresh.csv request a table last did
# The gold notebook's `wave` widget: "" builds the tables of its `table` widget (all when empty),
# "on_gold" the tables built on other gold tables (the job's second gold wave).
GOLD_WAVES = ("", "on_gold")

log = logging.getLogger(__name__)


def table_lists(specs: Specs) -> dict[str, list[str]]:
    """Task values: `bronze_tables`, `silver_reference_groups`, `silver_tables`, `gold_tables`,
    `gold_on_gold_tables`.

    Silver is built in two waves, so that a table's foreign-key rules (`ref_table`) check against
    a reference table this run has already loaded, while the tables of a wave run side by side:
    first the tables other tables' rules read, in groups that run side by side (`reference_groups`:
    "dim_customer,fact_order" is built in that order by one run), then every other table, which no
    rule reads. Neither list is empty while there are silver tables (a for-each task needs inputs).

    Gold too: first the tables that read no other gold table, side by side (`gold_tables`, never
    empty while there are gold tables), then the ones built on gold tables, in dependency order, by
    one notebook run (`gold_on_gold_tables`, shown here; the notebook finds them in the specs).
    """
    references, others = silver_waves(specs.silver)
    on_silver, on_gold = gold_waves(specs.gold)
    return {
        "bronze_tables": [s.table for s in specs.bronze],
        "silver_reference_groups": [
            ",".join(t.table for t in group) for group in reference_groups(references, specs.silver)
        ],
        "silver_tables": [s.table for s in others],
        "gold_tables": [g.table for g in on_silver],
        "gold_on_gold_tables": [g.table for g in on_gold],
    }


def gold_waves(tables: tuple[GoldSpec, ...]) -> tuple[list[GoldSpec], list[GoldSpec]]:
    """(tables that read no other gold table; the rest), each in the specs' dependency order."""
    names = {t.table.lower() for t in tables}

    def on_gold(table: GoldSpec) -> bool:
        return any(
            layer == "gold" and name.lower() in names and name.lower() != table.table.lower()
            for layer, name in table.upstream
        )

    return [t for t in tables if not on_gold(t)], [t for t in tables if on_gold(t)]


def gold_selection(specs: Specs, table: str, wave: str) -> list[GoldSpec]:
    """The gold tables a run of the gold notebook builds, from its `table` and `wave` widgets."""
    if wave not in GOLD_WAVES:
        raise ParameterError(
            f"wave {wave!r} is not a gold wave; leave the 'wave' widget empty (the tables of 'table', "
            f"all when empty) or set it to 'on_gold' (the tables built on other gold tables)"
        )
    if wave == "on_gold":
        return gold_waves(specs.gold)[1]
    return select_tables(specs.gold, table)


def silver_waves(tables: tuple[SilverSpec, ...]) -> tuple[list[SilverSpec], list[SilverSpec]]:
    """(tables another table's rules read, in build order; the rest). When no rule reads another
    table, the first table moves to the first wave, so that neither is empty."""
    ordered = silver_build_order(tables)
    read = {ref for table in tables for ref in _references(table, tables)}
    references = [t for t in ordered if t.table.lower() in read]
    others = [t for t in ordered if t.table.lower() not in read]
    if not references and others:
        references.append(others.pop(0))
    return references, others


def reference_groups(references: list[SilverSpec], tables: tuple[SilverSpec, ...]) -> list[list[SilverSpec]]:
    """The first wave split into groups with no rule reading across them (the tables linked by
    references, directly or through each other), each in build order: one group's tables are built
    one after another, the groups side by side."""
    names = {t.table.lower() for t in references}
    group_of = {name: name for name in names}  # union-find over the references between them

    def root(name: str) -> str:
        while group_of[name] != name:
            name = group_of[name]
        return name

    for table in references:
        for ref in _references(table, tables):
            if ref in names:
                group_of[root(ref)] = root(table.table.lower())
    groups: dict[str, list[SilverSpec]] = {}
    for table in references:  # build order within a group, groups by their first table
        groups.setdefault(root(table.table.lower()), []).append(table)
    return list(groups.values())


def silver_build_order(tables: tuple[SilverSpec, ...]) -> list[SilverSpec]:
    """Spec order, except that a table referenced by another's rules (`ref_table`) comes first."""
    by_name = {t.table.lower(): t for t in tables}
    ordered: list[SilverSpec] = []
    visiting: set[str] = set()

    def visit(table: SilverSpec) -> None:
        name = table.table.lower()
        if table in ordered or name in visiting:
            return  # placed already, or a reference cycle: keep spec order
        visiting.add(name)
        for ref in _references(table, tables):
            visit(by_name[ref])
        visiting.discard(name)
        ordered.append(table)

    for table in tables:
        visit(table)
    return ordered


def _references(table: SilverSpec, tables: tuple[SilverSpec, ...]) -> list[str]:
    """The other silver tables (lower case) the table's rules read, in rule order."""
    names = {t.table.lower() for t in tables}
    found: dict[str, None] = {}
    for rule in table.rules:
        ref = rule.check.get("check", {}).get("arguments", {}).get("ref_table")
        if isinstance(ref, str) and ref.lower() in names and ref.lower() != table.table.lower():
            found[ref.lower()] = None
    return list(found)


def ensure_schemas(spark: SparkSession, ctx: RunContext) -> None:
    """Create the layer schemas and the ops schema with its record tables if they are missing (the
    catalog must exist)."""
    for layer in (*LAYERS, OPS):
        spark.sql(f"CREATE SCHEMA IF NOT EXISTS {ctx.schema(layer)}")
        log.info("schema %s ready", ctx.schema(layer))
    ensure_record_tables(spark, ctx)


def select_tables(items: tuple, wanted: str, widget: str = "table") -> list:
    """The spec objects named in `wanted` (comma separated); empty means all of them."""
    names = [n.strip() for n in wanted.replace(";", ",").split(",") if n.strip()]
    if not names:
        return list(items)
    by_name = {item.table: item for item in items}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ParameterError(
            f"table {', '.join(unknown)} is not in the specs for this layer "
            f"(known: {', '.join(by_name) or 'none'}); fix the '{widget}' widget or add the table to the specs"
        )
    return [by_name[n] for n in names]


def pending_refreshes(spark: SparkSession, ctx: RunContext, specs: Specs) -> dict[str, str]:
    """Silver table -> fingerprint of its `full_refresh.csv` row, for the rows this table has not done
    yet (a breaking spec change acknowledged in the specs is applied by exactly one run)."""
    pending = {}
    for request in specs.of("full_refresh"):
        table = next((t.table for t in specs.silver if t.table.lower() == request.table.lower()), None)
        if table is None:
            continue
        name = ctx.table("silver", table)
        done = ""
        if table_exists(spark, name):
            rows = spark.sql(f"SHOW TBLPROPERTIES {name}").collect()
            done = next((r["value"] for r in rows if r["key"] == REFRESH_PROPERTY), "")
        if done != request.fingerprint:
            pending[table] = request.fingerprint
    return pending


def mark_refreshed(spark: SparkSession, ctx: RunContext, table: str, fingerprint: str) -> None:
    """Record on the table that it did the `full_refresh.csv` request `fingerprint`."""
    quoted = fingerprint.replace("\\", "\\\\").replace("'", "\\'")
    spark.sql(
        f"ALTER TABLE {ctx.table('silver', table)} SET TBLPROPERTIES ('{REFRESH_PROPERTY}' = '{quoted}')"
    )
    log.warning("silver %s: rebuilt from bronze as specs/full_refresh.csv asks (done once)", table)
