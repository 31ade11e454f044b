"""The plan step: what the job will build, published as task values for the for-each tasks."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from medallion.context import RunContext
from medallion.specs.model import LAYERS, Specs

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["ensure_schemas", "select_tables", "table_lists"]

log = logging.getLogger(__name__)


def table_lists(specs: Specs) -> dict[str, list[str]]:
    """Task values: `bronze_tables`, `silver_tables`, `gold_tables` (gold in dependency order)."""
    return {
        "bronze_tables": [s.table for s in specs.bronze],
        "silver_tables": [s.table for s in specs.silver],
        "gold_tables": [g.table for g in specs.gold],
    }


def ensure_schemas(spark: SparkSession, ctx: RunContext) -> None:
    """Create the three schemas if they are missing (the catalog must exist)."""
    for layer in LAYERS:
        spark.sql(f"CREATE SCHEMA IF NOT EXISTS {ctx.schema(layer)}")
        log.info("schema %s ready", ctx.schema(layer))


def select_tables(items: tuple, wanted: str, widget: str = "table") -> list:
    """The spec objects named in `wanted` (comma separated); empty means all of them."""
    from medallion.errors import ParameterError

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
