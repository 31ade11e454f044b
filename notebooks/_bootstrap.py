# Databricks notebook source
# MAGIC %md
# MAGIC # Bootstrap
# MAGIC Shared first step of every notebook (`%run ./_bootstrap`): makes the project's `src/` folder
# MAGIC importable when the notebook runs from the bundle's synced files, and shows the package's log
# MAGIC lines (timings, row counts) in the notebook output.

# COMMAND ----------

import logging
import os
import sys

_src = os.path.abspath(os.path.join(os.getcwd(), "..", "src"))
if os.path.isdir(os.path.join(_src, "medallion")) and _src not in sys.path:
    sys.path.insert(0, _src)

_log = logging.getLogger("medallion")
_log.setLevel(logging.INFO)
if not logging.getLogger().handlers and not _log.handlers:
    _handler = logging.StreamHandler(sys.stdout)
    _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    _log.addHandler(_handler)
