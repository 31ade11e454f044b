"""Freshness SLAs (freshness.csv) on the local lakehouse: a stale table raises its alert with the
SLA's action, a fresh one does not, and a table never written is stale."""

from __future__ import annotations

from datetime import timedelta

import pytest
from local_context import local_context

from medallion.delta.tables import last_write
from medallion.errors import DataQualityError
from medallion.quality.alerts import notify_breaches
from medallion.quality.freshness import check_freshness, raise_for_stale
from medallion.specs.kinds.freshness import FreshnessSla

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def ctx(spark_session, tmp_path_factory):
    root = tmp_path_factory.mktemp("freshness")
    for layer in ("bronze", "silver", "gold"):
        spark_session.sql(f"CREATE SCHEMA IF NOT EXISTS fresh_{layer}")
    spark_session.range(3).write.format("delta").saveAsTable("fresh_silver.orders")
    spark_session.range(2).write.format("delta").saveAsTable("fresh_gold.sales")
    spark_session.sql("OPTIMIZE fresh_gold.sales")  # upkeep: not a write of rows
    return local_context(root, "fresh")


def test_a_stale_table_raises_its_freshness_alert_and_a_fresh_one_does_not(spark, ctx):
    written = last_write(spark, "fresh_silver.orders")["timestamp"]
    slas = [
        FreshnessSla("silver.orders", max_age_minutes=120, action="notify", description="daily feed", row=2),
        FreshnessSla("gold.sales", max_age_minutes=600, action="fail", row=3),
        FreshnessSla("bronze.never", max_age_minutes=60, action="notify", row=4),
    ]
    stale = check_freshness(spark, ctx, slas, "run-1", at=written + timedelta(hours=3))
    assert [(s.sla.table, s.age_hours is None) for s in stale] == [
        ("silver.orders", False),
        ("bronze.never", True),
    ]
    assert stale[0].age_hours == pytest.approx(3, abs=0.05)
    raise_for_stale(stale)  # notify only: the alerts task reports them with the quality alerts
    lines = notify_breaches(spark, ctx, "run-1")
    assert len(lines) == 2
    assert (
        lines[1].startswith("silver.orders.freshness: age_hours 3")
        and "freshness.csv row 2: daily feed" in lines[1]
    )


def test_a_stale_table_with_action_fail_fails_the_task(spark, ctx):
    written = last_write(spark, "fresh_gold.sales")["timestamp"]
    slas = [FreshnessSla("gold.sales", max_age_minutes=600, action="fail", row=3)]
    assert check_freshness(spark, ctx, slas, "run-2", at=written + timedelta(hours=9)) == []
    stale = check_freshness(spark, ctx, slas, "run-3", at=written + timedelta(hours=11))
    with pytest.raises(
        DataQualityError, match=r"gold.sales: last written 11.0h ago, more than 10h \(freshness.csv row 3\)"
    ):
        raise_for_stale(stale)
    assert notify_breaches(spark, ctx, "run-3") == []  # action fail: reported by the failure, not as notify
