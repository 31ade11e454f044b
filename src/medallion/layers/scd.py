"""SCD1/SCD2 from change events, with late events, deletes and tombstones (docs/scd.md).

A batch of conformed rows is classified against the table's change log (`<table>_changes`, every
accepted event so far, deletes included): exact duplicates are counted and dropped, rows that tie on
key and sequence go to quarantine, the rest are appended to the change log. Then the history of the
keys the batch touched is recomputed from their events (the change log as read before the batch,
plus the rows it just took) and replaces those keys' rows in the silver table in one Delta
transaction (a `replaceWhere` for a few keys, a MERGE for many), and only if something differs.

A batch with many keys none of whose rows the change log held before (the usual case) replaces its
keys without reading their stored rows: each of them gained an event, so their rows are rewritten
from the history (`scd_swap.replace_all`). A batch with rows the log already holds (a replay after
a crash, or a resent file) compares first and swaps only the keys whose rows differ, so a replay
writes nothing.

Why recompute instead of patching the stored versions: a late event, a tombstone or a change that
splits a version all need the key's full event history, which the versions alone have lost. The
result is a function of the accepted events only, so replaying a batch, or rerunning after a crash
at any point, ends with the same table (the change-log and quarantine appends are keyed by batch).
"""

from __future__ import annotations

import logging

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from medallion.delta.key_predicates import BatchKeys
from medallion.delta.side_tables import write_quarantine
from medallion.delta.silver_tables import SilverTarget
from medallion.layers.per_key import COPY, mark_copies
from medallion.layers.scd_snapshots import SnapshotBatch, all_equal, snapshot_batch
from medallion.layers.scd_swap import append_new_keys, differing_keys, replace_all, swap_few, swap_many
from medallion.layers.transforms import content_columns
from medallion.names import IS_DELETE, LINEAGE_COLUMNS, QUARANTINE_REASON
from medallion.specs.model import SilverSpec

__all__ = [
    "CONFLICT_REASON",
    "TIE_REASON",
    "history",
    "latest",
    "write_scd",
]

log = logging.getLogger(__name__)

TIE_REASON = "different rows share this key and sequence"
CONFLICT_REASON = "conflicts with an accepted change at this key and sequence"
_VERDICT = "_verdict"


def write_scd(
    spark: SparkSession, batch: DataFrame, table: SilverSpec, target: SilverTarget, batch_id: int
) -> dict[str, int]:
    """Apply one batch of conformed rows (keys and sequence not NULL) to an scd1/scd2 table."""
    if IS_DELETE not in batch.columns:
        batch = batch.withColumn(IS_DELETE, F.lit(False))
    version = _version(spark, target.changes)
    counts: dict[str, int] = {}
    snapshot: SnapshotBatch | None = None
    if table.scd is not None and table.scd.source_kind == "snapshot":
        writer = target.txn_app_id(target.changes)
        snapshot = snapshot_batch(spark, batch, table, target.changes, version, writer, batch_id)
        counts["quarantined"] = write_quarantine(snapshot.late, target, batch_id, part="late_snapshot")
        batch, logged = snapshot.events, snapshot.logged
    else:
        logged = _as_of(spark, target.changes, version)
    keys = BatchKeys.from_batch(batch, table.keys)
    try:
        logged_keys = keys.rows_of(logged)
        classified = _classify(batch, table, logged_keys).persist()
        try:
            if snapshot is not None:
                snapshot.record(spark, target.changes)
            unseen = _log_changes(classified, table, target, batch_id, counts)
            counts["accepted"] = snapshot.accepted(counts) if snapshot is not None else counts["changes"]
            # The keys' events as the change log now holds them: what it held before this batch
            # (pinned) and what this batch added; no read of the log's new version.
            accepted = _accepted(classified)
            events = logged_keys.unionByName(accepted, allowMissingColumns=True)
            compare = snapshot is not None or not unseen
            counts.update(_replace_keys(spark, table, target, keys, events, batch_id, compare=compare))
        finally:
            classified.unpersist()
    finally:
        keys.release()
    log.info("silver %s batch %d: %s", table.table, batch_id, counts)
    return counts


def _log_changes(
    classified: DataFrame, table: SilverSpec, target: SilverTarget, batch_id: int, counts: dict[str, int]
) -> bool:
    """Count the verdicts, quarantine ties and conflicts, append the accepted events to the change log.
    True when no row of the batch was in the log already (no logged duplicate, no conflict)."""
    tally = {row[_VERDICT]: row["count"] for row in classified.groupBy(_VERDICT).count().collect()}
    counts["duplicates"] = tally.get("duplicate", 0) + tally.get("logged", 0)
    counts["changes"] = tally.get("accepted", 0)
    rejected = classified.filter(F.col(_VERDICT).isin("tie", "conflict"))
    counts["quarantined"] = counts.get("quarantined", 0) + write_quarantine(
        rejected.withColumn(
            QUARANTINE_REASON, F.when(F.col(_VERDICT) == "tie", TIE_REASON).otherwise(CONFLICT_REASON)
        ).drop(_VERDICT),
        target,
        batch_id,
        part="ties",
        count=tally.get("tie", 0) + tally.get("conflict", 0),
    )
    if counts["changes"]:
        (
            _accepted(classified)
            .write.format("delta")
            .mode("append")
            .option("txnAppId", target.txn_app_id(target.changes))
            .option("txnVersion", str(batch_id))
            .saveAsTable(target.changes)
        )
    return not tally.get("logged") and not tally.get("conflict")


