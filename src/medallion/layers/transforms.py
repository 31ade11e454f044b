"""DataFrame -> DataFrame steps of the silver build, each usable with `df.transform(...)`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from medallion.specs.model import SOURCE_ROW, SilverTable

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["DELETE_FLAG", "LINEAGE_COLUMNS", "SOURCE_ROW", "conform", "content_columns"]

DELETE_FLAG = "_is_delete"
LINEAGE_COLUMNS = ("_source_file", "_ingested_at")


def conform(table: SilverTable) -> Callable[[DataFrame], DataFrame]:
    """Project a bronze row onto the silver columns (spec expressions), keeping lineage.

    Adds `_is_delete` when the table has a `delete_when` predicate, evaluated on the bronze row, and
    keeps `_source_row` when the input has it.
    """
    expressions = [f"{c.select_expression} AS `{c.name}`" for c in table.columns]
    expressions += [f"`{c}`" for c in LINEAGE_COLUMNS]
    if table.delete_when:
        expressions.append(f"coalesce(({table.delete_when}), false) AS `{DELETE_FLAG}`")

    def _conform(df: DataFrame) -> DataFrame:
        kept = [f"`{SOURCE_ROW}`"] if SOURCE_ROW in df.columns else []
        return df.selectExpr(*expressions, *kept)

    return _conform


def content_columns(table: SilverTable) -> list[str]:
    """The spec'd columns: what makes two rows 'the same row' regardless of lineage."""
    return [c.name for c in table.columns]
