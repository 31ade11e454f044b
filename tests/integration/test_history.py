"""`medallion history` and `medallion lineage` on the demo lakehouse: a table's versions with the run
that wrote each and what each took in, and every gold version traced back to its landing files."""

from __future__ import annotations

import pytest

from medallion.context import RunContext
from medallion.delta.history import table_history
from medallion.delta.lineage import trace
from medallion.delta.tables import current_version
from medallion.specs import load_specs

pytestmark = pytest.mark.spark


def _ctx(demo_job) -> RunContext:
    return RunContext(
        "dev", "spark_catalog", *(demo_job.schemas[layer] for layer in ("bronze", "silver", "gold")),
        str(demo_job.landing), str(demo_job.landing.parent / "checkpoints"), str(demo_job.project / "specs"),
        ops_schema=demo_job.schemas["ops"],
    )  # fmt: skip


def test_gold_versions_name_their_run_and_the_silver_versions_they_were_built_from(spark, demo_job):
    ctx = _ctx(demo_job)
    history = table_history(spark, ctx, "gold", "daily_sales")
    assert [h["version"] for h in history] == sorted((h["version"] for h in history), reverse=True)
    assert history[0]["version"] == current_version(spark, ctx.table("gold", "daily_sales"))
    built = [h for h in history if h["upstream"]]
    assert built, history
    operations = spark.table(ctx.table("ops", "run_log"))
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


def test_lineage_leads_from_each_gold_version_to_the_landing_files_it_came_from(spark, demo_job):
    """At each step of the trace the silver versions are those the gold build read and the files are
    exactly those whose rows bronze held at the version reached; the newest build reaches every file
    of its sources' landing folders. (Older versions: tests/integration/test_rollback_backup.py.)"""
    ctx = _ctx(demo_job)
    sources = {f"bronze.{b.table}": b.landing_folder for b in load_specs(ctx.specs_dir).bronze}
    builds = [h for h in table_history(spark, ctx, "gold", "daily_sales", limit=100) if h["upstream"]]
    oldest, newest = builds[-1], builds[0]
    for build in (oldest, newest):
        found = trace(spark, ctx, "gold.daily_sales", build["version"])
        read = dict(item.rsplit("@", 1) for item in build["upstream"].split(", "))
        assert {t: v for t, v in found.tables.items() if t in read} == {t: int(v) for t, v in read.items()}
        bronze = {t: v for t, v in found.tables.items() if t.startswith("bronze.")}
        assert bronze, found.tables
        for table, version in bronze.items():
            held = spark.read.option("versionAsOf", version).table(ctx.table("bronze", table.split(".")[1]))
            files = {e[2] for e in found.edges if e[0] == table and e[3] is None}
            assert files == {r[0] for r in held.select("_source_file").distinct().collect()}, table
            if build is newest:
                landed = {f.name for f in (demo_job.landing / sources[table]).iterdir() if f.is_file()}
                assert {f.rsplit("/", 1)[-1] for f in files} == landed, table

    # the ops schema's `lineage` view: one row per input of each version written, every layer
    view = spark.table(ctx.table("ops", "lineage"))
    assert {r[0].split(".")[0] for r in view.select("table").distinct().collect()} == {
        "bronze",
        "silver",
        "gold",
    }

    # `medallion history` shows what each bronze and silver version took in
    silver = table_history(spark, ctx, "silver", "fact_order", limit=100)
    assert any(h["upstream"].startswith("bronze.orders@") for h in silver), silver
    orders = table_history(spark, ctx, "bronze", "orders", limit=100)
    assert any("file(s): orders" in h["upstream"] for h in orders), orders


def test_medallion_lineage_prints_the_chain_down_to_the_landing_files(demo_job, monkeypatch, capsys):
    from medallion import cli

    for layer, name in demo_job.schemas.items():
        monkeypatch.setenv(f"BUNDLE_VAR_{layer}_schema", name)
    project = ["--project-dir", str(demo_job.project)]
    assert cli.main([*project, "lineage", "daily_sales", "--files"]) == 0
    out = capsys.readouterr().out
    assert "gold.daily_sales@" in out and " <- silver.fact_order@" in out, out
    assert "silver.fact_order@" in out and " <- bronze.orders@" in out, out
    assert any(line.strip().endswith(".csv") or line.strip().endswith(".json") for line in out.splitlines())
    assert cli.main([*project, "lineage", "no_such_table"]) == 2


def test_medallion_sql_answers_a_query_and_names_the_mistake_in_a_bad_one(demo_job, monkeypatch, capsys):
    from medallion import cli

    for layer, name in demo_job.schemas.items():
        monkeypatch.setenv(f"BUNDLE_VAR_{layer}_schema", name)
    project = ["--project-dir", str(demo_job.project)]
    gold = f"spark_catalog.{demo_job.schemas['gold']}.daily_sales"
    assert cli.main([*project, "sql", f"SELECT count(*) AS n FROM {gold}", "--format", "json"]) == 0
    assert '"n"' in capsys.readouterr().out
    assert cli.main([*project, "sql", f"SELECT no_such_column FROM {gold}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the query did not run: [UNRESOLVED_COLUMN"), err
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert cli.main([*project, "sql", "SELEC 1"]) == 2
    assert "PARSE_SYNTAX_ERROR" in capsys.readouterr().err


def test_the_plan_creates_the_record_tables_and_lineage_stays_a_view(spark, demo_job):
    """The plan task creates the record tables before tasks append to them side by side (so they do
    not race to create them); `lineage` is the view over run_log, never one of those tables."""
    ops = f"spark_catalog.{demo_job.schemas['ops']}"
    views = {row["viewName"] for row in spark.sql(f"SHOW VIEWS IN {ops}").collect()}
    tables = {row["tableName"] for row in spark.sql(f"SHOW TABLES IN {ops}").collect()} - views
    assert "lineage" in views, (views, tables)
    assert tables >= {"run_log", "dq_metrics", "dq_alerts"}, tables
    for name in ("run_log", "dq_metrics", "dq_alerts"):
        properties = {r["key"]: r["value"] for r in spark.sql(f"SHOW TBLPROPERTIES {ops}.{name}").collect()}
        # one small commit per table per run: checkpoints every 100 commits, not Delta's every 10
        assert properties.get("delta.checkpointInterval") == "100", (name, properties)
