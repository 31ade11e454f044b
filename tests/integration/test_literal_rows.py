"""Run-record rows built from literals: the same frame `createDataFrame` gives, without Python workers."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from chispa import assert_df_equality

from medallion.delta.literal_rows import literal_frame
from medallion.names import METRICS_TABLE, OPERATIONS_TABLE, RECORD_TABLES

pytestmark = pytest.mark.spark

_AWKWARD = 'it\'s "quoted", back\\slash, ünïcode, ${not_a_placeholder}'


def _plan(frame) -> str:
    return frame._jdf.queryExecution().executedPlan().toString()


@pytest.mark.parametrize(
    ("schema", "rows"),
    [
        (
            RECORD_TABLES[OPERATIONS_TABLE],
            [
                ("r1", "t", "build", "ok", 3, 2, 1, 0, 0, 1.25, _AWKWARD, datetime(2024, 1, 2, 3, 4, 5, 678000),
                 [("silver.t", 3, "bronze.s", 1, 2), ("silver.t", 4, None, None, None)]),
                ("r2", "t", "build", "failed", 0, 0, 0, 0, 0, 0.0, None, datetime(2024, 1, 2), []),
                ("r3", "t", "gold", "ok", 2**40, 0, 0, 0, 0, 1e-9, "", datetime(1999, 12, 31, 23, 59, 59), None),
            ],
        ),
        (
            RECORD_TABLES[METRICS_TABLE],
            [("r", "t", "rule", "is_in_list", "error", "", 10, 1, 0, 0.9, datetime(2024, 5, 6, 7, 8, 9))],
        ),
        (
            "k string, m map<string, int>, d date, flags array<boolean>, n struct<a: int, b: array<string>>",
            [("x", {"a": 1, "b": None}, date(2024, 2, 29), [True, None], (1, ["p", None])),
             (None, None, None, None, None)],
        ),
    ],
)  # fmt: skip
def test_a_literal_frame_is_the_frame_create_data_frame_gives(spark, schema, rows):
    expected = spark.createDataFrame(rows, schema)
    frame = literal_frame(spark, rows, schema)
    assert_df_equality(frame, expected)  # names, types, nullability, values, in the order given
    assert frame.rdd.getNumPartitions() == 1  # one small file per append
    assert "ExistingRDD" in _plan(expected)  # Python rows: read through Python workers
    assert "ExistingRDD" not in _plan(frame)


def test_no_rows_give_an_empty_frame_of_the_schema(spark):
    schema = RECORD_TABLES[OPERATIONS_TABLE]
    frame = literal_frame(spark, [], schema)
    assert frame.schema == spark.createDataFrame([], schema).schema
    assert frame.count() == 0


def test_a_row_of_the_wrong_width_is_refused_before_spark_runs(spark):
    with pytest.raises(ValueError, match="2 value"):
        literal_frame(spark, [("only", "two")], "a string, b string, c string")
