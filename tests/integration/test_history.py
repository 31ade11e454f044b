"""`medallion history`: a table's versions on the demo lakehouse with the run that wrote each and, for
gold, the silver versions each build read (lineage from a gold version back to silver versions)."""

from __future__ import annotations

import pytest

from medallion.context import RunContext
from medallion.delta.history import table_history
from medallion.delta.tables import current_version

pytestmark = pytest.mark.spark


def test_gold_versions_name_their_run_and_the_silver_versions_they_were_built_from(spark, demo_job):
    ctx = RunContext(
        "dev", "spark_catalog", *(demo_job.schemas[layer] for layer in ("bronze", "silver", "gold")),
        str(demo_job.landing), str(demo_job.landing.parent / "checkpoints"), str(demo_job.project / "specs"),
    )  # fmt: skip
    history = table_history(spark, ctx, "gold", "daily_sales")
    assert [h["version"] for h in history] == sorted((h["version"] for h in history), reverse=True)
    assert history[0]["version"] == current_version(spark, ctx.table("gold", "daily_sales"))
    built = [h for h in history if h["upstream"]]
    assert built, history
    operations = spark.table(ctx.table("silver", "silver_operations"))
    gold_runs = {r.run_id for r in operations.where("kind = 'gold' AND `table` = 'daily_sales'").collect()}
    for build in built:
        assert build["run_id"] in gold_runs and build["rows_written"] is not None
        for item in build["upstream"].split(", "):
            table, version = item.rsplit("@", 1)
            layer, name = table.split(".")
            assert int(version) <= current_version(spark, ctx.table(layer, name))
            spark.read.option("versionAsOf", int(version)).table(ctx.table(layer, name)).limit(1).collect()
    silver = table_history(spark, ctx, "silver", "dim_customer")
    build_runs = {r.run_id for r in operations.where("kind = 'build'").collect()}
    assert any(h["run_id"] in build_runs for h in silver)
