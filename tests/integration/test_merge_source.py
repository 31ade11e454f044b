"""A MERGE source is computed once, before the MERGE: Delta re-plans its source and would compute a
persisted frame's whole plan again (medallion.delta.merge_source)."""

from __future__ import annotations

import pytest
from chispa import assert_df_equality
from delta.tables import DeltaTable
from pyspark.sql import functions as F

from medallion.delta.merge_source import computed_source

pytestmark = pytest.mark.spark


def _counted(spark, rows: int):
    """A frame whose every computation of a row is counted (a Python UDF adding to an accumulator)."""
    calls = spark.sparkContext.accumulator(0)

    @F.udf("long")
    def tenfold(value):
        calls.add(1)
        return value * 10

    frame = spark.range(rows).withColumn("v", tenfold("id"))
    return frame, calls


def test_the_source_is_computed_once_and_the_merge_takes_its_rows(spark, tmp_path):
    target = f"delta.`{tmp_path / 'target'}`"
    spark.range(0, 40, 2).withColumn("v", F.lit(-1).cast("long")).write.format("delta").save(
        str(tmp_path / "target")
    )
    frame, calls = _counted(spark, 30)
    source = computed_source(frame.persist())
    assert calls.value == 30  # computed now, each row once
    frame.unpersist()  # the source holds its own rows: the caller's cache is not what the MERGE reads
    assert "tenfold" not in source._jdf.queryExecution().analyzed().toString()

    merged = (
        DeltaTable.forPath(spark, str(tmp_path / "target"))
        .alias("t")
        .merge(source.alias("s"), "t.id = s.id")
        .whenMatchedUpdate(set={"v": "s.v"})
        .whenNotMatchedInsertAll()
        .execute()
        .first()
    )

    assert calls.value == 30, "the MERGE computed its source again"
    assert (merged["num_updated_rows"], merged["num_inserted_rows"]) == (15, 15)
    expected = (
        spark.range(30)
        .withColumn("v", F.col("id") * 10)
        .unionByName(spark.range(30, 40, 2).withColumn("v", F.lit(-1).cast("long")))
    )
    assert_df_equality(
        spark.sql(f"SELECT * FROM {target}"), expected, ignore_row_order=True, ignore_nullable=True
    )
