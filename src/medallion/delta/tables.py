"""Small Delta Lake helpers on top of `delta.tables.DeltaTable`: existence, history, versions, and
recovery from a table create that a killed run left half done."""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from delta.tables import DeltaTable

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)
_ORPHAN = re.compile(r"DELTA_CREATE_TABLE_WITH_NON_EMPTY_LOCATION.*?location \('(file:[^']+)'\)", re.DOTALL)

__all__ = ["creating", "current_version", "last_commit", "table_exists"]


def table_exists(spark: SparkSession, name: str) -> bool:
    return spark.catalog.tableExists(name.replace("`", ""))


def last_commit(spark: SparkSession, name: str) -> dict[str, Any] | None:
    """The newest entry of the table's Delta history, or None if the table does not exist."""
    if not table_exists(spark, name):
        return None
    try:
        table = DeltaTable.forName(spark, name)
    except Exception as exc:  # a view or a non-Delta table has no history to show
        if "DELTA_MISSING_DELTA_TABLE" in str(exc) or "not a Delta table" in str(exc):
            return None
        raise
    rows = table.history(1).collect()
    return rows[0].asDict(recursive=True) if rows else None


def current_version(spark: SparkSession, name: str) -> int | None:
    commit = last_commit(spark, name)
    return None if commit is None else int(commit["version"])


def creating[T](action: Callable[[], T]) -> T:
    """Run a write that may create a table; recover once from a create a killed run left half done.

    A process killed while creating a table in the local metastore can leave the table's folder
    without registering the table; the next CREATE then refuses the non-empty location. No batch
    that wrote there was committed (the stream commits only after the write returns), so the folder
    is removed and the write retried. Only local (`file:`) locations are touched.
    """
    try:
        return action()
    except Exception as exc:
        match = _ORPHAN.search(str(exc))
        if not match:
            raise
        folder = unquote(urlparse(match.group(1)).path)
        log.warning("removing %s, left by an interrupted table create, and retrying", folder)
        shutil.rmtree(folder, ignore_errors=True)
        return action()
