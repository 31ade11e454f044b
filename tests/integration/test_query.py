"""`medallion sql` output formats and the `medallion tables` inventory."""

from __future__ import annotations

import json

import pytest

from medallion.delta.query import format_rows, table_inventory

pytestmark = pytest.mark.spark


def test_formats(spark):
    df = spark.createDataFrame([(1, "a"), (2, None)], "id int, name string")
    assert format_rows(df, "csv") == "id,name\n1,a\n2,"
    assert [json.loads(line) for line in format_rows(df, "json").splitlines()] == [
        {"id": 1, "name": "a"},
        {"id": 2, "name": None},
    ]
    table = format_rows(df, "table").splitlines()
    assert table[0].split() == ["id", "name"]
    assert table[3].split() == ["2", "NULL"]
    assert table[-1] == "(2 rows)"


def test_inventory_lists_rows_and_delta_version(spark):
    spark.sql("CREATE SCHEMA IF NOT EXISTS inventory_test")
    spark.range(3).write.format("delta").mode("overwrite").saveAsTable("inventory_test.numbers")
    spark.range(5).write.format("delta").mode("overwrite").saveAsTable("inventory_test.numbers")
    spark.range(2).write.format("parquet").mode("overwrite").saveAsTable("inventory_test.plain")
    rows = {(r.schema, r.table): r for r in table_inventory(spark, ["inventory_test"]).collect()}
    assert {schema for schema, _ in rows} == {"inventory_test"}  # only the schemas asked for
    assert rows[("inventory_test", "numbers")].rows == 5
    assert rows[("inventory_test", "numbers")].delta_version == 1
    assert rows[("inventory_test", "plain")].rows == 2  # not Delta: listed, without a version
    assert rows[("inventory_test", "plain")].delta_version is None
