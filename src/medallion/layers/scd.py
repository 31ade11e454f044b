"""SCD1/SCD2 from change events, with late events, deletes and tombstones (docs/scd.md).

A batch of conformed rows is classified against the table's change log (`<table>_changes`, every
accepted event so far, deletes included): exact duplicates are counted and dropped, rows that tie on
key and sequence go to quarantine, the rest are appended to the change log. Then the history of the
keys the batch touched is recomputed from their events (the change log as read before the batch,
plus the rows it just took) and replaces those keys' rows in the silver table in one Delta
transaction (a `replaceWhere` for a few keys, a MERGE for many), and only if something differs.

Why recompute instead of patching the stored versions: a late event, a tombstone or a change that
splits a version all need the key's full event history, which the versions alone have lost. The
result is a function of the accepted events only, so replaying a batch, or rerunning after a crash
at any point, ends with the same table (the change-log and quarantine appends are keyed by batch).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from medallion.delta.key_predicates import BatchKeys, keys_predicate
from medallion.delta.merge_source import computed_source
from medallion.delta.side_tables import write_quarantine
from medallion.delta.silver_tables import SilverTarget
from medallion.layers.scd_snapshots import SnapshotBatch, all_equal, snapshot_batch
from medallion.layers.transforms import content_columns
from medallion.names import IS_DELETE, LINEAGE_COLUMNS, QUARANTINE_REASON
from medallion.specs.model import SilverSpec

__all__ = [
    "CONFLICT_REASON",
    "TIE_REASON",
    "differing_keys",
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
            _log_changes(classified, table, target, batch_id, counts)
            counts["accepted"] = snapshot.accepted(counts) if snapshot is not None else counts["changes"]
            # The keys' events as the change log now holds them: what it held before this batch
            # (pinned) and what this batch added; no read of the log's new version.
            accepted = _accepted(classified)
            events = logged_keys.unionByName(accepted, allowMissingColumns=True)
            counts.update(_replace_keys(spark, table, target, keys, events, batch_id))
        finally:
            classified.unpersist()
    finally:
        keys.release()
    log.info("silver %s batch %d: %s", table.table, batch_id, counts)
    return counts


def _log_changes(
    classified: DataFrame, table: SilverSpec, target: SilverTarget, batch_id: int, counts: dict[str, int]
) -> None:
    """Count the verdicts, quarantine ties and conflicts, append the accepted events to the change log."""
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
    if counts["changes"]:
        (
            _accepted(classified)
            .write.format("delta")
            .mode("append")
            .option("txnAppId", target.txn_app_id(target.changes))
            .option("txnVersion", str(batch_id))
            .saveAsTable(target.changes)
        )


def _accepted(classified: DataFrame) -> DataFrame:
    """The rows of the batch that the change log takes."""
    return classified.filter(F.col(_VERDICT) == "accepted").drop(_VERDICT)


def _version(spark: SparkSession, name: str) -> int:
    """The table's version now: read as of it, later writes in this batch leave what it read alone."""
    return int(DeltaTable.forName(spark, name).history(1).first()["version"])


def _as_of(spark: SparkSession, name: str, version: int) -> DataFrame:
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
    spark: SparkSession,
    table: SilverSpec,
    target: SilverTarget,
    keys: BatchKeys,
    events: DataFrame,
    batch_id: int,
) -> dict[str, int]:
    """Recompute the touched keys from their `events` (every logged event of those keys); swap the
    rows of those that differ, in one commit.

    Few keys: they are literals, so reads filter instead of joining, and the swap is a `replaceWhere`
    overwrite of exactly the changed keys (into an empty table, an append). Many keys: a semi-join
    and a MERGE, or an append on a first load (every key is new: nothing to compare with).
    """
    current = spark.read.table(target.name)
    recompute = history(table) if table.scd.scd_type == 2 else latest(table)
    desired = events.transform(recompute).select(*current.columns)
    if keys.predicate is None and current.isEmpty():
        return _append_new_keys(desired, table, target, batch_id)
    # Read twice (compare, then write): computed once.
    desired = desired.persist()
    try:
        differing = differing_keys(desired, keys.rows_of(current), table.keys)
        if keys.predicate is not None:
            return _swap_few(desired, differing.collect(), keys, target, batch_id)
        differing = differing.persist()
        try:
            return _swap_many(spark, desired, differing, table, target, batch_id)
        finally:
            differing.unpersist()
    finally:
        desired.unpersist()


