"""Silver: conform the new bronze rows to the spec'd columns and load them with the table's pattern.

The bronze table is read as a Delta stream (`availableNow` + checkpoint), so each bronze row is
processed once and a run with no new bronze rows commits nothing. Each micro-batch goes through
`silver_batch.process_batch`: rows a table cannot place (a failed rule, a tie) are not dropped but
go to `<table>_quarantine` with the reason. The run is recorded (`run_log`, `dq_metrics`)
and its metrics checked against the alert thresholds.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructType

from medallion.context import RunContext
from medallion.delta.lineage import LineageEdge, edges_by_batch, versions_by_batch
from medallion.delta.run_marks import batch_marked, current_run_id, snapshot_checkpoint
from medallion.delta.run_records import TableRun, new_run_id, record_operation, timed
from medallion.delta.silver_tables import SilverTarget, ensure_tables, reset
from medallion.delta.stream_progress import keeps_marks, mark_read, nothing_new, source_state
from medallion.delta.streams import delta_source_range, run_batches
from medallion.delta.tables import TableGuard
from medallion.layers.silver_batch import process_batch, quality_run
from medallion.layers.transforms import conform
from medallion.logs import for_table
from medallion.names import STREAM_START_PROPERTY
from medallion.quality.alerts import evaluate, raise_for_failures
from medallion.quality.checks import QualityRun
from medallion.quality.records import record_alerts, record_metrics
from medallion.specs.model import QualityAlert, SilverSpec

__all__ = ["build", "check_alerts", "ensure_table"]

log = logging.getLogger(__name__)


@for_table("silver")
def build(
    spark: SparkSession,
    table: SilverSpec,
    ctx: RunContext,
    *,
    full_refresh: bool = False,
    stream_options: dict[str, str] | None = None,
    run_id: str = "",
    alerts: tuple[QualityAlert, ...] = (),
    guard: TableGuard | None = None,
) -> TableRun:
    """Process the bronze rows that arrived since the last run of this table.

    `full_refresh` drops the table (and its change log and quarantine) first, so it is rebuilt
    from all of bronze: the way to apply a spec change the table's shape cannot absorb.
    `stream_options` go to the bronze stream reader (e.g. maxFilesPerTrigger to cap batch size).
    `run_id` (the job run id; generated when empty) is stamped on quarantined rows and on the
    run records (`run_log`, `dq_metrics`); `alerts` are checked against this run's metrics.
    `guard` protects the tables it creates before their first row (medallion.security.protect).
    """
    run = TableRun(layer="silver", table=table.table)
    run_id = run_id or new_run_id()
    source = ctx.table("bronze", table.source_table)
    counts: dict[str, int] = {}
    quality = None
    error: BaseException | None = None
    unchanged = False  # bronze is where the last stream left it: nothing ran, nothing to record

    with timed(run):
        try:
            if full_refresh:
                reset(spark, table, ctx.table("silver", table.table))
            target = replace(ensure_table(spark, table, ctx, guard=guard), run_id=run_id)
            checkpoint = f"{ctx.checkpoint('silver', table.table)}/{target.table_id}"
            # where no mark can be kept (a cloud checkpoint) the stream decides, and no lookup is wasted
            bronze_state = source_state(spark, source) if keeps_marks(checkpoint) else None
            unchanged = nothing_new(checkpoint, bronze_state)
            if unchanged:
                log.info(
                    "silver %s: bronze still at version %d, nothing to read",
                    table.table,
                    bronze_state.version,
                )
            else:
                # the stream's position before this run, for a rollback of it
                snapshot_checkpoint(spark, ctx.checkpoint_root, ctx.checkpoint("silver", table.table))
                stream_options = {**(stream_options or {}), **_stream_start(spark, target, checkpoint)}
                quality = quality_run(spark, table, target, run_id)

                def process(batch: DataFrame, batch_id: int) -> None:
                    with batch_marked(batch_id, spark, batch.sparkSession):  # its commits, for the lineage
                        done = process_batch(spark, batch, batch_id, table, target, quality)
                    for key, value in done.items():
                        counts[key] = counts.get(key, 0) + value

                bronze_rows = spark.readStream.options(**stream_options).table(source)
                # The checkpoint belongs to this incarnation of the table: a rebuilt table starts afresh.
                offsets = run_batches(bronze_rows, process, checkpoint, f"silver_{table.table}")
                mark_read(checkpoint, bronze_state)
                run.lineage = _lineage(spark, target.name, offsets, f"bronze.{table.source_table}")
        except Exception as exc:
            error = exc
    _fill(run, counts, full_refresh)
    if error is not None:
        run.status = "failed"
    if unchanged and error is None:
        run.details["reason"] = "bronze unchanged since the last run"
        return run
    try:
        record_operation(spark, ctx, run, run_id, message=str(error or ""))
        if quality is not None:
            record_metrics(spark, ctx, quality)
    except Exception:
        if error is None:
            raise
        log.exception("silver %s: could not record the failed run", table.table)  # keep the cause
    if error is not None:
        raise error
    if quality is not None:
        check_alerts(spark, ctx, quality, alerts)
    log.info(
        "silver %s: read %d, wrote %d in %.1fs", table.table, run.rows_read, run.rows_written, run.seconds
    )
    return run


def _lineage(spark: SparkSession, name: str, offsets: dict, upstream: str) -> list[LineageEdge]:
    """The bronze versions each silver version of this run took in (from each batch's offsets)."""
    inputs = {}
    for batch, (start, end) in offsets.items():
        read = delta_source_range(start, end)
        if read is not None:
            inputs[batch] = [(upstream.lower(), *read)]
    return edges_by_batch(versions_by_batch(spark, name, set(inputs), current_run_id(spark)), inputs)


def _stream_start(spark: SparkSession, target: SilverTarget, checkpoint: str) -> dict[str, str]:
    """`startingVersion` for a new checkpoint when a rollback left one for this incarnation."""
    if os.path.exists(checkpoint.removeprefix("file:")) or "://" in checkpoint:
        return {}
    properties = {r["key"]: r["value"] for r in spark.sql(f"SHOW TBLPROPERTIES {target.name}").collect()}
    incarnation, _, version = properties.get(STREAM_START_PROPERTY, "").partition(":")
    return {"startingVersion": version} if incarnation == target.table_id and version else {}


def _fill(run: TableRun, counts: dict[str, int], full_refresh: bool) -> None:
    run.rows_read = counts.pop("read", 0)
    run.rows_written = counts.pop("written", 0)
    run.details = {k: v for k, v in counts.items() if v}
    if full_refresh:
        run.details["full_refresh"] = "yes"
    if run.rows_read == 0:
        run.status = "skipped"
        run.details["reason"] = "no new bronze rows"


def check_alerts(
    spark: SparkSession, ctx: RunContext, quality: QualityRun, alerts: tuple[QualityAlert, ...]
) -> None:
    """Compare a run's rule metrics with the thresholds: record every breach, fail on `fail` ones."""
    if not alerts:
        return
    failing = {
        rule: quality.failed[rule] + quality.warned[rule] for rule in {*quality.failed, *quality.warned}
    }
    breaches = evaluate(alerts, quality.table.table, quality.rows_checked, failing)
    record_alerts(spark, ctx, quality.run_id, breaches)
    raise_for_failures(breaches)


def ensure_table(
    spark: SparkSession,
    table: SilverSpec,
    ctx: RunContext,
    source_schema: StructType | None = None,
    guard: TableGuard | None = None,
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
    return ensure_tables(spark, table, ctx.table("silver", table.table), conformed, guard)
