"""Where this process runs: inside Databricks, against a workspace through databricks-connect, or
on a local Spark. Plain environment checks, importable from every layer (no Spark needed)."""

from __future__ import annotations

import os

__all__ = ["on_databricks", "wants_databricks_connect"]


def on_databricks() -> bool:
    """True inside a Databricks cluster or serverless runtime."""
    return "DATABRICKS_RUNTIME_VERSION" in os.environ


def wants_databricks_connect() -> bool:
    """databricks-connect is used when it is installed and a workspace is configured."""
    choice = os.environ.get("MEDALLION_SPARK", "").lower()
    if choice == "local":
        return False
    configured = any(os.environ.get(v) for v in ("DATABRICKS_HOST", "DATABRICKS_CONFIG_PROFILE"))
    if not configured and choice != "connect":
        return False
    try:
        import databricks.connect  # noqa: F401  (a probe: is it installed?)
    except ImportError:
        return False
    return True
