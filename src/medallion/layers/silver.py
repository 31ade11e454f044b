"""Silver: conform the new bronze rows to the spec'd columns and load them with the table's pattern.

The bronze table is read as a Delta stream (`availableNow` + checkpoint), so each bronze row is
processed once and a run with no new bronze rows commits nothing. Rows a merge cannot place (a NULL
key or sequence) are not dropped: they go to `<table>_quarantine` with the reason.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from medallion.context import RunContext
from medallion.errors import DataError
from medallion.layers.load_patterns import LOAD_PATTERNS
from medallion.layers.metrics import TableRun, timed
from medallion.layers.transforms import DELETE_FLAG, conform
from medallion.specs.model import SilverTable

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["QUARANTINE_SUFFIX", "build", "ensure_table"]

log = logging.getLogger(__name__)

QUARANTINE_SUFFIX = "_quarantine"


def build(spark: SparkSession, table: SilverTable, ctx: RunContext) -> TableRun:
    """Process the bronze rows that arrived since the last run of this table."""
    run = TableRun(layer="silver", table=table.table)
    source = ctx.table("bronze", table.source_table)
    writer = LOAD_PATTERNS[table.load_pattern]
    counts: dict[str, int] = {}
    failure: list[BaseException] = []

    def process(batch: DataFrame, batch_id: int) -> None:
        try:
            _process_batch(spark, batch, batch_id, table, ctx, writer, counts)
        except Exception as exc:  # keep the original error: the streaming wrapper hides its type
            failure.append(exc)
            raise

    with timed(run):
        ensure_table(spark, table, ctx)
        query = (
            spark.readStream.table(source)
            .writeStream.foreachBatch(process)
            .option("checkpointLocation", ctx.checkpoint("silver", table.table))
            .queryName(f"silver_{table.table}")
            .trigger(availableNow=True)
            .start()
        )
        try:
            query.awaitTermination()
        except Exception:
            if failure and isinstance(failure[0], DataError):
                raise failure[0] from None
            raise
    run.rows_read = counts.get("read", 0)
    run.rows_written = sum(counts.get(k, 0) for k in ("inserted", "updated", "deleted"))
    run.details = {k: v for k, v in counts.items() if k != "read"}
    if run.rows_read == 0:
        run.status = "skipped"
        run.details["reason"] = "no new bronze rows"
    log.info(
        "silver %s: read %d, wrote %d in %.1fs", table.table, run.rows_read, run.rows_written, run.seconds
    )
    return run


def _process_batch(spark, batch, batch_id, table, ctx, writer, counts) -> None:
    from pyspark.sql import functions as F

    rows = batch.transform(conform(table)).persist()
    try:
        counts["read"] = counts.get("read", 0) + rows.count()
        required = [*table.keys, *table.sequence_by]
        if required:
            missing = " OR ".join(f"`{c}` IS NULL" for c in required)
            rejected = rows.filter(missing)
            n_rejected = rejected.count()
            if n_rejected:
                reason = F.concat_ws(
                    ", ", *[F.when(F.col(c).isNull(), F.lit(f"{c} is NULL")) for c in required]
                )
                _quarantine(rejected.withColumn("_quarantine_reason", reason), table, ctx, batch_id)
                counts["quarantined"] = counts.get("quarantined", 0) + n_rejected
                rows = rows.filter(f"NOT ({missing})")
        for key, value in writer(spark, rows, table, ctx.table("silver", table.table), batch_id).items():
            if isinstance(value, int):
                counts[key] = counts.get(key, 0) + value
    finally:
        rows.unpersist()


def _quarantine(rows: DataFrame, table: SilverTable, ctx: RunContext, batch_id: int) -> None:
    from pyspark.sql import functions as F

    target = ctx.table("silver", table.table + QUARANTINE_SUFFIX)
    out = (
        rows.drop(DELETE_FLAG)
        .withColumn("_batch_id", F.lit(batch_id))
        .withColumn("_quarantined_at", F.current_timestamp())
    )
    (
        out.write.format("delta")
        .mode("append")
        .option("mergeSchema", "true")
        .option("txnAppId", f"medallion:{target}")
        .option("txnVersion", str(batch_id))
        .saveAsTable(target)
    )
    log.warning("silver %s: %d rows quarantined in %s", table.table, out.count(), target)


def ensure_table(spark: SparkSession, table: SilverTable, ctx: RunContext) -> None:
    """Create the silver table from its spec'd schema, so it exists before its first data."""
    source = ctx.table("bronze", table.source_table)
    schema = spark.read.table(source).transform(conform(table)).drop(DELETE_FLAG).schema
    columns = ", ".join(f"`{f.name}` {f.dataType.simpleString()}" for f in schema.fields)
    sql = f"CREATE TABLE IF NOT EXISTS {ctx.table('silver', table.table)} ({columns}) USING DELTA"
    if table.partition_by:
        sql += " PARTITIONED BY (" + ", ".join(f"`{c}`" for c in table.partition_by) + ")"
    if table.description:
        sql += " COMMENT '" + table.description.replace("\\", "\\\\").replace("'", "\\'") + "'"
    spark.sql(sql)
