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
