"""Small Delta Lake helpers on top of `delta.tables.DeltaTable` (history, versions, existence)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["current_version", "last_commit", "table_exists"]


def table_exists(spark: SparkSession, name: str) -> bool:
    return spark.catalog.tableExists(name.replace("`", ""))


def last_commit(spark: SparkSession, name: str) -> dict[str, Any] | None:
    """The newest entry of the table's Delta history, or None if the table does not exist."""
    from delta.tables import DeltaTable

    if not table_exists(spark, name):
        return None
    rows = DeltaTable.forName(spark, name).history(1).collect()
    return rows[0].asDict(recursive=True) if rows else None


def current_version(spark: SparkSession, name: str) -> int | None:
    commit = last_commit(spark, name)
    return None if commit is None else int(commit["version"])
