# Databricks notebook source
# MAGIC %md
# MAGIC # Silver build
# MAGIC Conforms the new bronze rows to the spec'd columns and loads them with the table's load pattern (append, overwrite, merge on keys by sequence, or SCD1/SCD2 history from `scd_mappings.csv`). Before that, the table's data-quality rules (`specs/data_quality/`) run through DQX: failing rows go to `<table>_quarantine` with the source row and the failed rules, and each run is recorded in `run_log` and `dq_metrics` (see docs/data-quality.md).
# MAGIC
# MAGIC | Widget | Default | Meaning |
# MAGIC |---|---|---|
# MAGIC | `table` | empty = every silver table | the silver table(s) to build, comma separated, in that order; the job passes one, or a group of referenced tables in build order |
# MAGIC | `run_id` | empty = a new manual id | the job run id, stamped on quarantined rows and the run records |
# MAGIC | `full_refresh` | empty | silver table(s) to drop and rebuild from bronze, comma separated (after changing keys, sequence, tracked columns or SCD type) |
# MAGIC | `target` | `dev` | bundle target whose variables fill the empty widgets below |
# MAGIC | `catalog`, `*_schema`, `landing_root`, `checkpoint_root` | from the target | where things are |

# COMMAND ----------

# MAGIC %pip install --quiet --editable ..

# COMMAND ----------

# MAGIC %restart_python

# COMMAND ----------

# MAGIC %run ./_bootstrap

# COMMAND ----------

from medallion.delta.run_marks import mark_commits
from medallion.delta.run_records import exit_value
from medallion.layers import silver
from medallion.layers.build_plan import mark_refreshed, pending_refreshes, select_tables
from medallion.logs import set_log_context
from medallion.params import context_from_widgets, declare_widgets
from medallion.security.protect import table_guard
from medallion.specs import load_specs

declare_widgets(dbutils, table="", full_refresh="", run_id="")
ctx = context_from_widgets(dbutils)
# run id and task on every log line (JSON lines on Databricks)
set_log_context(run_id=dbutils.widgets.get("run_id"), task="silver")
mark_commits(spark, dbutils.widgets.get("run_id"))  # each Delta commit names its run (rollback)
specs = load_specs(ctx.specs_dir)
tables = select_tables(specs.silver, dbutils.widgets.get("table"))
refresh = dbutils.widgets.get("full_refresh")
refresh = (
    {t.table for t in select_tables(specs.silver, refresh, "full_refresh")} if refresh.strip() else set()
)
requested = pending_refreshes(spark, ctx, specs)  # specs/full_refresh.csv rows not done yet

# COMMAND ----------

run_id = dbutils.widgets.get("run_id")
guard = table_guard(spark, specs, ctx)  # masks, row filter and tags before a new table's first row
runs = []
for table in tables:
    run = silver.build(
        spark,
        table,
        ctx,
        full_refresh=table.table in refresh or table.table in requested,
        run_id=run_id,
        alerts=specs.alerts,
        guard=guard,
    )
    if table.table in requested:
        mark_refreshed(spark, ctx, table.table, requested[table.table])
    runs.append(run)
for run in runs:
    print(
        f"{run.layer}.{run.table}: {run.status}, read {run.rows_read}, wrote {run.rows_written}, {run.seconds:.1f}s"
    )

# COMMAND ----------

dbutils.notebook.exit(exit_value(runs))
