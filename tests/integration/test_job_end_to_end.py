"""The bundle's own job, run by the local runner on generated data, checked against the landing files.

One demo lakehouse per module (`demo_job`): the first run is checked against the landing files, then a
run with nothing new, then a run after one more drop (gold refreshed by key, checked against a rebuild).
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest
from chispa import assert_df_equality
from demo_job import generate_drops

from medallion.delta.tables import current_version, last_commit
from medallion.layers.gold import render_sql
from medallion.runtime.runner import run_job

pytestmark = pytest.mark.spark


def _events(landing: Path, folder: str, key: str) -> dict[str, list[tuple[datetime, dict]]]:
    """Every change of every key in the landing files, sorted by business time."""
    events: dict[str, list[tuple[datetime, dict]]] = defaultdict(list)
    for path in sorted((landing / folder).glob("*.csv")):
        with path.open(newline="") as handle:
            for row in csv.DictReader(handle):
                events[row[key]].append((datetime.fromisoformat(row["updated_at"]), row))
    return {k: sorted(v, key=lambda e: e[0]) for k, v in events.items()}


def _as_of(events: list[tuple[datetime, dict]], moment: datetime) -> dict | None:
    """Reference model of a point-in-time lookup: the key's newest change at or before `moment`,
    unless that change is a delete."""
    before = [row for at, row in events if at <= moment]
    return before[-1] if before and before[-1]["operation"] != "D" else None


def test_demo_job_builds_every_layer_and_a_rerun_commits_nothing(spark, demo_job, monkeypatch):
    bundle, landing, isolated_schemas, result = (
        demo_job.bundle,
        demo_job.landing,
        demo_job.schemas,
        demo_job.result,
    )
    for layer, name in isolated_schemas.items():
        monkeypatch.setenv(f"BUNDLE_VAR_{layer}_schema", name)
    assert result.ok, result.error
    assert {(t["layer"], t["table"]) for t in result.tables} >= {
        ("bronze", "customers"),
        ("silver", "dim_customer"),
        ("gold", "daily_sales"),
    }
    # run_log has a row per table of each layer (the health dashboard's durations per layer)
    logged = spark.table(f"spark_catalog.{isolated_schemas['ops']}.run_log").where(
        f"run_id = '{result.run_id}'"
    )
    assert {r["kind"] for r in logged.select("kind").distinct().collect()} == {"bronze", "build", "gold"}

    from pyspark.sql import functions as F

    silver, gold = isolated_schemas["silver"], isolated_schemas["gold"]
    # dim_customer's current versions are exactly the customers whose latest change is not a delete,
    # with that change's values.
    customers = _events(landing, "customers", "customer_id")
    expected = {k: e[-1][1] for k, e in customers.items() if e[-1][1]["operation"] != "D"}
    dim = {
        r.customer_id: r
        for r in spark.table(f"spark_catalog.{silver}.dim_customer").filter("is_current").collect()
    }
    assert set(dim) == set(expected)
    assert all(dim[k].email == expected[k]["email"].strip().lower() for k in expected)
    assert all(dim[k].segment == expected[k]["segment"].lower() for k in expected)

    # Gold attributes each order to the customer segment valid when it was placed.
    from decimal import Decimal

    orders = spark.table(f"spark_catalog.{silver}.fact_order").filter("status <> 'cancelled'")
    order_revenue = {
        r.order_id: r.revenue
        for r in spark.table(f"spark_catalog.{silver}.fact_order_line")
        .groupBy("order_id")
        .agg(F.sum("line_amount").alias("revenue"))
        .collect()
    }
    by_segment: dict[tuple, Decimal] = defaultdict(Decimal)
    for order in orders.collect():
        if order.order_id not in order_revenue:
            continue
        version = _as_of(customers.get(order.customer_id, []), order.order_ts)
        segment = version["segment"].lower() if version else "unknown"
        by_segment[order.order_date, segment] += order_revenue[order.order_id]
    actual_segments = {
        (r.order_date, r.segment): r.revenue
        for r in spark.table(f"spark_catalog.{gold}.daily_sales")
        .groupBy("order_date", "segment")
        .agg(F.sum("revenue").alias("revenue"))
        .collect()
    }
    assert actual_segments == {k: v.quantize(Decimal("0.01")) for k, v in by_segment.items()}

    # Gold revenue per day equals the same sum computed straight from silver with the DataFrame API.
    orders = spark.table(f"spark_catalog.{silver}.fact_order").filter("status <> 'cancelled'")
    lines = spark.table(f"spark_catalog.{silver}.fact_order_line")
    expected_daily = (
        orders.join(lines, "order_id")
        .groupBy("order_date")
        .agg(F.sum("line_amount").cast("decimal(18,2)").alias("revenue"))
    )
    actual_daily = (
        spark.table(f"spark_catalog.{gold}.daily_sales")
        .groupBy("order_date")
        .agg(F.sum("revenue").cast("decimal(18,2)").alias("revenue"))
    )
    assert_df_equality(actual_daily, expected_daily, ignore_row_order=True, ignore_nullable=True)

    # A second run with no new files commits no new Delta version to silver or gold, and decides it
    # from the bronze versions its streams already read: no silver stream starts.
    import medallion.layers.silver as silver_layer

    def no_stream(*args, **kwargs):
        raise AssertionError("a silver stream started although bronze had nothing new")

    monkeypatch.setattr(silver_layer, "run_batches", no_stream)
    names = [f"spark_catalog.{silver}.{t}" for t in ("dim_customer", "fact_order", "fact_web_event")]
    names += [f"spark_catalog.{isolated_schemas['ops']}.{t}" for t in ("run_log", "dq_metrics")]
    names += [f"spark_catalog.{gold}.{t}" for t in ("daily_sales", "customer_lifetime_value")]
    before = {n: current_version(spark, n) for n in names}
    again = run_job(spark, bundle, "dev", echo=lambda *_: None)
    assert again.ok, again.error
    assert {n: current_version(spark, n) for n in names} == before
    assert {t["status"] for t in again.tables if t["layer"] in ("silver", "gold")} == {"skipped"}


def test_the_local_lakehouse_writes_through_the_plain_file_system(spark, demo_job):
    """Delta's logs, the tables' files and the streams' checkpoints carry no `.<name>.crc` side files:
    the local session writes through Hadoop's raw file system and renames without its FileContext,
    which would start a `chmod` or `readlink` process per file (medallion.runtime.session)."""
    warehouse = Path(spark.conf.get("spark.sql.warehouse.dir").removeprefix("file:"))
    checkpoints = Path(demo_job.bundle.resolve_variables("dev", local=True)["checkpoint_root"])
    folders = [warehouse / f"{schema}.db" for schema in demo_job.schemas.values()] + [checkpoints]
    assert all(folder.is_dir() for folder in folders), folders
    written = [path for folder in folders for path in folder.rglob("*") if path.is_file()]
    assert any(path.parent.name == "_delta_log" for path in written)
    assert any(path.parent.name == "offsets" for path in written)
    side_files = [str(path) for path in written if path.name.startswith(".") and path.suffix == ".crc"]
    assert not side_files, side_files[:5]


def test_a_new_drop_refreshes_gold_by_key_to_what_a_rebuild_gives(spark, demo_job, monkeypatch):
    """After one more drop (new orders, lines, events, changed and deleted customers and products), each
    gold table refreshed by key holds exactly the rows its SQL gives over all of silver."""
    for layer, name in demo_job.schemas.items():
        monkeypatch.setenv(f"BUNDLE_VAR_{layer}_schema", name)
    # by key even where the drop touches most of a table's keys and the tables are small (the rebuild
    # shortcuts are tested apart)
    monkeypatch.setattr("medallion.layers.gold_refresh.REBUILD_SHARE", 1.0)
    monkeypatch.setattr("medallion.layers.gold_refresh.MIN_UPSTREAM_ROWS", 0)
    generate_drops(demo_job.project, demo_job.landing, rows=40, seed=8, batches=1, suffix="_later")
    gold_tables = ("daily_sales", "customer_lifetime_value", "product_performance")
    names = {t: f"spark_catalog.{demo_job.schemas['gold']}.{t}" for t in gold_tables}
    before = {t: current_version(spark, n) for t, n in names.items()}

    result = run_job(spark, demo_job.bundle, "dev", echo=lambda *_: None)
    assert result.ok, result.error
    # planning read the change feeds through temporary views, and left none in the session
    temporary = [r["viewName"] for r in spark.sql("SHOW VIEWS").collect() if r["isTemporary"]]
    assert not [v for v in temporary if v.startswith("medallion_changes_")], temporary

    placeholders = {
        "catalog": "spark_catalog",
        **{layer: f"spark_catalog.{schema}" for layer, schema in demo_job.schemas.items()},
    }
    specs = {
        row["table"]: row for row in csv.DictReader((demo_job.project / "specs" / "gold_tables.csv").open())
    }
    for table, name in names.items():
        commit = last_commit(spark, name)
        assert commit["version"] == before[table] + 1, f"{table} was not refreshed in one commit"
        operation = commit["operationParameters"]
        assert "predicate" in operation and specs[table]["refresh_key"] in operation["predicate"], (
            f"{table} was rebuilt whole instead of by key: {commit['operation']} {operation}"
        )
        sql = (demo_job.project / "specs" / "gold" / specs[table]["sql_file"]).read_text()
        rebuilt = spark.sql(render_sql(sql, placeholders))
        assert_df_equality(spark.table(name), rebuilt, ignore_row_order=True, ignore_nullable=True)
    runs = {t["table"]: t for t in result.tables if t["layer"] == "gold"}
    assert all(runs[t]["details"].get("refresh") == "by key" for t in gold_tables), runs
    assert all(runs[t]["details"]["keys"] > 0 for t in gold_tables), runs
    assert all(runs[t]["rows_written"] > 0 for t in gold_tables), runs  # counted: Delta's metrics lack it


def test_a_table_added_only_through_spec_rows_reaches_silver_and_gold(spark, demo_job):
    """The kiosk table (hand_rows.KIOSK_SPEC_ROWS) exists only as spec rows and a SQL file."""
    result = demo_job.result
    assert result.ok, result.error

    plan = next(t for t in result.task_runs if t.task_key == "plan")
    assert plan.status == "ok"
    silver = spark.table(f"spark_catalog.{demo_job.schemas['silver']}.dim_kiosk")
    assert sorted((r.kiosk_id, r.city) for r in silver.collect()) == [
        ("K1", "BERLIN"),
        ("K2", "BERLIN"),
        ("K3", "BERLIN"),
    ]
    gold = spark.table(f"spark_catalog.{demo_job.schemas['gold']}.kiosks_per_city")
    assert [(r.city, r.kiosks) for r in gold.collect()] == [("BERLIN", 3)]
    summary = json.dumps(result.tables)
    assert "dim_kiosk" in summary and "kiosks_per_city" in summary


def test_the_maintenance_job_runs_on_the_built_lakehouse_and_keeps_rows_and_time_travel(
    spark, demo_job, monkeypatch
):
    """`medallion run --job maintenance`: the bundle's own maintenance job, run after the data job (it
    commits OPTIMIZE versions, so it runs after the rerun check above)."""
    for layer, name in demo_job.schemas.items():
        monkeypatch.setenv(f"BUNDLE_VAR_{layer}_schema", name)
    table = f"spark_catalog.{demo_job.schemas['silver']}.fact_order_line"  # clustered: not partitioned
    before = spark.sql(f"DESCRIBE DETAIL {table}").first()["numFiles"]
    rows = sorted(spark.table(table).collect())
    version = current_version(spark, table)

    wanted = {"tables": "fact_order_line, gold.daily_sales"}  # two of the spec's tables keep it short
    result = run_job(
        spark, demo_job.bundle, "dev", job="maintenance", parameters=wanted, echo=lambda *_: None
    )
    assert result.ok, result.error
    log = spark.table(f"spark_catalog.{demo_job.schemas['ops']}.run_log").where(f"run_id = '{result.run_id}'")
    done = {r["table"]: r for r in log.collect()}
    assert {r["kind"] for r in done.values()} == {"maintenance"}
    assert set(done) == {"silver.fact_order_line", "gold.daily_sales"}, done
    assert all(r["status"] == "ok" for r in done.values()), done
    after = spark.sql(f"DESCRIBE DETAIL {table}").first()["numFiles"]
    assert after <= before  # compaction itself: tests/integration/test_maintenance.py
    operations = [r[0] for r in spark.sql(f"DESCRIBE HISTORY {table}").select("operation").limit(4).collect()]
    assert {"OPTIMIZE", "VACUUM END"} <= set(operations), operations
    assert sorted(spark.table(table).collect()) == rows
    assert sorted(spark.read.option("versionAsOf", version).table(table).collect()) == rows  # time travel

    # OPTIMIZE changed no rows: gold, which reads the compacted silver table, has nothing to rebuild
    gold = f"spark_catalog.{demo_job.schemas['gold']}.customer_lifetime_value"  # reads fact_order_line
    before_gold = current_version(spark, gold)
    again = run_job(spark, demo_job.bundle, "dev", tasks=["gold"], echo=lambda *_: None)
    assert again.ok, again.error
    assert {t["status"] for t in again.tables if t["layer"] == "gold"} == {"skipped"}, again.tables
    assert current_version(spark, gold) == before_gold
