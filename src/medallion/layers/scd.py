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
from typing import TYPE_CHECKING

from medallion.layers.quarantine import REASON_COLUMN, write_quarantine
from medallion.layers.silver_tables import SilverTarget
from medallion.layers.transforms import DELETE_FLAG, LINEAGE_COLUMNS, content_columns
from medallion.specs.model import SilverTable

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

__all__ = ["CONFLICT_REASON", "TIE_REASON", "history", "latest", "snapshot_events", "write_scd"]

log = logging.getLogger(__name__)

TIE_REASON = "different rows share this key and sequence"
CONFLICT_REASON = "conflicts with an accepted change at this key and sequence"
_VERDICT = "_verdict"


def write_scd(
    spark: SparkSession, batch: DataFrame, table: SilverTable, target: SilverTarget, batch_id: int
) -> dict[str, int]:
    """Apply one batch of conformed rows (keys and sequence not NULL) to an scd1/scd2 table."""
    from pyspark.sql import functions as F

    if DELETE_FLAG not in batch.columns:
        batch = batch.withColumn(DELETE_FLAG, F.lit(False))
    logged = _pinned(spark, target.changes)
    counts: dict[str, int] = {}
    snapshot_source = table.scd is not None and table.scd.source_kind == "snapshot"
    newest_snapshot = None
    rows_in = batch.count() if snapshot_source else 0
    if snapshot_source:
        applied = _applied_snapshot(spark, target.changes, batch.schema[table.sequence_by[0]].dataType)
        batch, late, newest_snapshot = snapshot_events(batch, table, logged, applied)
        counts["quarantined"] = write_quarantine(late, target, batch_id, part="late_snapshot")
    classified = _classify(batch, table, logged).persist()
    try:
        tally = {row[_VERDICT]: row["count"] for row in classified.groupBy(_VERDICT).count().collect()}
        counts["duplicates"] = tally.get("duplicate", 0)
        counts["changes"] = tally.get("accepted", 0)
        rejected = classified.filter(F.col(_VERDICT).isin("tie", "conflict"))
        counts["quarantined"] = counts.get("quarantined", 0) + write_quarantine(
            rejected.withColumn(
                REASON_COLUMN, F.when(F.col(_VERDICT) == "tie", TIE_REASON).otherwise(CONFLICT_REASON)
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
        keys = classified.select(*table.keys).distinct()
        if newest_snapshot is not None:
            _record_snapshot(spark, target.changes, newest_snapshot)
    finally:
        classified.unpersist()
    # Every row is accepted, a duplicate or quarantined. A snapshot's rows become derived events
    # (unchanged rows none, missing keys a delete), so its rows are accounted as read minus the rest.
    counts["accepted"] = (
        rows_in - counts["quarantined"] - counts["duplicates"] if snapshot_source else counts["changes"]
    )
    counts.update(_replace_keys(spark, table, target, keys, batch_id))
    log.info("silver %s batch %d: %s", table.table, batch_id, counts)
    return counts


def _pinned(spark: SparkSession, name: str) -> DataFrame:
    """The table as of now, unaffected by later writes in this batch (recomputation stays exact)."""
    from delta.tables import DeltaTable

    version = DeltaTable.forName(spark, name).history(1).first()["version"]
    return spark.sql(f"SELECT * FROM {name} VERSION AS OF {int(version)}")


def _classify(batch: DataFrame, table: SilverTable, logged: DataFrame) -> DataFrame:
    """Each row with a verdict: accepted, duplicate (of a row in the batch or a logged event), tie
    (different rows share key and sequence in this batch) or conflict (with a logged event)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    ident = [*table.keys, *table.sequence_by]
    values = [c for c in [*content_columns(table), DELETE_FLAG] if c not in ident]
    lineage = [F.col(c) for c in LINEAGE_COLUMNS if c in batch.columns]
    copy_no = F.row_number().over(Window.partitionBy(*ident, *values).orderBy(*lineage))
    versions = F.size(F.collect_set(F.struct(*values)).over(Window.partitionBy(*ident)))
    stored = logged.select(*ident, F.lit(True).alias("_logged"), *[F.col(c).alias(f"_l_{c}") for c in values])
    joined = batch.select("*", copy_no.alias("_copy"), versions.alias("_versions")).join(
        stored, ident, "left"
    )
    equal = _all_equal([(F.col(c), F.col(f"_l_{c}")) for c in values])
    logged_row = F.col("_logged").isNotNull()
    verdict = (
        F.when(F.col("_copy") > 1, "duplicate")
        .when(logged_row & equal, "duplicate")
        .when(logged_row, "conflict")
        .when(F.col("_versions") > 1, "tie")
        .otherwise("accepted")
    )
    return joined.withColumn(_VERDICT, verdict).select(*batch.columns, _VERDICT)


def _all_equal(pairs: list[tuple[Column, Column]]) -> Column:
    from pyspark.sql import functions as F

    condition = F.lit(True)
    for left, right in pairs:
        condition = condition & left.eqNullSafe(right)
    return condition


def _replace_keys(
    spark: SparkSession, table: SilverTable, target: SilverTarget, keys: DataFrame, batch_id: int
) -> dict[str, int]:
    """Recompute the touched keys from the change log; swap their rows in one MERGE if they differ."""
    from delta.tables import DeltaTable
    from pyspark.sql import functions as F

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
    desired: DataFrame, table: SilverTable, target: SilverTarget, batch_id: int
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


def history(table: SilverTable):
    """Events -> SCD2 versions (one row per version with validity columns); see docs/scd.md."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    scd = table.scd
    keys, seq = list(table.keys), list(table.sequence_by)
    by_seq = Window.partitionBy(*keys).orderBy(*seq)
    running = by_seq.rowsBetween(Window.unboundedPreceding, Window.currentRow)

    def _history(events: DataFrame) -> DataFrame:
        changed = F.lit(False)
        for column in scd.tracked_columns:
            changed = changed | ~F.col(column).eqNullSafe(F.lag(column).over(by_seq))
        previous_delete = F.lag(DELETE_FLAG).over(by_seq)
        starts = ~F.col(DELETE_FLAG) & (previous_delete.isNull() | previous_delete | changed)
        marked = events.select(
            "*",
            F.sum(starts.cast("int")).over(running).alias("_version"),
            F.lead(seq[0]).over(by_seq).alias("_next"),
        ).filter(~F.col(DELETE_FLAG))
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


def latest(table: SilverTable):
    """Events -> SCD1 rows: each key's newest event, unless that event is a delete."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    newest_first = Window.partitionBy(*table.keys).orderBy(*[F.col(c).desc() for c in table.sequence_by])

    def _latest(events: DataFrame) -> DataFrame:
        newest = events.withColumn("_newest", F.row_number().over(newest_first)).filter("_newest = 1")
        return newest.filter(~F.col(DELETE_FLAG)).select(*content_columns(table), *LINEAGE_COLUMNS)

    return _latest


_SNAPSHOT_PROPERTY = "medallion.snapshot.latest_sequence"


def _applied_snapshot(spark: SparkSession, changes: str, data_type) -> object:
    """The newest snapshot applied so far (a snapshot without changes leaves no event to show it)."""
    from pyspark.sql import functions as F

    stored = {r["key"]: r["value"] for r in spark.sql(f"SHOW TBLPROPERTIES {changes}").collect()}
    text = stored.get(_SNAPSHOT_PROPERTY)
    return None if text is None else spark.range(1).select(F.lit(text).cast(data_type)).first()[0]


def _record_snapshot(spark: SparkSession, changes: str, value: object) -> None:
    from pyspark.sql import functions as F

    text = spark.range(1).select(F.lit(value).cast("string")).first()[0]
    spark.sql(f"ALTER TABLE {changes} SET TBLPROPERTIES ('{_SNAPSHOT_PROPERTY}' = '{text}')")


def snapshot_events(
    batch: DataFrame, table: SilverTable, logged: DataFrame, applied: object = None
) -> tuple[DataFrame, DataFrame, object]:
    """Full snapshots -> change events at each snapshot's sequence; snapshots older than the newest
    applied one (`applied`, or the newest logged event) come back separately, to be quarantined,
    with the newest snapshot of the batch when it moves the mark.

    Each distinct sequence value in the batch is one snapshot. A snapshot is compared with the state
    just before it: the previous snapshot of the batch, or the stored table for the first one.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    seq = table.sequence_by[0]
    keys = list(table.keys)
    batch = batch.dropDuplicates([c for c in batch.columns if c not in LINEAGE_COLUMNS])
    values = [c for c in content_columns(table) if c not in (*keys, seq)]
    newest_logged = logged.agg(F.max(seq)).first()[0]
    newest_applied = max((v for v in (newest_logged, applied) if v is not None), default=None)
    snapshots = sorted(r[0] for r in batch.select(seq).distinct().collect())
    late_values = [s for s in snapshots if newest_applied is not None and s < newest_applied]
    late = batch.filter(F.col(seq).isin(late_values)) if late_values else batch.limit(0)
    reason = f"snapshot older than the latest applied snapshot ({newest_applied})"
    late = late.withColumn(REASON_COLUMN, F.lit(reason))
    # State before the first new snapshot: the live keys per the change log, as of before it.
    previous = _live_before(logged, table, values)
    events = []
    for value in (s for s in snapshots if s not in late_values):
        snapshot = batch.filter(F.col(seq) == value)
        if newest_applied is not None and value == newest_applied:
            previous = _live_before(logged.filter(F.col(seq) < value), table, values)
        # A key with two different rows in one snapshot stays in, so it is quarantined as a tie.
        rows_per_key = F.count(F.lit(1)).over(Window.partitionBy(*keys))
        upserts = (
            snapshot.withColumn("_rows", rows_per_key)
            .join(previous, keys, "left")
            .filter(
                (F.col("_rows") > 1)
                | F.col("_p_live").isNull()
                | ~_all_equal([(F.col(c), F.col(f"_p_{c}")) for c in values])
            )
            .select(*batch.columns)
        )
        gone = previous.join(snapshot.select(*keys), keys, "left_anti")
        deletes = gone.select(
            *keys,
            *[
                (F.lit(value).alias(c) if c == seq else F.lit(None).cast(batch.schema[c].dataType).alias(c))
                for c in batch.columns
                if c not in keys
            ],
        ).withColumn(DELETE_FLAG, F.lit(True))
        events.append(upserts.unionByName(deletes.select(*batch.columns)))
        previous = snapshot.select(
            *keys, F.lit(True).alias("_p_live"), *[F.col(c).alias(f"_p_{c}") for c in values]
        )
    fresh = [s for s in snapshots if s not in late_values]
    newest = max(fresh) if fresh and (newest_applied is None or max(fresh) > newest_applied) else None
    if not events:
        return batch.limit(0), late, newest
    out = events[0]
    for more in events[1:]:
        out = out.unionByName(more)
    return out, late, newest


def _live_before(logged: DataFrame, table: SilverTable, values: list[str]) -> DataFrame:
    """Keys whose newest logged event is an upsert, with that event's values (`_p_` prefixed)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    keys = list(table.keys)
    newest_first = Window.partitionBy(*keys).orderBy(*[F.col(c).desc() for c in table.sequence_by])
    newest = logged.withColumn("_newest", F.row_number().over(newest_first)).filter("_newest = 1")
    return newest.filter(~F.col(DELETE_FLAG)).select(
        *keys, F.lit(True).alias("_p_live"), *[F.col(c).alias(f"_p_{c}") for c in values]
    )
