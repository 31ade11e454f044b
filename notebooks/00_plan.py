# Databricks notebook source
# MAGIC %md
# MAGIC # Plan
# MAGIC Reads and validates every spec, creates the bronze, silver and gold schemas, and publishes the
# MAGIC table lists as task values (`bronze_tables`, `silver_reference_groups`, `silver_tables`,
# MAGIC `gold_tables`) for the job's for-each tasks. Silver comes in two waves of groups, each group
# MAGIC built in order by one run (`fact_order,fact_order_line`), the groups of a wave side by side: a
# MAGIC table's rules (`ref_table`) read only tables of the first wave or earlier in its group. The
# MAGIC size of each landing folder estimates the work: the largest tables are listed first, and the
# MAGIC silver layout that finishes soonest is chosen. Gold comes in two waves too: the tables on
# MAGIC silver side by side (`gold_tables`), then those built on other gold tables. Adding a table to
# MAGIC the spec CSVs adds it here; no YAML changes.
# MAGIC
# MAGIC | Widget | Default | Meaning |
# MAGIC |---|---|---|
# MAGIC | `target` | `dev` | bundle target whose variables fill the empty widgets below |
# MAGIC | `catalog`, `bronze_schema`, `silver_schema`, `gold_schema` | from the target | where tables go |
# MAGIC | `landing_root`, `checkpoint_root` | from the target | landing files and stream checkpoints |

# COMMAND ----------

# MAGIC %pip install --quiet --editable ..

# COMMAND ----------

# MAGIC %restart_python

# COMMAND ----------

# MAGIC %run ./_bootstrap

# COMMAND ----------

import json

from medallion.layers.build_plan import ensure_schemas, landing_sizes, table_lists
from medallion.logs import set_log_context
from medallion.params import context_from_widgets, declare_widgets
from medallion.specs import load_specs

declare_widgets(dbutils)
ctx = context_from_widgets(dbutils)
# the task on every log line (JSON lines on Databricks)
set_log_context(task="plan")
specs = load_specs(ctx.specs_dir)

# COMMAND ----------

ensure_schemas(spark, ctx)
lists = table_lists(specs, landing_sizes(ctx, specs))
for name, tables in lists.items():
    dbutils.jobs.taskValues.set(name, tables)
    print(f"{name}: {', '.join(tables) or '(none)'}")

# COMMAND ----------

dbutils.notebook.exit(json.dumps(lists))