def _accepted(classified: DataFrame) -> DataFrame:
    """The rows of the batch that the change log takes."""
    return classified.filter(F.col(_VERDICT) == "accepted").drop(_VERDICT)


def _version(spark: SparkSession, name: str) -> int:
    """The table's version now: read as of it, later writes in this batch leave what it read alone."""
    return int(DeltaTable.forName(spark, name).history(1).first()["version"])


def _as_of(spark: SparkSession, name: str, version: int) -> DataFrame:
    return spark.sql(f"SELECT * FROM {name} VERSION AS OF {int(version)}")


def _classify(batch: DataFrame, table: SilverSpec, logged: DataFrame) -> DataFrame:
    """Each row with a verdict: accepted, duplicate (of a row in the batch), logged (a duplicate of a
    logged event), tie (different rows share key and sequence in this batch) or conflict (with a
    logged event)."""
    ident = [*table.keys, *table.sequence_by]
    values = [c for c in [*content_columns(table), IS_DELETE] if c not in ident]
    # One shuffle by key: copies marked (per_key), then the different rows per key and sequence.
    versions = F.sum((~F.col(COPY)).cast("int")).over(Window.partitionBy(*ident))
    stored = logged.select(*ident, F.lit(True).alias("_logged"), *[F.col(c).alias(f"_l_{c}") for c in values])
    joined = mark_copies(batch, table).withColumn("_versions", versions).join(stored, ident, "left")
    equal = all_equal([(F.col(c), F.col(f"_l_{c}")) for c in values])
    logged_row = F.col("_logged").isNotNull()
    verdict = (
        F.when(F.col(COPY), "duplicate")
        .when(logged_row & equal, "logged")
        .when(logged_row, "conflict")
        .when(F.col("_versions") > 1, "tie")
        .otherwise("accepted")
    )
    return joined.withColumn(_VERDICT, verdict).select(*batch.columns, _VERDICT)


def _replace_keys(
    spark: SparkSession,
    table: SilverSpec,
    target: SilverTarget,
    keys: BatchKeys,
    events: DataFrame,
    batch_id: int,
    *,
    compare: bool = True,
) -> dict[str, int]:
    """Recompute the touched keys from their `events` (every logged event of those keys); swap the
    rows of those that differ, in one commit. Without `compare` (a batch new to the change log) many
    keys are all replaced, unread.

    Few keys: they are literals, so reads filter instead of joining, and the swap is a `replaceWhere`
    overwrite of exactly the changed keys (into an empty table, an append). Many keys: a semi-join
    and a MERGE, or an append on a first load (every key is new: nothing to compare with).
    """
    current = spark.read.table(target.name)
    recompute = history(table) if table.scd.scd_type == 2 else latest(table)
    desired = events.transform(recompute).select(*current.columns)
    if keys.predicate is None and current.isEmpty():
        return append_new_keys(desired, table, target, batch_id)
    if not compare and keys.frame is not None:  # every key gained an event: no need to compare
        return replace_all(spark, desired, keys, table, target)
    # Read twice (compare, then write): computed once.
    desired = desired.persist()
    try:
        differing = differing_keys(desired, keys.rows_of(current), table.keys)
        if keys.predicate is not None:
            return swap_few(desired, differing.collect(), keys, target, batch_id)
        differing = differing.persist()
        try:
            return swap_many(spark, desired, differing, table, target, batch_id)
        finally:
            differing.unpersist()
    finally:
        desired.unpersist()


def history(table: SilverSpec):
    """Events -> SCD2 versions (one row per version with validity columns); see docs/scd.md."""
    scd = table.scd
    keys, seq = list(table.keys), list(table.sequence_by)
    by_seq = Window.partitionBy(*keys).orderBy(*seq)
    running = by_seq.rowsBetween(Window.unboundedPreceding, Window.currentRow)

    def _history(events: DataFrame) -> DataFrame:
        changed = F.lit(False)
        for column in scd.tracked_columns:
            changed = changed | ~F.col(column).eqNullSafe(F.lag(column).over(by_seq))
        previous_delete = F.lag(IS_DELETE).over(by_seq)
        starts = ~F.col(IS_DELETE) & (previous_delete.isNull() | previous_delete | changed)
        marked = events.select(
            "*",
            F.sum(starts.cast("int")).over(running).alias("_version"),
            F.lead(seq[0]).over(by_seq).alias("_next"),
        ).filter(~F.col(IS_DELETE))
        in_version = Window.partitionBy(*keys, "_version")
        newest_first = in_version.orderBy(*[F.col(c).desc() for c in seq])
        versions = marked.select(
            "*",
            F.min(seq[0]).over(in_version).alias(scd.effective_from_column),
            F.row_number().over(newest_first).alias("_newest"),
        ).filter("_newest = 1")
        return versions.select(
            *content_columns(table),
            *LINEAGE_COLUMNS,
            scd.effective_from_column,
            F.col("_next").alias(scd.effective_to_column),
            F.col("_next").isNull().alias(scd.is_current_column),
        )

    return _history


def latest(table: SilverSpec):
    """Events -> SCD1 rows: each key's newest event, unless that event is a delete."""
    newest_first = Window.partitionBy(*table.keys).orderBy(*[F.col(c).desc() for c in table.sequence_by])

    def _latest(events: DataFrame) -> DataFrame:
        newest = events.withColumn("_newest", F.row_number().over(newest_first)).filter("_newest = 1")
        return newest.filter(~F.col(IS_DELETE)).select(*content_columns(table), *LINEAGE_COLUMNS)

    return _latest
