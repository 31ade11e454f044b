"""A silver table's incarnation id: new on every create, stable across builds, and the Delta id for
tables created before it was stored (so their checkpoints and idempotent writes keep their keys)."""

from __future__ import annotations

import pytest
from scd_harness import ScdHarness, scd_table

from medallion.delta.silver_tables import reset
from medallion.layers.silver import ensure_table
from medallion.names import INCARNATION_PROPERTY

pytestmark = pytest.mark.spark


def test_the_incarnation_id_is_stable_new_after_a_rebuild_and_the_delta_id_for_older_tables(spark):
    harness = ScdHarness(spark, scd_table(2))
    table, name = harness.table, harness.target.name

    def table_id() -> str:
        return ensure_table(spark, table, harness.ctx, source_schema=harness.bronze([]).schema).table_id

    first = harness.target.table_id
    assert first and table_id() == first

    reset(spark, table, name)
    assert table_id() != first

    spark.sql(f"ALTER TABLE {name} UNSET TBLPROPERTIES ('{INCARNATION_PROPERTY}')")
    assert table_id() == spark.sql(f"DESCRIBE DETAIL {name}").first()["id"]


def test_a_full_refresh_row_is_done_once_and_a_new_reason_asks_again(spark):
    """specs/full_refresh.csv: pending until the table records the row's fingerprint (the silver task
    rebuilds the table from bronze, then marks it); a new reason is a new request."""
    from medallion.layers.build_plan import mark_refreshed, pending_refreshes
    from medallion.specs.kinds.changes import FullRefresh
    from medallion.specs.model import Specs

    harness = ScdHarness(spark, scd_table(2))
    table = harness.table
    request = FullRefresh(table.table, "new keys", 2)
    specs = Specs({"silver": (table,), "full_refresh": (request,)})
    assert pending_refreshes(spark, harness.ctx, specs) == {table.table: request.fingerprint}
    mark_refreshed(spark, harness.ctx, table.table, request.fingerprint)
    assert pending_refreshes(spark, harness.ctx, specs) == {}
    again = Specs({"silver": (table,), "full_refresh": (FullRefresh(table.table, "and again", 2),)})
    assert list(pending_refreshes(spark, harness.ctx, again)) == [table.table]
    assert pending_refreshes(spark, harness.ctx, Specs({"silver": (table,)})) == {}
