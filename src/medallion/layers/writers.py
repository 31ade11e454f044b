"""How a batch of conformed rows lands in a silver table: a registry from the load-pattern word
(declared with what it needs in `medallion.specs.load_patterns`) to a writer function.

Every writer has the signature `(spark, batch, table, target, batch_id) -> dict of counts` and must
be idempotent for a replayed `batch_id` (Structured Streaming replays the last batch after a crash).
Its counts account for every row of `batch`: `accepted` (taken by the table, even if a newer row of
the same key then supersedes it), `duplicates` (exact copies dropped) and `quarantined`.
`batch` holds conformed rows whose keys and sequence are not NULL; `target` names the table and its
side tables. The history patterns (scd1, scd2) live in `scd`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from medallion.delta.key_predicates import BatchKeys
from medallion.delta.merge_source import computed_source
from medallion.delta.silver_tables import SilverTarget
from medallion.layers.per_key import COPY, LATEST, TIES, raise_on_ties, rank_per_key
from medallion.layers.scd import write_scd
from medallion.layers.transforms import content_columns
from medallion.names import INGESTED_AT, IS_DELETE, SOURCE_FILE
from medallion.specs.load_patterns import LOAD_PATTERNS
from medallion.specs.model import SilverSpec

__all__ = ["WRITERS", "Writer", "writes"]

log = logging.getLogger(__name__)

Writer = Callable[[SparkSession, DataFrame, SilverSpec, SilverTarget, int], dict[str, int]]
WRITERS: dict[str, Writer] = {}


def writes(*words: str) -> Callable[[Writer], Writer]:
    """Register a writer for load-pattern words; each word must be declared in `specs.load_patterns`."""

    def _register(fn: Writer) -> Writer:
        for word in words:
            if word not in LOAD_PATTERNS:
                raise ValueError(f"{fn.__name__} writes {word!r}, which specs.load_patterns does not declare")
            WRITERS[word] = fn
        return fn

    return _register


def _txn(target: SilverTarget, batch_id: int) -> dict[str, str]:
    """Delta idempotent-write options keyed by the target table (one stream per table)."""
    return {"txnAppId": target.txn_app_id(target.name), "txnVersion": str(batch_id)}


@writes("append")
def append(
    spark: SparkSession, batch: DataFrame, table: SilverSpec, target: SilverTarget, batch_id: int
) -> dict[str, int]:
    """Append the batch as it is; a replayed batch id is skipped by Delta."""
    rows = batch.drop(IS_DELETE)
    rows.write.format("delta").mode("append").options(**_txn(target, batch_id)).saveAsTable(target.name)
    n = rows.count()
    return {"inserted": n, "accepted": n}


@writes("overwrite")
def overwrite(
    spark: SparkSession, batch: DataFrame, table: SilverSpec, target: SilverTarget, batch_id: int
) -> dict[str, int]:
    """Replace the table with the newest file of the batch: each drop is a full snapshot."""
    newest = batch.agg(F.max(SOURCE_FILE)).first()[0]
    rows = batch.filter(F.col(SOURCE_FILE) == newest).drop(IS_DELETE)
    rows.write.format("delta").mode("overwrite").options(**_txn(target, batch_id)).saveAsTable(target.name)
    inserted, total = rows.count(), batch.count()
    # Rows of older files in the same batch were snapshots too, superseded by the newest one.
    return {"inserted": inserted, "accepted": total, "superseded": total - inserted, "snapshot_file": newest}


@writes("merge")
def merge(
    spark: SparkSession, batch: DataFrame, table: SilverSpec, target: SilverTarget, batch_id: int
) -> dict[str, int]:
    """Upsert the latest row per key; an older sequence never overwrites a newer one.

    Rows flagged by `delete_when` delete the stored row if they are newer. Replaying a batch
    changes nothing, because no row is newer than itself. Into an empty table (a first load) the
    latest rows are appended instead: no stored row to match, so a MERGE would only cost a join.
    """
    ranked = rank_per_key(batch, table).persist()  # one shuffle: copies, latest rows and ties
    try:
        kept = F.col(LATEST) & ~F.col(IS_DELETE) if table.delete_when else F.col(LATEST)
        total, accepted, ties, inserted = ranked.agg(
            F.count(F.lit(1)),
            F.count_if(~F.col(COPY)),
            F.count_if(F.col(TIES) > 1),
            F.count_if(kept),
        ).first()
        if ties:
            raise_on_ties(ranked, table)
        latest = ranked.filter(F.col(LATEST)).drop(COPY, LATEST, TIES)
        if spark.read.table(target.name).isEmpty():
            counts = _first_load(latest, table, target, batch_id, inserted)
        else:
            counts = _upsert(spark, latest, table, target)
    finally:
        ranked.unpersist()
    return {**counts, "accepted": accepted, "duplicates": total - accepted}


def _first_load(
    latest: DataFrame, table: SilverSpec, target: SilverTarget, batch_id: int, inserted: int
) -> dict[str, int]:
    """Append the latest rows (a delete has nothing to delete yet; `inserted` counts the others); a
    replayed batch id is skipped by Delta, and a replay after the table filled takes the MERGE, which
    finds nothing newer."""
    rows = latest.filter(~F.col(IS_DELETE)) if table.delete_when else latest
    rows = rows.select(*_stored_columns(table))  # what the MERGE would insert
    rows.write.format("delta").mode("append").options(**_txn(target, batch_id)).saveAsTable(target.name)
    return {"inserted": inserted, "updated": 0, "deleted": 0}


def _upsert(
    spark: SparkSession, latest: DataFrame, table: SilverSpec, target: SilverTarget
) -> dict[str, int]:
    """MERGE the latest rows into the table: newer rows update or delete, unknown keys insert."""
    keys = BatchKeys.from_batch(latest, table.keys, literals_only=True)
    on = " AND ".join(f"t.`{k}` = s.`{k}`" for k in table.keys)
    pruned = keys.qualified("t")
    if pruned is not None:  # few keys: the target's files are skipped by their key statistics
        on = f"{on} AND ({pruned})"
    newer = _newer_condition(table.sequence_by)
    values = {f"`{c}`": f"s.`{c}`" for c in _stored_columns(table)}
    source = computed_source(latest)
    builder = DeltaTable.forName(spark, target.name).alias("t").merge(source.alias("s"), on)
    if table.delete_when:
        builder = builder.whenMatchedDelete(condition=f"s.`{IS_DELETE}` AND {newer}")
        builder = builder.whenMatchedUpdate(condition=f"NOT s.`{IS_DELETE}` AND {newer}", set=values)
        builder = builder.whenNotMatchedInsert(condition=f"NOT s.`{IS_DELETE}`", values=values)
    else:
        builder = builder.whenMatchedUpdate(condition=newer, set=values).whenNotMatchedInsert(values=values)
    metrics = builder.execute().first()
    result = metrics.asDict() if metrics is not None else {}
    return {
        "inserted": int(result.get("num_inserted_rows", 0)),
        "updated": int(result.get("num_updated_rows", 0)),
        "deleted": int(result.get("num_deleted_rows", 0)),
    }


writes("scd1", "scd2")(write_scd)


def _stored_columns(table: SilverSpec) -> list[str]:
    return [*content_columns(table), SOURCE_FILE, INGESTED_AT]


def _newer_condition(sequence: tuple[str, ...]) -> str:
    """SQL: the source row's sequence is strictly after the stored one (composite compares in order)."""
    source = ", ".join(f"s.`{c}`" for c in sequence)
    stored = ", ".join(f"t.`{c}`" for c in sequence)
    return f"(struct({source}) > struct({stored}))"
