# Databricks notebook source
# MAGIC %md
# MAGIC # Gold build
# MAGIC Rebuilds each gold table from its SQL file (named in `specs/gold_tables.csv`), in dependency
# MAGIC order, when a table it reads has changed since its last build.
# MAGIC
# MAGIC | Widget | Default | Meaning |
# MAGIC |---|---|---|
# MAGIC | `table` | empty = every gold table | gold table(s) to build, comma separated |
# MAGIC | `wave` | empty | `on_gold`: the tables built on other gold tables (the job's second gold wave; `table` is ignored) |
# MAGIC | `force` | `false` | rebuild even when nothing upstream changed |
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
from medallion.layers import gold
from medallion.layers.build_plan import gold_selection
from medallion.logs import set_log_context
from medallion.params import context_from_widgets, declare_widgets, parse_flag
from medallion.security.protect import table_guard
from medallion.specs import load_specs

declare_widgets(dbutils, table="", wave="", force="false", run_id="")
ctx = context_from_widgets(dbutils)
# run id and task on every log line (JSON lines on Databricks)
set_log_context(run_id=dbutils.widgets.get("run_id"), task="gold")
mark_commits(spark, dbutils.widgets.get("run_id"))  # each Delta commit names its run (rollback)
specs = load_specs(ctx.specs_dir)
tables = gold_selection(specs, dbutils.widgets.get("table"), dbutils.widgets.get("wave"))
force = parse_flag("force", dbutils.widgets.get("force"))

# COMMAND ----------

guard = table_guard(spark, specs, ctx)  # masks, row filter and tags before a new table's first row
runs = [gold.build(spark, table, ctx, force=force, guard=guard) for table in tables]
for run in runs:
    print(
        f"{run.layer}.{run.table}: {run.status}, read {run.rows_read}, wrote {run.rows_written}, {run.seconds:.1f}s"
    )

record_layer_runs(spark, ctx, runs, dbutils.widgets.get("run_id"))  # for the pipeline-health dashboard

# COMMAND ----------

dbutils.notebook.exit(exit_value(runs))
