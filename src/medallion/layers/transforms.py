"""DataFrame -> DataFrame steps of the silver build, each usable with `df.transform(...)`."""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import DataFrame

from medallion.names import IS_DELETE, LINEAGE_COLUMNS, SOURCE_ROW
from medallion.specs.model import SilverSpec

__all__ = ["conform", "content_columns"]


def conform(table: SilverSpec) -> Callable[[DataFrame], DataFrame]:
    """Project a bronze row onto the silver columns (spec expressions), keeping lineage.

    Adds `_is_delete` when the table has a `delete_when` predicate, evaluated on the bronze row, and
    keeps `_source_row` when the input has it.
    """
    expressions = [f"{c.select_expression} AS `{c.name}`" for c in table.columns]
    expressions += [f"`{c}`" for c in LINEAGE_COLUMNS]
    if table.delete_when:
        expressions.append(f"coalesce(({table.delete_when}), false) AS `{IS_DELETE}`")

    def _conform(df: DataFrame) -> DataFrame:
        kept = [f"`{SOURCE_ROW}`"] if SOURCE_ROW in df.columns else []
        return df.selectExpr(*expressions, *kept)

    return _conform


def content_columns(table: SilverSpec) -> list[str]:
    """The spec'd columns: what makes two rows 'the same row' regardless of lineage."""
    return [c.name for c in table.columns]
