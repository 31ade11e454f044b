"""Small Delta Lake helpers on top of `delta.tables.DeltaTable`: existence, history, versions, and
recovery from a table create that a killed run left half done."""

from __future__ import annotations

import logging
import re
import shutil
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote, urlparse

from delta.tables import DeltaTable

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)
_CREATE_RACE = re.compile(
    r"TABLE_OR_VIEW_ALREADY_EXISTS|TableAlreadyExistsException|DELTA_TABLE_ALREADY_EXISTS|"
    r"MetadataChangedException|ProtocolChangedException|DELTA_METADATA_CHANGED|DELTA_PROTOCOL_CHANGED"
)
_ORPHAN = re.compile(r"DELTA_CREATE_TABLE_WITH_NON_EMPTY_LOCATION.*?location \('(file:[^']+)'\)", re.DOTALL)

__all__ = [
    "UPKEEP_OPERATIONS",
    "TableGuard",
    "creating",
    "current_version",
    "last_commit",
    "last_write",
    "table_exists",
]


class TableGuard(Protocol):
    """Puts a table's protection (masks, row filter, tags) in place before rows reach it. Writers
    create a table it `protects` empty, call it with `created=True`, then write; they call it with
    `created=False` for tables that exist, once per run (implemented by medallion.security.protect)."""

    def protects(self, name: str) -> bool: ...

    def __call__(self, name: str, *, created: bool) -> list[str]: ...


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


# Commits that change no rows: table upkeep and the security guard's property.
UPKEEP_OPERATIONS = frozenset(
    {"OPTIMIZE", "VACUUM START", "VACUUM END", "SET TBLPROPERTIES", "UNSET TBLPROPERTIES", "CLUSTER BY"}
)


def last_write(spark: SparkSession, name: str, depth: int = 50) -> dict[str, Any] | None:
    """The newest commit that wrote rows (maintenance and property commits skipped), within `depth`:
    its version, timestamp, operation and userMetadata (the other columns cost a third more to fetch)."""
    if not table_exists(spark, name):
        return None
    history = DeltaTable.forName(spark, name).history(depth)
    rows = history.select("version", "timestamp", "operation", "userMetadata").collect()
    return next((r.asDict() for r in rows if r["operation"] not in UPKEEP_OPERATIONS), None)


def current_version(spark: SparkSession, name: str) -> int | None:
    commit = last_commit(spark, name)
    return None if commit is None else int(commit["version"])


def creating[T](action: Callable[[], T]) -> T:
    """Run a write that may create a table; recover once from a create a killed run left half done.

    Two tasks running at the same time may both create a shared table (the run records); the
    loser's write is retried once, into the winner's table.

    A process killed while creating a table in the local metastore can leave the table's folder
    without registering the table; the next CREATE then refuses the non-empty location. No batch
    that wrote there was committed (the stream commits only after the write returns), so the folder
    is removed and the write retried. Only local (`file:`) locations are touched.
    """
    try:
        return action()
    except Exception as exc:
        if _CREATE_RACE.search(str(exc)):
            # Another task (a for-each iteration at the same time) created it first: write again,
            # now to the existing table.
            log.info("a table was created by another task at the same time; writing again")
            return action()
        if not _ORPHAN.search(str(exc)):
            raise
    # The folder may be a table another task is registering right now: look again after a moment.
    time.sleep(1)
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
