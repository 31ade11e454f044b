"""Silver: conform the new bronze rows to the spec'd columns and load them with the table's pattern.

The bronze table is read as a Delta stream (`availableNow` + checkpoint), so each bronze row is
processed once and a run with no new bronze rows commits nothing. Rows a table cannot place (a NULL
key or sequence, a tie) are not dropped: they go to `<table>_quarantine` with the reason.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from medallion.context import RunContext
from medallion.errors import MedallionError
from medallion.layers.load_patterns import LOAD_PATTERNS
from medallion.layers.metrics import TableRun, timed
from medallion.layers.quarantine import REASON_COLUMN, write_quarantine
from medallion.layers.silver_tables import QUARANTINE_SUFFIX, SilverTarget, ensure_tables, reset
from medallion.layers.transforms import conform
from medallion.specs.model import SilverTable

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

__all__ = ["QUARANTINE_SUFFIX", "build", "ensure_table", "process_batch"]

log = logging.getLogger(__name__)


def build(
    spark: SparkSession,
    table: SilverTable,
    ctx: RunContext,
    *,
    full_refresh: bool = False,
    stream_options: dict[str, str] | None = None,
) -> TableRun:
    """Process the bronze rows that arrived since the last run of this table.

    `full_refresh` drops the table (and its change log and quarantine) first, so it is rebuilt
    from all of bronze: the way to apply a spec change the table's shape cannot absorb.
    `stream_options` go to the bronze stream reader (e.g. maxFilesPerTrigger to cap batch size).
    """
    run = TableRun(layer="silver", table=table.table)
    source = ctx.table("bronze", table.source_table)
    counts: dict[str, int] = {}
    failure: list[BaseException] = []

    with timed(run):
        if full_refresh:
            reset(spark, table, ctx.table("silver", table.table))
        target = ensure_table(spark, table, ctx)

        def process(batch: DataFrame, batch_id: int) -> None:
            try:
                for key, value in process_batch(spark, batch, batch_id, table, target).items():
                    counts[key] = counts.get(key, 0) + value
            except Exception as exc:  # keep the original error: the streaming wrapper hides its type
                failure.append(exc)
                raise

        query = (
            spark.readStream.options(**(stream_options or {}))
            .table(source)
            .writeStream.foreachBatch(process)
            # The checkpoint belongs to this incarnation of the table: a rebuilt table starts afresh.
            .option("checkpointLocation", f"{ctx.checkpoint('silver', table.table)}/{target.table_id}")
            .queryName(f"silver_{table.table}")
            .trigger(availableNow=True)
            .start()
        )
        try:
            query.awaitTermination()
        except Exception:
            if failure and isinstance(failure[0], MedallionError):
                raise failure[0] from None
            raise
    run.rows_read = counts.pop("read", 0)
    run.rows_written = counts.pop("written", 0)
    run.details = {k: v for k, v in counts.items() if v}
    if full_refresh:
        run.details["full_refresh"] = "yes"
    if run.rows_read == 0:
        run.status = "skipped"
        run.details["reason"] = "no new bronze rows"
    log.info(
        "silver %s: read %d, wrote %d in %.1fs", table.table, run.rows_read, run.rows_written, run.seconds
    )
    return run


def process_batch(
    spark: SparkSession, batch: DataFrame, batch_id: int, table: SilverTable, target: SilverTarget
) -> dict[str, int]:
    """One micro-batch of bronze rows: conform, quarantine rows without key or sequence, write.

    Returns counts: `read`, `quarantined`, `written` and the writer's own counts.
    """
    from pyspark.sql import functions as F

    writer = LOAD_PATTERNS[table.load_pattern]
    rows = batch.transform(conform(table)).persist()
    counts: dict[str, int] = {}
    try:
        counts["read"] = rows.count()
        required = [*table.keys, *table.sequence_by]
        if required:
            missing = " OR ".join(f"`{c}` IS NULL" for c in required)
            reason = F.concat_ws(", ", *[F.when(F.col(c).isNull(), F.lit(f"{c} is NULL")) for c in required])
            rejected = rows.filter(missing).withColumn(REASON_COLUMN, reason)
            counts["quarantined"] = write_quarantine(rejected, target, batch_id, part="null_key")
            rows = rows.filter(f"NOT ({missing})")
        for key, value in writer(spark, rows, table, target, batch_id).items():
            if isinstance(value, int):
                counts[key] = counts.get(key, 0) + value
    finally:
        rows.unpersist()
    written = sum(counts.get(k, 0) for k in ("inserted", "updated", "deleted", "rows_inserted"))
    counts["written"] = written
    return counts


def ensure_table(
    spark: SparkSession, table: SilverTable, ctx: RunContext, source_schema: StructType | None = None
) -> SilverTarget:
    """Create the silver table (and its change log) from the spec'd schema before its first data.

    `source_schema` is the bronze schema (read from the bronze table when not given). A table built
    with another shape (keys, sequence, tracked columns, SCD type) raises SpecDriftError.
    """
    if source_schema is None:
        bronze = spark.read.table(ctx.table("bronze", table.source_table))
    else:
        bronze = spark.createDataFrame([], source_schema)
    conformed = bronze.transform(conform(table)).schema
    return ensure_tables(spark, table, ctx.table("silver", table.table), conformed)
