"""How the recomputed rows of a batch's keys replace the stored ones in an SCD table, in one commit.

`medallion.layers.scd` recomputes the keys' rows from their events; here they are written: an append
when the keys are new, a `replaceWhere` overwrite for a few keys (they are literals, so reads filter
instead of joining), a MERGE for many. Only the keys whose stored rows differ are swapped (a replay
writes nothing), except for many keys of a batch new to the change log (`replace_all`): every key
is replaced and the counts come from the MERGE's metrics, so the stored rows are not read first.
"""

from __future__ import annotations

from collections.abc import Sequence

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from medallion.delta.key_predicates import BatchKeys, keys_predicate
from medallion.delta.merge_source import computed_source
from medallion.delta.silver_tables import SilverTarget
from medallion.specs.model import SilverSpec

__all__ = ["append_new_keys", "differing_keys", "replace_all", "swap_few", "swap_many"]


def replace_all(
    spark: SparkSession, desired: DataFrame, keys: BatchKeys, table: SilverSpec, target: SilverTarget
) -> dict[str, int]:
    """Replace the rows of every key of the batch (many: a cached key frame) with one MERGE, without
    reading the stored rows first; the rows it removed and added from the MERGE's metrics."""
    _merge_swap(spark, desired, keys.frame, table, target)
    metrics = _commit_metrics(spark, target.name)
    return {
        "keys_changed": keys.frame.count(),
        "rows_inserted": metrics.get("numTargetRowsInserted", 0),
        "rows_deleted": metrics.get("numTargetRowsDeleted", 0),
    }


def _commit_metrics(spark: SparkSession, name: str) -> dict[str, int]:
    """The row counts of the table's newest commit (this stream is its only writer). A MERGE's come
    from its own metrics, not from file statistics, which a table may not collect."""
    found = DeltaTable.forName(spark, name).history(1).select("operationMetrics").first()[0] or {}
    return {key: int(value) for key, value in found.items() if str(value).isdigit()}


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


def swap_few(
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


def swap_many(
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
    if not counts["rows_deleted"]:
        _append(desired.join(changed, list(table.keys), "left_semi"), target, batch_id)
        return counts
    _merge_swap(spark, desired, changed, table, target)
    return counts


def _merge_swap(
    spark: SparkSession, desired: DataFrame, changed: DataFrame, table: SilverSpec, target: SilverTarget
) -> None:
    """One MERGE: delete the stored rows of the `changed` keys, insert their `desired` rows."""
    inserts = desired.join(changed, list(table.keys), "left_semi")
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


def append_new_keys(
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
