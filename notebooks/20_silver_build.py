# Databricks notebook source
# MAGIC %md
# MAGIC # Silver build
# MAGIC Conforms the new bronze rows to the spec'd columns and loads them with the table's load pattern (append, overwrite or merge on keys by sequence). Rows without a key or sequence go to `<table>_quarantine`.
# MAGIC
# MAGIC | Widget | Default | Meaning |
# MAGIC |---|---|---|
# MAGIC | `table` | empty = every silver table | the silver table(s) to build, comma separated; the job passes one |
# MAGIC | `target` | `dev` | bundle target whose variables fill the empty widgets below |
# MAGIC | `catalog`, `*_schema`, `landing_root`, `checkpoint_root` | from the target | where things are |

# COMMAND ----------

# MAGIC %run ./_bootstrap

# COMMAND ----------

from medallion.layers import silver
from medallion.layers.metrics import exit_value
from medallion.layers.plan import select_tables
from medallion.params import context_from_widgets, declare_widgets
from medallion.specs import load_specs

declare_widgets(dbutils, table="")
ctx = context_from_widgets(dbutils)
specs = load_specs(ctx.specs_dir)
tables = select_tables(specs.silver, dbutils.widgets.get("table"))

# COMMAND ----------

runs = [silver.build(spark, table, ctx) for table in tables]
for run in runs:
    print(
        f"{run.layer}.{run.table}: {run.status}, read {run.rows_read}, wrote {run.rows_written}, {run.seconds:.1f}s"
    )

# COMMAND ----------

dbutils.notebook.exit(exit_value(runs))
