# Databricks notebook source
# MAGIC %md
# MAGIC # Bootstrap
# MAGIC Shared step of every notebook (`%run ./_bootstrap`), after the cell that installs the project from
# MAGIC the bundle's files (`%pip install --editable ..`, the one copy of the package the notebook imports;
# MAGIC locally the virtualenv has it). Shows the package's log lines (timings, row counts) in the output.

# COMMAND ----------

import logging
import sys

_log = logging.getLogger("medallion")
_log.setLevel(logging.INFO)
if not logging.getLogger().handlers and not _log.handlers:
    _handler = logging.StreamHandler(sys.stdout)
    _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    _log.addHandler(_handler)
