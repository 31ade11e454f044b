# Databricks notebook source
# MAGIC %md
# MAGIC # Back up or restore the silver and gold tables
# MAGIC Copies the silver tables (with their change logs and quarantines) and the gold tables to the
# MAGIC backup schema (a DEEP CLONE each; every backup stays readable by time travel), with the silver
# MAGIC streams' checkpoints. `restore` = `true` writes a backup back (docs/operations.md, "Backup and restore").
# MAGIC
# MAGIC | Widget | Default | Meaning |
# MAGIC |---|---|---|
# MAGIC | `restore` | `false` | `false`: make a backup; `true`: restore one |
# MAGIC | `version` | empty = the latest | with restore: the version of each backup table to restore |
# MAGIC | `backup_schema` | from the target | the schema holding the copies (bundle variable `backup_schema`) |
# MAGIC | `target` | `dev` | bundle target whose variables fill the empty widgets below |
# MAGIC | `catalog`, `*_schema`, `landing_root`, `checkpoint_root` | from the target | where things are |

# COMMAND ----------

# MAGIC %pip install --quiet --editable ..

# COMMAND ----------

# MAGIC %restart_python

# COMMAND ----------

# MAGIC %run ./_bootstrap

# COMMAND ----------

from medallion.layers.backup import backup_tables, restore_tables
from medallion.logs import set_log_context
from medallion.params import bundle_value, context_from_widgets, declare_widgets, parse_flag
from medallion.specs import load_specs

declare_widgets(dbutils, restore="false", version="", backup_schema="")
ctx = context_from_widgets(dbutils)
set_log_context(task="backup")
schema = dbutils.widgets.get("backup_schema").strip() or bundle_value("backup_schema", ctx.target)
restore = parse_flag("restore", dbutils.widgets.get("restore"))
version = dbutils.widgets.get("version").strip()

# COMMAND ----------

specs = load_specs(ctx.specs_dir)
if restore:
    copies = restore_tables(spark, ctx, specs, schema, version=int(version) if version else None)
else:
    copies = backup_tables(spark, ctx, specs, schema)
for copy in copies:
    print(copy)
