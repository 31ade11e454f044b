"""Replay a table's quarantined rows through its current rules (`medallion requeue <table>`).

After a rule or the data is fixed (e.g. `UPDATE <table>_quarantine SET _source_row.x = ...`),
the quarantined source rows go through the same path as new bronze rows: conform, rules, writer.
Rows that now pass reach silver; rows that fail again are quarantined again with today's errors.

Exactly once, even when killed half-way:
1. mark: one UPDATE stamps the replayable rows with a replay id (the quarantine's next Delta
   version, so ids only grow);
2. replay: the marked rows are written with Delta idempotent writes keyed by that id;
3. release: one DELETE removes the marked rows from quarantine.
A rerun finds marked rows still there and resumes with their id: step 2 is then skipped by
Delta, and step 3 finishes. Only rows failing rules are replayable (they keep `_source_row`);
ties and conflicts are verdicts about the data itself and stay.

The replay starts its rules like a build (`silver_batch.quality_run`: reference tables resolved; a
rule that cannot run is named at its spec row before anything moves) and checks the alert
thresholds against the replay's metrics.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from medallion.context import RunContext
from medallion.delta.run_records import TableRun, new_run_id, record_operation, timed
from medallion.delta.tables import current_version, table_exists
from medallion.layers.silver import check_alerts, ensure_table
from medallion.layers.silver_batch import process_batch, quality_run
from medallion.names import INGESTED_AT, REQUEUE_ID, SOURCE_FILE, SOURCE_ROW
from medallion.quality.records import record_metrics
from medallion.specs.model import QualityAlert, SilverSpec

__all__ = ["requeue"]

log = logging.getLogger(__name__)


def requeue(
    spark: SparkSession,
    table: SilverSpec,
    ctx: RunContext,
    *,
    run_id: str = "",
    alerts: tuple[QualityAlert, ...] = (),
) -> TableRun:
    """Send `table`'s replayable quarantined rows through the current rules and writer once.

    `alerts` are checked against the replay's metrics, as after a build.
    """
    run = TableRun(layer="silver", table=table.table)
    run_id = run_id or new_run_id()
    target = replace(ensure_table(spark, table, ctx), scope="requeue", run_id=run_id)
    quarantine = target.quarantine
    with timed(run):
        if not table_exists(spark, quarantine) or SOURCE_ROW not in spark.read.table(quarantine).columns:
            run.status, run.details["reason"] = "skipped", "nothing in quarantine to replay"
            return run
        replay_id = _mark(spark, quarantine)
        if replay_id is None:
            run.status, run.details["reason"] = "skipped", "nothing in quarantine to replay"
            return run
        marked = spark.read.table(quarantine).filter(F.col(REQUEUE_ID) == replay_id)
        bronze = marked.select(f"{SOURCE_ROW}.*", SOURCE_FILE, INGESTED_AT)
        quality = quality_run(spark, table, target, run_id)
        counts = process_batch(spark, bronze, replay_id, table, target, quality)
        spark.sql(f"DELETE FROM {quarantine} WHERE {REQUEUE_ID} = {replay_id}")
    run.rows_read = counts.pop("read", 0)
    run.rows_written = counts.pop("written", 0)
    run.details = {k: v for k, v in counts.items() if v} | {"replay_id": replay_id}
    record_operation(spark, ctx, run, run_id, kind="requeue")
    record_metrics(spark, ctx, quality)
    check_alerts(spark, ctx, quality, alerts)
    log.info(
        "requeue %s: %d rows replayed, %d reached silver, %d quarantined again",
        table.table, run.rows_read, run.rows_written, run.details.get("quarantined", 0),
    )  # fmt: skip
    return run


def _mark(spark: SparkSession, quarantine: str) -> int | None:
    """The replay id of the rows to replay now: an unfinished replay's, or a new one."""
    if REQUEUE_ID not in spark.read.table(quarantine).columns:
        spark.sql(f"ALTER TABLE {quarantine} ADD COLUMNS ({REQUEUE_ID} BIGINT)")
    rows = spark.read.table(quarantine)
    unfinished = rows.filter(F.col(REQUEUE_ID).isNotNull()).agg(F.min(REQUEUE_ID)).first()[0]
    if unfinished is not None:
        log.warning("%s: finishing replay %d that an earlier requeue left unfinished", quarantine, unfinished)
        return int(unfinished)
    if rows.filter(F.col(SOURCE_ROW).isNotNull()).isEmpty():
        return None
    replay_id = current_version(spark, quarantine) + 1
    spark.sql(
        f"UPDATE {quarantine} SET {REQUEUE_ID} = {replay_id} "
        f"WHERE {REQUEUE_ID} IS NULL AND {SOURCE_ROW} IS NOT NULL"
    )
    return replay_id
