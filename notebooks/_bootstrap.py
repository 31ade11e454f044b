# Databricks notebook source
# MAGIC %md
# MAGIC # Bootstrap
# MAGIC Shared step of every notebook (`%run ./_bootstrap`), after the cell that installs the project from
# MAGIC the bundle's files (`%pip install --editable ..`, the one copy of the package the notebook imports;
# MAGIC locally the virtualenv has it). Shows the package's log lines (timings, row counts) in the output: JSON lines with run id, task and table on Databricks, so cluster logs can be searched.

# COMMAND ----------

from medallion.logs import configure

configure()  # the package's log lines: text here, JSON lines on Databricks or with MEDALLION_LOG_FORMAT=json
