"""`make bench`: the raw-Spark baseline, plain Spark on the same landing files (scripts/bench.py).

Bronze appends the files as typed rows, silver keeps the typed columns (the latest row per key where
the spec merges, a one-pass SCD2 where it versions), gold runs the same SQL: the rows the framework
writes, without its checks, lineage or bookkeeping.
"""

from __future__ import annotations

import time
from pathlib import Path

from bench_measure import MemorySampler, by_layer

__all__ = ["raw_run"]


def raw_run(spark, specs, landing: Path) -> dict:
    """Plain Spark: the same files in, the same rows out, no framework."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from medallion.layers.gold import render_sql

    seconds: dict[str, float] = {}
    memory: dict[str, float] = {}
    tables: list[dict] = []
    names = {layer: f"spark_catalog.raw_{layer}" for layer in ("bronze", "silver", "gold")}
    for name in names.values():
        spark.sql(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        spark.sql(f"CREATE SCHEMA {name}")

    def timed_layer(layer, fn):
        start = time.perf_counter()
        with MemorySampler() as sampler:
            fn()
        seconds[layer] = time.perf_counter() - start
        memory[layer] = sampler.peak

    def bronze_layer():
        for s in specs.bronze:
            ddl = ", ".join(f"`{c.name}` {c.data_type}" for c in s.columns)
            df = (
                spark.read.format(s.format)
                .schema(ddl)
                .options(**s.reader_options)
                .load(str(landing / s.landing_folder))
            )
            df.write.format("delta").mode("overwrite").saveAsTable(f"{names['bronze']}.{s.table}")
            tables.append(
                {"layer": "bronze", "rows_written": spark.table(f"{names['bronze']}.{s.table}").count()}
            )

    def silver_layer():
        for t in specs.silver:
            df = spark.table(f"{names['bronze']}.{t.source_table}").selectExpr(
                *[f"{c.select_expression} AS `{c.name}`" for c in t.columns]
            )
            if t.scd is not None and t.scd.scd_type == 2:
                # Textbook SCD2 in one pass: each change opens a version that the next one closes.
                # (No tie, conflict or late-event handling, and deletes close nothing: the raw floor.)
                seq = F.col(t.sequence_by[0])
                by_key = Window.partitionBy(*t.keys).orderBy(seq)
                df = (
                    df.withColumn(t.scd.effective_from_column, seq.cast("timestamp"))
                    .withColumn(t.scd.effective_to_column, F.lead(seq).over(by_key).cast("timestamp"))
                    .withColumn(t.scd.is_current_column, F.col(t.scd.effective_to_column).isNull())
                )
            elif t.load_pattern == "merge" or t.scd is not None:
                order = [F.col(c).desc() for c in t.sequence_by]
                df = (
                    df.withColumn("_n", F.row_number().over(Window.partitionBy(*t.keys).orderBy(*order)))
                    .filter("_n = 1")
                    .drop("_n")
                )
            df.write.format("delta").mode("overwrite").saveAsTable(f"{names['silver']}.{t.table}")
            tables.append(
                {"layer": "silver", "rows_written": spark.table(f"{names['silver']}.{t.table}").count()}
            )

    def gold_layer():
        values = {
            "bronze": names["bronze"],
            "silver": names["silver"],
            "gold": names["gold"],
            "catalog": "spark_catalog",
        }
        for g in specs.gold:
            spark.sql(render_sql(g.sql, values)).write.format("delta").mode("overwrite").saveAsTable(
                f"{names['gold']}.{g.table}"
            )
            tables.append(
                {"layer": "gold", "rows_written": spark.table(f"{names['gold']}.{g.table}").count()}
            )

    timed_layer("bronze", bronze_layer)
    timed_layer("silver", silver_layer)
    timed_layer("gold", gold_layer)
    return {"layers": by_layer(tables, seconds, memory), "seconds": round(sum(seconds.values()), 2)}
