"""A batch's rows ranked within their key in one pass: exact copies, the latest row, ties.

The merge writer needs three things of a batch: which rows only repeat another (dropped and counted
as duplicates), which row per key is the latest (written), and whether two different rows share a
key's latest sequence (no winner: an error). One window partitioned by the key answers all three,
so the batch is shuffled once; a DISTINCT, a rank and a grouped count would shuffle it three times.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from medallion.errors import DataError
from medallion.layers.scd_snapshots import all_equal
from medallion.layers.transforms import content_columns
from medallion.names import IS_DELETE, LINEAGE_COLUMNS
from medallion.specs.model import SilverSpec

__all__ = ["COPY", "LATEST", "TIES", "latest_per_key", "mark_copies", "raise_on_ties", "rank_per_key"]

COPY = "_copy"  # the row repeats an earlier row of its key exactly (spec'd values and delete flag)
LATEST = "_latest"  # no copy, and it holds its key's highest sequence
TIES = "_ties"  # how many rows of its key are LATEST (more than one: no winner)


def mark_copies(batch: DataFrame, table: SilverSpec) -> DataFrame:
    """The batch's rows with COPY: true when a row repeats an earlier row of its key in its spec'd
    values and delete flag. Of exact copies the one from the first file (by lineage) is kept."""
    keys, sequence = list(table.keys), list(table.sequence_by)
    content = [*content_columns(table), *([IS_DELETE] if IS_DELETE in batch.columns else [])]
    rest = [c for c in content if c not in keys and c not in sequence]
    lineage = [c for c in LINEAGE_COLUMNS if c in batch.columns]
    # Copies sort next to each other: newest sequence first, then every other spec'd value.
    ordered = Window.partitionBy(*keys).orderBy(
        *[F.col(f"`{c}`").desc() for c in sequence], *[F.col(f"`{c}`").asc() for c in [*rest, *lineage]]
    )
    copy = (F.row_number().over(ordered) > 1) & all_equal(
        [(F.lag(F.col(f"`{c}`")).over(ordered), F.col(f"`{c}`")) for c in [*sequence, *rest]]
    )
    return batch.withColumn(COPY, copy)


def rank_per_key(batch: DataFrame, table: SilverSpec) -> DataFrame:
    """The batch's rows with COPY, LATEST and TIES. Lineage (file, ingestion time) is not compared:
    of exact copies the first file's is kept."""
    by_key = Window.partitionBy(*table.keys)
    seq = F.struct(*[F.col(f"`{c}`") for c in table.sequence_by])
    ranked = mark_copies(batch, table)
    ranked = ranked.withColumn(LATEST, ~F.col(COPY) & seq.eqNullSafe(F.max(seq).over(by_key)))
    return ranked.withColumn(TIES, F.sum(F.col(LATEST).cast("int")).over(by_key))


def raise_on_ties(ranked: DataFrame, table: SilverSpec) -> None:
    """DataError naming up to five keys whose latest sequence two different rows share."""
    keys, sequence = list(table.keys), list(table.sequence_by)
    examples = (
        ranked.filter(F.col(LATEST) & (F.col(TIES) > 1))
        .select(*keys, *sequence, F.col(TIES).alias("count"))
        .dropDuplicates([*keys])
        .limit(5)
        .collect()
    )
    if not examples:
        return
    shown = "; ".join(
        ", ".join(f"{c}={row[c]}" for c in [*keys, *sequence]) + f" ({row['count']} versions)"
        for row in examples
    )
    raise DataError(
        f"silver table {table.table}: different rows share a key and its latest "
        f"{'/'.join(sequence)}, so no version can win: {shown}. Fix the source data, or add a "
        f"tie-breaking column to sequence_by in specs/{table.spec_file} (row {table.row})"
    )


def latest_per_key(batch: DataFrame, table: SilverSpec) -> DataFrame:
    """One row per key, the one with the highest sequence (exact copies collapse first); a DataError
    when two different rows share a key and its highest sequence."""
    ranked = rank_per_key(batch, table)
    raise_on_ties(ranked, table)
    return ranked.filter(F.col(LATEST)).drop(COPY, LATEST, TIES)
