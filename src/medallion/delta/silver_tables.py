"""The Delta tables behind one silver table: the table itself, its quarantine and (for history
tables) its change log, with the spec shape each was built from.

The shape (load pattern, keys, sequence, tracked columns, SCD type, validity columns) is stored in
the table's properties when it is created. A spec that later changes the shape is refused, because
the stored rows were computed with the old one; `medallion run --full-refresh <table>` rebuilds the
table from bronze on purpose (`reset`).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pyspark.sql.types import BooleanType, StructField, StructType

from medallion.delta.tables import TableGuard, creating, table_exists
from medallion.errors import SpecDriftError
from medallion.names import (
    CHANGES_SUFFIX,
    INCARNATION_PROPERTY,
    IS_DELETE,
    QUARANTINE_SUFFIX,
    TABLE_PROPERTY_PREFIX,
    WARNINGS_SUFFIX,
)
from medallion.specs.model import SilverSpec

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = [
    "SilverTarget",
    "ensure_tables",
    "reset",
    "shape_of",
    "target_schema",
]

log = logging.getLogger(__name__)

_INCARNATION = INCARNATION_PROPERTY.removeprefix(TABLE_PROPERTY_PREFIX)


@dataclass(frozen=True)
class SilverTarget:
    """Names of a silver table and its side tables; `table_id` identifies this incarnation of it
    (a new id each time the table is created, stored as a table property).

    Side-table writes are keyed by `table_id` and the batch id, so a table rebuilt from scratch
    (new id, batch ids from 0) is never mistaken for a replay of the old one.
    """

    name: str  # `catalog`.`schema`.`table`
    table_id: str = ""
    scope: str = ""  # who writes: "" = the silver stream, "requeue" = a quarantine replay
    run_id: str = ""  # the job run writing now, stamped on side-table rows
    guard: TableGuard | None = field(default=None, compare=False, repr=False)  # protects new side tables

    def sibling(self, suffix: str) -> str:
        return self.name[:-1] + suffix + "`"

    def neighbour(self, table: str) -> str:
        """The full name of another table in the same schema (a rule's reference table)."""
        return f"{self.name.rsplit('.', 1)[0]}.`{table}`"

    @property
    def quarantine(self) -> str:
        return self.sibling(QUARANTINE_SUFFIX)

    @property
    def changes(self) -> str:
        return self.sibling(CHANGES_SUFFIX)

    @property
    def warnings(self) -> str:
        return self.sibling(WARNINGS_SUFFIX)

    def txn_app_id(self, table: str) -> str:
        """Delta `txnAppId` for idempotent writes from this target's stream (or replay) into `table`."""
        scope = f"{self.scope}:" if self.scope else ""
        return f"medallion:{self.table_id}:{scope}{table}"


def shape_of(table: SilverSpec) -> dict[str, str]:
    """What the stored rows depend on; changing any of it needs a rebuild."""
    shape = {
        "load_pattern": table.load_pattern,
        "keys": ",".join(table.keys),
        "sequence_by": ",".join(table.sequence_by),
    }
    if table.scd is not None:
        shape["tracked_columns"] = ",".join(table.scd.tracked_columns)
        shape["validity_columns"] = ",".join(table.scd.validity_columns)
    return shape


def target_schema(table: SilverSpec, conformed: StructType) -> StructType:
    """The silver table's schema from the conformed rows' schema (plus validity columns for SCD2)."""
    fields = [f for f in conformed.fields if f.name != IS_DELETE]
    if table.scd is not None and table.scd.scd_type == 2:
        seq_type = conformed[table.sequence_by[0]].dataType
        scd = table.scd
        fields += [
            StructField(scd.effective_from_column, seq_type),
            StructField(scd.effective_to_column, seq_type),
            StructField(scd.is_current_column, BooleanType()),
        ]
    return StructType(fields)


def ensure_tables(
    spark: SparkSession,
    table: SilverSpec,
    target: str,
    conformed: StructType,
    guard: TableGuard | None = None,
) -> SilverTarget:
    """Create the silver table (and change log) if missing; refuse a spec whose shape drifted.
    `guard` protects each table it creates before any row, and checks the existing ones."""
    shape = shape_of(table)
    created: set[str] = set()
    if table_exists(spark, target):
        stored = _stored_properties(spark, target)
        _check_shape(spark, table, target, shape, stored)
        # Tables created before incarnation ids were stored keep their Delta id (same checkpoints).
        table_id = stored.get(_INCARNATION) or _delta_table_id(spark, target)
    else:
        table_id = uuid.uuid4().hex
        _create(
            spark,
            target,
            target_schema(table, conformed),
            table,
            {**shape, _INCARNATION: table_id},
            change_feed=True,  # gold tables refreshed by key read what changed (layers/gold_refresh.py)
        )
        created.add(target)
    silver = SilverTarget(target, table_id, guard=guard)
    if table.scd is not None and not table_exists(spark, silver.changes):
        # The change log keeps every accepted event, deletes included (tombstones).
        log_schema = (
            conformed
            if IS_DELETE in conformed.fieldNames()
            else StructType([*conformed.fields]).add(IS_DELETE, BooleanType())
        )
        _create(
            spark, silver.changes, log_schema, table, shape, comment=f"Accepted change events of {target}"
        )
        created.add(silver.changes)
    if guard is not None:
        for name in (target, silver.changes, silver.quarantine, silver.warnings):
            if guard.protects(name):
                guard(name, created=name in created)
    return silver


def reset(spark: SparkSession, table: SilverSpec, target: str) -> None:
    """Drop the silver table and its side tables, so the next build starts again from bronze."""
    silver = SilverTarget(target)
    for name in (target, silver.changes, silver.quarantine, silver.warnings):
        spark.sql(f"DROP TABLE IF EXISTS {name}")
    log.warning("silver %s: dropped for a full refresh from bronze", table.table)


def _create(
    spark: SparkSession,
    name: str,
    schema: StructType,
    table: SilverSpec,
    shape: dict[str, str],
    comment: str = "",
    change_feed: bool = False,
) -> None:
    columns = ", ".join(f"`{f.name}` {f.dataType.simpleString()}" for f in schema.fields)
    sql = f"CREATE TABLE IF NOT EXISTS {name} ({columns}) USING DELTA"
    if table.partition_by:
        sql += " PARTITIONED BY (" + ", ".join(f"`{c}`" for c in table.partition_by) + ")"
    comment = comment or table.description
    if comment:
        sql += " COMMENT " + _sql_string(comment)
    properties = ", ".join(
        f"{_sql_string(TABLE_PROPERTY_PREFIX + k)} = {_sql_string(v)}" for k, v in shape.items()
    )
    if change_feed:
        properties += ", 'delta.enableChangeDataFeed' = 'true'"
    creating(lambda: spark.sql(f"{sql} TBLPROPERTIES ({properties})"))


def _stored_properties(spark: SparkSession, target: str) -> dict[str, str]:
    """The framework's table properties (prefix removed)."""
    return {
        row["key"][len(TABLE_PROPERTY_PREFIX) :]: row["value"]
        for row in spark.sql(f"SHOW TBLPROPERTIES {target}").collect()
        if row["key"].startswith(TABLE_PROPERTY_PREFIX)
    }


def _check_shape(
    spark: SparkSession, table: SilverSpec, target: str, shape: dict[str, str], stored: dict[str, str]
) -> None:
    if not any(key in stored for key in shape):  # built before shapes were recorded: adopt the spec's shape
        properties = ", ".join(
            f"{_sql_string(TABLE_PROPERTY_PREFIX + k)} = {_sql_string(v)}" for k, v in shape.items()
        )
        spark.sql(f"ALTER TABLE {target} SET TBLPROPERTIES ({properties})")
        return
    drift = [
        f"{key}: built with {stored.get(key) or '(none)'!r}, spec now says {value or '(none)'!r}"
        for key, value in shape.items()
        if stored.get(key, "") != value
    ]
    if drift:
        raise SpecDriftError(
            f"silver table {table.table} ({table.spec_file} row {table.row}) was built with another "
            f"shape, so its stored rows no longer match the spec: {'; '.join(drift)}. Either restore "
            f"the spec, or rebuild the table from bronze on purpose: medallion run --full-refresh "
            f"{table.table} (on Databricks: run the job with parameter full_refresh={table.table})"
        )


def _delta_table_id(spark: SparkSession, name: str) -> str:
    return str(spark.sql(f"DESCRIBE DETAIL {name}").first()["id"])


def _sql_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