def differing_keys(desired: DataFrame, stored: DataFrame, keys: Sequence[str]) -> DataFrame:
    """The keys whose stored rows differ from the desired ones (as sets of rows), with both counts
    (`_new`, `_old`): one aggregation of each side and a join, instead of two set differences."""
    values = [c for c in desired.columns if c not in keys]

    def per_key(frame: DataFrame, tag: str) -> DataFrame:
        rows = F.struct(*[_orderable(frame, c) for c in values])
        return frame.groupBy(*keys).agg(
            F.count(F.lit(1)).alias(f"_{tag}"), F.sort_array(F.collect_list(rows)).alias(f"_rows_{tag}")
        )

    both = per_key(desired, "new").join(per_key(stored, "old"), list(keys), "full_outer")
    return both.filter(~F.col("_rows_new").eqNullSafe(F.col("_rows_old"))).select(
        *keys, F.coalesce("_new", F.lit(0)).alias("_new"), F.coalesce("_old", F.lit(0)).alias("_old")
    )


def _orderable(frame: DataFrame, column: str):
    """The column as a sortable value (maps and variants have no order: compared as JSON)."""
    kind = frame.schema[column].dataType.simpleString()
    return F.to_json(F.col(column)).alias(column) if "map<" in kind or "variant" in kind else F.col(column)


def _swap_few(
    desired: DataFrame, differing: list, keys: BatchKeys, target: SilverTarget, batch_id: int
) -> dict[str, int]:
    """Replace the rows of a few changed keys with `replaceWhere` (a delete and an insert, one commit)."""
    counts = {
        "keys_changed": len(differing),
        "rows_inserted": sum(row["_new"] for row in differing),
        "rows_deleted": sum(row["_old"] for row in differing),
    }
    if not differing:
        return counts
    changed = [tuple(row[k] for k in keys.columns) for row in differing]
    predicate = keys_predicate(keys.columns, changed, keys.types)
    rows = desired.filter(predicate)
    if not counts["rows_deleted"]:  # only new keys: an append, the same single commit
        _append(rows, target, batch_id)
    else:
        rows.write.format("delta").mode("overwrite").option("replaceWhere", predicate).saveAsTable(
            target.name
        )
    return counts


def _swap_many(
    spark: SparkSession,
    desired: DataFrame,
    differing: DataFrame,
    table: SilverSpec,
    target: SilverTarget,
    batch_id: int,
) -> dict[str, int]:
    """Replace the rows of many changed keys with one MERGE (delete the old rows, insert the new)."""
    total = differing.agg(F.count(F.lit(1)), F.sum("_new"), F.sum("_old")).first()
    counts = {
        "keys_changed": total[0],
        "rows_inserted": int(total[1] or 0),
        "rows_deleted": int(total[2] or 0),
    }
    if not counts["keys_changed"]:
        return counts
    changed = differing.select(*table.keys)
    inserts = desired.join(changed, list(table.keys), "left_semi")
    if not counts["rows_deleted"]:
        _append(inserts, target, batch_id)
        return counts
    deletes = changed.select(
        *table.keys,
        *[
            F.lit(None).cast(f.dataType).alias(f.name)
            for f in desired.schema.fields
            if f.name not in table.keys
        ],
    )
    source = computed_source(
        inserts.withColumn("_action", F.lit("insert")).unionByName(
            deletes.withColumn("_action", F.lit("delete"))
        )
    )
    on = " AND ".join(f"t.`{k}` = s.`{k}`" for k in table.keys) + " AND s._action = 'delete'"
    (
        DeltaTable.forName(spark, target.name)
        .alias("t")
        .merge(source.alias("s"), on)
        .whenMatchedDelete()
        .whenNotMatchedInsert(
            condition="s._action = 'insert'", values={f"`{c}`": f"s.`{c}`" for c in desired.columns}
        )
        .execute()
    )
    return counts


def _append_new_keys(
    desired: DataFrame, table: SilverSpec, target: SilverTarget, batch_id: int
) -> dict[str, int]:
    rows = desired.persist()
    try:
        n_rows = rows.count()
        if n_rows:
            _append(rows, target, batch_id)
        n_keys = rows.select(*table.keys).distinct().count() if n_rows else 0
    finally:
        rows.unpersist()
    return {"keys_changed": n_keys, "rows_inserted": n_rows, "rows_deleted": 0}


def _append(rows: DataFrame, target: SilverTarget, batch_id: int) -> None:
    (
        rows.write.format("delta")
        .mode("append")
        .option("txnAppId", target.txn_app_id(target.name) + ":new_keys")
        .option("txnVersion", str(batch_id))
        .saveAsTable(target.name)
    )


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
