"""SCD1/SCD2 from change events, with late events, deletes and tombstones (docs/scd.md).

A batch of conformed rows is classified against the table's change log (`<table>_changes`, every
accepted event so far, deletes included): exact duplicates are counted and dropped, rows that tie on
key and sequence go to quarantine, the rest are appended to the change log. Then the history of the
keys the batch touched is recomputed from the change log and replaces those keys' rows in the silver
table with one MERGE, i.e. one Delta transaction, and only if something differs.

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

from medallion.delta.side_tables import write_quarantine
from medallion.delta.silver_tables import SilverTarget
from medallion.layers.scd_snapshots import SnapshotBatch, all_equal, snapshot_batch
from medallion.layers.transforms import content_columns
from medallion.names import IS_DELETE, LINEAGE_COLUMNS, QUARANTINE_REASON
from medallion.specs.model import SilverSpec

__all__ = ["CONFLICT_REASON", "TIE_REASON", "history", "latest", "write_scd"]

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
    logged = _pinned(spark, target.changes)
    counts: dict[str, int] = {}
    snapshot: SnapshotBatch | None = None
    if table.scd is not None and table.scd.source_kind == "snapshot":
        snapshot = snapshot_batch(spark, batch, table, target.changes, logged)
        counts["quarantined"] = write_quarantine(snapshot.late, target, batch_id, part="late_snapshot")
        batch = snapshot.events
    classified = _classify(batch, table, logged).persist()
    try:
        tally = {row[_VERDICT]: row["count"] for row in classified.groupBy(_VERDICT).count().collect()}
        counts["duplicates"] = tally.get("duplicate", 0)
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
        accepted = classified.filter(F.col(_VERDICT) == "accepted").drop(_VERDICT)
        (
            accepted.write.format("delta")
            .mode("append")
            .option("txnAppId", target.txn_app_id(target.changes))
            .option("txnVersion", str(batch_id))
            .saveAsTable(target.changes)
        )
        # The touched keys are read twice below; kept here, they do not re-run the classification
        # (a join with the whole change log) after `classified` is released.
        keys = classified.select(*table.keys).distinct().persist()
        keys.count()
        if snapshot is not None:
            snapshot.record(spark, target.changes)
    finally:
        classified.unpersist()
    counts["accepted"] = snapshot.accepted(counts) if snapshot is not None else counts["changes"]
    try:
        counts.update(_replace_keys(spark, table, target, keys, batch_id))
    finally:
        keys.unpersist()
    log.info("silver %s batch %d: %s", table.table, batch_id, counts)
    return counts


def _pinned(spark: SparkSession, name: str) -> DataFrame:
    """The table as of now, unaffected by later writes in this batch (recomputation stays exact)."""
    version = DeltaTable.forName(spark, name).history(1).first()["version"]
    return spark.sql(f"SELECT * FROM {name} VERSION AS OF {int(version)}")


def _classify(batch: DataFrame, table: SilverSpec, logged: DataFrame) -> DataFrame:
    """Each row with a verdict: accepted, duplicate (of a row in the batch or a logged event), tie
    (different rows share key and sequence in this batch) or conflict (with a logged event)."""
    ident = [*table.keys, *table.sequence_by]
    values = [c for c in [*content_columns(table), IS_DELETE] if c not in ident]
    lineage = [F.col(c) for c in LINEAGE_COLUMNS if c in batch.columns]
    copy_no = F.row_number().over(Window.partitionBy(*ident, *values).orderBy(*lineage))
    versions = F.size(F.collect_set(F.struct(*values)).over(Window.partitionBy(*ident)))
    stored = logged.select(*ident, F.lit(True).alias("_logged"), *[F.col(c).alias(f"_l_{c}") for c in values])
    joined = batch.select("*", copy_no.alias("_copy"), versions.alias("_versions")).join(
        stored, ident, "left"
    )
    equal = all_equal([(F.col(c), F.col(f"_l_{c}")) for c in values])
    logged_row = F.col("_logged").isNotNull()
    verdict = (
        F.when(F.col("_copy") > 1, "duplicate")
        .when(logged_row & equal, "duplicate")
        .when(logged_row, "conflict")
        .when(F.col("_versions") > 1, "tie")
        .otherwise("accepted")
    )
    return joined.withColumn(_VERDICT, verdict).select(*batch.columns, _VERDICT)


def _replace_keys(
    spark: SparkSession, table: SilverSpec, target: SilverTarget, keys: DataFrame, batch_id: int
) -> dict[str, int]:
    """Recompute the touched keys from the change log; swap their rows in one MERGE if they differ."""
    current = spark.read.table(target.name)
    events = spark.read.table(target.changes).join(keys, list(table.keys), "left_semi")
    desired = events.transform(history(table) if table.scd.scd_type == 2 else latest(table))
    # Both sides are read several times below (compare, then MERGE): compute each once.
    desired = desired.select(*current.columns).persist()
    stale = current.join(keys, list(table.keys), "left_semi").persist()
    if stale.isEmpty():
        # Only new keys (e.g. the first load): an append is the same single commit, without a MERGE.
        try:
            return _append_new_keys(desired, table, target, batch_id)
        finally:
            stale.unpersist()
            desired.unpersist()
    changed = (
        desired.exceptAll(stale)
        .select(*table.keys)
        .union(stale.exceptAll(desired).select(*table.keys))
        .distinct()
    ).persist()
    try:
        n_keys = changed.count()
        if not n_keys:
            return {"keys_changed": 0, "rows_inserted": 0, "rows_deleted": 0}
        inserts = desired.join(changed, list(table.keys), "left_semi").withColumn("_action", F.lit("insert"))
        deletes = changed.select(
            *[F.col(c) for c in table.keys],
            *[
                F.lit(None).cast(f.dataType).alias(f.name)
                for f in current.schema.fields
                if f.name not in table.keys
            ],
        ).withColumn("_action", F.lit("delete"))
        source = inserts.unionByName(deletes)
        on = " AND ".join(f"t.`{k}` = s.`{k}`" for k in table.keys) + " AND s._action = 'delete'"
        metrics = (
            DeltaTable.forName(spark, target.name)
            .alias("t")
            .merge(source.alias("s"), on)
            .whenMatchedDelete()
            .whenNotMatchedInsert(
                condition="s._action = 'insert'", values={f"`{c}`": f"s.`{c}`" for c in current.columns}
            )
            .execute()
            .first()
        )
    finally:
        for frame in (changed, stale, desired):
            frame.unpersist()
    result = metrics.asDict() if metrics is not None else {}
    return {
        "keys_changed": n_keys,
        "rows_inserted": int(result.get("num_inserted_rows", 0)),
        "rows_deleted": int(result.get("num_deleted_rows", 0)),
    }


def _append_new_keys(
    desired: DataFrame, table: SilverSpec, target: SilverTarget, batch_id: int
) -> dict[str, int]:
    n_rows = desired.count()
    if n_rows:
        (
            desired.write.format("delta")
            .mode("append")
            .option("txnAppId", target.txn_app_id(target.name) + ":new_keys")
            .option("txnVersion", str(batch_id))
            .saveAsTable(target.name)
        )
    n_keys = desired.select(*table.keys).distinct().count() if n_rows else 0
    return {"keys_changed": n_keys, "rows_inserted": n_rows, "rows_deleted": 0}


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
