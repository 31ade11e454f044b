# Databricks notebook source
# MAGIC %md
# MAGIC # Bronze ingest
# MAGIC Ingests the new landing files of each bronze source exactly once (Auto Loader on Databricks, a file stream locally) into an append-only Delta table with audit columns (`_source_file`, `_ingested_at`, `_rescued_data`).
# MAGIC
# MAGIC | Widget | Default | Meaning |
# MAGIC |---|---|---|
# MAGIC | `table` | empty = every bronze table | the bronze table(s) to build, comma separated; the job passes one |
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
from medallion.delta.run_records import exit_value, record_layer_runs
from medallion.layers import bronze
from medallion.layers.build_plan import select_tables
from medallion.logs import set_log_context
from medallion.params import context_from_widgets, declare_widgets
from medallion.specs import load_specs

declare_widgets(dbutils, table="", run_id="")
ctx = context_from_widgets(dbutils)
# run id and task on every log line (JSON lines on Databricks)
set_log_context(run_id=dbutils.widgets.get("run_id"), task="bronze")
mark_commits(spark, dbutils.widgets.get("run_id"))  # each Delta commit names its run (rollback)
specs = load_specs(ctx.specs_dir)
tables = select_tables(specs.bronze, dbutils.widgets.get("table"))

# COMMAND ----------

runs = [bronze.ingest(spark, table, ctx) for table in tables]
for run in runs:
    print(
        f"{run.layer}.{run.table}: {run.status}, read {run.rows_read}, wrote {run.rows_written}, {run.seconds:.1f}s"
    )

record_layer_runs(spark, ctx, runs, dbutils.widgets.get("run_id"))  # for the pipeline-health dashboard

# COMMAND ----------

dbutils.notebook.exit(exit_value(runs))
