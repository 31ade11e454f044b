"""Snapshot sources for history tables: each drop is the whole table at one sequence value.

A batch of snapshots becomes change events for the SCD engine (`medallion.layers.scd`): a key new or
different from the state before the snapshot is an upsert at the snapshot's sequence, a key that
disappeared is a delete. Snapshots older than the newest applied one are late and go to quarantine.
The newest applied snapshot is remembered on the change log (a table property), because a snapshot
that changed nothing leaves no event to show it was applied. The property is written before the
batch's events, with the log version and mark the batch started from: a replay of that batch (the
process died after logging its events, before the stream committed the batch) starts from the same
state, so its older snapshot is not taken for a late one and every key it changed is recomputed.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, fields

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import DataType

from medallion.layers.transforms import content_columns
from medallion.names import IS_DELETE, LINEAGE_COLUMNS, QUARANTINE_REASON, SNAPSHOT_PROPERTY
from medallion.specs.model import SilverSpec

__all__ = ["SnapshotBatch", "SnapshotMark", "all_equal", "snapshot_batch", "snapshot_events"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SnapshotMark:
    """The change log's snapshot property: the newest applied snapshot (as text), and the batch that
    last moved it (`writer`: its stream's txnAppId) with the log version and the mark it started from."""

    applied: str | None = None
    writer: str = ""
    batch: int | None = None
    version_before: int | None = None
    applied_before: str | None = None

    @classmethod
    def parse(cls, text: str | None) -> SnapshotMark:
        """The stored property; a plain value is the mark of a table written before batches were kept."""
        if text is None:
            return cls()
        try:
            found = json.loads(text)
        except ValueError:
            return cls(applied=text)
        if not isinstance(found, dict):
            return cls(applied=text)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in found.items() if k in known})

    def replayed_by(self, writer: str, batch_id: int) -> bool:
        """True when this mark was written by that very batch: the batch is being replayed."""
        return self.batch is not None and (self.writer, self.batch) == (writer, batch_id)


@dataclass(frozen=True)
class SnapshotBatch:
    """One batch of snapshots as the SCD engine takes it: `events` to classify against `logged` (the
    change log as of before the batch), `late` rows to quarantine, and the mark to record before the
    events are logged (None when the batch moves nothing)."""

    events: DataFrame
    late: DataFrame
    logged: DataFrame
    mark: SnapshotMark | None
    rows_in: int

    def accepted(self, counts: dict[str, int]) -> int:
        """Rows of the batch taken by the table. A snapshot's rows become derived events (unchanged
        rows none, missing keys a delete), so every row not quarantined or a duplicate was taken."""
        return self.rows_in - counts.get("quarantined", 0) - counts.get("duplicates", 0)

    def record(self, spark: SparkSession, changes: str) -> None:
        """Remember the newest snapshot on the change log, before its events are logged."""
        if self.mark is not None:
            text = json.dumps(asdict(self.mark)).replace("'", "\\'")
            spark.sql(f"ALTER TABLE {changes} SET TBLPROPERTIES ('{SNAPSHOT_PROPERTY}' = '{text}')")


def snapshot_batch(
    spark: SparkSession,
    batch: DataFrame,
    table: SilverSpec,
    changes: str,
    version: int,
    writer: str,
    batch_id: int,
) -> SnapshotBatch:
    """Turn a batch of snapshot rows into events against the change log `changes`, as of `version`
    (its version before the batch), or as of before the batch's first attempt when this is a replay."""
    rows_in = batch.count()
    stored = {r["key"]: r["value"] for r in spark.sql(f"SHOW TBLPROPERTIES {changes}").collect()}
    mark = SnapshotMark.parse(stored.get(SNAPSHOT_PROPERTY))
    replay = mark.replayed_by(writer, batch_id)
    if replay:
        log.info(
            "%s: batch %d is replayed; it starts from version %s", changes, batch_id, mark.version_before
        )
        version, applied_text = int(mark.version_before), mark.applied_before
    else:
        applied_text = mark.applied
    logged = spark.sql(f"SELECT * FROM {changes} VERSION AS OF {int(version)}")
    sequence_type = batch.schema[table.sequence_by[0]].dataType
    applied = None if applied_text is None else _cast(spark, applied_text, sequence_type)
    events, late, newest = snapshot_events(batch, table, logged, applied)
    moved = None
    if newest is not None and not replay:
        moved = SnapshotMark(_cast(spark, newest, "string"), writer, batch_id, version, applied_text)
    return SnapshotBatch(events=events, late=late, logged=logged, mark=moved, rows_in=rows_in)


def _cast(spark: SparkSession, value: object, data_type: DataType | str) -> object:
    """A value as Spark casts it (the sequence's text form and back)."""
    return spark.range(1).select(F.lit(value).cast(data_type)).first()[0]


def snapshot_events(
    batch: DataFrame, table: SilverSpec, logged: DataFrame, applied: object = None
) -> tuple[DataFrame, DataFrame, object]:
    """Full snapshots -> change events at each snapshot's sequence; snapshots older than the newest
    applied one (`applied`, or the newest logged event) come back separately, to be quarantined,
    with the newest snapshot of the batch when it moves the mark.

    Each distinct sequence value in the batch is one snapshot. A snapshot is compared with the state
    just before it: the previous snapshot of the batch, or the stored table for the first one.
    """
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
    late = late.withColumn(QUARANTINE_REASON, F.lit(reason))
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
                | ~all_equal([(F.col(c), F.col(f"_p_{c}")) for c in values])
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
        ).withColumn(IS_DELETE, F.lit(True))
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


def _live_before(logged: DataFrame, table: SilverSpec, values: list[str]) -> DataFrame:
    """Keys whose newest logged event is an upsert, with that event's values (`_p_` prefixed)."""
    keys = list(table.keys)
    newest_first = Window.partitionBy(*keys).orderBy(*[F.col(c).desc() for c in table.sequence_by])
    newest = logged.withColumn("_newest", F.row_number().over(newest_first)).filter("_newest = 1")
    return newest.filter(~F.col(IS_DELETE)).select(
        *keys, F.lit(True).alias("_p_live"), *[F.col(c).alias(f"_p_{c}") for c in values]
    )


def all_equal(pairs: list[tuple[Column, Column]]) -> Column:
    """True where every pair is equal, NULLs included (`<=>`)."""
    condition = F.lit(True)
    for left, right in pairs:
        condition = condition & left.eqNullSafe(right)
    return condition
