"""Delta upkeep from table_maintenance.csv on the local lakehouse: the files compact, the rows stay the
same, time travel inside the retention still works, and a second run with nothing due commits nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from medallion.layers.maintenance import maintain
from medallion.specs.kinds.maintenance import TableMaintenance

pytestmark = pytest.mark.spark


def _files(spark, name: str) -> int:
    return spark.sql(f"DESCRIBE DETAIL {name}").first()["numFiles"]


def _version(spark, name: str) -> int:
    return spark.sql(f"DESCRIBE HISTORY {name}").first()["version"]


@pytest.fixture
def schema(spark):
    spark.sql("CREATE SCHEMA IF NOT EXISTS maintenance_test")
    yield "maintenance_test"
    spark.sql("DROP SCHEMA IF EXISTS maintenance_test CASCADE")


def test_clustering_optimize_and_vacuum_compact_a_table_and_keep_its_rows_and_history(spark, schema):
    name = f"spark_catalog.{schema}.events"
    spark.sql(f"CREATE TABLE {name} (id INT, kind STRING) USING DELTA")
    for batch in range(6):
        spark.createDataFrame(
            [(batch * 10 + i, f"k{i % 3}") for i in range(10)], "id INT, kind STRING"
        ).write.format("delta").mode("append").saveAsTable(name)
    before_rows = sorted(spark.table(name).collect())
    third = spark.read.option("versionAsOf", 3).table(name).count()
    assert _files(spark, name) >= 6

    spec = TableMaintenance("silver.events", cluster_by=("kind",), vacuum_retain_hours=168, row=2)
    now = datetime.now(UTC)
    run = maintain(spark, spec, name, now=now)
    statements = run.details["statements"]
    assert [s.split(" ")[0] for s in statements] == ["ALTER", "ALTER", "OPTIMIZE", "VACUUM"], statements
    assert "'delta.logRetentionDuration' = 'interval 30 days'" in statements[0]
    assert statements[1].endswith("CLUSTER BY (`kind`)") and statements[3].endswith("RETAIN 168 HOURS")
    assert run.rows_read >= 6 and run.rows_written < run.rows_read  # files before and after
    assert sorted(spark.table(name).collect()) == before_rows
    assert spark.read.option("versionAsOf", 3).table(name).count() == third  # time travel inside retention
    assert spark.sql(f"DESCRIBE DETAIL {name}").first()["clusteringColumns"] == ["kind"]

    version = _version(spark, name)
    again = maintain(spark, spec, name, now=now + timedelta(hours=1))
    assert again.status == "skipped" and again.details["statements"] == []
    assert _version(spark, name) == version  # in place and not due: nothing committed
    later = maintain(spark, spec, name, now=now + timedelta(days=1, hours=1))
    assert [s.split(" ")[0] for s in later.details["statements"]] == ["OPTIMIZE", "VACUUM"]


def test_a_partitioned_table_is_z_ordered(spark, schema):
    name = f"spark_catalog.{schema}.orders"
    spark.sql(f"CREATE TABLE {name} (id INT, day STRING, customer STRING) USING DELTA PARTITIONED BY (day)")
    for batch in range(4):
        rows = [(batch * 10 + i, f"d{i % 2}", f"c{i}") for i in range(10)]
        spark.createDataFrame(rows, "id INT, day STRING, customer STRING").write.format("delta").mode(
            "append"
        ).saveAsTable(name)
    before = _files(spark, name)
    run = maintain(
        spark, TableMaintenance("silver.orders", zorder_by=("customer",)), name, now=datetime.now(UTC)
    )
    assert any(s.endswith("ZORDER BY (`customer`)") for s in run.details["statements"])
    assert _files(spark, name) == 2 < before  # one file per partition
    assert spark.table(name).count() == 40


def test_a_table_not_built_yet_is_skipped(spark, schema):
    run = maintain(
        spark, TableMaintenance("gold.nothing"), f"spark_catalog.{schema}.nothing", now=datetime.now(UTC)
    )
    assert run.status == "skipped" and run.details["reason"] == "not built yet"


def test_the_tables_parameter_picks_rows_by_name_or_layer_name_and_refuses_unknown_ones():
    from medallion.errors import ParameterError
    from medallion.layers.maintenance import _chosen

    rows = (TableMaintenance("silver.fact_order"), TableMaintenance("gold.daily_sales"))
    assert _chosen(rows, "") == list(rows)
    assert _chosen(rows, "fact_order") == [rows[0]]
    assert _chosen(rows, " gold.daily_sales ;FACT_ORDER") == list(rows)
    with pytest.raises(
        ParameterError, match=r"tables=dim_x: not in table_maintenance.csv .*fix the 'tables'"
    ):
        _chosen(rows, "fact_order,dim_x")
