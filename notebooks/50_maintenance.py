# Databricks notebook source
# MAGIC %md
# MAGIC # Maintenance
# MAGIC Delta upkeep from `specs/table_maintenance.csv` (docs/operations.md): retention and
# MAGIC optimized-write properties and clustering keys when they differ; OPTIMIZE (Z-ordered for
# MAGIC partitioned tables) and VACUUM for the tables whose last OPTIMIZE is older than their
# MAGIC `optimize_every`. Its own job and schedule (`resources/maintenance.job.yml`), apart from the
# MAGIC data job. Each table's run is recorded in `run_log` (kind `maintenance`).
# MAGIC
# MAGIC | Widget | Default | Meaning |
# MAGIC |---|---|---|
# MAGIC | `predictive_optimization` | `false` | `true`: the schemas get predictive optimization instead of OPTIMIZE and VACUUM |
# MAGIC | `force` | `false` | `true`: OPTIMIZE and VACUUM every table now, due or not |
# MAGIC | `tables` | empty | only these tables of `table_maintenance.csv`, comma separated (`name` or `layer.name`) |
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
from medallion.layers.maintenance import run_maintenance
from medallion.logs import set_log_context
from medallion.params import context_from_widgets, declare_widgets, parse_flag
from medallion.specs import load_specs

declare_widgets(dbutils, predictive_optimization="false", force="false", tables="", run_id="")
ctx = context_from_widgets(dbutils)
# run id and task on every log line (JSON lines on Databricks)
set_log_context(run_id=dbutils.widgets.get("run_id"), task="maintenance")
mark_commits(spark, dbutils.widgets.get("run_id"))  # each Delta commit names its run (rollback)
specs = load_specs(ctx.specs_dir)
predictive = parse_flag("predictive_optimization", dbutils.widgets.get("predictive_optimization"))
force = parse_flag("force", dbutils.widgets.get("force"))

# COMMAND ----------

tables = dbutils.widgets.get("tables")  # empty: every table of table_maintenance.csv
runs = run_maintenance(spark, ctx, specs, predictive=predictive, force=force, tables=tables)
for run in runs:
    print(f"{run.table}: {run.status}, files {run.rows_read} -> {run.rows_written}, {run.seconds:.1f}s")
record_layer_runs(spark, ctx, runs, dbutils.widgets.get("run_id"))

# COMMAND ----------

dbutils.notebook.exit(exit_value(runs))
