"""`make bench`, SCD2 part: the benchmark's dimension and its bronze batches (scripts/bench_scd.py).

Batches are generated with Spark, deterministically from a seed: an initial load of KEYS keys, then
change batches in which a fraction of the keys get one to three events (untracked-only changes, NULL
tiers and deletes among them).
"""

from __future__ import annotations

from datetime import datetime

SCHEMA = "bench_scd"  # where the benchmark's tables live

KEY, SEQ = "id", "updated_at"
TRACKED = ("name", "tier")
UNTRACKED = ("note",)
BRONZE_COLUMNS = ("id", "name", "tier", "note", "updated_at", "op")
VALIDITY = ("effective_from", "effective_to", "is_current")
TIERS = ("bronze", "silver", "gold", "platinum")
# (label, fraction of keys changing, first sequence value of the batch)
SCENARIOS = (
    ("initial load", 1.0, 1000),
    ("1% of keys change", 0.01, 2000),
    ("10% of keys change", 0.10, 3000),
)


def scd_table():
    """dim_item: key id (bigint), sequence updated_at (int), tracked name + tier, untracked note."""
    from medallion.specs.model import ColumnSpec, ScdSpec, SilverSpec

    types = {"id": "bigint", "name": "string", "tier": "string", "note": "string", "updated_at": "int"}
    columns = tuple(
        ColumnSpec(layer="silver", table="dim_item", name=n, data_type=t) for n, t in types.items()
    )
    return SilverSpec(
        table="dim_item",
        source_table="items",
        load_pattern="scd2",
        keys=(KEY,),
        sequence_by=(SEQ,),
        delete_when="op = 'D'",
        columns=columns,
        scd=ScdSpec(scd_type=2, tracked_columns=TRACKED, untracked_columns=UNTRACKED),
        spec_file="scd_mappings.csv",
    )


def bronze_schema():
    from pyspark.sql.types import StringType, StructField, StructType, TimestampType

    fields = [StructField(c, StringType()) for c in BRONZE_COLUMNS]
    return StructType(
        [*fields, StructField("_source_file", StringType()), StructField("_ingested_at", TimestampType())]
    )


def _lineage(df, number: int):
    from pyspark.sql import functions as F

    return df.withColumn("_source_file", F.lit(f"drop_{number}.csv")).withColumn(
        "_ingested_at", F.lit(datetime(2024, 1, 1 + number))
    )


def initial_batch(spark, keys: int, seed: int):
    from pyspark.sql import functions as F

    df = spark.range(keys).select(
        F.col("id").cast("string").alias("id"),
        F.concat(F.lit("item-"), F.col("id")).alias("name"),
        F.element_at(
            F.array(*map(F.lit, TIERS)), (F.pmod(F.hash("id", F.lit(seed)), 4) + 1).cast("int")
        ).alias("tier"),
        F.lit("initial").alias("note"),
        F.lit(str(SCENARIOS[0][2])).alias("updated_at"),
        F.lit("U").alias("op"),
    )
    return _lineage(df, 0)


def change_batch(spark, keys: int, seed: int, number: int, fraction: float, first_seq: int, previous):
    """Events for ~fraction*keys keys: 1-3 per key with increasing sequence, untracked-only
    changes, NULL tiers and deletes. `previous` (bronze rows so far) supplies each key's values
    before the batch, so an untracked-only first event really leaves the tracked values alone."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    def h(*parts):  # a deterministic percentile 0..99 per (key, batch, parts)
        return F.pmod(F.hash(F.col("key"), F.lit(seed), F.lit(number), *map(F.lit, parts)), 100)

    chosen = (
        spark.range(keys)
        .withColumnRenamed("id", "key")
        .where(
            F.pmod(F.hash("key", F.lit(seed), F.lit(number), F.lit("pick")), 1_000_000) < int(fraction * 1e6)
        )
    )
    n_events = F.when(h("n") < 60, 1).when(h("n") < 85, 2).otherwise(3)
    events = chosen.select(
        "key",
        n_events.alias("n"),
        (h("del") < 5).alias("ends_with_delete"),
        F.explode(F.sequence(F.lit(1), n_events)).alias("j"),
    )
    # Whether event j changes the tracked columns (else only `note`), and the running count of
    # tracked changes, which names the version's values.
    events = events.withColumn(
        "tracked_change", F.pmod(F.hash("key", F.lit(seed), F.lit(number), "j"), 100) >= 20
    )
    by_j = Window.partitionBy("key").orderBy("j").rowsBetween(Window.unboundedPreceding, Window.currentRow)
    events = events.withColumn("t", F.sum(F.col("tracked_change").cast("int")).over(by_j))
    latest = Window.partitionBy("id").orderBy(F.col("updated_at").cast("int").desc())
    before = (
        previous.withColumn("_n", F.row_number().over(latest))
        .where("_n = 1")
        .select(
            F.col("id").cast("bigint").alias("key"),
            F.col("name").alias("p_name"),
            F.col("tier").alias("p_tier"),
        )
    )
    events = events.join(before, "key", "left")
    new_tier = F.when(
        F.pmod(F.hash("key", F.lit(seed), F.lit(number), "t", F.lit("null")), 100) < 2, F.lit(None)
    ).otherwise(
        F.element_at(
            F.array(*map(F.lit, TIERS)),
            (F.pmod(F.hash("key", F.lit(seed), F.lit(number), "t"), 4) + 1).cast("int"),
        )
    )
    is_delete = F.col("ends_with_delete") & (F.col("j") == F.col("n"))
    df = events.select(
        F.col("key").cast("string").alias("id"),
        F.when(is_delete, F.lit(None))
        .when(F.col("t") == 0, F.col("p_name"))
        .otherwise(F.concat(F.lit("item-"), F.col("key"), F.lit(f"-b{number}v"), F.col("t")))
        .alias("name"),
        F.when(is_delete, F.lit(None))
        .when(F.col("t") == 0, F.col("p_tier"))
        .otherwise(new_tier)
        .alias("tier"),
        F.when(is_delete, F.lit(None)).otherwise(F.concat(F.lit(f"b{number}e"), F.col("j"))).alias("note"),
        (F.lit(first_seq) + F.col("j") * 10).cast("string").alias("updated_at"),
        F.when(is_delete, "D").otherwise("U").alias("op"),
    )
    return _lineage(df, number)
