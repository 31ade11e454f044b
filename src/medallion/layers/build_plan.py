"""The job's plan task: which tables the job builds, in which order, published as task values for
the for-each tasks; and the schemas they need."""

from __future__ import annotations

import logging

from pyspark.sql import SparkSession

from medallion.context import RunContext
from medallion.errors import ParameterError
from medallion.specs.model import LAYERS, SilverSpec, Specs

__all__ = ["ensure_schemas", "select_tables", "silver_build_order", "table_lists"]

log = logging.getLogger(__name__)


def table_lists(specs: Specs) -> dict[str, list[str]]:
    """Task values: `bronze_tables`, `silver_tables`, `gold_tables` (gold in dependency order).

    Silver tables come after the tables their foreign-key rules read (dimensions before facts).
    """
    return {
        "bronze_tables": [s.table for s in specs.bronze],
        "silver_tables": [s.table for s in silver_build_order(specs.silver)],
        "gold_tables": [g.table for g in specs.gold],
    }


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
        for rule in table.rules:
            ref = rule.check.get("check", {}).get("arguments", {}).get("ref_table")
            if isinstance(ref, str) and ref.lower() in by_name and ref.lower() != name:
                visit(by_name[ref.lower()])
        visiting.discard(name)
        ordered.append(table)

    for table in tables:
        visit(table)
    return ordered


def ensure_schemas(spark: SparkSession, ctx: RunContext) -> None:
    """Create the three schemas if they are missing (the catalog must exist)."""
    for layer in LAYERS:
        spark.sql(f"CREATE SCHEMA IF NOT EXISTS {ctx.schema(layer)}")
        log.info("schema %s ready", ctx.schema(layer))


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
