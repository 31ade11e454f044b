"""How a batch of conformed rows lands in a silver table: a registry from the spec word
(`load_pattern` in incremental_load_patterns.csv) to a writer function.

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
from typing import TYPE_CHECKING

from medallion.errors import DataError
from medallion.layers.scd import write_scd
from medallion.layers.silver_tables import SilverTarget
from medallion.layers.transforms import DELETE_FLAG, content_columns
from medallion.specs.model import SilverTable

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["LOAD_PATTERNS", "Writer", "distinct_rows", "latest_per_key", "register"]

log = logging.getLogger(__name__)

Writer = Callable[["SparkSession", "DataFrame", SilverTable, SilverTarget, int], dict[str, int]]
LOAD_PATTERNS: dict[str, Writer] = {}


def register(name: str) -> Callable[[Writer], Writer]:
    def _register(fn: Writer) -> Writer:
        LOAD_PATTERNS[name] = fn
        return fn

    return _register


def _txn(target: SilverTarget, batch_id: int) -> dict[str, str]:
    """Delta idempotent-write options keyed by the target table (one stream per table)."""
    return {"txnAppId": target.txn_app_id(target.name), "txnVersion": str(batch_id)}


@register("append")
def append(
    spark: SparkSession, batch: DataFrame, table: SilverTable, target: SilverTarget, batch_id: int
) -> dict[str, int]:
    """Append the batch as it is; a replayed batch id is skipped by Delta."""
    rows = batch.drop(DELETE_FLAG)
    rows.write.format("delta").mode("append").options(**_txn(target, batch_id)).saveAsTable(target.name)
    n = rows.count()
    return {"inserted": n, "accepted": n}


@register("overwrite")
def overwrite(
    spark: SparkSession, batch: DataFrame, table: SilverTable, target: SilverTarget, batch_id: int
) -> dict[str, int]:
    """Replace the table with the newest file of the batch: each drop is a full snapshot."""
    from pyspark.sql import functions as F

    newest = batch.agg(F.max("_source_file")).first()[0]
    rows = batch.filter(F.col("_source_file") == newest).drop(DELETE_FLAG)
    rows.write.format("delta").mode("overwrite").options(**_txn(target, batch_id)).saveAsTable(target.name)
    inserted, total = rows.count(), batch.count()
    # Rows of older files in the same batch were snapshots too, superseded by the newest one.
    return {"inserted": inserted, "accepted": total, "superseded": total - inserted, "snapshot_file": newest}


def distinct_rows(batch: DataFrame, table: SilverTable) -> DataFrame:
    """The batch without exact copies (same spec'd values and delete flag; lineage ignored)."""
    return batch.dropDuplicates([*content_columns(table), *([DELETE_FLAG] if table.delete_when else [])])


def latest_per_key(batch: DataFrame, table: SilverTable) -> DataFrame:
    """One row per key: the one with the highest sequence. Exact duplicates collapse first.

    Two different rows sharing a key and its highest sequence have no winner: that raises a
    DataError naming examples, rather than picking one at random.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    keys, sequence = list(table.keys), list(table.sequence_by)
    distinct = distinct_rows(batch, table)
    seq = F.struct(*[F.col(c) for c in sequence])
    ranked = distinct.withColumn("_rank", F.rank().over(Window.partitionBy(*keys).orderBy(seq.desc())))
    latest = ranked.filter("_rank = 1").drop("_rank")
    ties = latest.groupBy(*keys, *sequence).count().filter("count > 1")
    examples = ties.limit(5).collect()
    if examples:
        shown = "; ".join(
            ", ".join(f"{c}={row[c]}" for c in [*keys, *sequence]) + f" ({row['count']} versions)"
            for row in examples
        )
        raise DataError(
            f"silver table {table.table}: different rows share a key and its latest "
            f"{'/'.join(sequence)}, so no version can win: {shown}. Fix the source data, or add a "
            f"tie-breaking column to sequence_by in specs/incremental_load_patterns.csv (row {table.row})"
        )
    return latest


@register("merge")
def merge(
    spark: SparkSession, batch: DataFrame, table: SilverTable, target: SilverTarget, batch_id: int
) -> dict[str, int]:
    """Upsert the latest row per key; an older sequence never overwrites a newer one.

    Rows flagged by `delete_when` delete the stored row if they are newer. Replaying a batch
    changes nothing, because no row is newer than itself.
    """
    from delta.tables import DeltaTable

    latest = latest_per_key(batch, table)
    on = " AND ".join(f"t.`{k}` = s.`{k}`" for k in table.keys)
    newer = _newer_condition(table.sequence_by)
    columns = [*content_columns(table), "_source_file", "_ingested_at"]
    values = {f"`{c}`": f"s.`{c}`" for c in columns}
    builder = DeltaTable.forName(spark, target.name).alias("t").merge(latest.alias("s"), on)
    if table.delete_when:
        builder = builder.whenMatchedDelete(condition=f"s.`{DELETE_FLAG}` AND {newer}")
        builder = builder.whenMatchedUpdate(condition=f"NOT s.`{DELETE_FLAG}` AND {newer}", set=values)
        builder = builder.whenNotMatchedInsert(condition=f"NOT s.`{DELETE_FLAG}`", values=values)
    else:
        builder = builder.whenMatchedUpdate(condition=newer, set=values).whenNotMatchedInsert(values=values)
    metrics = builder.execute().first()
    result = metrics.asDict() if metrics is not None else {}
    total, distinct = batch.count(), distinct_rows(batch, table).count()
    return {
        "inserted": int(result.get("num_inserted_rows", 0)),
        "updated": int(result.get("num_updated_rows", 0)),
        "deleted": int(result.get("num_deleted_rows", 0)),
        "accepted": distinct,
        "duplicates": total - distinct,
    }


LOAD_PATTERNS["scd1"] = write_scd
LOAD_PATTERNS["scd2"] = write_scd


def _newer_condition(sequence: tuple[str, ...]) -> str:
    """SQL: the source row's sequence is strictly after the stored one (composite compares in order)."""
    source = ", ".join(f"s.`{c}`" for c in sequence)
    stored = ", ".join(f"t.`{c}`" for c in sequence)
    return f"(struct({source}) > struct({stored}))"
