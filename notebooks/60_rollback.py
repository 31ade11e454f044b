# Databricks notebook source
# MAGIC %md
# MAGIC # Roll back a run
# MAGIC Restores every table the job run `run_id` wrote to its version before that run (Delta `RESTORE`),
# MAGIC downstream first, and puts the bronze and silver streams back where they were, so the next run
# MAGIC processes the restored data again, exactly once (docs/operations.md, "Roll back a bad run").
# MAGIC A run followed by other runs on the same tables is refused until those are rolled back.
# MAGIC
# MAGIC | Widget | Default | Meaning |
# MAGIC |---|---|---|
# MAGIC | `run_id` | (required) | the job run to undo (`medallion history <table>` lists the runs) |
# MAGIC | `dry_run` | `true` | `true`: list the tables and versions only; `false`: restore them |
# MAGIC | `target` | `dev` | bundle target whose variables fill the empty widgets below |
# MAGIC | `catalog`, `*_schema`, `landing_root`, `checkpoint_root` | from the target | where things are |

# COMMAND ----------

# MAGIC %pip install --quiet --editable ..

# COMMAND ----------

# MAGIC %restart_python

# COMMAND ----------

# MAGIC %run ./_bootstrap

# COMMAND ----------

from medallion.errors import ParameterError
from medallion.layers.rollback import rollback_run
from medallion.logs import set_log_context
from medallion.params import context_from_widgets, declare_widgets, parse_flag
from medallion.specs import load_specs

declare_widgets(dbutils, run_id="", dry_run="true")
ctx = context_from_widgets(dbutils)
run_id = dbutils.widgets.get("run_id").strip()
if not run_id:
    raise ParameterError("set the run_id widget to the job run to roll back")
set_log_context(run_id=f"rollback-{run_id}", task="rollback")
dry_run = parse_flag("dry_run", dbutils.widgets.get("dry_run"))

# COMMAND ----------

steps = rollback_run(spark, ctx, load_specs(ctx.specs_dir), run_id, dry_run=dry_run)
for step in steps:
    print(("would restore " if dry_run else "restored ") + str(step))
