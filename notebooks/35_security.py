# Databricks notebook source
# MAGIC %md
# MAGIC # Security
# MAGIC Makes Unity Catalog match `specs/security/` (docs/security.md): the mask and row-filter
# MAGIC functions, column masks, row filters, tags and grants. It reads what the catalog has from
# MAGIC `information_schema` and runs only the statements needed; a second run runs none. On a local
# MAGIC lakehouse (no Unity Catalog) it prints the plan instead; `medallion sql --as <group>` shows
# MAGIC what each group would see.
# MAGIC
# MAGIC | Widget | Default | Meaning |
# MAGIC |---|---|---|
# MAGIC | `apply` | `true` | `false` prints the statements without running them |
# MAGIC | `target` | `dev` | bundle target whose variables fill the empty widgets below |
# MAGIC | `catalog`, `*_schema`, `landing_root`, `checkpoint_root` | from the target | where things are |

# COMMAND ----------

# MAGIC %pip install --quiet --editable ..

# COMMAND ----------

# MAGIC %restart_python

# COMMAND ----------

# MAGIC %run ./_bootstrap

# COMMAND ----------

import json

from medallion.environment import on_databricks
from medallion.logs import set_log_context
from medallion.params import context_from_widgets, declare_widgets, parse_flag
from medallion.security.protect import securable_names
from medallion.security.workspace import security_step
from medallion.specs import load_specs

declare_widgets(dbutils, apply="true")
ctx = context_from_widgets(dbutils)
# the task on every log line (JSON lines on Databricks)
set_log_context(task="security")
spec = load_specs(ctx.specs_dir).of("security")[0]
names = securable_names(ctx)
apply = parse_flag("apply", dbutils.widgets.get("apply"))

# COMMAND ----------

result, lines = security_step(spark, spec, names, unity_catalog=on_databricks(), apply=apply)
print("\n".join(lines))

# COMMAND ----------

dbutils.notebook.exit(json.dumps({"tables": [], "security_statements": len(result.statements)}))
