"""Gold planning runs a UNION keys SQL branch by branch and stops once the keys mean a rebuild, and
falls back to a rebuild when the change feed it would read is gone."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import pytest
from local_context import local_context
from pyspark.sql.types import DateType

from medallion.layers.gold_refresh import (
    changed_keys,
    plan_keyed_refresh,
    refresh_fingerprint,
    upstream_state,
)
from medallion.specs.model import GoldSpec

pytestmark = pytest.mark.spark

_DATES = "SELECT d FROM VALUES (DATE'2024-01-01'), (DATE'2024-01-02'), (DATE'2024-01-02') AS t(d)"
# A branch that fails whenever it runs: it shows whether planning went on to it.
_FAILS = "SELECT CAST(raise_error('the second branch ran') AS DATE) AS d"


def _over(limit: int):
    return lambda n: f"{n} keys" if n > limit else ""


def test_planning_stops_before_the_branches_after_the_keys_that_settle_a_rebuild(spark):
    keys, reason = changed_keys(spark, f"{_DATES}\nUNION\n{_FAILS}", DateType(), _over(1))

    assert reason == "2 keys"
    assert sorted(keys) == [date(2024, 1, 1), date(2024, 1, 2)]  # distinct keeps no order


def test_while_the_keys_are_few_every_branch_runs(spark):
    with pytest.raises(Exception, match="the second branch ran"):
        changed_keys(spark, f"{_DATES}\nUNION\n{_FAILS}", DateType(), _over(10))
    keys, reason = changed_keys(
        spark,
        f"{_DATES}\nUNION ALL\nSELECT '2024-01-03' AS `odd.name` UNION SELECT DATE'2024-01-01'",
        DateType(),
        _over(10),
    )
    assert reason == ""
    assert sorted(keys) == [
        date(2024, 1, 1),
        date(2024, 1, 2),
        date(2024, 1, 3),
    ]  # as the key's type, once each


def test_a_query_that_is_not_a_plain_union_runs_whole(spark):
    sql = f"WITH c AS ({_DATES}) SELECT d FROM c UNION SELECT DATE'2024-01-09'"
    keys, reason = changed_keys(spark, sql, DateType(), _over(2))
    assert reason == "3 keys"
    assert sorted(keys) == [date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 9)]


def _two_versions(spark, ctx, *, change_feed: bool) -> str:
    """A silver table at version 1 (one append after its creation); its full name."""
    spark.sql(f"CREATE SCHEMA IF NOT EXISTS `{ctx.silver_schema}`")
    name = ctx.table("silver", "orders")
    spark.sql(
        f"CREATE TABLE {name} (order_date DATE) USING DELTA "
        f"TBLPROPERTIES (delta.enableChangeDataFeed = {str(change_feed).lower()})"
    )
    spark.sql(f"INSERT INTO {name} VALUES (DATE'2024-01-02')")
    return name


def _plan_after_one_append(spark, ctx, name):
    table = GoldSpec(
        table="daily",
        sql_file="daily.sql",
        sql="SELECT order_date FROM ${silver}.orders",
        upstream=(("silver", "orders"),),
        refresh_key="order_date",
        keys_sql="SELECT order_date FROM ${changes}.orders",
        changes_from=("orders",),
    )
    now = upstream_state(spark, name, with_id=True)
    previous = {
        "fingerprint": refresh_fingerprint(table),
        "upstream_state": {"silver.orders": {**now, "version": now["version"] - 1}},
    }
    return plan_keyed_refresh(spark, table, ctx, previous, {"silver.orders": now}, DateType(), lambda s: s)


@pytest.mark.parametrize("loss", ["change feed off", "files vacuumed"])
def test_a_change_feed_that_cannot_be_read_means_a_rebuild_not_a_failure(spark, tmp_path, loss):
    ctx = local_context(tmp_path, f"gold_keys_{uuid.uuid4().hex[:8]}")
    name = _two_versions(spark, ctx, change_feed=loss == "files vacuumed")
    if loss == "files vacuumed":
        assert _plan_after_one_append(spark, ctx, name).keys == [date(2024, 1, 2)]  # readable so far
        # what VACUUM leaves behind: the log names data files that are gone
        location = spark.sql(f"DESCRIBE DETAIL {name}").first()["location"].removeprefix("file:")
        for data in Path(location).glob("*.parquet"):
            data.unlink()
    plan = _plan_after_one_append(spark, ctx, name)
    assert plan.reason.startswith("the change data feed of silver.orders cannot be read"), plan
    assert ("FILE_NOT_EXIST" if loss == "files vacuumed" else "DELTA_") in plan.reason, plan  # the cause
    assert plan.keys == []


# daily_sales.keys.sql over hand-made change feeds, the way the engine writes them: C1's late change
# to `business` at 11-11 05:00 recomputes C1's history (every version deleted and inserted again, the
# first unchanged); P1 moves to Garden on 11-12 (a MERGE: pre- and post-image, then the new version);
# P2 moves to Books and back in two commits; C3 corrects an untracked column only.
_ORDERS = """SELECT *, to_date(order_ts) AS order_date FROM VALUES
  ('O1', 'C1', TIMESTAMP'2023-11-05 10:00:00'), ('O2', 'C1', TIMESTAMP'2023-11-11 10:00:00'),
  ('O4', 'C2', TIMESTAMP'2023-11-13 10:00:00'), ('O5', 'C3', TIMESTAMP'2023-11-14 10:00:00')
  AS t(order_id, customer_id, order_ts)"""
_LINES = """SELECT * FROM VALUES ('O1', 'P1'), ('O2', 'P1'), ('O4', 'P1'), ('O5', 'P2')
  AS t(order_id, product_id)"""
_CUSTOMER_CHANGES = """SELECT * FROM VALUES
  ('C1', 'GB', 'consumer', TIMESTAMP'2023-11-01 09:00:00', TIMESTAMP'2023-11-10 12:00:00', 'delete'),
  ('C1', 'GB', 'vip', TIMESTAMP'2023-11-10 12:00:00', NULL, 'delete'),
  ('C1', 'GB', 'consumer', TIMESTAMP'2023-11-01 09:00:00', TIMESTAMP'2023-11-10 12:00:00', 'insert'),
  ('C1', 'GB', 'vip', TIMESTAMP'2023-11-10 12:00:00', TIMESTAMP'2023-11-11 05:00:00', 'insert'),
  ('C1', 'GB', 'business', TIMESTAMP'2023-11-11 05:00:00', NULL, 'insert'),
  ('C3', 'FR', 'consumer', TIMESTAMP'2023-11-01 00:00:00', NULL, 'update_preimage'),
  ('C3', 'FR', 'consumer', TIMESTAMP'2023-11-01 00:00:00', NULL, 'update_postimage')
  AS t(customer_id, country, segment, effective_from, effective_to, _change_type)"""
_PRODUCT_CHANGES = """SELECT * FROM VALUES
  ('P1', 'Lighting', TIMESTAMP'2023-11-08 00:00:00', NULL, 'update_preimage', 5),
  ('P1', 'Lighting', TIMESTAMP'2023-11-08 00:00:00', TIMESTAMP'2023-11-12 00:00:00', 'update_postimage', 5),
  ('P1', 'Garden', TIMESTAMP'2023-11-12 00:00:00', NULL, 'insert', 5),
  ('P2', 'Toys', TIMESTAMP'2023-11-01 00:00:00', NULL, 'update_preimage', 5),
  ('P2', 'Toys', TIMESTAMP'2023-11-01 00:00:00', TIMESTAMP'2023-11-13 12:00:00', 'update_postimage', 5),
  ('P2', 'Books', TIMESTAMP'2023-11-13 12:00:00', NULL, 'insert', 5),
  ('P2', 'Books', TIMESTAMP'2023-11-13 12:00:00', NULL, 'delete', 6),
  ('P2', 'Toys', TIMESTAMP'2023-11-01 00:00:00', TIMESTAMP'2023-11-13 12:00:00', 'update_preimage', 6),
  ('P2', 'Toys', TIMESTAMP'2023-11-01 00:00:00', NULL, 'update_postimage', 6)
  AS t(product_id, category, effective_from, effective_to, _change_type, _commit_version)"""


def test_daily_sales_keys_are_the_dates_whose_orders_see_other_dimension_values(spark):
    """Only O2 (C1 is business by then) and O4 (P1 is Garden by then) change: not O1 (C1 was a consumer
    before and after), not O5 (P2's change was undone), not C3's orders (no value the sales use)."""
    import re

    from medallion.layers.gold import render_sql

    prefix = f"k{uuid.uuid4().hex[:8]}"
    views = {
        "fact_order": _ORDERS,
        "fact_order_line": _LINES,
        "changes_fact_order": f"SELECT order_date, '' AS _change_type FROM ({_ORDERS}) WHERE false",
        "changes_fact_order_line": f"SELECT order_id, '' AS _change_type FROM ({_LINES}) WHERE false",
        "changes_dim_customer": _CUSTOMER_CHANGES,
        "changes_dim_product": _PRODUCT_CHANGES,
    }
    for name, sql in views.items():
        spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW {prefix}_{name} AS {sql}")
    try:
        text = (Path(__file__).parents[2] / "specs" / "gold" / "daily_sales.keys.sql").read_text()
        text = re.sub(r"\$\{changes\}\.(\w+)", rf"{prefix}_changes_\1", text)
        sql = render_sql(text.replace("${silver}.", f"${{silver}}{prefix}_"), {"silver": ""})
        keys, reason = changed_keys(spark, sql, DateType(), _over(100))
    finally:
        for name in views:
            spark.catalog.dropTempView(f"{prefix}_{name}")
    assert reason == ""
    assert sorted(keys) == [date(2023, 11, 11), date(2023, 11, 13)]
