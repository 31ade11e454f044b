# Databricks notebook source
# MAGIC %md
# MAGIC # Data-quality alerts
# MAGIC Reports the alerts with action `notify` (`specs/data_quality/dq_alerting.csv`) that this job run breached. The tables are already built; this task fails when there are any, so the job's failure notifications carry the list. Alerts with action `fail` stop the silver task itself.
# MAGIC
# MAGIC | Widget | Default | Meaning |
# MAGIC |---|---|---|
# MAGIC | `run_id` | empty = nothing to report | the job run whose alerts to report (the job passes its run id) |
# MAGIC | `target` | `dev` | bundle target whose variables fill the empty widgets below |
# MAGIC | `catalog`, `*_schema`, `landing_root`, `checkpoint_root` | from the target | where things are |

# COMMAND ----------

# MAGIC %pip install --quiet --editable ..

# COMMAND ----------

# MAGIC %restart_python

# COMMAND ----------

# MAGIC %run ./_bootstrap

# COMMAND ----------

from medallion.params import context_from_widgets, declare_widgets
from medallion.quality.alerts import notify_breaches, raise_for_notifications

declare_widgets(dbutils, run_id="")
ctx = context_from_widgets(dbutils)
lines = notify_breaches(spark, ctx, dbutils.widgets.get("run_id"))
for line in lines:
    print(f"ALERT {line}")
print(f"{len(lines)} data-quality alert(s) to notify")

# COMMAND ----------

raise_for_notifications(lines)
