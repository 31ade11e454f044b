"""Silver: conform the new bronze rows to the spec'd columns and load them with the table's pattern.

The bronze table is read as a Delta stream (`availableNow` + checkpoint), so each bronze row is
processed once and a run with no new bronze rows commits nothing. Rows a table cannot place (a NULL
key or sequence, a tie) are not dropped: they go to `<table>_quarantine` with the reason.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from medallion.context import RunContext
from medallion.errors import DataError, MedallionError
from medallion.layers.load_patterns import LOAD_PATTERNS
from medallion.layers.metrics import TableRun, timed
from medallion.layers.quarantine import REASON_COLUMN, rule_reason, write_quarantine, write_warnings
from medallion.layers.silver_tables import QUARANTINE_SUFFIX, SilverTarget, ensure_tables, reset
from medallion.layers.transforms import conform
from medallion.quality.alerts import evaluate, raise_for_failures
from medallion.quality.checks import QualityRun, check_batch, check_rules_run, prepare, with_source_row
from medallion.quality.ledger import new_run_id, record_alerts, record_metrics, record_operation
from medallion.specs.draft import ALERTS_FILE
from medallion.specs.model import QualityAlert, SilverTable

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
    run_id: str = "",
    alerts: tuple[QualityAlert, ...] = (),
) -> TableRun:
    """Process the bronze rows that arrived since the last run of this table.

    `full_refresh` drops the table (and its change log and quarantine) first, so it is rebuilt
    from all of bronze: the way to apply a spec change the table's shape cannot absorb.
    `stream_options` go to the bronze stream reader (e.g. maxFilesPerTrigger to cap batch size).
    `run_id` (the job run id; generated when empty) is stamped on quarantined rows and on the
    run records (`silver_operations`, `dq_metrics`); `alerts` are checked against this run's metrics.
    """
    run = TableRun(layer="silver", table=table.table)
    run_id = run_id or new_run_id()
    source = ctx.table("bronze", table.source_table)
    counts: dict[str, int] = {}
    failure: list[BaseException] = []
    quality = None
    error: BaseException | None = None

    with timed(run):
        try:
            if full_refresh:
                reset(spark, table, ctx.table("silver", table.table))
            target = replace(ensure_table(spark, table, ctx), run_id=run_id)
            quality = prepare(spark, table, run_id, resolve_table=lambda name: ctx.table("silver", name))
            empty = spark.read.table(source).limit(0).transform(with_source_row).transform(conform(table))
            check_rules_run(quality, empty)

            def process(batch: DataFrame, batch_id: int) -> None:
                try:
                    for key, value in process_batch(spark, batch, batch_id, table, target, quality).items():
                        counts[key] = counts.get(key, 0) + value
                except Exception as exc:  # keep the original error: the streaming wrapper hides its type
                    failure.append(exc)
                    raise

            _run_stream(spark, source, process, ctx, table, target, stream_options, failure)
        except Exception as exc:
            error = exc
    _fill(run, counts, full_refresh)
    if error is not None:
        run.status = "failed"
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
    _check_alerts(spark, ctx, quality, alerts, run_id)
    log.info(
        "silver %s: read %d, wrote %d in %.1fs", table.table, run.rows_read, run.rows_written, run.seconds
    )
    return run


def _run_stream(spark, source, process, ctx, table, target, stream_options, failure) -> None:
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


def _fill(run: TableRun, counts: dict[str, int], full_refresh: bool) -> None:
    run.rows_read = counts.pop("read", 0)
    run.rows_written = counts.pop("written", 0)
    run.details = {k: v for k, v in counts.items() if v}
    if full_refresh:
        run.details["full_refresh"] = "yes"
    if run.rows_read == 0:
        run.status = "skipped"
        run.details["reason"] = "no new bronze rows"


def _check_alerts(spark, ctx, quality, alerts, run_id) -> None:
    if quality is None or not alerts:
        return
    failing = {
        rule: quality.failed[rule] + quality.warned[rule] for rule in {*quality.failed, *quality.warned}
    }
    breaches = evaluate(alerts, quality.table.table, quality.rows_checked, failing)
    record_alerts(spark, ctx, run_id, breaches)
    raise_for_failures(breaches, f"{ctx.specs_dir.rstrip('/').rsplit('/', 1)[-1]}/{ALERTS_FILE}")


def process_batch(
    spark: SparkSession,
    batch: DataFrame,
    batch_id: int,
    table: SilverTable,
    target: SilverTarget,
    quality: QualityRun | None = None,
) -> dict[str, int]:
    """One micro-batch of bronze rows: conform, apply the data-quality rules, write.

    Rows failing a rule go to the quarantine (with the source row and DQX's errors) before the
    writer sees the batch, so they never reach the table or its history. Returns counts: `read`,
    `quarantined`, `duplicates`, `warned`, `written` and the writer's own counts; raises DataError
    when they do not add up (read = written + quarantined + duplicates).
    """
    quality = quality or prepare(spark, table, run_id=target.run_id or f"batch-{batch_id}")
    writer = LOAD_PATTERNS[table.load_pattern]
    rows = batch.transform(with_source_row).transform(conform(table)).persist()
    counts: dict[str, int] = {}
    checked = None
    try:
        counts["read"] = rows.count()
        quality.rows_checked += counts["read"]
        checked = check_batch(quality, rows)
        rejected = checked.rejected.withColumn(REASON_COLUMN, rule_reason())
        counts["quarantined"] = write_quarantine(
            rejected, target, batch_id, part="rules", count=checked.n_rejected
        )
        counts["warned"] = write_warnings(checked.warned, target, batch_id, count=checked.n_warned)
        for key, value in writer(spark, checked.valid, table, target, batch_id).items():
            if isinstance(value, int):
                counts[key] = counts.get(key, 0) + value
    finally:
        rows.unpersist()
        if checked is not None:
            checked.release()
    counts["written"] = counts.pop("accepted", 0)
    counts.setdefault("duplicates", 0)
    _check_conservation(table, batch_id, counts)
    return counts


def _check_conservation(table: SilverTable, batch_id: int, counts: dict[str, int]) -> None:
    """Every bronze row is written, quarantined or a counted duplicate: nothing vanishes."""
    accounted = counts["written"] + counts["quarantined"] + counts["duplicates"]
    if accounted != counts["read"]:
        raise DataError(
            f"silver table {table.table}, batch {batch_id}: row conservation broken: read {counts['read']} "
            f"bronze rows but written {counts['written']} + quarantined {counts['quarantined']} + "
            f"duplicates {counts['duplicates']} = {accounted}. This is a bug in the load pattern "
            f"{table.load_pattern!r}; the batch is not committed and will be retried on the next run"
        )


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
