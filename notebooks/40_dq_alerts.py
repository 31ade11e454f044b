# Databricks notebook source
# MAGIC %md
# MAGIC # Data-quality and freshness alerts
# MAGIC Checks the freshness SLAs (`specs/freshness.csv`: how long each table may go without new rows) and reports the alerts with action `notify` (`specs/data_quality/dq_alerting.csv` and the freshness rows) that this job run breached. The tables are already built; this task fails when there are any, so the job's failure notifications carry the list. Quality alerts with action `fail` stop the silver task itself; a stale table with action `fail` fails this task first.
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

from medallion.logs import set_log_context
from medallion.params import context_from_widgets, declare_widgets
from medallion.quality.alerts import notify_breaches, raise_for_notifications
from medallion.quality.freshness import check_freshness, raise_for_stale
from medallion.specs import load_specs

declare_widgets(dbutils, run_id="")
ctx = context_from_widgets(dbutils)
# run id and task on every log line (JSON lines on Databricks)
set_log_context(run_id=dbutils.widgets.get("run_id"), task="dq_alerts")
run_id = dbutils.widgets.get("run_id")
stale = check_freshness(spark, ctx, load_specs(ctx.specs_dir).of("freshness"), run_id)
lines = notify_breaches(spark, ctx, run_id)
for line in lines:
    print(f"ALERT {line}")
print(f"{len(lines)} alert(s) to notify, {len(stale)} stale table(s)")

# COMMAND ----------

raise_for_stale(stale)
raise_for_notifications(lines)
